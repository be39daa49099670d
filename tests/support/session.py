"""The test run's one Spark session, made by sparkseg's own factory with small settings."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from sparkseg.config import SparkConfig
from sparkseg.session import build_session

# The short-lived test JVMs (sparkseg subprocesses, writer processes, spark-submit
# drivers and executors) run small jobs for seconds to minutes: the C1 compiler alone and
# the serial collector leave the two cores to the work instead of to C2 compiler and GC
# threads. The in-process session lives for the whole suite and keeps the defaults
# (docs/decisions.md, "Test JVMs: C1 only, serial GC").
TEST_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def small_spark_config(warehouse: Path, checkpoints: Path) -> SparkConfig:
    """Two local cores, four shuffle partitions, UTC, 3g driver, quiet.

    ``build_session`` adds what every sparkseg session gets in local mode (UI off, bound
    to loopback, the required Parquet and adaptive settings).
    """
    return SparkConfig(
        master="local[2]",
        app_name="sparkseg-tests",
        driver_memory="3g",
        shuffle_partitions=4,
        log_level="ERROR",
        timezone="UTC",
        show_progress=False,
        checkpoint_dir=str(checkpoints),
        conf={
            "spark.default.parallelism": "4",
            "spark.databricks.delta.snapshotPartitions": "2",
            "spark.sql.warehouse.dir": str(warehouse),
        },
    )


def start_test_session(warehouse: Path, checkpoints: Path) -> SparkSession:
    """delta-spark is loaded too, so that both engines run in the one session."""
    return build_session(small_spark_config(warehouse, checkpoints), delta=True)
