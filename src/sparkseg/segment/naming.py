"""Human-readable segment names from profiles, in English and Chinese.

A segment's name is made of the phrases of its most distinguishing features: the
features ranked by ``|lift_z|`` (segment mean against the population, in population
standard deviations), each mapped through :data:`PHRASES` by the sign of its lift.
Phrases share a *concept* (``aum`` and ``total_balance`` both say "wealth"), and only
the strongest phrase of each concept is used, so a name never says the same thing
twice. Everything is a pure function of the lifts: the same profile always gives the
same name, and nothing depends on cluster numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

SEPARATOR = " · "
SEPARATOR_ZH = "·"
DEFAULT_NAME = ("Mainstream", "大众客群")

# (feature, +1 | -1) -> (English, Chinese, concept)
PHRASES: dict[tuple[str, int], tuple[str, str, str]] = {
    ("aum", 1): ("high AUM", "高资产", "wealth"),
    ("aum", -1): ("low AUM", "低资产", "wealth"),
    ("total_balance", 1): ("high balance", "高余额", "wealth"),
    ("total_balance", -1): ("low balance", "低余额", "wealth"),
    ("balance_deposit", 1): ("large deposits", "大额存款", "wealth"),
    ("balance_deposit", -1): ("small deposits", "小额存款", "wealth"),
    ("balance_wealth", 1): ("wealth-product holder", "持有理财", "invest"),
    ("balance_fund", 1): ("fund holder", "持有基金", "fund"),
    ("balance_loan", 1): ("borrower", "贷款客户", "loan"),
    ("balance_mortgage", 1): ("mortgage holder", "房贷客户", "mortgage"),
    ("aum_change_90d", 1): ("growing assets", "资产增长", "aum_trend"),
    ("aum_change_90d", -1): ("shrinking assets", "资产流失", "aum_trend"),
    ("debit_amount_90d", 1): ("big spender", "高支出", "spend"),
    ("debit_amount_90d", -1): ("low spending", "低支出", "spend"),
    ("debit_amount_365d", 1): ("big spender", "高支出", "spend"),
    ("debit_amount_365d", -1): ("low spending", "低支出", "spend"),
    ("credit_amount_90d", 1): ("high inflow", "高入账", "inflow"),
    ("credit_amount_90d", -1): ("low inflow", "低入账", "inflow"),
    ("credit_amount_365d", 1): ("high inflow", "高入账", "inflow"),
    ("credit_amount_365d", -1): ("low inflow", "低入账", "inflow"),
    ("txn_count_30d", 1): ("frequent transactor", "交易活跃", "activity"),
    ("txn_count_30d", -1): ("low activity", "交易稀少", "activity"),
    ("txn_count_90d", 1): ("frequent transactor", "交易活跃", "activity"),
    ("txn_count_90d", -1): ("low activity", "交易稀少", "activity"),
    ("active_days_90d", 1): ("frequent transactor", "交易活跃", "activity"),
    ("active_days_90d", -1): ("low activity", "交易稀少", "activity"),
    ("days_since_last_txn", 1): ("dormant", "沉睡", "activity"),
    ("days_since_last_txn", -1): ("recently active", "近期活跃", "activity"),
    ("salary_months_12m", 1): ("payroll", "代发工资", "payroll"),
    ("salary_months_12m", -1): ("no payroll", "无代发", "payroll"),
    ("salary_count_365d", 1): ("payroll", "代发工资", "payroll"),
    ("salary_count_365d", -1): ("no payroll", "无代发", "payroll"),
    ("wealth_purchase_count_365d", 1): ("wealth investor", "理财投资", "invest"),
    ("wealth_purchase_count_365d", -1): ("non-investor", "未购理财", "invest"),
    ("wealth_purchase_amount_365d", 1): ("wealth investor", "理财投资", "invest"),
    ("wealth_purchase_amount_365d", -1): ("non-investor", "未购理财", "invest"),
    ("share_txn_branch_90d", 1): ("branch-preferring", "偏好网点", "branch"),
    ("share_txn_branch_90d", -1): ("rarely at branches", "少去网点", "branch"),
    ("share_txn_atm_90d", 1): ("ATM user", "常用ATM", "atm"),
    ("share_txn_mobile_app_90d", 1): ("mobile-app user", "手机银行用户", "app"),
    ("share_txn_mobile_app_90d", -1): ("rarely on the app", "少用手机银行", "app"),
    ("share_txn_online_banking_90d", 1): ("online-banking user", "网银用户", "web"),
    ("share_txn_wechat_90d", 1): ("WeChat payer", "微信支付", "wechat"),
    ("share_txn_wechat_90d", -1): ("rarely on WeChat", "少用微信", "wechat"),
    ("share_txn_mini_program_90d", 1): ("mini-program user", "小程序用户", "mini_program"),
    ("share_txn_pos_90d", 1): ("card spender", "刷卡消费", "pos"),
    ("share_txn_third_party_90d", 1): ("third-party payer", "第三方支付", "third_party"),
    ("event_count_90d", 1): ("digitally engaged", "线上活跃", "digital"),
    ("event_count_90d", -1): ("digitally inactive", "线上不活跃", "digital"),
    ("event_count_30d", 1): ("digitally engaged", "线上活跃", "digital"),
    ("event_count_30d", -1): ("digitally inactive", "线上不活跃", "digital"),
    ("login_count_90d", 1): ("digitally engaged", "线上活跃", "digital"),
    ("login_count_90d", -1): ("digitally inactive", "线上不活跃", "digital"),
    ("age", 1): ("senior", "银发", "age"),
    ("age", -1): ("young", "年轻", "age"),
    ("tenure_days", 1): ("long-tenured", "老客户", "tenure"),
    ("tenure_days", -1): ("new customer", "新客户", "tenure"),
    ("txn_trend_ratio", 1): ("rising activity", "交易上升", "trend"),
    ("txn_trend_ratio", -1): ("declining activity", "交易下滑", "trend"),
    ("debit_trend_ratio", 1): ("rising spending", "支出上升", "spend_trend"),
    ("debit_trend_ratio", -1): ("falling spending", "支出下滑", "spend_trend"),
    ("net_flow_90d", 1): ("net saver", "资金净流入", "flow"),
    ("net_flow_90d", -1): ("net outflow", "资金净流出", "flow"),
    ("product_count", 1): ("multi-product", "多产品", "products"),
    ("product_count", -1): ("single-product", "单一产品", "products"),
    ("consumption_share_90d", 1): ("everyday consumer", "消费型", "consumption"),
    ("consumption_amount_90d", 1): ("everyday consumer", "消费型", "consumption"),
    ("transfer_out_amount_90d", 1): ("heavy transfers", "大额转出", "transfer"),
    ("child_related_spend_365d", 1): ("parent", "亲子", "family"),
    ("has_credit_card", 1): ("credit-card holder", "信用卡客户", "credit_card"),
    ("has_loan", 1): ("borrower", "贷款客户", "loan"),
    ("has_mortgage", 1): ("mortgage holder", "房贷客户", "mortgage"),
    ("push_open_rate_90d", 1): ("push-responsive", "推送响应高", "response"),
    ("sms_click_rate_90d", 1): ("SMS-responsive", "短信响应高", "response"),
    ("wechat_open_rate_90d", 1): ("WeChat-responsive", "微信响应高", "response"),
}

_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


def phrase(feature: str, lift: float) -> tuple[str, str, str]:
    """(English, Chinese, concept) for a feature whose segment mean is above/below average."""
    sign = 1 if lift > 0 else -1
    found = PHRASES.get((feature, sign))
    if found is not None:
        return found
    word = "high" if sign > 0 else "low"
    return (f"{word} {feature}", f"{feature}{'高' if sign > 0 else '低'}", f"{feature}")


@dataclass(frozen=True)
class SegmentName:
    en: str
    zh: str


def _phrases(lifts: Mapping[str, float | None], min_lift: float) -> list[tuple[str, str]]:
    ranked = sorted(
        ((f, z) for f, z in lifts.items() if z is not None and abs(z) >= min_lift),
        key=lambda fz: (-abs(fz[1]), fz[0]),
    )
    seen: set[str] = set()
    out = []
    for feature, z in ranked:
        en, zh, concept = phrase(feature, z)
        if concept not in seen:
            seen.add(concept)
            out.append((en, zh))
    return out


def _compose(parts: list[tuple[str, str]]) -> tuple[str, str]:
    if not parts:
        return DEFAULT_NAME
    en = SEPARATOR.join(p[0] for p in parts)
    return en[:1].upper() + en[1:], SEPARATOR_ZH.join(p[1] for p in parts)


def name_segments(
    lifts: Mapping[int, Mapping[str, float | None]],
    *,
    max_phrases: int = 3,
    min_lift: float = 0.3,
) -> dict[int, SegmentName]:
    """A distinct name per segment from ``segment -> feature -> lift_z``.

    Up to ``max_phrases`` phrases. Two segments clash when their names use the same
    phrases in either language, in whatever order ("Senior · branch-preferring" and
    "Branch-preferring · senior" would read as one segment). Clashing segments get one
    more phrase each while they have one, and then roman numerals in segment order.
    """
    available = {s: _phrases(lifts[s], min_lift) for s in sorted(lifts)}
    used = {s: min(max_phrases, len(p)) for s, p in available.items()}

    def words(s: int) -> tuple[frozenset[str], frozenset[str]]:
        parts = available[s][: used[s]]
        return frozenset(p[0] for p in parts), frozenset(p[1] for p in parts)

    while True:
        en_count = Counter(words(s)[0] for s in available)
        zh_count = Counter(words(s)[1] for s in available)
        clashing = [
            s for s in available if en_count[words(s)[0]] > 1 or zh_count[words(s)[1]] > 1
        ]
        extendable = [s for s in clashing if used[s] < len(available[s])]
        if not extendable:
            break
        for s in extendable:
            used[s] += 1
    names = {s: _compose(available[s][: used[s]]) for s in available}
    # Nothing left to tell them apart: number each group of clashing segments (linked by
    # equal phrase sets in either language) in segment order.
    for members in _clash_groups(clashing, words):
        for i, s in enumerate(members):
            numeral = _ROMAN[i] if i < len(_ROMAN) else str(i + 1)
            en, zh = names[s]
            names[s] = (f"{en} {numeral}", f"{zh}{numeral}")
    return {s: SegmentName(en, zh) for s, (en, zh) in names.items()}


def _clash_groups(
    clashing: list[int], words: Callable[[int], tuple[frozenset[str], frozenset[str]]]
) -> list[list[int]]:
    """Connected groups of segments whose English or Chinese phrase sets are equal."""
    parent = {s: s for s in clashing}

    def root(s: int) -> int:
        while parent[s] != s:
            s = parent[s]
        return s

    for a in clashing:
        for b in clashing:
            if a < b and (words(a)[0] == words(b)[0] or words(a)[1] == words(b)[1]):
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for s in sorted(clashing):
        groups.setdefault(root(s), []).append(s)
    return list(groups.values())
