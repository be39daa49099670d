"""The lifecycle stage through run_stage on a Delta warehouse: stages, history, transitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.errors import ConfigError, MissingTableError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lifecycle.tables import CUSTOMER_LIFECYCLE, LIFECYCLE_TRANSITIONS
from sparkseg.tables import OPS_RUNS
from tests.support.config import make_config
from tests.support.tags import FEATURES_SPEC, mature_features

D1, D2, D3 = dt.date(2026, 4, 30), dt.date(2026, 5, 31), dt.date(2026, 6, 30)

MATURE: dict[str, Any] = {}
GROWTH = {"txn_count_30d": 9, "txn_trend_ratio": 1.8}
DORMANT = {"days_since_last_txn": 200, "days_since_last_event": 100}
HONEYMOON = {"tenure_days": 40, "in_honeymoon": 1, "is_new_customer": 1}


@pytest.fixture
def lc_cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path / "lake")


LIFECYCLE_SCHEMA = (
    "one_id string, customer_id string, stage string, stage_zh string, by_fallback boolean, "
    "previous_stage string, previous_as_of_date date, stage_since date, days_in_stage int"
)


def assert_lifecycle(lake: Lakehouse, as_of: dt.date, expected: list[tuple[Any, ...]]) -> None:
    """The lifecycle history rows of ``as_of`` (without the date column), in any order."""
    assert_df_equality(
        lake.read(CUSTOMER_LIFECYCLE, partitions={"as_of_date": as_of}).drop("as_of_date"),
        lake.spark.createDataFrame(expected, LIFECYCLE_SCHEMA),
        ignore_row_order=True, ignore_nullable=True,
    )


def write_features(lake: Lakehouse, as_of: dt.date, rows: dict[str, dict[str, Any]]) -> None:
    lake.write(mature_features(lake.spark, rows, as_of), FEATURES_SPEC, mode="overwrite_partitions", replace={"as_of_date": as_of})


def test_stage_writes_lifecycle_history_and_transitions_and_reruns_idempotently(
    spark_clean: SparkSession, lc_cfg: Config
) -> None:
    spark = spark_clean
    lake = Lakehouse(spark, lc_cfg)
    # a: mature throughout; b: mature -> growth -> growth; c: mature, then gone;
    # d: new in D2 (honeymoon) -> growth; e: dormant -> mature -> dormant.
    write_features(lake, D1, {"a": MATURE, "b": MATURE, "c": MATURE, "e": DORMANT})
    write_features(lake, D2, {"a": MATURE, "b": GROWTH, "d": HONEYMOON, "e": MATURE})
    write_features(lake, D3, {"a": MATURE, "b": GROWTH,
                              "d": {"tenure_days": 100, "is_new_customer": 1}, "e": DORMANT})
    for as_of in (D1, D2, D3):
        led = pipeline.run_stage(spark, lc_cfg, "lifecycle", as_of)
    # A rerun of D3 (an orchestrator retry) gives the same rows and touches no other date.
    led = pipeline.run_stage(spark, lc_cfg, "lifecycle", D3)
    assert led.rows[CUSTOMER_LIFECYCLE.name] == 4

    per_date = {
        r[0]: r[1] for r in lake.read(CUSTOMER_LIFECYCLE).groupBy("as_of_date").count().collect()
    }
    assert per_date == {D1: 4, D2: 4, D3: 4}
    assert_lifecycle(lake, D3, [
        ("a", "a", "mature", "成熟期", False, "mature", D2, D1, 61),
        ("b", "b", "growth", "成长期", False, "growth", D2, D2, 30),
        ("d", "d", "growth", "成长期", False, "honeymoon", D2, D3, 0),
        ("e", "e", "dormant", "沉睡", False, "mature", D2, D3, 0),
    ])
    assert_lifecycle(lake, D2, [
        ("a", "a", "mature", "成熟期", False, "mature", D1, D1, 31),
        ("b", "b", "growth", "成长期", False, "mature", D1, D2, 0),
        ("d", "d", "honeymoon", "蜜月期", False, None, D1, D2, 0),
        ("e", "e", "mature", "成熟期", False, "dormant", D1, D2, 0),
    ])
    first = lake.read(CUSTOMER_LIFECYCLE, partitions={"as_of_date": D1})
    assert first.where(F.col("previous_stage").isNotNull() | F.col("previous_as_of_date").isNotNull()
                       | (F.col("stage_since") != F.lit(D1))).count() == 0

    t_schema = "as_of_date date, prev_as_of_date date, from_stage string, to_stage string, customers long"
    assert_df_equality(
        lake.read(LIFECYCLE_TRANSITIONS),
        spark.createDataFrame(
            [
                # D1: every customer is new to the table
                (D1, None, None, "mature", 3), (D1, None, None, "dormant", 1),
                # D2: c gone, d new
                (D2, D1, "mature", "mature", 1), (D2, D1, "mature", "growth", 1),
                (D2, D1, "mature", None, 1), (D2, D1, None, "honeymoon", 1),
                (D2, D1, "dormant", "mature", 1),
                (D3, D2, "mature", "mature", 1), (D3, D2, "growth", "growth", 1),
                (D3, D2, "honeymoon", "growth", 1), (D3, D2, "mature", "dormant", 1),
            ],
            t_schema,
        ),
        ignore_row_order=True, ignore_nullable=True,
    )
    runs = lake.read(OPS_RUNS).where(F.col("stage") == "lifecycle")
    assert runs.where(F.col("status") == "succeeded").count() == 4


def test_missing_features_partition_is_a_missing_input(
    spark_clean: SparkSession, lc_cfg: Config
) -> None:
    lake = Lakehouse(spark_clean, lc_cfg)
    write_features(lake, D1, {"a": MATURE})
    with pytest.raises(MissingTableError) as exc:
        pipeline.run_stage(spark_clean, lc_cfg, "lifecycle", D2)
    assert exc.value.exit_code == 3
    assert not lake.exists(CUSTOMER_LIFECYCLE)


def test_a_bad_condition_fails_before_anything_is_read(
    spark_clean: SparkSession, tmp_path: Path
) -> None:
    cfg = make_config(tmp_path / "lake", lifecycle={
        "stages": [{"name": "x", "name_zh": "某", "when": "no_such_feature > 1"}],
        "fallback": "x",
    })
    lake = Lakehouse(spark_clean, cfg)
    write_features(lake, D1, {"a": MATURE})
    with pytest.raises(ConfigError, match="lifecycle stage 'x': unknown column 'no_such_feature'"):
        pipeline.run_stage(spark_clean, cfg, "lifecycle", D1)
    assert not lake.exists(CUSTOMER_LIFECYCLE) and not lake.exists(OPS_RUNS)


def test_lifecycle_runs_last_in_the_pipeline() -> None:
    assert list(pipeline.STAGES)[-1] == "lifecycle"
    assert pipeline.stage_function("lifecycle").__module__ == "sparkseg.lifecycle.stage"
