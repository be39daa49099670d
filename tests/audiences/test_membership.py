"""Audience membership, tag columns from the wide form and stable control groups."""

from __future__ import annotations

import hashlib

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.audiences.definitions import Audience
from sparkseg.audiences.membership import (
    audience_members,
    control_unit,
    with_tag_columns_from_wide,
)
from sparkseg.tags.rules import Bucket, TagRule, build_rule_set

RULES = build_rule_set(
    [
        TagRule("payroll", "relationships", "payroll", when="salary_months_12m >= 3"),
        TagRule("lost", "marketing", "lost", when="push_sent_90d > 0"),
        TagRule("aum_tier", "value", "tier", value="aum",
                buckets=(Bucket("mass", 50000.0), Bucket("hnw", None))),
    ],
    source="<test>",
    version="t",
)


def test_wide_tags_become_one_column_per_tag(spark: SparkSession) -> None:
    wide = spark.createDataFrame(
        [("a", ["payroll", "aum_tier=hnw"]), ("b", ["lost"]), ("c", [])],
        "one_id string, tags array<string>",
    )
    expected = spark.createDataFrame(
        [("a", True, False, "hnw"), ("b", False, True, None), ("c", False, False, None)],
        "one_id string, payroll boolean, lost boolean, aum_tier string",
    )
    actual = wide.transform(with_tag_columns_from_wide, rules=RULES).drop("tags")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_include_combines_tags_and_segments_with_and_or_not(spark: SparkSession) -> None:
    frame = spark.createDataFrame(
        [
            ("a", True, False, "hnw", 3), ("b", True, True, "mass", 1),
            ("c", False, False, None, 3), ("d", False, False, "hnw", None),
        ],
        "one_id string, payroll boolean, lost boolean, aum_tier string, segment_id int",
    )
    audiences = [
        Audience("payroll_active", "", "payroll AND NOT lost"),
        Audience("seg3_or_hnw", "", "segment_id = 3 OR aum_tier = 'hnw'"),
        # Null aum_tier / segment_id: the comparison is null, which counts as not included.
        Audience("not_mass", "", "NOT (aum_tier = 'mass')"),
    ]
    expected = spark.createDataFrame(
        [
            ("payroll_active", "a", "target"),
            ("seg3_or_hnw", "a", "target"), ("seg3_or_hnw", "c", "target"),
            ("seg3_or_hnw", "d", "target"),
            ("not_mass", "a", "target"), ("not_mass", "d", "target"),
        ],
        "audience string, one_id string, group string",
    )
    actual = audience_members(frame, audiences=audiences)
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_control_groups_are_stable_across_runs_and_hold_the_configured_share(
    spark: SparkSession,
) -> None:
    ids = spark.range(20000).select(F.concat(F.lit("c"), F.col("id").cast("string")).alias("one_id"))
    audiences = [Audience("promo", "", "true", 0.1), Audience("other", "", "true", 0.1)]
    first = audience_members(ids, audiences=audiences)
    # A second run sees the customers in another order and partitioning.
    second = audience_members(ids.repartition(7).orderBy(F.rand(3)), audiences=audiences)
    both = first.alias("f").join(second.alias("s"), ["audience", "one_id"], "full_outer")
    stats = {
        r["audience"]: (r["members"], r["moved"], r["control"])
        for r in both.groupBy("audience")
        .agg(
            F.count(F.lit(1)).alias("members"),
            F.sum(F.when(F.col("f.group").eqNullSafe(F.col("s.group")), 0).otherwise(1)).alias("moved"),
            F.sum(F.when(F.col("f.group") == "control", 1).otherwise(0)).alias("control"),
        )
        .collect()
    }
    assert {a: s[:2] for a, s in stats.items()} == {"promo": (20000, 0), "other": (20000, 0)}
    # Binomial(20000, 0.1): sd 42, so +-200 is about 5 sd.
    assert all(abs(s[2] - 2000) < 200 for s in stats.values())
    # The audience name salts the hash: the two control groups are nearly independent
    # (expected overlap 20000 * 0.1 * 0.1 = 200, sd 14).
    in_both = first.where("group = 'control'").groupBy("one_id").count().where("count = 2").count()
    assert abs(in_both - 200) < 80


def test_control_unit_is_sha256_of_audience_and_id_reproducible_outside_spark(
    spark: SparkSession,
) -> None:
    ids = ["c1", "c2", "customer-000123"]
    df = spark.createDataFrame([(i,) for i in ids], "one_id string")
    actual = {r["one_id"]: r["u"] for r in df.select("one_id", control_unit("promo", F.col("one_id")).alias("u")).collect()}
    for i in ids:
        digest = hashlib.sha256(f"promo:{i}".encode()).hexdigest()
        assert actual[i] == int(digest[:13], 16) / 16**13
