"""One sample warehouse and report for the whole report test package (built once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.lakehouse import Lakehouse
from sparkseg.report.build import write_report
from tests.support.config import make_config
from tests.support.report import SampleReport
from tests.support.sample_gold import AS_OF, write_sample


@pytest.fixture(scope="session")
def sample_report(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> SampleReport:
    """The report of AS_OF over the hand-made gold tables of tests/support/sample_gold.py."""
    cfg = make_config(tmp_path_factory.mktemp("report") / "lake")
    sample = write_sample(Lakehouse(spark, cfg))
    path = Path(write_report(spark, cfg, AS_OF))
    return SampleReport(cfg, sample, path, path.read_text(encoding="utf-8"))
