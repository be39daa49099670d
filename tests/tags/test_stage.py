"""The tags stage end to end on Delta tables: long, wide and count tables per as-of."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.errors import MissingTableError, SchemaMismatchError
from sparkseg.lakehouse import Lakehouse
from sparkseg.tags.stage import run
from sparkseg.tags.tables import CUSTOMER_TAGS, CUSTOMER_TAGS_WIDE, TAG_COUNTS
from tests.support.config import make_config
from tests.support.tags import FEATURES_SPEC, SEGMENTS_SPEC, input_frame, input_row, split_inputs

D1, D2 = dt.date(2026, 5, 31), dt.date(2026, 6, 30)
RULES = {
    "rules": [
        {"name": "senior", "category": "basic_attributes", "description": "aged 60+",
         "when": "age >= 60"},
        {"name": "tier", "category": "value", "description": "AUM tier", "value": "aum",
         "buckets": [{"label": "low", "below": 1000}, {"label": "high"}]},
        {"name": "senior_high", "category": "value", "description": "derived",
         "when": "senior AND tier = 'high'"},
    ]
}


@pytest.fixture
def tag_cfg(tmp_path: Path) -> Config:
    path = tmp_path / "tags.yaml"
    path.write_text(yaml.safe_dump(RULES), encoding="utf-8")
    return make_config(
        tmp_path / "lake", tags={"rules": str(path), "channel_habit": {"enabled": False}}
    )


def write_inputs(lake: Lakehouse, rows: list[tuple[object, ...]], as_of: dt.date) -> None:
    features, segments = split_inputs(input_frame(lake.spark, rows))
    replace = {"as_of_date": as_of}
    lake.write(features, FEATURES_SPEC, mode="overwrite_partitions", replace=replace)
    lake.write(segments, SEGMENTS_SPEC, mode="overwrite_partitions", replace=replace)


def test_tags_stage_writes_long_wide_and_counts_with_change_and_reruns_idempotently(
    spark_clean: SparkSession, tag_cfg: Config
) -> None:
    spark = spark_clean
    lake = Lakehouse(spark, tag_cfg)
    write_inputs(
        lake,
        [input_row("a", D1, age=70, aum=5000.0), input_row("b", D1, age=40, aum=10.0),
         input_row("c", D1, age=65, aum=10.0)],
        D1,
    )
    run(spark, tag_cfg, D1)
    write_inputs(
        lake,
        [input_row("a", D2, age=70, aum=5000.0), input_row("b", D2, age=61, aum=9000.0),
         input_row("c", D2, age=65, aum=None)],
        D2,
    )
    run(spark, tag_cfg, D2)
    # A rerun of D2 (an orchestrator retry) replaces D2's rows and nothing else.
    run(spark, tag_cfg, D2)
    per_date = {r[0]: r[1] for r in lake.read(CUSTOMER_TAGS).groupBy("as_of_date").count().collect()}
    assert per_date == {D1: 6, D2: 7}

    long = lake.read(CUSTOMER_TAGS, partitions={"as_of_date": D2})
    version = long.select("rule_version").distinct().collect()
    assert len(version) == 1 and len(version[0][0]) == 12
    expected_long = spark.createDataFrame(
        [
            ("a", "senior", "true", "basic_attributes"), ("a", "tier", "high", "value"),
            ("a", "senior_high", "true", "value"),
            ("b", "senior", "true", "basic_attributes"), ("b", "tier", "high", "value"),
            ("b", "senior_high", "true", "value"),
            ("c", "senior", "true", "basic_attributes"),
        ],
        "one_id string, tag string, value string, category string",
    )
    assert_df_equality(
        long.select("one_id", "tag", "value", "category"), expected_long,
        ignore_row_order=True, ignore_nullable=True,
    )

    wide = lake.read(CUSTOMER_TAGS_WIDE, partitions={"as_of_date": D2})
    expected_wide = spark.createDataFrame(
        [("a", ["senior", "tier=high", "senior_high"]), ("b", ["senior", "tier=high", "senior_high"]),
         ("c", ["senior"])],
        "one_id string, tags array<string>",
    )
    assert_df_equality(
        wide.select("one_id", "tags"), expected_wide, ignore_row_order=True, ignore_nullable=True
    )

    counts = lake.read(TAG_COUNTS).where(F.col("as_of_date") == D2)
    expected_counts = spark.createDataFrame(
        [
            ("senior", "true", 3, 2, 1), ("tier", "high", 2, 1, 1), ("tier", "low", 0, 2, -2),
            ("senior_high", "true", 2, 1, 1),
        ],
        "tag string, value string, customers long, prev_customers long, change long",
    )
    assert_df_equality(
        counts.drop("as_of_date"), expected_counts, ignore_row_order=True, ignore_nullable=True
    )
    first = lake.read(TAG_COUNTS).where(F.col("as_of_date") == D1)
    assert first.where(F.col("prev_customers").isNotNull()).count() == 0


def test_missing_features_partition_is_a_missing_input(
    spark_clean: SparkSession, tag_cfg: Config
) -> None:
    lake = Lakehouse(spark_clean, tag_cfg)
    write_inputs(lake, [input_row("a", D1, age=70)], D1)
    with pytest.raises(MissingTableError, match=r"silver/customer_features.*as_of_date=2026-06-30"):
        run(spark_clean, tag_cfg, D2)


def test_feature_used_by_a_rule_but_missing_in_the_table_names_table_and_column(
    spark_clean: SparkSession, tag_cfg: Config
) -> None:
    lake = Lakehouse(spark_clean, tag_cfg)
    features, segments = split_inputs(input_frame(spark_clean, [input_row("a", D1, age=70)]))
    spec = FEATURES_SPEC.__class__(
        FEATURES_SPEC.name,
        features.drop("age").schema,
        FEATURES_SPEC.partition_by,
    )
    replace = {"as_of_date": D1}
    lake.write(features.drop("age"), spec, mode="overwrite_partitions", replace=replace)
    lake.write(segments, SEGMENTS_SPEC, mode="overwrite_partitions", replace=replace)
    with pytest.raises(SchemaMismatchError, match=r"silver/customer_features: missing column\(s\) age"):
        run(spark_clean, tag_cfg, D1)
