"""Invariants of the clean generated data: codes, keys, times, and planted behaviour."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque

from pyspark.sql import functions as F

from sparkseg.generate.config import PERSONAS
from sparkseg.generate.period import Period
from sparkseg.tables import (
    DIRECTIONS,
    EVENT_CHANNELS,
    EVENT_TYPES,
    ID_TYPES,
    PRODUCT_TYPES,
    TXN_CATEGORIES,
    TXN_CHANNELS,
)
from tests.support.generate import GEN, Clean

CHILD_MCCS = ["5641", "5945", "8211", "8220", "8299"]
CREDIT_CATEGORIES = ["salary", "interest", "wealth_redemption", "loan_disbursement"]
DEBIT_CATEGORIES = ["consumption", "wealth_purchase", "loan_repayment", "fee"]


def _period() -> Period:
    from sparkseg.generate.config import GenerateConfig

    return Period.of(GenerateConfig.model_validate(GEN))


def test_transactions_use_only_contract_codes_and_positive_amounts(clean: Clean) -> None:
    tx = clean.transactions
    bad = tx.filter(
        ~F.col("channel").isin(*TXN_CHANNELS) | ~F.col("category").isin(*TXN_CATEGORIES)
        | ~F.col("direction").isin(*DIRECTIONS) | ~F.col("product_type").isin(*PRODUCT_TYPES)
        | (F.col("amount") <= 0) | F.col("txn_id").isNull() | F.col("customer_id").isNull()
        | F.col("account_id").isNull() | F.col("txn_ts").isNull()
        | (F.col("currency").isNull())
    )
    assert bad.count() == 0
    row = tx.agg(F.count("*").alias("n"), F.countDistinct("txn_id").alias("ids")).first()
    assert row is not None and row["n"] == row["ids"] > 0


def test_direction_follows_category(clean: Clean) -> None:
    tx = clean.transactions
    wrong = tx.filter(
        (F.col("category").isin(*CREDIT_CATEGORIES) & (F.col("direction") != "credit"))
        | (F.col("category").isin(*DEBIT_CATEGORIES) & (F.col("direction") != "debit"))
    )
    assert wrong.count() == 0
    # Transfers go both ways.
    both = tx.filter(F.col("category") == "transfer").select("direction").distinct().count()
    assert both == 2


def test_only_consumption_has_a_merchant_code(clean: Clean) -> None:
    tx = clean.transactions
    wrong = tx.filter((F.col("category") == "consumption") != F.col("mcc").isNotNull())
    assert wrong.count() == 0
    assert tx.filter(F.col("mcc").isin(*CHILD_MCCS)).count() > 0


def test_child_spending_comes_from_customers_aged_30_to_45(clean: Clean) -> None:
    parents = (
        clean.transactions.filter(F.col("mcc").isin(*CHILD_MCCS))
        .join(clean.base, "customer_id")
        .agg(F.min("age").alias("lo"), F.max("age").alias("hi"), F.countDistinct("customer_id"))
        .first()
    )
    assert parents is not None and parents["lo"] >= 30 and parents["hi"] < 46


def test_transactions_fall_in_the_period_and_after_account_opening(clean: Clean) -> None:
    period = _period()
    start = dt.datetime.combine(period.start, dt.time())
    end = dt.datetime.combine(period.end, dt.time())
    tx = clean.transactions.join(clean.base.select("customer_id", "open_day"), "customer_id")
    outside = tx.filter(
        (F.col("txn_ts") < F.lit(start)) | (F.col("txn_ts") >= F.lit(end))
        | (F.to_date("txn_ts") < F.date_from_unix_date("open_day"))
    )
    assert outside.count() == 0


def test_payroll_customers_get_a_salary_credit_every_month(clean: Clean) -> None:
    months = (
        clean.transactions.filter(F.col("category") == "salary")
        .groupBy("customer_id").agg(F.countDistinct(F.trunc("txn_ts", "month")).alias("m"))
    )
    payroll = clean.base.filter(F.col("persona") == "payroll_mass").join(months, "customer_id", "left")
    row = payroll.agg(
        F.count("*").alias("n"),
        F.sum(F.when(F.col("m") == GEN["months"], 1).otherwise(0)).alias("every_month"),
    ).first()
    assert row is not None and row["every_month"] >= 0.9 * row["n"]


def test_persona_volumes_and_balances_are_separable(clean: Clean) -> None:
    per_customer = clean.transactions.groupBy("customer_id").count()
    aum = (
        clean.balances.filter(F.col("product_type").isin("deposit", "wealth", "fund", "insurance"))
        .groupBy("customer_id", "snapshot_date").agg(F.sum("balance").alias("aum"))
        .groupBy("customer_id").agg(F.max("aum").alias("peak_aum"))
    )
    stats = {
        r["persona"]: r
        for r in clean.base.select("customer_id", "persona", "age")
        .join(per_customer, "customer_id", "left").join(aum, "customer_id", "left")
        .groupBy("persona")
        .agg(F.avg(F.coalesce("count", F.lit(0))).alias("txn"),
             F.expr("percentile(peak_aum, 0.5)").alias("aum"), F.avg("age").alias("age"))
        .collect()
    }
    assert stats["small_business"]["txn"] > stats["payroll_mass"]["txn"] > stats["silver_depositor"]["txn"]
    assert stats["young_digital"]["txn"] > stats["payroll_mass"]["txn"]
    assert stats["affluent_investor"]["aum"] > 5 * stats["payroll_mass"]["aum"]
    assert stats["silver_depositor"]["age"] > 60 and stats["young_digital"]["age"] < 30


def test_dormant_savers_are_quiet_and_keep_steady_balances(clean: Clean) -> None:
    period = _period()
    quiet_since = dt.datetime.combine(period.end - dt.timedelta(days=180), dt.time())
    dormant = clean.base.filter(F.col("persona") == "dormant_saver").select("customer_id")
    recent = clean.transactions.join(dormant, "customer_id").filter(F.col("txn_ts") >= quiet_since)
    assert recent.count() == 0
    spread = (
        clean.balances.join(dormant, "customer_id").filter(F.col("product_type") == "deposit")
        .groupBy("customer_id")
        .agg((F.max("balance") / F.greatest(F.min("balance"), F.lit(1))).alias("ratio"))
        .agg(F.max("ratio")).first()
    )
    assert spread is not None and spread[0] < 1.05


def test_churning_customers_fade_out_in_the_last_month(clean: Clean) -> None:
    period = _period()
    last30 = dt.datetime.combine(period.end - dt.timedelta(days=30), dt.time())
    share = {
        r["persona"]: r["late"] / r["n"]
        for r in clean.transactions.filter(F.col("category") != "salary")
        .join(clean.base.select("customer_id", "persona"), "customer_id")
        .groupBy("persona")
        .agg(F.count("*").alias("n"), F.sum((F.col("txn_ts") >= last30).cast("int")).alias("late"))
        .collect()
    }
    assert share["churning"] < 0.6 * share["payroll_mass"]


def test_new_customers_opened_in_the_last_90_days(clean: Clean) -> None:
    end_day = (_period().end - dt.date(1970, 1, 1)).days
    row = (
        clean.base.groupBy((F.col("persona") == "new_customer").alias("new"))
        .agg(F.min("open_day").alias("first"), F.max("open_day").alias("last"))
        .collect()
    )
    by = {r["new"]: r for r in row}
    assert end_day - 90 <= by[True]["first"] and by[True]["last"] < end_day
    assert by[False]["last"] < end_day - 90


def test_balances_have_one_row_per_customer_product_and_month_end(clean: Clean) -> None:
    bal = clean.balances
    keys = ["customer_id", "product_type", "snapshot_date"]
    assert bal.count() == bal.select(*keys).distinct().count() > 0
    ends = {r[0] for r in bal.select("snapshot_date").distinct().collect()}
    assert ends <= {dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in _period().month_ends}
    assert all((d + dt.timedelta(days=1)).day == 1 for d in ends)
    assert bal.filter(~F.col("product_type").isin(*PRODUCT_TYPES) | (F.col("balance") < 0)).count() == 0


def test_events_use_contract_codes_and_raw_phone_numbers(clean: Clean) -> None:
    ev = clean.events
    bad = ev.filter(
        ~F.col("channel").isin(*EVENT_CHANNELS) | ~F.col("id_type").isin(*ID_TYPES)
        | ~F.col("event_type").isin(*EVENT_TYPES) | F.col("id_value").isNull()
        | F.col("event_id").isNull()
    )
    assert bad.count() == 0
    phones = ev.filter(F.col("id_type") == "phone_hash")
    assert phones.count() > 0
    assert phones.filter(~F.col("id_value").rlike(r"^1[3-9][0-9]{9}$")).count() == 0
    row = ev.agg(F.count("*").alias("n"), F.countDistinct("event_id").alias("ids")).first()
    assert row is not None and row["n"] == row["ids"]


def test_campaign_touches_use_their_channel_and_carry_a_campaign(clean: Clean) -> None:
    touch_channel = {"push_sent": "app", "push_opened": "app", "sms_sent": "sms",
                     "sms_clicked": "sms", "wechat_msg_sent": "wechat",
                     "wechat_msg_opened": "wechat"}
    ev = clean.events
    mapping = F.create_map(*[F.lit(x) for kv in touch_channel.items() for x in kv])
    touches = ev.filter(F.col("event_type").isin(*touch_channel))
    wrong = touches.filter((F.col("channel") != mapping[F.col("event_type")])
                           | F.col("campaign_id").isNull())
    assert touches.count() > 0 and wrong.count() == 0
    assert ev.filter(~F.col("event_type").isin(*touch_channel) & F.col("campaign_id").isNotNull()).count() == 0
    assert touches.select("campaign_id").distinct().count() == GEN["campaigns"]


def test_preferred_channel_opens_far_more_often_than_other_channels(clean: Clean) -> None:
    kinds = {"push_sent": ("app_push", "sent"), "push_opened": ("app_push", "opened"),
             "sms_sent": ("sms", "sent"), "sms_clicked": ("sms", "opened"),
             "wechat_msg_sent": ("wechat", "sent"), "wechat_msg_opened": ("wechat", "opened")}
    channel = F.create_map(*[F.lit(x) for k, v in kinds.items() for x in (k, v[0])])
    action = F.create_map(*[F.lit(x) for k, v in kinds.items() for x in (k, v[1])])
    rows = (
        clean.events.filter(F.col("event_type").isin(*kinds))
        .withColumn("via", channel[F.col("event_type")])
        .withColumn("action", action[F.col("event_type")])
        # Each touch reaches the customer through one of their own identifiers.
        .join(clean.base.select("phone", "dev1", "oa_openid", "preferred_channel"), how="inner",
              on=(F.col("id_value") == F.col("phone")) | (F.col("id_value") == F.col("dev1"))
              | (F.col("id_value") == F.col("oa_openid")))
        .groupBy((F.col("via") == F.col("preferred_channel")).alias("preferred"),
                 (F.col("preferred_channel") == "none").alias("none"))
        .pivot("action", ["sent", "opened"]).count()
        .collect()
    )
    rate = {(r["preferred"], r["none"]): (r["opened"] or 0) / r["sent"] for r in rows}
    assert rate[(True, False)] > 4 * rate[(False, False)]
    assert rate[(False, True)] == 0.0


def test_identity_graph_has_chains_shared_devices_and_anonymous_parts(clean: Clean) -> None:
    edges = clean.links.select("id_type_a", "id_value_a", "id_type_b", "id_value_b").collect()
    assert {e[0] for e in edges} | {e[2] for e in edges} <= set(ID_TYPES)
    graph: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for ta, va, tb, vb in edges:
        graph[(ta, va)].add((tb, vb))
        graph[(tb, vb)].add((ta, va))
    # Hops from the nearest customer_id node (breadth-first from every customer at once).
    hops = {n: 0 for n in graph if n[0] == "customer_id"}
    queue = deque(hops)
    while queue:
        node = queue.popleft()
        for nxt in graph[node]:
            if nxt not in hops:
                hops[nxt] = hops[node] + 1
                queue.append(nxt)
    assert max(hops.values()) >= 3
    assert any(n[0] == "web_cookie" and h == 3 for n, h in hops.items())
    customers_per_device = [
        sum(1 for m in graph[n] if m[0] == "customer_id") for n in graph if n[0] == "device_id"
    ]
    assert any(2 <= c <= 5 for c in customers_per_device)  # family tablets
    assert max(customers_per_device) >= 10  # a shop phone


def test_personas_cover_every_name_with_configured_shares(clean: Clean) -> None:
    from sparkseg.generate.config import PersonaShares

    counts = {r["persona"]: r["count"] for r in clean.base.groupBy("persona").count().collect()}
    n = GEN["customers"]
    assert set(counts) == set(PERSONAS)
    for persona, share in PersonaShares().normalised().items():
        sd = (share * (1 - share) / n) ** 0.5
        assert abs(counts[persona] / n - share) < 4 * sd + 0.005, persona
