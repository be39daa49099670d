"""Contact-plan transforms on hand-built rows: eligibility, groups, sequencing, the cap."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from sparkseg.strategies.definitions import Policy, Step, Strategy
from sparkseg.strategies.plan import (
    CANDIDATES_SCHEMA,
    RESPONSES_SCHEMA,
    candidates,
    contact_plan,
    follow_ups,
    launches,
    with_touch_cap,
)
from sparkseg.strategies.tables import CONTACT_PLAN
from tests.support.tags import mature_features

D = dt.date(2026, 6, 30)
SEQUENCE = (
    Step(day=0, channel="habit", fallback="app_push"),
    Step(day=2, channel="app_push", if_no_response=True),
    Step(day=4, channel="sms", if_no_response=True),
    Step(day=4, channel="wechat", if_no_response=True),
)
STEP_ROWS = "one_id string, strategy string, launch_date date, step int, channel string, group string"


def strategy(name: str = "first_loan", **over: Any) -> Strategy:
    values: dict[str, Any] = {
        "name": name, "description": "", "description_zh": "", "audiences": ("loan_aud",),
        "eligibility": "has_loan = 0", "goal": (), "priority": 1, "control_share": 0.0,
        "cooldown_days": 30, "campaign_id": None, "steps": SEQUENCE, "non_model": None,
    }
    values.update(over)
    return Strategy(**values)


def days_before(n: int) -> dt.date:
    return D - dt.timedelta(days=n)


def plan_rows(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    """gold/contact_plan rows from (one_id, strategy, launch_date, step, channel, group,
    suppressed_by, as_of_date); planned_date = as_of_date."""
    full = [(o, s, ld, st, ch, a, g, sup, a) for (o, s, ld, st, ch, g, sup, a) in rows]
    return spark.createDataFrame(full, CONTACT_PLAN.schema)


def unit(text: str) -> float:
    """The control hash, computed here with hashlib (independent of Spark)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:13], 16) / 16**13


