"""Reading only the data files a table gained since a version (incremental ingest's input)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from deltalake import DeltaTable
from pyspark.sql import DataFrame

from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.changes import commit_file
from sparkseg.tables import INT, D, S, TableSpec, schema

SPEC = TableSpec("raw/changes_t", schema(("k", S), ("day", D), ("v", INT)), ("day",))
D1, D2, D3 = dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)


def _rows(lake: Lakehouse, rows: list[tuple[str, dt.date, int]]) -> DataFrame:
    return lake.spark.createDataFrame(rows, SPEC.schema)


def _added_rows(lake: Lakehouse, since: int) -> tuple[list[tuple[str, dt.date, int]], str | None]:
    info = lake.table_info(SPEC)
    until = lake.version(SPEC)
    assert until is not None
    changes = lake.changes(SPEC, since=since, until=until, info=info)
    if changes.rewritten is not None:
        return [], changes.rewritten
    df = lake.read_files(SPEC, changes.files, version=until, info=info)
    return sorted((r["k"], r["day"], r["v"]) for r in df.collect()), None


def test_the_files_of_later_appends_hold_exactly_the_rows_appended_after_the_version(
    lake: Lakehouse,
) -> None:
    lake.write(_rows(lake, [("a", D1, 1), ("b", D1, 2)]), SPEC, mode="append")  # v0
    lake.write(_rows(lake, [("c", D2, 3)]), SPEC, mode="append")  # v1
    lake.write(_rows(lake, [("d", D2, 4), ("e", D3, 5)]), SPEC, mode="append")  # v2
    assert lake.version(SPEC) == 2
    assert _added_rows(lake, since=0) == ([("c", D2, 3), ("d", D2, 4), ("e", D3, 5)], None)
    assert _added_rows(lake, since=1) == ([("d", D2, 4), ("e", D3, 5)], None)
    assert _added_rows(lake, since=2) == ([], None)
    info = lake.table_info(SPEC)
    assert info.partition_columns == ("day",) and info.id


def test_a_replaced_partition_makes_the_range_rewritten(lake: Lakehouse) -> None:
    lake.write(_rows(lake, [("a", D1, 1)]), SPEC, mode="append")
    lake.write(_rows(lake, [("a", D1, 9)]), SPEC, mode="overwrite_partitions",
               replace={"day": D1})
    rows, why = _added_rows(lake, since=0)
    assert rows == [] and why == "commit 1 removed data files (overwrite, delete or update)"


def test_a_cleaned_up_commit_or_an_older_table_makes_the_range_rewritten(
    lake: Lakehouse,
) -> None:
    lake.write(_rows(lake, [("a", D1, 1)]), SPEC, mode="append")
    lake.write(_rows(lake, [("b", D2, 2)]), SPEC, mode="append")
    info = lake.table_info(SPEC)
    older = lake.changes(SPEC, since=5, until=1, info=info)
    assert older.rewritten is not None and "older than the last ingested version 5" in (
        older.rewritten)
    Path(commit_file(lake.uri(SPEC), 1)).unlink()
    gone = lake.changes(SPEC, since=0, until=1, info=info)
    assert gone.rewritten == "commit 1 is no longer in the log (cleaned up past version 0)"


def test_compaction_adds_no_rows_and_is_not_a_rewrite(lake: Lakehouse) -> None:
    lake.write(_rows(lake, [("a", D1, 1)]), SPEC, mode="append")
    lake.write(_rows(lake, [("b", D1, 2)]), SPEC, mode="append")
    DeltaTable(lake.uri(SPEC)).optimize.compact()  # remove + add, dataChange false
    assert lake.version(SPEC) == 2
    assert _added_rows(lake, since=1) == ([], None)
    assert _added_rows(lake, since=0) == ([("b", D1, 2)], None)


def test_a_partition_filter_with_several_values_reads_those_partitions(lake: Lakehouse) -> None:
    lake.write(_rows(lake, [("a", D1, 1), ("b", D2, 2), ("c", D3, 3)]), SPEC, mode="append")
    got = lake.read(SPEC, partitions={"day": [D1, D3]})
    assert sorted(r["k"] for r in got.collect()) == ["a", "c"]


def test_commit_metadata_reads_a_writes_metadata_back_on_either_engine(lake: Lakehouse) -> None:
    lake.write(_rows(lake, [("a", D1, 1)]), SPEC, mode="append",
               metadata={"sparkseg.ingest.state": '{"raw_version": 3}'})
    lake.write(_rows(lake, [("b", D1, 2)]), SPEC, mode="append")
    meta = lake.commit_metadata(SPEC)
    assert [v for v, _ in meta] == [1, 0]
    assert meta[1][1]["sparkseg.ingest.state"] == '{"raw_version": 3}'
    assert "sparkseg.ingest.state" not in meta[0][1]
    assert meta[0][1]["sparkseg.table"] == SPEC.name
