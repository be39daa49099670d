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
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from sparkseg.lakehouse.vacuum import vacuum_warehouse
from sparkseg.pipeline import STAGES
from sparkseg.segment.model_store import METADATA_FILE
from sparkseg.tables import SILVER_TABLES
from tests.support import summary
from tests.support.bank import AS_OF
from tests.support.cli import Proc, run_cli, start_cli, write_config
from tests.support.config import make_config
from tests.support.e2e import E2E
from tests.support.warehouse import (
    AUDIT_TABLE,
    AUDIT_TABLES,
    OUTPUT_LAYERS,
    delta_tables,
    export_rows,
    read_table,
    rows_of,
    table_versions,
    unreferenced_data_files,
)

LAST_STAGE = list(STAGES)[-1]  # publish and the report follow it

pytestmark = pytest.mark.slow

SEED = 20261101
PART = {"as_of_date": AS_OF}
# Silver copies of the raw tables are one table each, not partitioned by as-of.
COPIES = frozenset(s.name for s in SILVER_TABLES.values())


def _part(table: str) -> dict[str, object] | None:
    return None if table in COPIES else PART
# Columns that differ between two correct runs of the same as-of by design.
VOLATILE = {
    "ops/quarantine": ("run_id", "quarantined_at"),
    "gold/segments": ("model_version",),
    "gold/segment_profiles": ("model_version",),
}


def _outputs(spark: SparkSession, root: Path) -> dict[str, Any]:
    return {
        t: rows_of(read_table(spark, root, t, _part(t)), VOLATILE.get(t, ()))
        for t in delta_tables(root, OUTPUT_LAYERS) if t not in AUDIT_TABLES
    }


def _staged_data_writes(root: Path) -> set[str]:
    """Data-table writes whose files are complete in ``_staging`` (Spark's job committed).

    ``_SUCCESS`` lies in ``<table>/_staging/<write id>/`` for appends and whole-table
    writes, and one level deeper (``.../<write id>/<col>=<value>/``) for one-partition
    replaces; the audit tables (appends of one row per stage) are not counted.
    """
    writes = {"/".join(p.relative_to(root).parts[:4])
              for p in root.glob("*/*/_staging/*/**/_SUCCESS")}
    return {w for w in writes if "/".join(w.split("/")[:2]) not in AUDIT_TABLES}


def _commits(root: Path, table: str) -> int:
    return len(list((root / table / "_delta_log").glob("*.json")))


def _stage_seconds(log: str) -> dict[str, float]:
    """Each stage's duration in the uninterrupted run (its ``done in`` log line)."""
    return {m[1]: float(m[2]) for m in re.finditer(r"INFO (\w+) \S+: done in ([0-9.]+)s", log)}


def _report_seconds(log: str) -> float:
    """From the last stage's ``done`` line to the report's line in the uninterrupted run
    (whole seconds of the log clock: publish and the report)."""
    def clock(pattern: str) -> int:
        m = re.search(r"^(\d\d):(\d\d):(\d\d) .*" + pattern, log, re.M)
        assert m, pattern
        return int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
    return float(clock(r"INFO report .*KiB$") - clock(rf"INFO {LAST_STAGE} \S+: done in "))


def _kill_when(proc: Proc, fired: Callable[[], bool], what: str, timeout: float = 900) -> None:
    """Poll until ``fired()``, then SIGKILL; a test failure if the run ended first."""
    deadline = time.monotonic() + timeout
    while proc.popen.poll() is None:
        if fired():
            proc.kill()
            return
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError(f"kill point {what!r} never reached in {timeout}s")
        proc.sample_cpu()
        time.sleep(0.02)
    pytest.fail(f"kill point {what!r} never fired: the run ended first (exit "
                f"{proc.popen.returncode}), so it tests nothing; log tail:\n{proc.text()[-2000:]}")


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


@dataclass(frozen=True)
class Before:
    """What a reader saw before a killed run started: table versions, current export sets."""

    versions: dict[str, int]
    exports: dict[str, Any]


