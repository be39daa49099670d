"""The small aggregates the report collects from gold and ops tables."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg.lakehouse import Lakehouse
from sparkseg.report.data import (
    AudienceSize,
    Missing,
    QuarantineCount,
    Segment,
    SegmentTag,
    _open,
    audiences_of,
    evaluation_of,
    migration_of,
    quarantine_of,
    runs_of,
    segment_tags_of,
    segments_of,
)
from sparkseg.tables import OPS_QUARANTINE, OPS_RUNS, TableSpec
from tests.support.sample_gold import (
    AUDIENCE_MEMBERS,
    CAMPAIGN_EVALUATION,
    CUSTOMER_TAGS,
    MIGRATION,
    PROFILES,
    SEGMENTS,
)

D0, D1, D2 = dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def _segments(spark: SparkSession, rows: list[tuple[str, int, dt.date]]):  # type: ignore[no-untyped-def]
    names = {1: ("Savers", "储蓄客群"), 2: ("Digital", "数字化客群")}
    return spark.createDataFrame(
        [(cid, s, *names[s], 0.1, 3, d) for cid, s, d in rows], SEGMENTS.schema
    )


def test_segments_are_counted_from_gold_segments_when_profiles_are_missing(
    spark_clean: SparkSession,
) -> None:
    seg = _segments(spark_clean, [("a", 1, D1), ("b", 1, D1), ("c", 1, D1), ("d", 2, D1),
                                  ("e", 2, D0)])
    got = segments_of(seg, Missing("gold/segment_profiles does not exist yet"), D1)
    assert got == [Segment(1, "Savers", "储蓄客群", 3, 0.75, 3),
                   Segment(2, "Digital", "数字化客群", 1, 0.25, 3)]


def test_segments_come_from_profiles_of_the_as_of_when_present(spark_clean: SparkSession) -> None:
    prof = spark_clean.createDataFrame(
        [(D1, 2, 4, 10, 0.1, "Digital", "数字化客群"), (D1, 1, 4, 90, 0.9, "Savers", "储蓄客群"),
         (D0, 1, 3, 5, 1.0, "Old", "旧")],
        PROFILES.schema,
    )
    got = segments_of(Missing("unused"), prof, D1)
    assert got == [Segment(1, "Savers", "储蓄客群", 90, 0.9, 4),
                   Segment(2, "Digital", "数字化客群", 10, 0.1, 4)]


def test_segments_of_a_date_without_rows_are_missing_with_the_reason(
    spark_clean: SparkSession,
) -> None:
    seg = _segments(spark_clean, [("a", 1, D0)])
    got = segments_of(seg, Missing("gold/segment_profiles does not exist yet"), D1)
    assert isinstance(got, Missing)
    assert "2026-11-01" in got.reason and "gold/segments" in got.reason


def test_top_tag_lift_is_share_in_segment_over_share_in_all_segmented_customers(
    spark_clean: SparkSession,
) -> None:
    seg = _segments(spark_clean, [("a", 1, D1), ("b", 1, D1), ("c", 1, D1), ("d", 2, D1)])
    tags = spark_clean.createDataFrame(
        [("a", "vip", "true", "asset", D1, "r1"), ("b", "vip", "true", "asset", D1, "r1"),
         ("d", "vip", "true", "asset", D1, "r1"), ("c", "habit", "atm", "channel", D1, "r1"),
         # another date and an unsegmented customer are not counted
         ("c", "vip", "true", "asset", D0, "r1"), ("zz", "vip", "true", "asset", D1, "r1")],
        CUSTOMER_TAGS.schema,
    )
    sizes = segments_of(seg, Missing("no profiles"), D1)
    got = segment_tags_of(seg, tags, D1, sizes)
    assert not isinstance(got, Missing)
    by_key = {(t.segment_id, t.tag, t.value): t for t in got}
    assert len(by_key) == 3
    # vip: 3 of 4 customers overall; 2 of 3 in segment 1, 1 of 1 in segment 2.
    assert by_key[(1, "vip", "true")] == SegmentTag(1, "vip", "true", 2, 2 / 3, 3 / 4,
                                                    pytest.approx((2 / 3) / (3 / 4)))
    assert by_key[(2, "vip", "true")].lift == pytest.approx(4 / 3)
    assert by_key[(1, "habit", "atm")].lift == pytest.approx((1 / 3) / (1 / 4))


def test_audience_sizes_count_members_per_group_of_the_as_of(spark_clean: SparkSession) -> None:
    members = spark_clean.createDataFrame(
        [("a1", "x", "target", D1), ("a1", "y", "target", D1), ("a1", "z", "control", D1),
         ("a2", "x", "target", D1), ("a2", "x", "target", D0)],
        AUDIENCE_MEMBERS.schema,
    )
    assert audiences_of(members, D1) == [AudienceSize("a1", "control", 1),
                                         AudienceSize("a1", "target", 2),
                                         AudienceSize("a2", "target", 1)]


def test_evaluation_is_the_latest_audience_whose_window_closed_by_the_as_of(
    spark_clean: SparkSession,
) -> None:
    def row(aud: str, d: dt.date, end: dt.date, metric: str, diff: float) -> tuple[object, ...]:
        return (aud, d, d, end, metric, 100, 10, 0.1, 50, 5, 0.1, diff, diff - 0.1, diff + 0.1)

    d_minus = dt.date(2026, 9, 1)
    ev = spark_clean.createDataFrame(
        [row("a1", d_minus, D0, "open", 0.01), row("a1", D0, D1, "open", 0.02),
         # audience of the as-of itself: its window is still open
         row("a1", D1, D2, "open", 0.03),
         row("a1", d_minus, D0, "buy", 0.04), row("a2", D1, D2, "open", 0.05)],
        CAMPAIGN_EVALUATION.schema,
    )
    got = evaluation_of(ev, D1)
    assert not isinstance(got, Missing)
    assert [(e.audience, e.metric, e.as_of, e.diff) for e in got] == [
        ("a1", "buy", d_minus, 0.04), ("a1", "open", D0, 0.02)]
    assert isinstance(evaluation_of(ev, d_minus), Missing)


def _run(stage: str, d: dt.date, hour: int, status: str = "succeeded") -> tuple[object, ...]:
    return (f"{stage}{hour}", stage, d, status, "h", "offline", dt.datetime(2026, 11, 1, hour),
            1.0, {"raw/customers": hour}, {}, {"silver/customers": 10 * hour}, "")


def test_runs_keep_the_latest_attempt_per_stage_in_pipeline_order(
    spark_clean: SparkSession,
) -> None:
    runs = spark_clean.createDataFrame(
        [_run("tags", D1, 5), _run("ingest", D1, 1, "failed"), _run("ingest", D1, 2),
         _run("ingest", D0, 9)],
        OPS_RUNS.schema,
    )
    got = runs_of(runs, D1)
    assert not isinstance(got, Missing)
    assert [(r.stage, r.status, r.attempts, dict(r.input_versions)) for r in got] == [
        ("ingest", "succeeded", 2, {"raw/customers": 2}),
        ("tags", "succeeded", 1, {"raw/customers": 5}),
    ]
    assert got[0].row_counts == {"silver/customers": 20}


def test_quarantine_counts_rows_per_table_and_reason_of_the_as_of(
    spark_clean: SparkSession,
) -> None:
    at = dt.datetime(2026, 11, 1)
    q = spark_clean.createDataFrame(
        [("raw/events", "null_key", "{}", "r", at, D1)] * 2
        + [("raw/events", "bad_channel", "{}", "r", at, D1)]
        + [("raw/events", "null_key", "{}", "r", at, D0)] * 5,
        OPS_QUARANTINE.schema,
    )
    assert quarantine_of(q, D1) == [QuarantineCount("raw/events", "null_key", 2),
                                    QuarantineCount("raw/events", "bad_channel", 1)]
    # Nothing quarantined is a result (an empty list), not a missing table.
    assert quarantine_of(q, D2) == []


def test_migration_of_a_first_as_of_is_missing_with_the_reason(spark_clean: SparkSession) -> None:
    mig = spark_clean.createDataFrame([(D1, D0, 1, 1, 5)], MIGRATION.schema)
    got = migration_of(mig, D0)
    assert isinstance(got, Missing) and "first as-of" in got.reason
    cells = migration_of(mig, D1)
    assert not isinstance(cells, Missing) and cells[0].customers == 5


def test_absent_table_and_table_lacking_a_column_are_missing_with_the_reason(
    lake: Lakehouse,
) -> None:
    absent = _open(lake, "gold/segment_migration", ["customers"])
    assert absent == Missing("gold/segment_migration does not exist yet")
    old = TableSpec("gold/tag_counts", T.StructType([
        T.StructField("tag", T.StringType()), T.StructField("as_of_date", T.DateType())]),
        ("as_of_date",))
    lake.write(lake.spark.createDataFrame([("vip", D1)], old.schema), old, mode="append")
    lacking = _open(lake, "gold/tag_counts", ["tag", "value", "customers"])
    assert lacking == Missing("gold/tag_counts lacks column(s) value, customers")


def test_tag_lifts_average_to_one_over_segments_for_generated_customers(
    spark_clean: SparkSession,
) -> None:
    import random

    rng = random.Random(11)
    assign = [(f"c{i}", rng.choice([1, 1, 1, 2]), D1) for i in range(600)]
    tag_rows = [(cid, tag, value, "x", D1, "r1")
                for cid, s, _ in assign
                for tag, value, p in (("vip", "true", 0.2 if s == 1 else 0.6),
                                      ("habit", "atm", 0.5), ("habit", "app", 0.3))
                if rng.random() < p]
    seg = _segments(spark_clean, assign)
    sizes = segments_of(seg, Missing("no profiles"), D1)
    got = segment_tags_of(seg, spark_clean.createDataFrame(tag_rows, CUSTOMER_TAGS.schema),
                          D1, sizes)
    assert not isinstance(got, Missing) and not isinstance(sizes, Missing)
    base = sum(s.size for s in sizes)
    size_of = {s.segment_id: s.size for s in sizes}
    for key in {(t.tag, t.value) for t in got}:
        per_seg = [t for t in got if (t.tag, t.value) == key]
        # Customers add up to the tag value's count, and the size-weighted lift is 1.
        assert sum(t.customers for t in per_seg) == sum(
            1 for r in tag_rows if (r[1], r[2]) == key)
        assert sum(t.lift * size_of[t.segment_id] / base for t in per_seg) == pytest.approx(1.0)
