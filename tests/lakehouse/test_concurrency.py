"""Two writers on one table: no lost update, no doubled row, conflicts named.

The interleaving is made deterministic by running writer B to completion while writer A
is between writing its data files and committing (A's table snapshot is then stale).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sparkseg.errors import CommitConflictError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.offline import OfflineEngine
from tests.support.lakehouse import D1, D2, SPEC, rows, sorted_rows


def _interleave(monkeypatch: Any, during_a: Any) -> None:
    """Run ``during_a`` once, after writer A has written its files but before it commits."""
    original = OfflineEngine._row_counts
    fired = {"done": False}

    def hooked(*args: Any) -> dict[str, int]:
        counts = original(*args)
        if not fired["done"]:
            fired["done"] = True
            during_a()
        return counts

    monkeypatch.setattr(OfflineEngine, "_row_counts", staticmethod(hooked))


def test_concurrent_appends_both_land_once(offline_lake: Lakehouse, monkeypatch: Any) -> None:
    lake = offline_lake
    lake.write(rows(lake.spark, [("seed", 1, 1, D1)]), SPEC, mode="append")
    _interleave(monkeypatch, lambda: lake.write(rows(lake.spark, [("b", 2, 2, D2)]), SPEC, mode="append"))
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    assert sorted(r[0] for r in sorted_rows(lake.read(SPEC))) == ["a", "b", "seed"]
    assert lake.version(SPEC) == 2


def test_concurrent_rerun_of_same_date_fails_clearly_and_loses_nothing(
    offline_lake: Lakehouse, monkeypatch: Any
) -> None:
    lake = offline_lake
    lake.write(rows(lake.spark, [("old", 1, 1, D1)]), SPEC, mode="append")

    def writer_b() -> None:
        lake.write(rows(lake.spark, [("b", 2, 2, D1)]), SPEC, mode="overwrite_partitions",
                   replace={"as_of_date": D1})

    _interleave(monkeypatch, writer_b)
    with pytest.raises(CommitConflictError, match="gold/sample"):
        lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="overwrite_partitions",
                   replace={"as_of_date": D1})
    # B's committed replacement stands whole; A changed nothing.
    assert sorted_rows(lake.read(SPEC)) == [("b", Decimal("2.00"), 2, D1)]
    assert lake.version(SPEC) == 1


def test_rerun_of_other_date_during_a_rerun_keeps_both(offline_lake: Lakehouse, monkeypatch: Any) -> None:
    lake = offline_lake
    lake.write(rows(lake.spark, [("d1", 1, 1, D1), ("d2", 1, 1, D2)]), SPEC, mode="append")

    def writer_b() -> None:
        lake.write(rows(lake.spark, [("b", 2, 2, D2)]), SPEC, mode="overwrite_partitions",
                   replace={"as_of_date": D2})

    _interleave(monkeypatch, writer_b)
    # B's commit touched only D2: A's replace of D1 does not conflict with it and commits.
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="overwrite_partitions",
               replace={"as_of_date": D1})
    assert sorted(r[0] for r in sorted_rows(lake.read(SPEC))) == ["a", "b"]
    assert lake.version(SPEC) == 2
