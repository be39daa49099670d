"""``sparkseg generate --append-days`` as a process, with planted dirt, and a rerun after a
crash in the middle of a day (the state a kill after the raw/transactions commit leaves)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.generate.append import day_plan
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_CUSTOMERS, RAW_EVENTS, RAW_TRANSACTIONS
from tests.support.cli import run_cli, write_config
from tests.support.config import make_config
from tests.support.generate import APPEND_GEN as GEN
from tests.support.generate import Warehouse, added_rows, commits
from tests.support.warehouse import runs_rows

pytestmark = pytest.mark.slow

DIRTY_GEN = {**GEN, "dirty_share": 0.05, "late_duplicate_share": 0.1}
DAY1, DAY2 = dt.date(2026, 10, 30), dt.date(2026, 10, 31)


def test_cli_append_resumes_a_half_written_day_and_late_duplicates_copy_dirty_rows(
    spark: SparkSession, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    conf = write_config(tmp_path / "c.yaml", root, generate=DIRTY_GEN)
    args = ["--config", str(conf)]
    code, out, _ = run_cli(["generate", *args], log=tmp_path / "gen.log", cwd=tmp_path)
    assert code == 0, out
    lake = Lakehouse(spark, make_config(root, generate=DIRTY_GEN))
    wh = Warehouse(lake, root, {t.name: lake.version(t) or 0 for t in
                                (RAW_CUSTOMERS, RAW_TRANSACTIONS, RAW_EVENTS)})
    code, out, _ = run_cli(["generate", *args, "--append-days", "1"], log=tmp_path / "a1.log",
                           cwd=tmp_path)
    assert code == 0, out
    assert "1 day(s) appended" in out

    # A crash on day 2 right after raw/transactions was committed (events not yet).
    gen = lake.cfg.generate
    for spec, mode, build in day_plan(spark, lake, gen, DAY2):
        lake.write(build(), spec, mode=mode, metadata={
            "sparkseg.generate.seed": str(gen.seed), "sparkseg.generate.day": DAY2.isoformat()})
        if spec is RAW_TRANSACTIONS:
            break
    code, out, _ = run_cli(["generate", *args, "--append-days", "1"], log=tmp_path / "a2.log",
                           cwd=tmp_path)
    assert code == 0, out

    # Day 2 is finished, nothing is written twice, and no third day was started.
    for spec in (RAW_CUSTOMERS, RAW_TRANSACTIONS, RAW_EVENTS):
        assert [c["day"] for c in commits(wh, spec).values()] == [DAY1, DAY2], spec.name
    runs = [r for r in runs_rows(spark, root) if r["stage"] == "generate"]
    assert [r["status"] for r in runs] == ["succeeded"] * 3

    # With dirt planted, rows that are neither fresh (id of the day) nor dirt-blanked ids
    # are late duplicates: exact copies of rows stored before, dirty ones included.
    late_total = 0
    for spec, key in ((RAW_TRANSACTIONS, "txn_id"), (RAW_EVENTS, "event_id")):
        for version, commit in commits(wh, spec).items():
            rows = added_rows(wh, spec, commit["adds"])
            prefix = f"{key[0].upper()}{commit['day']:%Y%m%d}"
            late = rows.filter(F.col(key).isNotNull() & (F.trim(key) != "")
                               & ~F.col(key).startswith(prefix))
            before = lake.read(spec, version=version - 1)
            assert late.exceptAll(before).count() == 0, (spec.name, commit["day"])
            late_total += late.count()
    assert late_total > 0
