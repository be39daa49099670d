"""Orchestrator retries: ``sparkseg run`` twice for the same as-of equals one run.

The second run starts from a copy of the finished e2e warehouse and runs every stage
again for the same date. Every output table must then hold exactly the rows it held
after the first run (no duplicates, nothing lost, ``model_version`` included: train
reuses the model it already trained for that as-of), the audience exports are the same
files' rows (the newest complete set of each), and only the audit tables ``ops/runs``
and ``ops/completions`` grow (one row per stage; completions also one ``pipeline`` row).
Replaced, not skipped: every other output table has a new Delta version whose commit
names the second run (``sparkseg.run_id`` of that stage's ``ops/runs`` row), except
what ingest writes: with no new raw version, the second ingest commits nothing at all
(the silver copies and the quarantine keep their version).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from sparkseg.pipeline import STAGES
from sparkseg.segment.model_store import METADATA_FILE
from sparkseg.tables import OPS_QUARANTINE, SILVER_TABLES
from tests.support import summary
from tests.support.bank import AS_OF
from tests.support.cli import run_cli, write_config
from tests.support.e2e import E2E
from tests.support.warehouse import export_rows, output_rows, output_tables, runs_rows

pytestmark = pytest.mark.slow

def _outputs(spark: SparkSession, root: Path) -> dict[str, object]:
    return {t: output_rows(spark, root, t) for t in output_tables(root)}


def test_second_run_of_the_same_as_of_leaves_every_output_as_after_one(
    spark: SparkSession, e2e: E2E, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    shutil.copytree(e2e.root, root)
    config = write_config(tmp_path / "rerun.yaml", root)
    once = _outputs(spark, root)
    runs_before = len(runs_rows(spark, root))
    outputs = output_tables(root)
    versions = {t: DeltaTable(f"{root}/{t}").version() for t in outputs}

    code, log, seconds = run_cli(
        ["run", "--config", str(config), "--as-of", AS_OF.isoformat()],
        log=tmp_path / "rerun.log", cwd=tmp_path, env=e2e.env,
    )
    assert code == 0, log[-3000:]
    summary.TIMINGS["second `sparkseg run` of the same as-of (subprocess)"] = seconds

    twice = _outputs(spark, root)
    assert sorted(twice) == sorted(once)
    for table in once:
        assert twice[table] == once[table], f"{table} changed on the second run"
    assert sorted(p.parent.name for p in root.glob(f"models/*/*/{METADATA_FILE}")) == ["1"]
    assert "was already trained for" in log
    runs = runs_rows(spark, root)
    assert len(runs) == runs_before + len(STAGES)
    # Replaced, not skipped: each table has a new commit made by the second run's stage.
    second = {r["stage"]: r["run_id"] for r in runs[runs_before:]}
    ingested = {*(s.name for s in SILVER_TABLES.values()), OPS_QUARANTINE.name}
    assert {t: DeltaTable(f"{root}/{t}").version() for t in outputs if t in ingested} == {
        t: v for t, v in versions.items() if t in ingested}
    for table in (t for t in outputs if t not in ingested):
        dtable = DeltaTable(f"{root}/{table}")
        assert dtable.version() > versions[table], f"{table}: no new version on the second run"
        commit = _commit_metadata(dtable)
        assert commit.get("sparkseg.as_of") == AS_OF.isoformat(), (table, commit)
        assert commit.get("sparkseg.run_id") == second[str(commit.get("sparkseg.stage"))], (
            f"{table}: its latest commit is not the second run's", commit)
    assert {r["status"] for r in runs} == {"succeeded"}
    assert export_rows(spark, root) == export_rows(spark, e2e.root)


def _commit_metadata(dtable: DeltaTable) -> dict[str, object]:
    """The custom metadata of the table's latest commit (delta-rs lists it in commitInfo)."""
    info = dtable.history(1)[0]
    return {k: v for k, v in info.items() if k.startswith("sparkseg.")}
