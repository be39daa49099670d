"""train is idempotent per as-of: same as-of, same input content, same settings -> no new model.

Model v1 is trained once per module on a small warehouse (30 customers per planted
group, one candidate k); each test works on its own copy of that warehouse.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.pipeline import run_stage
from sparkseg.segment import score
from sparkseg.segment.model_store import ModelStore
from sparkseg.segment.tables import SEGMENTS
from sparkseg.tables import OPS_RUNS
from tests.support.config import make_config
from tests.support.segment import AS_OF, FEATURES_SPEC, SEGMENT_SECTION, blob_rows

D2 = dt.date(2026, 2, 28)
REUSE = "was already trained for"
ROWS = blob_rows(per_group=30)


def _config(root: Path, **segment: Any) -> Config:
    return make_config(root, segment={**SEGMENT_SECTION, **segment})


def _write_features(spark: SparkSession, lake: Lakehouse, rows: list[tuple], day: dt.date) -> None:
    df = spark.createDataFrame([(*r[:4], day) for r in rows], FEATURES_SPEC.schema)
    lake.write(df, FEATURES_SPEC, mode="overwrite_partitions", replace={"as_of_date": day})


def _segments(lake: Lakehouse, day: dt.date) -> list[tuple]:
    return sorted(tuple(r) for r in lake.read(SEGMENTS, partitions={"as_of_date": day}).collect())


@pytest.fixture(scope="module")
def baseline(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the features of AS_OF and model v1 trained on them."""
    root = tmp_path_factory.mktemp("train-idempotent") / "lake"
    cfg = _config(root)
    _write_features(spark, Lakehouse(spark, cfg), ROWS, AS_OF)
    run_stage(spark, cfg, "train", AS_OF)
    return root


def _copy(baseline: Path, tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    shutil.copytree(baseline, root)
    return root


def test_training_twice_for_the_same_as_of_publishes_one_version_and_scores_the_same(
    spark_clean: SparkSession, baseline: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = _config(_copy(baseline, tmp_path))
    lake = Lakehouse(spark_clean, cfg)
    score.run(spark_clean, cfg, AS_OF)
    first = _segments(lake, AS_OF)
    store = ModelStore(lake, cfg.segment.model_name)
    meta = store.load_metadata(1)
    assert meta.input_fingerprint and meta.input_fingerprint.startswith("rows=120;")
    assert meta.settings_fingerprint

    # The features stage rerun: the same content as a new Delta version of the table.
    _write_features(spark_clean, lake, ROWS, AS_OF)
    with caplog.at_level(logging.INFO, logger="sparkseg.segment.train"):
        run_stage(spark_clean, cfg, "train", AS_OF)
    score.run(spark_clean, cfg, AS_OF)

    assert store.versions() == [1]
    reuse = [r.getMessage() for r in caplog.records if REUSE in r.getMessage()]
    assert reuse == [
        f"train: model customer_segments v1 was already trained for {AS_OF} "
        "on identical input and settings; reusing it"
    ]
    runs = [r for r in lake.read(OPS_RUNS).collect() if r["stage"] == "train"]
    assert sorted((r["status"], REUSE in r["message"]) for r in runs) == [
        ("succeeded", False), ("succeeded", True)
    ]
    second = _segments(lake, AS_OF)
    assert second == first
    assert {r[5] for r in second} == {1}  # model_version


def _change_one_value(rows: list[tuple]) -> list[tuple]:
    one_id, aum, *rest = rows[0]
    return [(one_id, aum + 1.0, *rest), *rows[1:]]


@pytest.mark.parametrize(
    ("change", "day"),
    [
        ("feature_value", AS_OF),
        ("as_of", D2),
        ("seed", AS_OF),
    ],
)
def test_changed_input_as_of_or_setting_trains_a_new_version(
    spark_clean: SparkSession, baseline: Path, tmp_path: Path, change: str, day: dt.date
) -> None:
    root = _copy(baseline, tmp_path)
    cfg = _config(root)
    lake = Lakehouse(spark_clean, cfg)
    if change == "feature_value":
        _write_features(spark_clean, lake, _change_one_value(ROWS), AS_OF)
    elif change == "as_of":
        _write_features(spark_clean, lake, ROWS, D2)
    else:
        cfg = _config(root, seed=2)  # SEGMENT_SECTION uses seed 1
    led = run_stage(spark_clean, cfg, "train", day)

    store = ModelStore(lake, cfg.segment.model_name)
    assert store.versions() == [1, 2]
    v1, v2 = store.load_metadata(1), store.load_metadata(2)
    assert v2.as_of_date == day and v2.previous_version == 1
    assert led.message == ""
    assert (v1.input_fingerprint != v2.input_fingerprint) == (change == "feature_value")
    assert (v1.settings_fingerprint != v2.settings_fingerprint) == (change == "seed")


def test_retrain_true_trains_a_new_version_on_identical_input(
    spark_clean: SparkSession, baseline: Path, tmp_path: Path
) -> None:
    root = _copy(baseline, tmp_path)
    cfg = _config(root)
    lake = Lakehouse(spark_clean, cfg)
    run_stage(spark_clean, _config(root, retrain=True), "train", AS_OF)

    store = ModelStore(lake, cfg.segment.model_name)
    assert store.versions() == [1, 2]
    v1, v2 = store.load_metadata(1), store.load_metadata(2)
    # retrain and the scoring pin do not count as fit settings.
    assert (v1.input_fingerprint, v1.settings_fingerprint) == (
        v2.input_fingerprint, v2.settings_fingerprint
    )
    run_stage(spark_clean, _config(root, model_version=1), "train", AS_OF)
    assert store.versions() == [1, 2]  # reused v2


@pytest.mark.parametrize(("every_days", "versions"), [(29, [1]), (28, [1, 2]), (0, [1, 2])])
def test_a_model_younger_than_retrain_every_days_is_reused_for_a_later_as_of(
    spark_clean: SparkSession, baseline: Path, tmp_path: Path, every_days: int,
    versions: list[int],
) -> None:
    """v1 is trained for AS_OF; D2 is 28 days later: reused when 28 < every_days."""
    root = _copy(baseline, tmp_path)
    cfg = _config(root, retrain_every_days=every_days)
    lake = Lakehouse(spark_clean, cfg)
    _write_features(spark_clean, lake, _change_one_value(ROWS), D2)
    led = run_stage(spark_clean, cfg, "train", D2)

    store = ModelStore(lake, cfg.segment.model_name)
    assert store.versions() == versions
    reused = versions == [1]
    assert ("retrain_every_days=29" in led.message) == reused, led.message
    # The cadence is no fit setting: the new version's settings equal v1's.
    if not reused:
        assert store.load_metadata(2).settings_fingerprint == (
            store.load_metadata(1).settings_fingerprint
        )


def test_a_model_trained_for_a_later_as_of_is_not_reused_for_a_backfill(
    spark_clean: SparkSession, baseline: Path, tmp_path: Path
) -> None:
    root = _copy(baseline, tmp_path)
    cfg = _config(root, retrain_every_days=365)
    lake = Lakehouse(spark_clean, cfg)
    earlier = AS_OF - dt.timedelta(days=1)
    _write_features(spark_clean, lake, ROWS, earlier)
    run_stage(spark_clean, cfg, "train", earlier)
    assert ModelStore(lake, cfg.segment.model_name).versions() == [1, 2]
