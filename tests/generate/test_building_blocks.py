"""Config, calendar, random draws and dirt on tiny inputs."""

from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.config import config_from_mapping
from sparkseg.errors import ConfigError
from sparkseg.generate.config import GenerateConfig
from sparkseg.generate.dirty import Dirt, with_dirty_rows
from sparkseg.generate.period import Period, add_months
from sparkseg.generate.rng import lookup, pick, pick_by, uniform
from sparkseg.generate.stage import partitions_for

D = dt.date


def test_persona_shares_are_normalised_and_must_not_all_be_zero() -> None:
    cfg = config_from_mapping(
        {"warehouse": "/tmp/x", "generate": {"personas": {"payroll_mass": 3, "churning": 1,
         "young_digital": 0, "affluent_investor": 0, "silver_depositor": 0,
         "small_business": 0, "dormant_saver": 0, "new_customer": 0}}}
    )
    shares = cfg.generate.personas.normalised()
    assert shares["payroll_mass"] == 0.75 and shares["churning"] == 0.25
    zeros = {p: 0 for p in shares}
    with pytest.raises(ConfigError, match="personas"):
        config_from_mapping({"warehouse": "/tmp/x", "generate": {"personas": zeros}})
    with pytest.raises(ConfigError, match=r"unknown key 'generate\.personas\.vip'"):
        config_from_mapping({"warehouse": "/tmp/x", "generate": {"personas": {"vip": 1}}})


def test_period_ends_before_end_date_with_month_ends_interest_days_and_campaigns() -> None:
    period = Period.of(GenerateConfig(end_date=D(2026, 11, 1), months=12, campaigns=4))
    assert (period.start, period.end) == (D(2025, 11, 1), D(2026, 11, 1))
    epoch = D(1970, 1, 1)
    ends = [epoch + dt.timedelta(days=d) for d in period.month_ends]
    assert ends[0] == D(2025, 11, 30) and ends[-1] == D(2026, 10, 31) and len(ends) == 12
    interest = [epoch + dt.timedelta(days=d) for d in period.interest_days]
    assert interest == [D(2025, 12, 21), D(2026, 3, 21), D(2026, 6, 21), D(2026, 9, 21)]
    # Four campaigns in the middle of each quarter of the year.
    assert [c.campaign_id for c in period.campaigns] == [
        "CMP20251201", "CMP20260302", "CMP20260603", "CMP20260904"]
    assert [epoch + dt.timedelta(days=c.day) for c in period.campaigns] == [
        D(2025, 12, 16), D(2026, 3, 17), D(2026, 6, 17), D(2026, 9, 16)]


def test_add_months_clamps_to_the_last_day_of_the_month() -> None:
    assert add_months(D(2026, 3, 31), -1) == D(2026, 2, 28)
    assert add_months(D(2026, 1, 15), -13) == D(2024, 12, 15)


def test_file_count_follows_the_target_size_and_keeps_cores_busy() -> None:
    mb = 2**20
    assert partitions_for(10, 40, 128, cores=8) == 1
    assert partitions_for(50_000_000, 40, 128, cores=2) == 15  # 1.9 GB in 128 MB files
    assert partitions_for(1_000_000, 40, 128, cores=2) == 2  # 38 MB: one file per core
    assert partitions_for(20 * mb, 1, 128, cores=4) == 1  # 20 MB: not worth splitting


def test_uniform_is_a_pure_function_of_seed_salt_and_keys(spark: SparkSession) -> None:
    df = spark.range(0, 2000, 1, 3).select(
        "id",
        uniform(1, 10, F.col("id")).alias("a"),
        uniform(1, 10, F.col("id")).alias("same"),
        uniform(2, 10, F.col("id")).alias("other_seed"),
    )
    row = df.agg(
        F.min("a"), F.max("a"), F.avg("a"),
        F.sum((F.col("a") == F.col("same")).cast("int")),
        F.sum((F.col("a") == F.col("other_seed")).cast("int")),
    ).first()
    assert row is not None
    assert row[0] >= 0.0 and row[1] < 1.0 and abs(row[2] - 0.5) < 0.03
    assert row[3] == 2000 and row[4] == 0
    one_partition = spark.range(0, 2000, 1, 1).select("id", uniform(1, 10, F.col("id")).alias("a"))
    assert_df_equality(df.select("id", "a"), one_partition, ignore_row_order=True)


