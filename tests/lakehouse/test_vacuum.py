"""``sparkseg vacuum`` removes what crashes and overwrites leave, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.vacuum import vacuum_warehouse
from tests.support.lakehouse import D1, SPEC, crash_one_write, rows, sorted_rows


def test_orphans_younger_than_retention_are_kept(offline_lake: Lakehouse, monkeypatch: Any) -> None:
    lake = offline_lake
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    crash_one_write(lake, monkeypatch)
    removed = vacuum_warehouse(lake.spark, lake.cfg, retention_hours=1, dry_run=False)
    assert removed == []
    assert len(list(Path(lake.uri(SPEC)).rglob("*.parquet"))) == 2


def test_vacuum_removes_crash_orphans_and_replaced_files_only(
    offline_lake: Lakehouse, monkeypatch: Any
) -> None:
    lake = offline_lake
    lake.write(rows(lake.spark, [("a", 1, 1, D1)]), SPEC, mode="append")
    lake.write(rows(lake.spark, [("c", 1, 1, D1)]), SPEC, mode="overwrite_partitions",
               replace={"as_of_date": D1})
    crash_one_write(lake, monkeypatch)
    before = sorted_rows(lake.read(SPEC))
    planned = vacuum_warehouse(lake.spark, lake.cfg, retention_hours=0, dry_run=True)
    assert len(planned) == 2  # the replaced file and the crash orphan
    assert len(list(Path(lake.uri(SPEC)).rglob("*.parquet"))) == 3
    removed = vacuum_warehouse(lake.spark, lake.cfg, retention_hours=0, dry_run=False)
    assert sorted(removed) == sorted(planned)
    assert len(list(Path(lake.uri(SPEC)).rglob("*.parquet"))) == 1
    assert sorted_rows(lake.read(SPEC)) == before
