"""Spark session factory. Nothing in sparkseg creates a session at import time."""

from __future__ import annotations

import logging
import os
import sys
from importlib import metadata, resources

import pyspark
from pyspark.errors import PySparkRuntimeError
from pyspark.sql import SparkSession

from sparkseg.config import SparkConfig
from sparkseg.errors import ConfigError

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


DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def delta_package() -> str:
    """Maven coordinate of the delta-spark jar that matches the installed pip packages.

    delta-spark 4.x publishes one artifact per Spark line (``delta-spark_4.1_2.13``) with
    the same version number as its pip package.
    """
    spark_line = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_line}_2.13:{metadata.version('delta-spark')}"


def delta_settings(conf: dict[str, str]) -> dict[str, str]:
    """Settings that load delta-spark into a session sparkseg starts itself.

    ``conf`` is what the session is given otherwise: jars a user already names (a bank
    mirror's package, local jar files) are kept, and an Ivy settings file of their own wins
    over sparkseg's.
    """
    settings = {"spark.sql.extensions": DELTA_EXTENSION, "spark.sql.catalog.spark_catalog": DELTA_CATALOG}
    named = conf.get("spark.jars.packages", "") + "," + conf.get("spark.jars", "")
    if "delta-spark" not in named:
        packages = [p for p in conf.get("spark.jars.packages", "").split(",") if p]
        settings["spark.jars.packages"] = ",".join([*packages, delta_package()])
        if "spark.jars.ivySettings" not in conf:
            ivy = resources.files("sparkseg") / "resources" / "ivysettings.xml"
            settings["spark.jars.ivySettings"] = str(ivy)
    return settings


def build_session(cfg: SparkConfig, *, delta: bool = False) -> SparkSession:
    """Create (or join) the Spark session described by ``cfg``.

    Without ``master`` and outside spark-submit, starts local mode sized for this
    machine. Under spark-submit (or with ``master`` set to a cluster URL) it only adds
    sparkseg's required settings and leaves resources to the submitter.

    ``delta`` loads delta-spark (the ``spark`` engine) when sparkseg starts the JVM: the
    jars matching the installed pip package are resolved from Maven into Ivy's cache
    (``~/.ivy2.5.2``) on first use. Under spark-submit the submitter must have added them
    (``--packages``); :func:`sparkseg.lakehouse.make_engine` says so if not.
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
    wants_jars = delta and not under_submit
    if wants_jars:
        settings.update(delta_settings(settings))
        if local:
            # Delta rebuilds a table's state in 50 tasks by default: sized for clusters.
            settings.setdefault("spark.databricks.delta.snapshotPartitions", str(max(2, cores * 2)))
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except PySparkRuntimeError as err:
        if not wants_jars:
            raise
        # The JVM exits before Spark starts when Ivy cannot resolve the packages; its
        # report is on stderr above, this line says what to do.
        raise ConfigError(
            f"engine 'spark' needs {settings.get('spark.jars.packages', delta_package())}, "
            "which could not be resolved from Maven (see the Ivy report above): give the jars "
            "with spark.conf.'spark.jars', a reachable mirror with spark.conf."
            "'spark.jars.repositories', or set engine: offline"
        ) from err
    spark.sparkContext.setLogLevel(cfg.log_level)
    if cfg.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(cfg.checkpoint_dir)
    log.debug("spark session %s (master %s)", spark.version, spark.sparkContext.master)
    return spark