def _before(spark: SparkSession, root: Path) -> Before:
    return Before(table_versions(root), export_rows(spark, root))


def _assert_previous_or_complete(
    spark: SparkSession, root: Path, before: Before, reference: dict[str, Any],
    reference_exports: dict[str, Any], what: str,
) -> None:
    """Every output table is at the version it had before the run, or its as-of partition
    holds exactly the uninterrupted run's rows; every audience's current export set (the
    newest with a manifest) is the previous one (or none) or the complete one."""
    for table, version in table_versions(root).items():
        if table.split("/")[0] not in OUTPUT_LAYERS or table in AUDIT_TABLES:
            continue
        if before.versions.get(table) == version:
            continue
        got = rows_of(read_table(spark, root, table, _part(table)), VOLATILE.get(table, ()))
        assert got == reference[table], (
            f"after the kill {what!r}: {table} is at v{version} (v{before.versions.get(table)} "
            f"before the run), and its {AS_OF} partition holds {sum(got.values())} rows, not "
            f"the {sum(reference[table].values())} of the uninterrupted run")
    for key, rows in export_rows(spark, root).items():
        assert rows in (before.exports.get(key), reference_exports[key]), (
            f"after the kill {what!r}: the current export set of {key} is neither the "
            "previous one nor complete")


