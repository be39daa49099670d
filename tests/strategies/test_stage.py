"""``sparkseg plan`` through run_stage on a Delta warehouse: two days of one sequence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg import pipeline
from sparkseg.audiences.exports import current_set
from sparkseg.audiences.tables import AUDIENCE_MEMBERS
from sparkseg.cli import build_parser
from sparkseg.config import Config
from sparkseg.errors import DataQualityError, MissingTableError
from sparkseg.identity.tables import IDENTITY_MAP
from sparkseg.lakehouse import Lakehouse
from sparkseg.strategies.evaluate import run as evaluate_run
from sparkseg.strategies.stage import run as plan_run
from sparkseg.strategies.tables import (
    CONTACT_PLAN,
    STRATEGY_EVALUATION,
    STRATEGY_FUNNEL,
    STRATEGY_RESPONSES,
)
from sparkseg.tables import OPS_COMPLETIONS, OPS_RUNS, RAW_EVENTS, RAW_TRANSACTIONS, silver_of
from sparkseg.tags.tables import CUSTOMER_TAGS_WIDE
from tests.support.config import REPO, make_config
from tests.support.tags import FEATURES_SPEC, mature_features

D = dt.date(2026, 6, 30)
D2 = D + dt.timedelta(days=2)
IDS = ("a", "b", "c", "e")

STRATEGIES = {
    "policy": {"max_touches": 3, "per_days": 7, "export": "csv"},
    "strategies": [
        {"name": "first_loan", "audiences": ["first_loan_app_push"], "priority": 1,
         "goal": ["loan_disbursement"],
         "eligibility": "coalesce(has_loan, 0) = 0", "control_share": 0.0,
         "steps": [{"day": 0, "channel": "habit", "fallback": "app_push"},
                   {"day": 2, "channel": "app_push", "if_no_response": True},
                   {"day": 4, "channel": "sms", "if_no_response": True}]},
        {"name": "reactivation", "audiences": ["reactivation"], "priority": 2,
         "control_share": 0.0, "steps": [{"day": 0, "channel": "sms"}]},
    ],
}


def strategies_config(tmp_path: Path, engine: str = "offline") -> Config:
    path = tmp_path / "strategies.yaml"
    path.write_text(yaml.safe_dump(STRATEGIES))
    return make_config(tmp_path / "lake", engine=engine, strategies={"definitions": str(path)},
                       audiences={"definitions": str(REPO / "conf" / "audiences.yaml")})


@pytest.fixture
def plan_cfg(tmp_path: Path) -> Config:
    return strategies_config(tmp_path)


def plan_two_days(lake: Lakehouse, cfg: Config) -> None:
    """The inputs of D and D2 with their events, then the plans of D and D2."""
    for day in (D, D2):
        write_day(lake, day)
    write_events(lake)
    pipeline.run_stage(lake.spark, cfg, "plan", D, fn=plan_run)
    pipeline.run_stage(lake.spark, cfg, "plan", D2, fn=plan_run)


def write_day(lake: Lakehouse, as_of: dt.date) -> None:
    """The inputs of one as-of: features, audiences, tags and the identity map."""
    spark = lake.spark
    replace = {"as_of_date": as_of}
    features = mature_features(spark, {i: {"has_loan": 0} for i in IDS}, as_of)
    lake.write(features, FEATURES_SPEC, mode="overwrite_partitions", replace=replace)
    members = [("first_loan_app_push", "a", "target", as_of), ("first_loan_app_push", "b", "target", as_of),
               ("reactivation", "c", "target", as_of)]
    lake.write(spark.createDataFrame(members, AUDIENCE_MEMBERS.schema), AUDIENCE_MEMBERS,
               mode="overwrite_partitions", replace=replace)
    tags = [("a", ["channel_habit=wechat"], as_of), ("b", [], as_of), ("c", ["lost"], as_of),
            ("e", [], as_of)]
    lake.write(spark.createDataFrame(tags, CUSTOMER_TAGS_WIDE.schema), CUSTOMER_TAGS_WIDE,
               mode="overwrite_partitions", replace=replace)
    ids = [("customer_id", i, i, i, as_of) for i in IDS]
    lake.write(spark.createDataFrame(ids, IDENTITY_MAP.schema), IDENTITY_MAP,
               mode="overwrite_partitions", replace=replace)


def write_events(lake: Lakehouse) -> None:
    spec = silver_of(RAW_EVENTS)
    month = D.replace(day=1)
    events = [
        # a opens the day-0 WeChat message the next day: no day-2 push for a.
        ("e1", dt.datetime(2026, 7, 1, 9), "wechat", "customer_id", "a", "wechat_msg_opened"),
        ("e2", dt.datetime(2026, 7, 1, 9), "app", "customer_id", "b", "push_sent"),  # no response
        ("e3", dt.datetime(2026, 6, 29, 9), "app", "customer_id", "b", "push_opened"),  # before launch
    ]
    rows = [(*e, "cmp1", None, month if e[1].month == 6 else dt.date(2026, 7, 1)) for e in events]
    lake.write(lake.spark.createDataFrame(rows, spec.schema), spec, mode="append")


FUNNEL = ("strategy string, launch_date date, step int, channel string, group string, "
          "planned long, sent long, opened long, converted long")
PLAN = ("one_id string, strategy string, launch_date date, step int, channel string, "
        "planned_date date, group string, suppressed_by string")


@pytest.mark.parametrize("engine", ["offline", "spark"])
def test_plan_launches_then_follows_up_only_the_silent_and_reruns_idempotently(
    spark_clean: SparkSession, tmp_path: Path, engine: str
) -> None:
    spark = spark_clean
    plan_cfg = strategies_config(tmp_path, engine)
    lake = Lakehouse(spark, plan_cfg)
    plan_two_days(lake, plan_cfg)
    pipeline.run_stage(spark, plan_cfg, "plan", D2, fn=plan_run)  # a rerun adds nothing

    def plan_of(day: dt.date) -> DataFrame:
        return lake.read(CONTACT_PLAN, partitions={"as_of_date": day}).drop("as_of_date")

    assert_df_equality(plan_of(D), spark.createDataFrame([
        ("a", "first_loan", D, 1, "wechat", D, "target", None),   # its habit channel
        ("b", "first_loan", D, 1, "app_push", D, "target", None),  # no habit: the fallback
        ("c", "reactivation", D, 1, "sms", D, "target", None),
    ], PLAN), ignore_row_order=True, ignore_nullable=True)
    # Day 2: nobody is launched again (cooldown); only b, who opened nothing, gets step 2.
    assert_df_equality(plan_of(D2), spark.createDataFrame([
        ("b", "first_loan", D, 2, "app_push", D2, "target", None),
    ], PLAN), ignore_nullable=True)
    # One export set per channel with touches that day, published by its manifest.
    for channel, one_id in (("wechat", "a"), ("app_push", "b"), ("sms", "c")):
        first = current_set(lake, f"contact_plan_{channel}", D)
        assert first is not None and first.manifest["rows"] == 1
        assert first.manifest["channel"] == channel
        sent = spark.read.option("header", True).csv(first.files).collect()
        assert [(r["one_id"], r["step"], r["group"]) for r in sent] == [(one_id, "1", "target")]
    later = current_set(lake, "contact_plan_app_push", D2)
    assert later is not None and later.manifest["rows"] == 1
    assert current_set(lake, "contact_plan_wechat", D2) is None  # no wechat touch that day
    done = lake.read(OPS_COMPLETIONS).where((F.col("stage") == "plan")
                                            & (F.col("as_of_date") == D)).first()
    assert done is not None and set(done["exports"]) == {
        "contact_plan_wechat", "contact_plan_app_push", "contact_plan_sms"}
    runs = lake.read(OPS_RUNS).where(F.col("stage") == "plan")
    assert sorted((r["as_of_date"], r["status"]) for r in runs.collect()) == [
        (D, "succeeded"), (D2, "succeeded"), (D2, "succeeded")]


def test_plan_without_features_names_the_missing_table(
    spark_clean: SparkSession, plan_cfg: Config
) -> None:
    with pytest.raises(MissingTableError, match="silver/customer_features"):
        pipeline.run_stage(spark_clean, plan_cfg, "plan", D, fn=plan_run)
    assert not Lakehouse(spark_clean, plan_cfg).exists(CONTACT_PLAN)


def test_plan_is_a_command() -> None:
    args = build_parser().parse_args(["plan", "--as-of", "2026-06-30"])
    assert (args.command, args.as_of) == ("plan", D)


def write_window_events(lake: Lakehouse) -> None:
    """Opens in the window and an event past its end (so the window is covered)."""
    spark = lake.spark
    ev = silver_of(RAW_EVENTS)
    events = [
        ("w1", dt.datetime(2026, 7, 1, 9), "wechat", "customer_id", "a", "wechat_msg_opened"),
        ("w2", dt.datetime(2026, 7, 3, 9), "app", "customer_id", "b", "push_opened"),  # step 2's day
        ("w3", dt.datetime(2026, 7, 20, 9), "app", "customer_id", "e", "login"),
    ]
    lake.write(spark.createDataFrame(
        [(*e, "cmp1", None, e[1].date().replace(day=1)) for e in events], ev.schema), ev, mode="append")


def write_goal_transactions(lake: Lakehouse) -> None:
    """a's loan in the window, and a transaction past its end."""
    spark = lake.spark
    tx = silver_of(RAW_TRANSACTIONS)
    txns = [("x1", "a", dt.datetime(2026, 7, 5, 9), "loan_disbursement"),
            ("x2", "e", dt.datetime(2026, 7, 20, 9), "salary")]
    lake.write(spark.createDataFrame(
        [(i, c, f"{c}-acc", t, Decimal("100.00"), "CNY", "credit", "branch", cat, None, None,
          t.date().replace(day=1)) for i, c, t, cat in txns], tx.schema), tx, mode="append")