def test_pick_and_pick_by_follow_their_weights(spark: SparkSession) -> None:
    u = uniform(3, 1, F.col("id"))
    group = (F.col("id") % 2).cast("int")
    df = spark.range(0, 20_000, 1, 2).select(
        group.alias("g"),
        pick(u, {"a": 0.2, "b": 0.8, "never": 0.0}).alias("flat"),
        pick_by(u, group, [{"x": 1.0}, {"x": 0.5, "y": 0.5}]).alias("by_group"),
        lookup(group, ["even", "odd"]).alias("name"),
        # element_at alone would give the last value for a null index.
        lookup(F.when(group == 1, group), ["never", "odd"], nullable=True).alias("only_odd"),
    )
    flat = {r[0]: r[1] for r in df.groupBy("flat").count().collect()}
    assert set(flat) == {"a", "b"} and abs(flat["a"] / 20_000 - 0.2) < 0.02
    by = {(r[0], r[1]): r[2] for r in df.groupBy("g", "by_group").count().collect()}
    assert (0, "y") not in by and abs(by[(1, "x")] / 10_000 - 0.5) < 0.03
    assert {tuple(r) for r in df.select("g", "name", "only_odd").distinct().collect()} == {
        (0, "even", None), (1, "odd", "odd")}


SCHEMA = T.StructType([
    T.StructField("k", T.StringType()), T.StructField("v", T.IntegerType()),
])


def test_no_dirt_leaves_the_rows_as_they_are(spark: SparkSession) -> None:
    df = spark.createDataFrame([("a", 1), ("b", 2)], SCHEMA)
    dirts = [Dirt("null_key", {"k": lambda: F.lit(None).cast("string")})]
    assert_df_equality(with_dirty_rows(df, dirts, share=0.0, seed=1), df)


def test_duplicates_are_added_next_to_the_row_and_in_place_dirt_replaces_it(
    spark: SparkSession,
) -> None:
    df = spark.createDataFrame([(f"k{i}", i) for i in range(400)], SCHEMA)
    dirts = [
        Dirt("exact_duplicate", duplicate=True),
        Dirt("conflicting_duplicate", {"v": lambda: F.col("v") + 1000}, duplicate=True),
        Dirt("null_key", {"k": lambda: F.lit(None).cast("string")}),
    ]
    out = with_dirty_rows(df, dirts, share=0.3, seed=5)
    assert out.schema == df.schema
    rows = sorted(out.collect(), key=lambda r: (r.k or "", r.v))
    nulls = [r for r in rows if r.k is None]
    by_key: dict[str, list[int]] = {}
    for r in rows:
        if r.k is not None:
            by_key.setdefault(r.k, []).append(r.v)
    exact = [k for k, vs in by_key.items() if len(vs) == 2 and vs[0] == vs[1]]
    conflicting = [k for k, vs in by_key.items() if len(vs) == 2 and vs[1] == vs[0] + 1000]
    assert min(len(nulls), len(exact), len(conflicting)) > 15
    # Every key is intact (alone or with its copy) or nulled in place; nothing else changes.
    assert len(by_key) + len(nulls) == 400
    assert len(rows) == 400 + len(exact) + len(conflicting)
    assert all(vs[0] == int(k[1:]) for k, vs in by_key.items())
    # Rows are chosen by content: another partitioning gives the same dirt.
    again = with_dirty_rows(df.repartition(3), dirts, share=0.3, seed=5).collect()
    assert sorted(again, key=lambda r: (r.k or "", r.v)) == rows