def test_killed_runs_rerun_to_the_uninterrupted_outputs_and_vacuum_clears_orphans(
    spark: SparkSession, e2e: E2E, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    root = tmp_path / "lake"
    shutil.copytree(e2e.root / "raw", root / "raw")
    config = write_config(tmp_path / "crash.yaml", root)
    as_of = ["--config", str(config), "--as-of", AS_OF.isoformat()]
    reference = _outputs(spark, e2e.root)
    reference_exports = export_rows(spark, e2e.root)
    assert reference_exports and None not in reference_exports.values()
    seconds = _stage_seconds(e2e.log)
    assert set(seconds) == set(STAGES), seconds

    # ingest writes 7 data tables (quarantine included), identity 2, features 1.
    n_write = rng.randrange(1, 11)
    delay = rng.uniform(0.15, 0.5) * e2e.seconds
    report = _report_seconds(e2e.log)
    assert report >= 1, "the report took under a second: no room for a kill in it"
    k_set = rng.randrange(1, len(reference_exports) + 1)

    # Each factory is called right after its run starts and returns the kill condition.
    def after_delay() -> Callable[[], bool]:
        t0 = time.monotonic()
        return lambda: time.monotonic() - t0 >= delay

    def nth_write_staged() -> Callable[[], bool]:
        seen: set[str] = set()

        def fired() -> bool:
            seen.update(_staged_data_writes(root))
            return len(seen) >= n_write
        return fired

    def after_stage(stage: str) -> Callable[[], Callable[[], bool]]:
        def factory() -> Callable[[], bool]:
            c0 = _commits(root, AUDIT_TABLE)
            j = list(STAGES).index(stage) + 1
            return lambda: _commits(root, AUDIT_TABLE) >= c0 + j
        return factory

    def into_stage(proc_log: Path, stage: str) -> Callable[[], Callable[[], bool]]:
        """``share`` of the stage's uninterrupted duration after its ``start`` line."""
        wait = rng.uniform(0.1, 0.5) * seconds[stage]
        line = f"{stage} {AS_OF}: start"

        def factory() -> Callable[[], bool]:
            seen: list[float] = []

            def fired() -> bool:
                if not seen and proc_log.exists() and line in proc_log.read_text(errors="replace"):
                    seen.append(time.monotonic())
                return bool(seen) and time.monotonic() - seen[0] >= wait
            return fired
        return factory

    def kth_export_set_writing() -> Callable[[], bool]:
        """A new export set folder without its manifest: Spark is writing its files."""
        old = set(root.glob("exports/*/as_of_*/*"))
        seen: set[Path] = set()

        def fired() -> bool:
            seen.update(p for p in root.glob("exports/*/as_of_*/*")
                        if p not in old and not (p / "_manifest.json").exists())
            return len(seen) >= k_set
        return fired

    def into_report() -> Callable[[], bool]:
        """After ``sparkseg run`` published the as-of (the report comes next) + a delay."""
        c0 = _commits(root, "ops/completions")
        wait = rng.uniform(0.1, 0.5) * report
        seen: list[float] = []

        def fired() -> bool:
            if not seen and _commits(root, "ops/completions") >= c0 + len(STAGES) + 1:
                seen.append(time.monotonic())
            return bool(seen) and time.monotonic() - seen[0] >= wait
        return fired

    logs = tmp_path / "logs"
    logs.mkdir()

    def log_of(i: int) -> Path:
        return logs / f"kill{i}.log"

    # (what, command, kill condition, the stage it must land in or None, resume commands)
    plan: list[tuple[str, list[str], Callable[[], Callable[[], bool]], str | None,
                     list[str]]] = [
        (f"{delay:.0f}s after start", ["run"], after_delay, None, []),
        (f"data write #{n_write} staged, before its commit", ["run"], nth_write_staged, None, []),
        # Between features and train; from here on each kill lands in a later stage and
        # only that stage is rerun before the next kill (an orchestrator retries the
        # failed task: README, Reliability).
        ("after features committed its ops/runs row, before train", ["run"],
         after_stage("features"), None, []),
    ]
    i0 = len(plan)
    for stage in ("train", "score", "profile", "tags"):
        i = len(plan)
        plan.append((f"during {stage}", [stage], into_stage(log_of(i), stage), stage, [stage]))
    plan.append((f"export set #{k_set} being written", ["audiences"], kth_export_set_writing,
                 "audiences", ["audiences"]))
    plan.append(("during the report", ["run"], into_report, None, []))
    assert i0 == 3

    for i, (what, command, trigger, stage, resume) in enumerate(plan):
        before = _before(spark, root)
        proc = start_cli([*command, *as_of], log=log_of(i), cwd=tmp_path, env=e2e.env)
        _kill_when(proc, trigger(), what)
        summary.add_cpu("sparkseg subprocesses", proc.cpu_seconds)
        where = _where(proc.text())
        if stage is not None:
            assert where == f"during {stage}", f"kill {what!r} landed {where}"
        if what == "during the report":  # published, report not written yet
            assert where == f"after {LAST_STAGE}, before the next stage" and "KiB" not in (
                proc.text()), f"kill {what!r} landed {where}"
        summary.record_kill(f"{what}: {where}, {proc.elapsed:.0f}s after start")
        _assert_previous_or_complete(spark, root, before, reference, reference_exports, what)
        for name in resume:
            code, log, _ = run_cli([name, *as_of], log=logs / f"resume{i}-{name}.log",
                                   cwd=tmp_path, env=e2e.env)
            assert code == 0, log[-3000:]

    code, log, _ = run_cli(["run", *as_of], log=tmp_path / "final.log", cwd=tmp_path,
                           env=e2e.env)
    assert code == 0, log[-3000:]

    got = _outputs(spark, root)
    assert sorted(got) == sorted(reference)
    for table in reference:
        assert got[table] == reference[table], table
    assert export_rows(spark, root) == reference_exports
    assert (root / "reports" / f"segments_{AS_OF.isoformat()}.html").read_text().rstrip(
        ).endswith("</html>")
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
    assert {t: sum(r.values()) for t, r in _outputs(spark, root).items()} == {
        t: sum(r.values()) for t, r in reference.items()}


def _assert_model_version_is_latest(spark: SparkSession, root: Path) -> None:
    """One complete model: a rerun after ``train`` finished reuses it (idempotent train)."""
    versions = sorted(int(p.parent.name) for p in root.glob(f"models/*/*/{METADATA_FILE}"))
    scored = {r["model_version"] for r in read_table(spark, root, "gold/segments", PART)
              .select("model_version").distinct().collect()}
    assert len(versions) == 1 and scored == {versions[0]}, (versions, scored)
    summary.note(f"crashes: complete model versions after the reruns {versions} "
                 "(a kill during train leaves an incomplete folder; its number is not reused)")
