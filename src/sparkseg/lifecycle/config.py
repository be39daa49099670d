"""Config of the ``lifecycle`` stage: the lifecycle stages (生命周期) and their rules.

``stages`` is evaluated in order for every customer of an as-of; the first stage whose
``when`` holds is the customer's stage. A ``when`` that is null (a feature it uses is
null) counts as false. A customer matching no stage gets ``fallback`` (one of the
stages' names) and ``by_fallback = true`` in ``gold/customer_lifecycle``.

``when`` is a Spark SQL boolean expression over the columns of
``silver/customer_features`` (conf/features.yaml), checked like the tag rules before any
data is read: the allow-list of :mod:`sparkseg.tags.sandbox`, then analysis against the
documented columns (unknown column or function, wrong type: a ConfigError naming the
stage, exit code 2).

The defaults, in evaluation order (money in yuan, durations in days):

=========  ======  ===========================================================
name       中文     when
=========  ======  ===========================================================
new        新客     opened less than 30 days ago
honeymoon  蜜月期   within ``features.honeymoon_days`` (90) of opening
lost       流失     no transaction and no engagement event for a year, AUM < 1,000
dormant    沉睡     no transaction for 180 days and no engagement event for 90
declining  衰退期   no transaction for 90 days, last month's transactions under
                   half the monthly average of the 3 months before (from at least
                   one a month), or AUM down by 30% and at least 10,000 in 90 days
growth     成长期   in the first ``features.new_customer_days`` (180), last month's
                   transactions at least 1.5 x the monthly average before (3 or
                   more), or AUM up by 20% and at least 10,000 in 90 days
mature     成熟期   the rest with a known tenure (``tenure_days >= 180``)
=========  ======  ===========================================================

``fallback`` is ``mature``: with the defaults only a customer whose open date is
unknown (null ``tenure_days``) and who matches none of the others gets it.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from sparkseg._model import Section

# Stage names are values of gold tables and audience filters: plain lower-case words.
STAGE_NAME = r"^[a-z][a-z0-9_]{0,62}$"
# A transaction or event older than anything the features stage reads: "never" in rules.
_NEVER = "99999"
_IDLE_TXN = f"coalesce(days_since_last_txn, tenure_days, {_NEVER})"
_IDLE_EVENT = f"coalesce(days_since_last_event, {_NEVER})"


class LifecycleStage(Section):
    """One lifecycle stage: its name, Chinese name and the condition that puts a customer in it."""

    name: str = Field(pattern=STAGE_NAME)
    name_zh: str = Field(min_length=1)
    # Spark SQL boolean expression over silver/customer_features of the as-of.
    when: str = Field(min_length=1, pattern=r"\S")
    description: str = ""


DEFAULT_STAGES: tuple[LifecycleStage, ...] = (
    LifecycleStage(
        name="new", name_zh="新客", when="tenure_days < 30",
        description="Opened less than 30 days ago.",
    ),
    LifecycleStage(
        name="honeymoon", name_zh="蜜月期", when="in_honeymoon = 1",
        description="Within features.honeymoon_days (90) of opening: the months of "
                    "first-product and activation campaigns.",
    ),
    LifecycleStage(
        name="lost", name_zh="流失",
        when=f"{_IDLE_TXN} > 365 AND {_IDLE_EVENT} > 365 AND coalesce(aum, 0) < 1000",
        description="No transaction and no engagement event for a year, and under "
                    "1,000 yuan of assets left.",
    ),
    LifecycleStage(
        name="dormant", name_zh="沉睡",
        when=f"{_IDLE_TXN} > 180 AND {_IDLE_EVENT} > 90",
        description="No transaction for 180 days and no engagement event for 90 "
                    "(assets may still be held: a sleeping customer to wake).",
    ),
    LifecycleStage(
        name="declining", name_zh="衰退期",
        when=(
            f"{_IDLE_TXN} > 90"
            " OR (txn_count_prev_30_120d >= 3 AND txn_trend_ratio < 0.5)"
            " OR aum_change_90d <= -greatest(10000, 0.3 * aum_90d_ago)"
        ),
        description="No transaction for 90 days, last month's transactions under half "
                    "the monthly average of the three months before (from at least one "
                    "a month), or AUM down by 30% and at least 10,000 yuan in 90 days.",
    ),
    LifecycleStage(
        name="growth", name_zh="成长期",
        when=(
            "is_new_customer = 1"
            " OR (txn_count_30d >= 3 AND txn_trend_ratio >= 1.5)"
            " OR aum_change_90d >= greatest(10000, 0.2 * aum_90d_ago)"
        ),
        description="In the first features.new_customer_days (180) after the honeymoon, "
                    "last month's transactions at least 1.5 times the monthly average "
                    "before (3 or more), or AUM up by 20% and at least 10,000 yuan in 90 days.",
    ),
    LifecycleStage(
        name="mature", name_zh="成熟期", when="tenure_days >= 180",
        description="Established (180 days or more) and none of the above: the steady base.",
    ),
)


class LifecycleConfig(Section):
    # In evaluation order: the first stage whose `when` holds wins.
    stages: tuple[LifecycleStage, ...] = DEFAULT_STAGES
    # The stage of a customer matching none (must be one of `stages`).
    fallback: str = "mature"

    @field_validator("stages")
    @classmethod
    def _unique_names(cls, stages: tuple[LifecycleStage, ...]) -> tuple[LifecycleStage, ...]:
        if not stages:
            raise ValueError("at least one stage is needed")
        seen: set[str] = set()
        for stage in stages:
            if stage.name in seen:
                raise ValueError(f"duplicate stage name '{stage.name}'")
            seen.add(stage.name)
        return stages

    @field_validator("fallback")
    @classmethod
    def _fallback_is_a_stage(cls, fallback: str, info: ValidationInfo) -> str:
        stages = info.data.get("stages")
        if stages is None:  # stages failed validation: that error is reported
            return fallback
        names = [s.name for s in stages]
        if fallback not in names:
            raise ValueError(f"'{fallback}' is not one of the stages ({', '.join(names)})")
        return fallback

    def zh_of(self, name: str) -> str:
        for stage in self.stages:
            if stage.name == name:
                return stage.name_zh
        raise KeyError(name)

