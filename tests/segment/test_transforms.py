"""Migration counts and per-segment feature stats, computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg.segment.profile import segment_feature_stats, segment_profiles, with_imputed
from sparkseg.segment.score import segment_migration
from sparkseg.segment.tables import SEGMENT_MIGRATION

D1, D2 = dt.date(2026, 1, 31), dt.date(2026, 2, 28)
PAIRS = T.StructType([
    T.StructField("one_id", T.StringType()), T.StructField("segment_id", T.IntegerType()),
])


def test_migration_counts_moves_new_and_gone_customers(spark_clean: SparkSession) -> None:
    prev = spark_clean.createDataFrame(
        [("a", 1), ("b", 1), ("c", 2), ("d", 2), ("e", 3)], PAIRS
    )
    cur = spark_clean.createDataFrame(
        [("a", 1), ("b", 2), ("c", 2), ("d", 2), ("f", 3), ("g", 1)], PAIRS
    )
    got = segment_migration(prev, cur, as_of=D2, prev_as_of=D1)
    expected = spark_clean.createDataFrame(
        [
            (D2, D1, 1, 1, 1),  # a stayed in 1
            (D2, D1, 1, 2, 1),  # b moved 1 -> 2
            (D2, D1, 2, 2, 2),  # c, d stayed in 2
            (D2, D1, 3, None, 1),  # e is gone
            (D2, D1, None, 3, 1),  # f is new in 3
            (D2, D1, None, 1, 1),  # g is new in 1
        ],
        SEGMENT_MIGRATION.schema,
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_first_as_of_counts_everyone_as_new(spark_clean: SparkSession) -> None:
    cur = spark_clean.createDataFrame([("a", 1), ("b", 1), ("c", 2)], PAIRS)
    got = segment_migration(None, cur, as_of=D1, prev_as_of=None)
    expected = spark_clean.createDataFrame(
        [(D1, None, None, 1, 2), (D1, None, None, 2, 1)], SEGMENT_MIGRATION.schema
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_feature_stats_give_mean_median_and_lift_against_the_population(
    spark_clean: SparkSession,
) -> None:
    schema = "one_id string, segment_id int, x double, y double"
    df = spark_clean.createDataFrame(
        [("a", 1, 1.0, 5.0), ("b", 1, 2.0, 5.0), ("c", 1, 3.0, 5.0),
         ("d", 2, 6.0, 5.0), ("e", 2, 8.0, 5.0)],
        schema,
    )
    got = {(r["segment_id"], r["feature"]): r for r in segment_feature_stats(df, ["x", "y"]).collect()}
    # Population of x: mean 4, population std sqrt((9+4+1+4+16)/5) = sqrt(6.8).
    std = 6.8**0.5
    assert got[(1, "x")]["mean"] == pytest.approx(2.0)
    assert got[(1, "x")]["median"] == 2.0
    assert got[(1, "x")]["lift_z"] == pytest.approx((2.0 - 4.0) / std)
    assert got[(2, "x")]["lift_z"] == pytest.approx((7.0 - 4.0) / std)
    assert got[(2, "x")]["median"] == 6.0  # percentile_approx returns an observed value
    # A constant feature has no lift.
    assert got[(1, "y")]["lift_z"] is None and got[(2, "y")]["mean"] == 5.0
    assert len(got) == 4


def test_profiles_count_sizes_and_shares_and_keep_the_published_names(
    spark_clean: SparkSession,
) -> None:
    schema = "one_id string, segment_id int, segment_name string, segment_name_zh string, model_version int"
    seg = spark_clean.createDataFrame(
        [("a", 1, "Dormant", "沉睡", 3), ("b", 1, "Dormant", "沉睡", 3),
         ("c", 1, "Dormant", "沉睡", 3), ("d", 2, "Young", "年轻", 3)],
        schema,
    )
    got = sorted(tuple(r) for r in segment_profiles(seg).collect())
    assert got == [(1, 3, 3, 0.75, "Dormant", "沉睡"), (2, 3, 1, 0.25, "Young", "年轻")]


def test_with_imputed_fills_nulls_and_nan_with_the_model_values(spark_clean: SparkSession) -> None:
    df = spark_clean.createDataFrame(
        [(None, 1), (float("nan"), None), (2.5, 3)], "a double, b long"
    )
    got = [tuple(r) for r in with_imputed(df, values={"a": 9.0, "b": 0.0}).collect()]
    assert got == [(9.0, 1.0), (9.0, 0.0), (2.5, 3.0)]
