"""Lakehouse tests run on both Delta engines unless they test one engine's internals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.lakehouse import Lakehouse
from tests.support.config import make_config
from tests.support.lakehouse import ENGINES


@pytest.fixture(params=ENGINES)
def lake(request: pytest.FixtureRequest, spark_clean: SparkSession, tmp_path: Path) -> Lakehouse:
    """A lakehouse on each engine in turn: the one write/read contract both honour."""
    cfg = make_config(tmp_path / "lake", engine=request.param)
    return Lakehouse(spark_clean, cfg)


@pytest.fixture
def offline_lake(spark_clean: SparkSession, tmp_path: Path) -> Lakehouse:
    """For tests of the offline engine's own protocol (staging, delta-rs commits)."""
    return Lakehouse(spark_clean, make_config(tmp_path / "lake", engine="offline"))
