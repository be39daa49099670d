"""One Spark session for the whole run; per-test lakehouse folders under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from tests.support.config import make_config, use_test_hash_key
from tests.support.session import start_test_session


def pytest_configure(config: pytest.Config) -> None:
    use_test_hash_key()


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    session = start_test_session(
        tmp_path_factory.mktemp("spark-warehouse"), tmp_path_factory.mktemp("checkpoints")
    )
    yield session
    session.stop()


@pytest.fixture
def spark_clean(spark: SparkSession) -> Iterator[SparkSession]:
    """The shared session, with caches and temp views cleared after the test."""
    yield spark
    spark.catalog.clearCache()
    for view in spark.catalog.listTables():
        if view.isTemporary:
            spark.catalog.dropTempView(view.name)


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path / "lake")


@pytest.fixture
def lake(spark_clean: SparkSession, cfg: Config) -> Lakehouse:
    return Lakehouse(spark_clean, cfg)
