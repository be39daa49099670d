"""Strategy evaluation on hand-built rows: the funnel per step and group, the uplift."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from sparkseg.audiences.evaluation import z_value
from sparkseg.strategies.evaluate import (
    GOALS_SCHEMA,
    OPENS_SCHEMA,
    first_responses,
    funnel,
    uplift,
)
from tests.strategies.test_plan import plan_rows, strategy

D = dt.date(2026, 6, 30)
END = D + dt.timedelta(days=14)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def launch_plan(spark: SparkSession) -> DataFrame:
    return plan_rows(spark, [
        ("a", "first_loan", D, 1, "wechat", "target", None, D),
        ("b", "first_loan", D, 1, "app_push", "target", None, D),
        ("b", "first_loan", D, 2, "app_push", "target", None, day(2)),
        ("c", "first_loan", D, 1, "sms", "control", None, D),
        ("d", "first_loan", D, 1, "sms", "target", "touch_cap", D),
        ("e", "first_loan", D, 1, "app_push", "non_model", None, D),
    ])


def launch_opens(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([
        ("a", "wechat", day(1)),
        ("b", "sms", day(1)),        # another channel than its touches
        ("b", "app_push", day(1)),   # opens step 1, before step 2 was planned
        ("c", "sms", day(1)),        # control: never sent, so no open counts
        ("e", "app_push", END),      # the window's end is exclusive
    ], OPENS_SCHEMA)


def test_funnel_counts_planned_sent_opened_on_the_steps_channel_and_converted(
    spark: SparkSession,
) -> None:
    plan, opens = launch_plan(spark), launch_opens(spark)
    goals = spark.createDataFrame(
        [("a", "loan_disbursement"), ("c", "loan_disbursement"), ("e", "campaign_response")],
        GOALS_SCHEMA,
    )
    got = funnel(plan, opens, goals, strategies=[strategy(goal=("loan_disbursement",))], end=END)
    expected = spark.createDataFrame([
        ("first_loan", D, 1, "wechat", "target", 1, 1, 1, 1),
        ("first_loan", D, 1, "app_push", "target", 1, 1, 1, 0),
        ("first_loan", D, 2, "app_push", "target", 1, 1, 0, 0),
        ("first_loan", D, 1, "sms", "control", 1, 0, 0, 1),
        ("first_loan", D, 1, "sms", "target", 1, 0, 0, 0),
        ("first_loan", D, 1, "app_push", "non_model", 1, 1, 0, 0),
    ], "strategy string, launch_date date, step int, channel string, group string, "
       "planned long, sent long, opened long, converted long")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_uplift_against_control_and_against_the_non_model_group(spark: SparkSession) -> None:
    launched = spark.createDataFrame(
        [(f"t{i}", "first_loan", "target") for i in range(1, 5)]
        + [("c1", "first_loan", "control"), ("c2", "first_loan", "control")]
        + [("n1", "first_loan", "non_model"), ("n2", "first_loan", "non_model")],
        "one_id string, strategy string, group string",
    )
    goals = spark.createDataFrame(
        [("t1", "loan_disbursement"), ("t2", "loan_disbursement"), ("c1", "loan_disbursement"),
         ("n1", "campaign_response")],  # not the strategy's goal
        GOALS_SCHEMA,
    )
    z = z_value(0.95)
    rows = {r["comparison"]: r for r in uplift(
        launched, goals, strategies=[strategy(goal=("loan_disbursement",))], z=z).collect()}
    assert set(rows) == {"control", "non_model"}
    control, plain = rows["control"], rows["non_model"]
    # Target 2/4 = 0.5 against control 1/2 = 0.5: se = sqrt(.25/4 + .25/2).
    assert (control["target_n"], control["target_responders"]) == (4, 2)
    assert (control["comparison_n"], control["comparison_responders"]) == (2, 1)
    assert control["diff"] == pytest.approx(0.0)
    assert control["ci_high"] == pytest.approx(z * math.sqrt(0.0625 + 0.125))
    # Against the plain rule's 0/2: diff 0.5, se = sqrt(.25/4 + 0) = 0.25.
    assert (plain["comparison_n"], plain["comparison_responders"], plain["metric"]) == (
        2, 0, "loan_disbursement")
    assert plain["diff"] == pytest.approx(0.5)
    assert (plain["ci_low"], plain["ci_high"]) == (
        pytest.approx(0.5 - z * 0.25), pytest.approx(0.5 + z * 0.25))


def test_a_strategy_without_goals_has_no_uplift_rows(spark: SparkSession) -> None:
    launched = spark.createDataFrame([("t1", "first_loan", "target")],
                                     "one_id string, strategy string, group string")
    goals = spark.createDataFrame([], GOALS_SCHEMA)
    assert uplift(launched, goals, strategies=[strategy()], z=1.96).count() == 0


def test_first_response_gives_the_channel_first_opened_on_and_the_lost(spark: SparkSession) -> None:
    got = first_responses(launch_plan(spark), launch_opens(spark), end=END)
    expected = spark.createDataFrame([
        ("a", "first_loan", "target", 1, 1, "wechat", day(1)),
        ("b", "first_loan", "target", 2, 1, "app_push", day(1)),  # before step 2 was sent
        ("e", "first_loan", "non_model", 1, None, None, None),    # opened nothing: lost
    ], "one_id string, strategy string, group string, touches long, responded_step int, "
       "responded_channel string, responded_on date")  # c (control), d (capped): no touch
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