def test_evaluate_writes_the_funnel_of_a_launch_once_its_window_is_covered(
    spark_clean: SparkSession, plan_cfg: Config
) -> None:
    spark = spark_clean
    lake = Lakehouse(spark, plan_cfg)
    plan_two_days(lake, plan_cfg)
    # Neither source covers the window yet (no transaction at all): both are named.
    empty_tx = silver_of(RAW_TRANSACTIONS)
    lake.write(spark.createDataFrame([], empty_tx.schema), empty_tx, mode="append")
    with pytest.raises(DataQualityError, match=r"^silver/events ends at 2026-07-01; silver/transactions "
                                               r"has no rows from 2026-06-30 on: the evaluation"):
        pipeline.run_stage(spark, plan_cfg, "evaluate", D, fn=evaluate_run)
    write_goal_transactions(lake)
    # The events end on 07-01: the 14-day window is not over yet, nothing is written.
    with pytest.raises(DataQualityError, match=r"silver/events ends at 2026-07-01: the "
                                               r"evaluation window \[2026-06-30, 2026-07-14\)"):
        pipeline.run_stage(spark, plan_cfg, "evaluate", D, fn=evaluate_run)
    assert not lake.exists(STRATEGY_FUNNEL)
    write_window_events(lake)
    pipeline.run_stage(spark, plan_cfg, "evaluate", D, fn=evaluate_run)
    got = lake.read(STRATEGY_FUNNEL, partitions={"as_of_date": D}).drop("as_of_date")
    assert_df_equality(got, spark.createDataFrame([
        ("first_loan", D, 1, "wechat", "target", 1, 1, 1, 1),      # a: opened, then the loan
        ("first_loan", D, 1, "app_push", "target", 1, 1, 1, 0),    # b opened on day 3 ...
        ("first_loan", D, 2, "app_push", "target", 1, 1, 1, 0),    # ... after step 2 too
        ("reactivation", D, 1, "sms", "target", 1, 1, 0, 0),
    ], FUNNEL), ignore_row_order=True, ignore_nullable=True)
    answered = lake.read(STRATEGY_RESPONSES, partitions={"as_of_date": D})
    assert sorted((r["one_id"], r["touches"], r["responded_step"], r["responded_channel"])
                  for r in answered.collect()) == [
        ("a", 1, 1, "wechat"), ("b", 2, 1, "app_push"), ("c", 1, None, None)]
    result = lake.read(STRATEGY_EVALUATION, partitions={"as_of_date": D})
    # first_loan's goal against both groups; reactivation has no goal in this file.
    assert sorted((r["strategy"], r["metric"], r["comparison"], r["target_n"],
                   r["target_responders"], r["comparison_n"]) for r in result.collect()) == [
        ("first_loan", "loan_disbursement", "control", 2, 1, 0),
        ("first_loan", "loan_disbursement", "non_model", 2, 1, 0)]
