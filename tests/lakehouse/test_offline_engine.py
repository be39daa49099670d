"""The lakehouse contract on both Delta engines, and the offline engine's own protocol."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import types as T

from sparkseg.errors import (
    InvalidNameError,
    MissingTableError,
    SchemaMismatchError,
    UnsupportedTableFeatureError,
)
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.tables import TableSpec, schema
from tests.support.lakehouse import D1, D2, SPEC, crash_one_write, rows, sorted_rows


def test_append_then_read_returns_the_rows_with_partition_column(lake: Lakehouse) -> None:
    df = rows(lake.spark, [("a", 1.5, 1, D1), ("b", 2.0, 2, D1)])
    result = lake.write(df, SPEC, mode="append")
    assert (result.version, result.rows) == (0, 2)
    assert_df_equality(lake.read(SPEC), df, ignore_row_order=True, ignore_nullable=True)


def test_rerun_of_one_date_replaces_only_that_date(lake: Lakehouse) -> None:
    lake.write(rows(lake.spark, [("a", 1, 1, D1), ("b", 2, 2, D1)]), SPEC, mode="append")
    lake.write(rows(lake.spark, [("a", 3, 3, D2)]), SPEC, mode="append")
    lake.write(
        rows(lake.spark, [("c", 9, 9, D1)]), SPEC, mode="overwrite_partitions",
        replace={"as_of_date": D1},
    )
    from decimal import Decimal

    assert sorted_rows(lake.read(SPEC)) == [
        ("a", Decimal("3.00"), 3, D2),
        ("c", Decimal("9.00"), 9, D1),
    ]
    assert lake.version(SPEC) == 2


def test_overwrite_partitions_refuses_rows_of_another_partition(lake: Lakehouse) -> None:
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    with pytest.raises(SchemaMismatchError, match="as_of_date=2026-02-28"):
        lake.write(
            rows(lake.spark, [("x", 1, 1, D2)]), SPEC, mode="overwrite_partitions",
            replace={"as_of_date": D1},
        )
    assert lake.version(SPEC) == 0


def test_overwrite_replaces_whole_table(lake: Lakehouse) -> None:
    lake.write(rows(lake.spark, [("a", 1, 1, D1), ("b", 1, 1, D2)]), SPEC, mode="append")
    lake.write(rows(lake.spark, [("z", 1, 1, D2)]), SPEC, mode="overwrite")
    assert [r.one_id for r in lake.read(SPEC).collect()] == ["z"]


def test_read_of_an_older_version_and_partition_pruning(lake: Lakehouse) -> None:
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    lake.write(rows(lake.spark, [("b", 1, 1, D2)]), SPEC, mode="append")
    assert [r.one_id for r in lake.read(SPEC, version=0).collect()] == ["a"]
    assert [r.one_id for r in lake.read(SPEC, partitions={"as_of_date": D2}).collect()] == ["b"]
    with pytest.raises(MissingTableError):
        lake.read(SPEC, version=7)


def test_schema_mismatch_names_the_columns_and_leaves_table_unchanged(lake: Lakehouse) -> None:
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    bad = lake.spark.createDataFrame(
        [("a", "oops", D1)], "one_id string, amount string, as_of_date date"
    )
    with pytest.raises(SchemaMismatchError) as err:
        lake.write(bad, SPEC, mode="append")
    assert "n" in err.value.missing
    assert any(r.startswith("amount") for r in err.value.retyped)
    assert lake.version(SPEC) == 0


def test_existing_table_with_other_schema_is_refused(lake: Lakehouse) -> None:
    other = TableSpec("gold/sample", schema(("one_id", T.StringType()), ("as_of_date", T.DateType())),
                      ("as_of_date",))
    lake.write(lake.spark.createDataFrame([("a", D1)], other.schema), other, mode="append")
    with pytest.raises(SchemaMismatchError, match="sample"):
        lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    assert lake.version(SPEC) == 0


def test_missing_table_is_a_named_error(lake: Lakehouse) -> None:
    with pytest.raises(MissingTableError, match="gold/sample"):
        lake.read(SPEC)


def test_names_with_separators_are_rejected(lake: Lakehouse) -> None:
    for bad in ("gold/../x", "gold/a/b", "nolayer", "gold/.hidden", "elsewhere/x"):
        with pytest.raises(InvalidNameError):
            lake.uri(bad)
    with pytest.raises(InvalidNameError):
        lake.path("models", "../../etc")


def test_commit_records_file_stats_and_metadata(offline_lake: Lakehouse) -> None:
    lake = offline_lake
    with ledger.open_ledger("features", D1) as led:
        lake.write(rows(lake.spark, [("a", 1, 1, D1), ("b", 1, 1, D1), ("c", 1, 1, D2)]), SPEC,
                   mode="append")
    dtable = DeltaTable(lake.uri(SPEC))
    adds = pa.table(dtable.get_add_actions(flatten=True)).to_pylist()
    assert sum(a["num_records"] for a in adds) == 3
    commit = dtable.history(1)[0]
    assert commit["sparkseg.stage"] == "features"
    assert commit["sparkseg.as_of"] == "2026-01-31"
    assert commit["sparkseg.run_id"] == led.run_id
    assert led.outputs == {"gold/sample": 0} and led.rows == {"gold/sample": 3}


def test_crash_before_commit_leaves_previous_version(offline_lake: Lakehouse, monkeypatch: Any) -> None:
    lake = offline_lake
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    crash_one_write(lake, monkeypatch)
    assert lake.version(SPEC) == 0
    assert [r.one_id for r in lake.read(SPEC).collect()] == ["a"]
    # The orphaned data file is on disk but not in the table.
    on_disk = list(Path(lake.uri(SPEC)).rglob("*.parquet"))
    assert len(on_disk) == 2


def test_table_written_by_delta_rs_reads_in_spark(lake: Lakehouse) -> None:
    table = pa.table(
        {
            "one_id": ["a", "b"],
            "amount": pa.array([1, 2], pa.decimal128(18, 2)),
            "n": pa.array([1, 2], pa.int64()),
            "as_of_date": [D1, D2],
        }
    )
    write_deltalake(lake.uri(SPEC), table, partition_by=["as_of_date"])
    from decimal import Decimal

    assert sorted_rows(lake.read(SPEC)) == [
        ("a", Decimal("1.00"), 1, D1),
        ("b", Decimal("2.00"), 2, D2),
    ]


def test_table_written_by_sparkseg_reads_in_delta_rs_with_equal_rows(lake: Lakehouse) -> None:
    ts = T.StructType([T.StructField("one_id", T.StringType()), T.StructField("ts", T.TimestampType()),
                       T.StructField("as_of_date", T.DateType())])
    spec = TableSpec("silver/ts_sample", ts, ("as_of_date",))
    when = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
    df = lake.spark.createDataFrame([("a", when, D1), ("b", None, D2)], ts)
    lake.write(df, spec, mode="append")
    got = DeltaTable(lake.uri(spec)).to_pyarrow_table().to_pylist()
    got_sorted = sorted((r["one_id"], r["ts"], r["as_of_date"]) for r in got)
    assert got_sorted[0] == ("a", when, D1)
    assert got_sorted[1] == ("b", None, D2)


def test_deletion_vectors_are_refused_by_name(offline_lake: Lakehouse) -> None:
    lake = offline_lake
    table = pa.table({"one_id": ["a"]})
    write_deltalake(
        lake.uri("gold/dv"), table,
        configuration={"delta.enableDeletionVectors": "true"},
    )
    protocol = DeltaTable(lake.uri("gold/dv")).protocol()
    if "deletionVectors" not in (protocol.reader_features or []):
        pytest.skip("delta-rs did not enable the deletionVectors reader feature")
    with pytest.raises(UnsupportedTableFeatureError, match="deletionVectors"):
        lake.read("gold/dv")


def test_column_mapping_is_refused_by_name(offline_lake: Lakehouse, tmp_path: Path) -> None:
    lake = offline_lake
    uri = lake.uri("gold/cm")
    write_deltalake(uri, pa.table({"one_id": ["a"]}))
    # Upgrade the table to column mapping the way another engine would have.
    log = Path(uri) / "_delta_log" / "00000000000000000001.json"
    meta = DeltaTable(uri).metadata()
    log.write_text(
        json.dumps({"protocol": {"minReaderVersion": 2, "minWriterVersion": 5}}) + "\n"
        + json.dumps({"metaData": {
            "id": meta.id, "format": {"provider": "parquet", "options": {}},
            "schemaString": json.dumps({"type": "struct", "fields": [{
                "name": "one_id", "type": "string", "nullable": True, "metadata": {
                    "delta.columnMapping.id": 1,
                    "delta.columnMapping.physicalName": "col-1"}}]}),
            "partitionColumns": [],
            "configuration": {"delta.columnMapping.mode": "name",
                              "delta.columnMapping.maxColumnId": "1"},
            "createdTime": 0}}) + "\n"
    )
    with pytest.raises(UnsupportedTableFeatureError, match="columnMapping"):
        lake.read("gold/cm")


def test_empty_write_creates_an_empty_table(lake: Lakehouse) -> None:
    lake.write(lake.spark.createDataFrame([], SPEC.schema), SPEC, mode="append")
    assert lake.read(SPEC).count() == 0
    assert lake.version(SPEC) == 0
