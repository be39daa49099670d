"""ops/completions: a consumer can tell a complete as-of from a partial one.

One in-process ``run_all`` on 40 hand-built customers (the reliability data) is shared
by the module; tests that break the warehouse work on a copy of it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.audiences.exports import MANIFEST
from sparkseg.completions import (
    PIPELINE,
    Completion,
    completed_versions,
    completions_of,
    pipeline_row,
    publish,
)
from sparkseg.config import Config
from sparkseg.errors import IncompleteAsOfError, MissingTableError
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.pipeline import STAGES, run_all, run_stage
from sparkseg.report.build import build_report
from sparkseg.report.data import load_report_data
from sparkseg.tags.tables import TAG_COUNTS
from tests.support.bank import AS_OF, build_raw, write_raw
from tests.support.cli import write_config
from tests.support.config import REPO, make_config

# One run_all of every stage (about 3 minutes on two cores): an end-to-end module.
pytestmark = pytest.mark.slow

SMALL = {
    "features": {"dictionary": str(REPO / "conf/features.yaml")},
    "tags": {"rules": str(REPO / "conf/tags.yaml")},
    "audiences": {"definitions": str(REPO / "conf/audiences.yaml")},
    "segment": {"k_min": 2, "k_max": 3, "algorithms": ["kmeans"]},
}
EXPORTED = ("first_loan_app_push", "first_loan_sms", "first_loan_wechat",
            "payroll_wealth_upsell", "reactivation")


@dataclass(frozen=True)
class Run:
    root: Path
    cfg: Config
    ledgers: list[ledger.Ledger]


def _cfg(root: Path) -> Config:
    return make_config(root, **SMALL)


@pytest.fixture(scope="module")
def done(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("completions") / "lake"
    write_raw(root, build_raw(40, seed=3).tables)
    cfg = _cfg(root)
    return Run(root, cfg, run_all(spark, cfg, AS_OF))


@pytest.fixture
def copy(done: Run, tmp_path: Path) -> Iterator[Config]:
    root = tmp_path / "lake"
    shutil.copytree(done.root, root)
    yield _cfg(root)


def test_run_all_records_each_stage_then_a_pipeline_row_at_the_current_versions(
    spark: SparkSession, done: Run
) -> None:
    lake = Lakehouse(spark, done.cfg)
    rows = completions_of(lake, AS_OF)
    assert [c.stage for c in rows] == [*STAGES, PIPELINE]
    for c, led in zip(rows, done.ledgers, strict=False):
        assert (c.run_id, c.output_versions, c.exports) == (led.run_id, led.outputs, led.exports)
        assert c.config_hash == done.cfg.hash()
    pipe = rows[-1]
    merged: dict[str, int] = {}
    for led in done.ledgers:
        merged.update(led.outputs)
    assert pipe.output_versions == merged
    # Every table the run wrote, at the version it has now (nothing committed since).
    assert {t: lake.version(t) for t in pipe.output_versions} == pipe.output_versions
    assert {"silver/customers", "silver/transactions", "silver/identity_map",
            "silver/customer_features", "gold/segments", "gold/customer_tags_wide",
            "gold/audience_members"} <= set(pipe.output_versions)
    assert not {"ops/runs", "ops/completions"} & set(pipe.output_versions)
    assert completed_versions(lake, AS_OF) == pipe.output_versions
    assert completed_versions(lake, AS_OF + dt.timedelta(days=1)) is None
    # The exports the pipeline row names are complete sets (their manifest exists).
    assert sorted(pipe.exports) == sorted(EXPORTED)
    for folder in pipe.exports.values():
        assert folder.startswith("exports/") and (done.root / folder / MANIFEST).is_file()


def test_report_of_a_complete_as_of_reads_the_recorded_versions_not_later_commits(
    spark: SparkSession, copy: Config
) -> None:
    lake = Lakehouse(spark, copy)
    before = load_report_data(lake, copy, AS_OF)
    assert before.completeness.complete
    assert isinstance(before.tag_counts, list) and before.tag_counts
    # A later (partial) rerun commits to gold/tag_counts: the same rows again, doubled.
    lake.write(lake.read(TAG_COUNTS), TAG_COUNTS, mode="append")
    after = load_report_data(lake, copy, AS_OF)
    assert after.tag_counts == before.tag_counts
    assert "Complete as-of: pipeline run " in build_report(lake, AS_OF)


def test_report_of_an_as_of_without_a_pipeline_row_says_incomplete_on_the_page_and_in_the_log(
    spark: SparkSession, done: Run, caplog: pytest.LogCaptureFixture
) -> None:
    other = AS_OF + dt.timedelta(days=1)
    with caplog.at_level(logging.WARNING):
        page = build_report(Lakehouse(spark, done.cfg), other)
    assert ("<strong>Incomplete as-of</strong>: no pipeline completion record in "
            "ops/completions.") in page
    assert f"as-of {other} is not complete" in caplog.text


def test_a_stage_that_fails_on_a_missing_table_records_no_completion(
    spark: SparkSession, copy: Config
) -> None:
    lake = Lakehouse(spark, copy)
    n = len(completions_of(lake, AS_OF))
    shutil.rmtree(Path(copy.warehouse) / "gold" / "customer_tags_wide")
    with pytest.raises(MissingTableError, match="gold/customer_tags_wide"):
        run_stage(spark, copy, "audiences", AS_OF)
    assert len(completions_of(lake, AS_OF)) == n


def test_publish_refuses_an_as_of_whose_stages_did_not_all_complete(
    spark: SparkSession, copy: Config
) -> None:
    with pytest.raises(IncompleteAsOfError, match=r"as-of 2026-11-02 is not complete \(no "
                       r"completion record for stage\(s\) ingest, identity"):
        publish(spark, copy, AS_OF + dt.timedelta(days=1))
    # A rerun of tags after audiences completed leaves audiences built from older tags;
    # the check is by pipeline order, so every later stage must run again.
    run_stage(spark, copy, "tags", AS_OF)
    with pytest.raises(IncompleteAsOfError, match="tags completed again after audiences; rerun "
                       "audiences and later stages"):
        publish(spark, copy, AS_OF)
    run_stage(spark, copy, "audiences", AS_OF)
    with pytest.raises(IncompleteAsOfError, match="audiences completed again after lifecycle"):
        publish(spark, copy, AS_OF)
    run_stage(spark, copy, "lifecycle", AS_OF)
    lake = Lakehouse(spark, copy)
    assert publish(spark, copy, AS_OF).output_versions == completed_versions(lake, AS_OF)


def _c(stage: str, minute: int, versions: dict[str, int]) -> Completion:
    return Completion(AS_OF, stage, f"r-{stage}", dt.datetime(2026, 11, 1, 3, minute), "h",
                      versions, {})


def test_pipeline_row_merges_stage_versions_in_pipeline_order() -> None:
    latest = {"a": _c("a", 1, {"t1": 3, "t2": 1}), "b": _c("b", 2, {"t2": 5, "t3": 0})}
    row = pipeline_row(AS_OF, ["a", "b"], latest, config_hash="h",
                       now=dt.datetime(2026, 11, 1, 4), run_id="p")
    assert (row.stage, row.output_versions) == (PIPELINE, {"t1": 3, "t2": 5, "t3": 0})


def test_cli_publish_of_an_as_of_that_never_ran_exits_3_with_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "c.yaml", tmp_path / "lake")
    proc = subprocess.run(
        [sys.executable, "-m", "sparkseg.cli", "publish", "--config", str(config),
         "--as-of", "2026-11-01"],
        capture_output=True, text=True, timeout=300, env={**os.environ},
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("sparkseg: error:")]
    assert errors == ["sparkseg: error: as-of 2026-11-01 is not complete (no completion record "
                      "for stage(s) " + ", ".join(STAGES) + ")"]
