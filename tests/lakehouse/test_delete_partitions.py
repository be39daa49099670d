"""Dropping whole as-of partitions (retention) on both Delta engines."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from pyspark.sql import types as T

from sparkseg.errors import CommitConflictError, SchemaMismatchError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.offline import OfflineEngine
from sparkseg.tables import TableSpec, schema
from tests.support.lakehouse import SPEC, rows, sorted_rows

D0, D1, D2, D3 = (dt.date(2026, 3, d) for d in (1, 2, 3, 4))


def _files(lake: Lakehouse) -> dict[str, set[str]]:
    """Active data files of SPEC by partition folder, from the log (either engine's)."""
    out: dict[str, set[str]] = {}
    actions = pa.table(DeltaTable(lake.uri(SPEC)).get_add_actions(flatten=True))
    for path in actions.column("path").to_pylist():
        out.setdefault(path.split("/", 1)[0], set()).add(path)
    return out


def _four_days(lake: Lakehouse) -> None:
    """D0: 2 rows, D1: 1 row, D2: 3 rows (two commits, so two files), D3: 1 row."""
    lake.write(rows(lake.spark, [("a", 1, 1, D0), ("b", 2, 2, D0), ("c", 3, 3, D1),
                                 ("d", 4, 4, D2), ("e", 5, 5, D3)]), SPEC, mode="append")
    lake.write(rows(lake.spark, [("f", 6, 6, D2), ("g", 7, 7, D2)]), SPEC, mode="append")


def test_delete_before_cutoff_drops_whole_older_partitions_only(lake: Lakehouse) -> None:
    _four_days(lake)
    before = _files(lake)
    result = lake.delete_partitions_before(SPEC, "as_of_date", D2)
    assert result is not None
    assert (result.version, result.partitions, result.rows) == (2, ("2026-03-01", "2026-03-02"), 3)
    assert result.files == len(before["as_of_date=2026-03-01"]) + len(before["as_of_date=2026-03-02"])
    assert lake.version(SPEC) == 2
    assert sorted_rows(lake.read(SPEC)) == [
        ("d", Decimal("4.00"), 4, D2), ("e", Decimal("5.00"), 5, D3),
        ("f", Decimal("6.00"), 6, D2), ("g", Decimal("7.00"), 7, D2),
    ]
    # Remove actions only: the kept partitions reference the very same files.
    after = _files(lake)
    assert after == {k: before[k] for k in ("as_of_date=2026-03-03", "as_of_date=2026-03-04")}
    # Dropped files stay on disk (older versions read them) until vacuum.
    root = Path(lake.uri(SPEC))
    for path in before["as_of_date=2026-03-01"]:
        assert (root / path).is_file()
    assert sorted_rows(lake.read(SPEC, version=1).where("as_of_date = '2026-03-01'")) == [
        ("a", Decimal("1.00"), 1, D0), ("b", Decimal("2.00"), 2, D0),
    ]


def test_delete_commit_carries_write_id_and_mode(lake: Lakehouse) -> None:
    _four_days(lake)
    lake.delete_partitions_before(SPEC, "as_of_date", D1)
    entry = lake.history(SPEC, 1)[0]
    meta = json.loads(entry["userMetadata"]) if lake.engine.name == "spark" else entry
    assert meta["sparkseg.mode"] == "delete"
    assert meta["sparkseg.table"] == "gold/sample"
    assert meta["sparkseg.cutoff"] == "2026-03-02"
    assert len(meta["sparkseg.write_id"]) == 32


def test_delete_with_nothing_older_commits_nothing(lake: Lakehouse) -> None:
    _four_days(lake)
    lake.delete_partitions_before(SPEC, "as_of_date", D1)
    again = lake.delete_partitions_before(SPEC, "as_of_date", D1)
    assert again is not None
    assert (again.version, again.partitions, again.rows, again.files) == (None, (), 0, 0)
    assert lake.version(SPEC) == 2


def test_delete_on_missing_table_is_skipped(lake: Lakehouse) -> None:
    assert lake.delete_partitions_before(SPEC, "as_of_date", D1) is None
    assert not lake.exists(SPEC)


def test_delete_on_data_or_non_date_column_is_refused(lake: Lakehouse) -> None:
    _four_days(lake)
    with pytest.raises(SchemaMismatchError, match="partition column n"):
        lake.delete_partitions_before(SPEC, "n", D1)
    by_code = TableSpec("gold/by_code", schema(("x", T.LongType()), ("code", T.StringType())),
                        ("code",))
    lake.write(lake.spark.createDataFrame([(1, "a")], by_code.schema), by_code, mode="append")
    with pytest.raises(SchemaMismatchError, match=r"code \(string, expected date\)"):
        lake.delete_partitions_before(by_code, "code", D1)
    assert lake.version(SPEC) == 1 and lake.version(by_code) == 0


def _interleave(monkeypatch: Any, during: Any) -> None:
    """Run ``during`` once, after the delete has planned on its snapshot, before it commits."""
    original = OfflineEngine._old_partitions
    fired = {"done": False}

    def hooked(self: OfflineEngine, *args: Any) -> Any:
        plan = original(self, *args)
        if not fired["done"]:
            fired["done"] = True
            during()
        return plan

    monkeypatch.setattr(OfflineEngine, "_old_partitions", hooked)


def _rerun_during_delete(lake: Lakehouse, monkeypatch: Any, day: dt.date) -> None:
    """Four days written; the next delete is interleaved with a rerun of ``day`` (row h)."""
    _four_days(lake)
    _interleave(monkeypatch, lambda: lake.write(
        rows(lake.spark, [("h", 8, 8, day)]), SPEC, mode="overwrite_partitions",
        replace={"as_of_date": day}))


def test_offline_delete_retries_past_a_commit_to_a_kept_partition(
    offline_lake: Lakehouse, monkeypatch: Any
) -> None:
    lake = offline_lake
    _rerun_during_delete(lake, monkeypatch, D3)
    result = lake.delete_partitions_before(SPEC, "as_of_date", D2)
    assert result is not None and result.version == 3
    assert sorted(r[0] for r in sorted_rows(lake.read(SPEC))) == ["d", "f", "g", "h"]


def test_offline_delete_conflicts_with_a_rerun_of_a_dropped_partition(
    offline_lake: Lakehouse, monkeypatch: Any
) -> None:
    lake = offline_lake
    _rerun_during_delete(lake, monkeypatch, D0)
    with pytest.raises(CommitConflictError, match="as_of_date=2026-03-01, a partition being dropped"):
        lake.delete_partitions_before(SPEC, "as_of_date", D2)
    # The rerun stands; the delete committed nothing.
    assert lake.version(SPEC) == 2
    assert sorted(r[0] for r in sorted_rows(lake.read(SPEC))) == ["c", "d", "e", "f", "g", "h"]
