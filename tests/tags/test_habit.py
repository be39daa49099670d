"""Channel-habit and lost-group tags on the first-loan example (首贷活动).

The bank pushes a first-loan offer by app, then SMS and WeChat. Whoever opens on WeChat
becomes a WeChat-habit customer; whoever opens nothing anywhere goes to the lost group.
"""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.tags import engine
from sparkseg.tags.config import ChannelHabitConfig
from sparkseg.tags.habit import habit_rules, smoothed_rate_sql
from sparkseg.tags.rules import build_rule_set
from tests.support.tags import AS_OF, input_frame, input_row


def touches(
    one_id: str, push: tuple[int, int] = (0, 0), sms: tuple[int, int] = (0, 0),
    wechat: tuple[int, int] = (0, 0),
) -> tuple[object, ...]:
    """A customer with (sent, opened) per channel over the 90-day window."""
    return input_row(
        one_id,
        push_sent_90d=push[0], push_opened_90d=push[1],
        sms_sent_90d=sms[0], sms_clicked_90d=sms[1],
        wechat_sent_90d=wechat[0], wechat_opened_90d=wechat[1],
    )


FIRST_LOAN = [
    # Two app pushes unopened, then SMS unopened, then WeChat opened twice.
    touches("opened_on_wechat", push=(2, 0), sms=(2, 0), wechat=(3, 2)),
    # One lucky push open against 8 of 10 SMS clicks: SMS is the habit.
    touches("lucky_push_open", push=(1, 1), sms=(10, 8)),
    # With nothing competing, one open out of one send is a (weak) habit ...
    touches("single_open", push=(1, 1)),
    # ... but one open among five sends is not: (1 + 0.2) / (5 + 4) = 0.13 < 0.15.
    touches("one_of_five", push=(5, 1)),
    touches("push_regular", push=(6, 4), wechat=(2, 0)),
    # Touched on every channel, opened nothing: lost, goes to re-activation.
    touches("opened_nothing", push=(3, 0), sms=(2, 0), wechat=(1, 0)),
    touches("never_touched"),
]


def test_habit_and_lost_tags_on_first_loan_campaign(spark: SparkSession) -> None:
    cfg = ChannelHabitConfig(window="90d")  # the example counts touches over 90 days
    rules = build_rule_set(habit_rules(cfg), source="<test>", version="t")
    entries = engine.evaluate_tags(input_frame(spark, FIRST_LOAN), rules=rules)
    actual = engine.to_long(entries, as_of=AS_OF, rule_version="t").select("one_id", "tag", "value")
    expected = spark.createDataFrame(
        [
            ("opened_on_wechat", "channel_habit", "wechat"),
            ("lucky_push_open", "channel_habit", "sms"),
            ("single_open", "channel_habit", "app_push"),
            ("push_regular", "channel_habit", "app_push"),
            ("opened_nothing", "lost", "true"),
        ],
        "one_id string, tag string, value string",
    )
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


@pytest.mark.parametrize(
    ("sent", "opened", "expected"),
    [(1, 1, (1 + 4 * 0.05) / (1 + 4)), (10, 8, (8 + 0.2) / 14), (0, 0, 0.05)],
)
def test_smoothed_rate_is_additive_smoothing_towards_the_prior(
    spark: SparkSession, sent: int, opened: int, expected: float
) -> None:
    sql = smoothed_rate_sql("sent", "opened", ChannelHabitConfig(prior_strength=4, prior_rate=0.05))
    row = spark.range(1).select(F.lit(sent).alias("sent"), F.lit(opened).alias("opened")).select(
        F.expr(sql).alias("rate")
    ).first()
    assert row is not None and row["rate"] == pytest.approx(expected)


def test_habit_window_selects_the_campaign_columns_of_that_window() -> None:
    rules = habit_rules(ChannelHabitConfig(window="365d"))
    assert all("_365d" in r.expression and "_90d" not in r.expression for r in rules)


def test_threshold_at_or_below_prior_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="min_rate must be greater than prior_rate"):
        ChannelHabitConfig(prior_rate=0.3, min_rate=0.3)
