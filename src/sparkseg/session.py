"""Spark session factory. Nothing in sparkseg creates a session at import time."""

from __future__ import annotations

import logging
import os
import sys

from pyspark.sql import SparkSession

from sparkseg.config import SparkConfig

log = logging.getLogger(__name__)

# Settings every sparkseg session needs, whatever the cluster.
_REQUIRED = {
    # Delta requires INT64 microsecond timestamps in Parquet (Spark defaults to INT96).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    # Overwrite-partition of Parquet staging output must never delete other partitions.
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
}


def _local_defaults(cores: int) -> dict[str, str]:
    """Sizing for local mode on a laptop or a small VM (no master given)."""
    return {
        "spark.sql.shuffle.partitions": str(max(4, cores * 4)),
        "spark.default.parallelism": str(max(2, cores * 2)),
        "spark.ui.enabled": "false",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64m",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.warehouse.dir": os.path.join(os.getcwd(), "spark-warehouse"),
    }


def _default_driver_memory() -> str:
    """Half the machine's memory, capped at 16g: the rest is Python, OS and page cache."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "2g"
    gib = max(1, min(16, int(total / 2**30 / 2)))
    return f"{gib}g"


def build_session(cfg: SparkConfig) -> SparkSession:
    """Create (or join) the Spark session described by ``cfg``.

    Without ``master`` and outside spark-submit, starts local mode sized for this
    machine. Under spark-submit (or with ``master`` set to a cluster URL) it only adds
    sparkseg's required settings and leaves resources to the submitter.
    """
    builder = SparkSession.builder.appName(cfg.app_name)
    # spark-submit launches the Python driver with a gateway port: it owns master and sizing.
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    if under_submit:
        # spark-submit already put its master and resources into the JVM's conf.
        if cfg.master:
            log.info("spark-submit decides the master; ignoring spark.master=%s", cfg.master)
        master = None
    else:
        master = cfg.master or os.environ.get("SPARK_MASTER", "local[*]")
        builder = builder.master(master)
    local = master is not None and master.startswith("local")
    settings = dict(_REQUIRED)
    settings["spark.sql.session.timeZone"] = cfg.timezone
    if local:
        cores = os.cpu_count() or 2
        settings.update(_local_defaults(cores))
        # Must be set before the JVM starts: the builder is the only place that works.
        settings["spark.driver.memory"] = cfg.driver_memory or _default_driver_memory()
    if cfg.shuffle_partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(cfg.shuffle_partitions)
    # A progress bar only helps a person at a terminal; in logs it is noise.
    if not cfg.show_progress or not sys.stderr.isatty():
        settings["spark.ui.showConsoleProgress"] = "false"
    settings.update(cfg.conf)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.log_level)
    if cfg.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(cfg.checkpoint_dir)
    log.debug("spark session %s (master %s)", spark.version, spark.sparkContext.master)
    return spark
