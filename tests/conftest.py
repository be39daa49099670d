"""One Spark session for the whole run; per-test lakehouse folders under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.config import Config, config_from_mapping
from sparkseg.lakehouse import Lakehouse
from sparkseg.session import delta_settings

REPO = Path(__file__).resolve().parents[1]

# Keyed-hash key for tests; stages that hash personal identifiers require it.
if not os.environ.get("SPARKSEG_HASH_KEY"):  # unset or exported empty
    os.environ["SPARKSEG_HASH_KEY"] = "test-only-key-not-secret"


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    # delta-spark is loaded too, so that both engines run in the one session.
    builder = SparkSession.builder
    for key, value in delta_settings({}).items():
        builder = builder.config(key, value)
    session = (
        builder.master("local[2]")
        .appName("sparkseg-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.memory", "3g")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(checkpoints))
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


def make_config(warehouse: Path, **sections: object) -> Config:
    data: dict[str, object] = {"warehouse": str(warehouse), "engine": "offline"}
    data.update(sections)
    return config_from_mapping(data, source="<test>", config_dir=REPO / "conf")


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path / "lake")


@pytest.fixture
def lake(spark_clean: SparkSession, cfg: Config) -> Lakehouse:
    return Lakehouse(spark_clean, cfg)
