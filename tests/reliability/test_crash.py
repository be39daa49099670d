"""Crashes: SIGKILL ``sparkseg run`` at seeded points, rerun, compare with an uninterrupted run.

Kill points (seeded, one ``sparkseg run`` process group each, JVM included):

1. a random delay after the start (a share of the uninterrupted run's time): wherever
   the job happens to be, usually inside a Spark job writing data files;
2. the n-th write's data files complete in ``<table>/_staging/<id>/`` (Spark's
   ``_SUCCESS`` is there) but not yet committed to the table's Delta log;
3. right after the j-th stage's ``ops/runs`` commit: between two stages.

After each kill every output table's latest version is read as a reader would: each
as-of partition is either absent or complete (the row count of the uninterrupted run).
Then the same as-of is rerun to the end and every output table must hold the rows of
the uninterrupted run, and ``vacuum`` (retention respected) removes every data file
the kills left that no table version references.

``model_version`` in gold/segments and gold/segment_profiles is compared separately: a
kill during ``train`` leaves a model folder without metadata, whose number the rerun does
not reuse, so the one complete model may be v2 where the uninterrupted run has v1. A
rerun after ``train`` completed reuses that model (train is idempotent per as-of), so
there is exactly one complete model and every scored row names it.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from sparkseg.lakehouse.vacuum import vacuum_warehouse
from sparkseg.pipeline import STAGES
from sparkseg.segment.model_store import METADATA_FILE
from tests.conftest import make_config
from tests.reliability import summary
from tests.reliability.conftest import E2E
from tests.reliability.data import AS_OF
from tests.reliability.helpers import (
    AUDIT_TABLE,
    AUDIT_TABLES,
    OUTPUT_LAYERS,
    Proc,
    delta_tables,
    export_rows,
    read_table,
    rows_of,
    run_cli,
    start_cli,
    unreferenced_data_files,
    write_config,
)

pytestmark = pytest.mark.slow

SEED = 20261101
PART = {"as_of_date": AS_OF}
# Columns that differ between two correct runs of the same as-of by design.
VOLATILE = {
    "ops/quarantine": ("run_id", "quarantined_at"),
    "gold/segments": ("model_version",),
    "gold/segment_profiles": ("model_version",),
}


def _outputs(spark: SparkSession, root: Path) -> dict[str, Any]:
    return {
        t: rows_of(read_table(spark, root, t, PART), VOLATILE.get(t, ()))
        for t in delta_tables(root, OUTPUT_LAYERS) if t not in AUDIT_TABLES
    }


def _staged_but_uncommitted(root: Path) -> set[str]:
    """Writes whose data files are complete in ``_staging`` (Spark's job committed)."""
    return {str(p.parent) for p in root.glob("*/*/_staging/*/_SUCCESS")}


def _stage_commits(root: Path) -> int:
    return len(list((root / AUDIT_TABLE / "_delta_log").glob("*.json")))


def _kill_when(proc: Proc, fired: Callable[[], bool], timeout: float = 900) -> bool:
    """Poll until ``fired()``, then SIGKILL; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while proc.popen.poll() is None:
        if fired():
            proc.kill()
            return True
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("kill point never reached")
        proc.sample_cpu()
        time.sleep(0.02)
    return False


def _where(log: str) -> str:
    """The stage running when the process died (from its log)."""
    starts = [line.split("INFO ", 1)[1].split(" ", 1)[0] for line in log.splitlines()
              if line.endswith(": start")]
    done = [line.split("INFO ", 1)[1].split(" ", 1)[0] for line in log.splitlines()
            if ": done in " in line]
    if not starts:
        return "before the first stage"
    if done and done[-1] == starts[-1]:
        return f"after {done[-1]}, before the next stage"
    return f"during {starts[-1]}"


def _assert_no_partial_table(spark: SparkSession, root: Path, complete: dict[str, int]) -> None:
    for table in delta_tables(root, OUTPUT_LAYERS):
        if table in AUDIT_TABLES:
            continue
        n = read_table(spark, root, table, PART).count()
        assert n in (0, complete[table]), f"{table}: {n} rows, complete is {complete[table]}"


def test_killed_runs_rerun_to_the_uninterrupted_outputs_and_vacuum_clears_orphans(
    spark: SparkSession, e2e: E2E, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    root = tmp_path / "lake"
    shutil.copytree(e2e.root / "raw", root / "raw")
    config = write_config(tmp_path / "crash.yaml", root)
    args = ["run", "--config", str(config), "--as-of", AS_OF.isoformat()]
    reference = _outputs(spark, e2e.root)
    complete = {t: sum(rows.values()) for t, rows in reference.items()}

    n_write = rng.randrange(3, 12)   # ingest writes 7 tables, identity 2, features 1
    j_stage = rng.randrange(2, 7)    # after identity .. after profile
    delay = rng.uniform(0.15, 0.5) * e2e.seconds

    # Each factory is called right after its run starts and returns the kill condition.
    def after_delay() -> Callable[[], bool]:
        t0 = time.monotonic()
        return lambda: time.monotonic() - t0 >= delay

    def nth_write_staged() -> Callable[[], bool]:
        seen: set[str] = set()

        def fired() -> bool:
            seen.update(_staged_but_uncommitted(root))
            return len(seen) >= n_write
        return fired

    def after_stage() -> Callable[[], bool]:
        c0 = _stage_commits(root)
        return lambda: _stage_commits(root) >= c0 + j_stage

    plan = [
        (f"{delay:.0f}s after start", after_delay),
        (f"write #{n_write} staged, before its commit", nth_write_staged),
        (f"after {list(STAGES)[j_stage - 1]} committed its ops/runs row, before the next stage",
         after_stage),
    ]
    for i, (what, trigger) in enumerate(plan):
        proc = start_cli(args, log=tmp_path / f"kill{i}.log", cwd=tmp_path, env=e2e.env)
        killed = _kill_when(proc, trigger())
        summary.add_cpu("sparkseg subprocesses", proc.cpu_seconds)
        if not killed:  # the run finished first: nothing to recover from
            summary.record_kill(f"{what}: missed, the run had finished")
            continue
        where = "" if what.startswith("after ") else f": {_where(proc.text())}"
        summary.record_kill(f"{what}{where}, {proc.elapsed:.0f}s after start")
        _assert_no_partial_table(spark, root, complete)

    code, log, _ = run_cli(args, log=tmp_path / "final.log", cwd=tmp_path, env=e2e.env)
    assert code == 0, log[-3000:]

    got = _outputs(spark, root)
    assert sorted(got) == sorted(reference)
    for table in reference:
        assert got[table] == reference[table], table
    assert export_rows(spark, root) == export_rows(spark, e2e.root)
    _assert_model_version_is_latest(spark, root)

    tables = [f"{root}/{t}" for t in delta_tables(root, OUTPUT_LAYERS)]
    orphans = {t: unreferenced_data_files(t) for t in tables}
    n_orphans = sum(map(len, orphans.values()))
    staged = list(root.glob("*/*/_staging/*/*"))
    # Kill 2 always leaves a staged write behind; replaced partitions leave old files.
    assert staged and n_orphans > 0
    cfg = make_config(root)
    assert vacuum_warehouse(spark, cfg, retention_hours=1, dry_run=False) == []
    removed = vacuum_warehouse(spark, cfg, retention_hours=0, dry_run=False)
    summary.note(f"crashes: vacuum --retention-hours 0 removed {len(removed)} file(s) "
                        f"({n_orphans} unreferenced data files, {len(staged)} staged entries)")
    assert {t: unreferenced_data_files(t) for t in tables} == {t: [] for t in tables}
    assert list(root.glob("*/*/_staging/*/*")) == []
    assert {t: sum(r.values()) for t, r in _outputs(spark, root).items()} == complete


def _assert_model_version_is_latest(spark: SparkSession, root: Path) -> None:
    """One complete model: a rerun after ``train`` finished reuses it (idempotent train)."""
    versions = sorted(int(p.parent.name) for p in root.glob(f"models/*/*/{METADATA_FILE}"))
    scored = {r["model_version"] for r in read_table(spark, root, "gold/segments", PART)
              .select("model_version").distinct().collect()}
    assert len(versions) == 1 and scored == {versions[0]}, (versions, scored)
    summary.note(f"crashes: complete model versions after the reruns {versions} "
                 "(a kill during train leaves an incomplete folder; its number is not reused)")