def test_candidates_apply_audience_eligibility_do_not_contact_and_the_non_model_rule(
    spark: SparkSession,
) -> None:
    features = mature_features(spark, {
        "a": {"has_loan": 0},
        "b": {"has_loan": 1},                       # holds a loan: not eligible
        "c": {"has_loan": 0},                       # on the do-not-contact list
        "d": {"has_loan": 0},                       # in the audience's control group
        "e": {"has_loan": 0, "login_count_30d": 5},  # outside the audience, plain rule picks
        "f": {"has_loan": 0, "login_count_30d": 1},  # outside both
        "g": {"has_loan": 1, "login_count_30d": 9},  # the rule picks, not eligible
    })
    members = spark.createDataFrame(
        [("loan_aud", "a", "target"), ("loan_aud", "b", "target"), ("loan_aud", "c", "target"),
         ("loan_aud", "d", "control"), ("other", "f", "target")],
        "audience string, one_id string, group string",
    )
    habits = spark.createDataFrame([("a", "wechat"), ("e", None)], "one_id string, habit string")
    dnc = spark.createDataFrame([("c",)], "one_id string")
    s = strategy(non_model="login_count_30d >= 4")
    got = candidates(features, members, habits, dnc, strategies=[s])
    expected = spark.createDataFrame(
        [("a", "first_loan", "target", "wechat"), ("e", "first_loan", "non_model", None)],
        CANDIDATES_SCHEMA,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_control_group_is_the_stable_hash_of_strategy_and_one_id(spark: SparkSession) -> None:
    ids = [f"c{i:02d}" for i in range(40)]
    features = mature_features(spark, {i: {"has_loan": 0} for i in ids})
    members = spark.createDataFrame([("loan_aud", i, "target") for i in ids],
                                    "audience string, one_id string, group string")
    habits = spark.createDataFrame([], "one_id string, habit string")
    got = candidates(features, members, habits, None, strategies=[strategy(control_share=0.3)])
    expected = spark.createDataFrame(
        [(i, "first_loan", "control" if unit(f"strategy:first_loan:{i}") < 0.3 else "target",
          None) for i in ids],
        CANDIDATES_SCHEMA,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
    # Both groups are present in 40 draws at 30 %, so the test can tell them apart.
    assert {r["group"] for r in expected.collect()} == {"control", "target"}


def test_launch_goes_to_the_habit_channel_and_respects_the_cooldown(spark: SparkSession) -> None:
    fresh = spark.createDataFrame(
        [("a", "first_loan", "target", "wechat"),
         ("b", "first_loan", "target", None),        # no habit: fallback app_push
         ("c", "first_loan", "target", "sms"),       # launched 10 days ago: cooldown
         ("d", "first_loan", "control", "sms"),      # launched 30 days ago: free again
         ("e", "first_loan", "non_model", "sms")],   # launch 5 days ago was capped: free
        CANDIDATES_SCHEMA,
    )
    recent = plan_rows(spark, [
        ("c", "first_loan", days_before(10), 1, "sms", "target", None, days_before(10)),
        ("d", "first_loan", days_before(30), 1, "sms", "control", None, days_before(30)),
        ("e", "first_loan", days_before(5), 1, "sms", "target", "touch_cap", days_before(5)),
    ])
    got = launches(fresh, recent, strategies=[strategy()], as_of=D)
    expected = spark.createDataFrame(
        [("a", "first_loan", D, 1, "wechat", "target"), ("b", "first_loan", D, 1, "app_push", "target"),
         ("d", "first_loan", D, 1, "sms", "control"), ("e", "first_loan", D, 1, "sms", "non_model")],
        STEP_ROWS,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_follow_ups_go_only_to_launched_customers_who_did_not_respond(spark: SparkSession) -> None:
    two, four = days_before(2), days_before(4)
    recent = plan_rows(spark, [
        ("x", "first_loan", two, 1, "wechat", "target", None, two),    # silent: step 2
        ("y", "first_loan", two, 1, "wechat", "target", None, two),    # opened at step 1
        ("z", "first_loan", two, 1, "wechat", "control", None, two),   # control: never
        ("t", "first_loan", two, 1, "wechat", "target", "touch_cap", two),  # never sent
        ("w", "first_loan", four, 1, "app_push", "non_model", None, four),  # silent: 3 and 4
        ("w", "first_loan", four, 2, "app_push", "non_model", None, days_before(2)),
        ("v", "first_loan", four, 1, "app_push", "target", None, four),  # opened on day 1
        ("u", "first_loan", four, 1, "app_push", "target", None, four),  # opened before launch
    ])
    responses = spark.createDataFrame(
        [("y", "cmp", days_before(1)), ("v", "cmp", days_before(3)), ("u", "cmp", days_before(5)),
         ("x", "cmp", D)],  # on the as-of itself: not seen by today's plan
        RESPONSES_SCHEMA,
    )
    got = follow_ups(recent, responses, strategies=[strategy()], as_of=D)
    expected = spark.createDataFrame(
        [("x", "first_loan", two, 2, "app_push", "target"),
         ("w", "first_loan", four, 3, "sms", "non_model"),
         ("w", "first_loan", four, 4, "wechat", "non_model"),
         ("u", "first_loan", four, 3, "sms", "target"),
         ("u", "first_loan", four, 4, "wechat", "target")],
        STEP_ROWS,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_follow_up_responses_count_only_on_the_strategys_campaign_when_it_names_one(
    spark: SparkSession,
) -> None:
    two = days_before(2)
    recent = plan_rows(spark, [
        ("x", "first_loan", two, 1, "wechat", "target", None, two),
        ("y", "first_loan", two, 1, "wechat", "target", None, two),
    ])
    responses = spark.createDataFrame(
        [("x", "other_campaign", days_before(1)), ("y", "fl_2026", days_before(1))],
        RESPONSES_SCHEMA,
    )
    got = follow_ups(recent, responses, strategies=[strategy(campaign_id="fl_2026")], as_of=D)
    expected = spark.createDataFrame([("x", "first_loan", two, 2, "app_push", "target")], STEP_ROWS)
    assert_df_equality(got, expected, ignore_nullable=True)


def test_touch_cap_holds_across_two_strategies_by_priority(spark: SparkSession) -> None:
    loan, react = strategy("first_loan", priority=1), strategy("reactivation", priority=2)
    policy = Policy(max_touches=2, per_days=7)
    today = spark.createDataFrame(
        [("p", "reactivation", D, 1, "sms", "target"), ("p", "first_loan", D, 1, "wechat", "target"),
         ("q", "first_loan", D, 1, "sms", "target"), ("q", "reactivation", D, 1, "sms", "target"),
         ("r", "first_loan", D, 1, "sms", "control"), ("r", "reactivation", D, 1, "sms", "target"),
         ("r", "first_loan", days_before(2), 2, "app_push", "target")],
        STEP_ROWS,
    )
    recent = plan_rows(spark, [
        # p: one touch 3 days ago, so one more today: first_loan (priority 1) wins.
        ("p", "reactivation", days_before(3), 1, "sms", "target", None, days_before(3)),
        # q: 7 days ago is outside the 7-day window; a suppressed row yesterday is no touch.
        ("q", "first_loan", days_before(7), 1, "sms", "target", None, days_before(7)),
        ("q", "reactivation", days_before(1), 1, "sms", "target", "touch_cap", days_before(1)),
        # r: two touches in the window (a control row is none): nothing more today.
        ("r", "first_loan", days_before(2), 1, "sms", "target", None, days_before(2)),
        ("r", "reactivation", days_before(6), 1, "sms", "target", None, days_before(6)),
        ("r", "reactivation", days_before(4), 1, "sms", "control", None, days_before(4)),
    ])
    got = with_touch_cap(today, recent, strategies=[loan, react], policy=policy, as_of=D)
    expected = spark.createDataFrame(
        [("p", "reactivation", D, 1, "sms", "target", "touch_cap"),
         ("p", "first_loan", D, 1, "wechat", "target", None),
         ("q", "first_loan", D, 1, "sms", "target", None),
         ("q", "reactivation", D, 1, "sms", "target", None),
         ("r", "first_loan", D, 1, "sms", "control", None),
         ("r", "reactivation", D, 1, "sms", "target", "touch_cap"),
         ("r", "first_loan", days_before(2), 2, "app_push", "target", "touch_cap")],
        STEP_ROWS + ", suppressed_by string",
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_contact_plan_joins_launches_follow_ups_and_the_cap_in_the_table_columns(
    spark: SparkSession,
) -> None:
    fresh = spark.createDataFrame([("a", "first_loan", "target", "sms")], CANDIDATES_SCHEMA)
    two = days_before(2)
    recent = plan_rows(spark, [("b", "first_loan", two, 1, "sms", "target", None, two)])
    responses = spark.createDataFrame([], RESPONSES_SCHEMA)
    got = contact_plan(fresh, recent, responses, strategies=[strategy()],
                       policy=Policy(max_touches=1, per_days=2), as_of=D)
    expected = plan_rows(spark, [
        ("a", "first_loan", D, 1, "sms", "target", None, D),
        # b's step-1 touch two days ago is outside the 2-day window: not capped.
        ("b", "first_loan", two, 2, "app_push", "target", None, D),
    ])
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)
