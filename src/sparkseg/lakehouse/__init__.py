"""Lakehouse I/O: Delta tables by name under the configured warehouse root.

Stages read and write only through :class:`Lakehouse`. It picks the Delta engine
(``spark`` or ``offline``), validates names and schemas against :mod:`sparkseg.tables`,
and records every read and commit in the current run's ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.config import Config
from sparkseg.errors import ConfigError, MissingTableError, SchemaMismatchError
from sparkseg.lakehouse import ledger
from sparkseg.lakehouse.base import (
    DeleteResult,
    DeltaEngine,
    TableInfo,
    WriteMode,
    DeleteRequest,
    WriteRequest,
    WriteResult,
)
from sparkseg.lakehouse.changes import AddedFile, Changes, added_files
from sparkseg.lakehouse.hadoop_fs import HadoopFs
from sparkseg.lakehouse.names import check_name, join, table_uri
from sparkseg.lakehouse.offline import OfflineEngine, scan_files
from sparkseg.lakehouse.spark_delta import SparkDeltaEngine, delta_spark_available
from sparkseg.tables import TableSpec, check_columns

__all__ = ["DeleteResult", "Lakehouse", "WriteMode", "WriteResult", "make_engine"]

log = logging.getLogger(__name__)


def make_engine(spark: SparkSession, cfg: Config) -> DeltaEngine:
    """The engine named in config; ``auto`` prefers delta-spark when it is loaded."""
    if cfg.engine == "spark" or (cfg.engine == "auto" and delta_spark_available(spark)):
        if not delta_spark_available(spark):
            raise ConfigError(
                f"{cfg.source}: engine is 'spark' but delta-spark is not on the classpath "
                "(add --packages io.delta:delta-spark_2.13:<version> and Delta's SQL "
                "extension, or set engine: offline)"
            )
        return SparkDeltaEngine(spark)
    return OfflineEngine(spark, cfg.lakehouse.storage_options)


class Lakehouse:
    """Delta tables under ``cfg.warehouse`` as ``<root>/<layer>/<name>``."""

    def __init__(self, spark: SparkSession, cfg: Config, engine: DeltaEngine | None = None):
        self.spark = spark
        self.cfg = cfg
        self.root = cfg.warehouse.rstrip("/")
        self.engine = engine or make_engine(spark, cfg)

    @staticmethod
    def _name(table: TableSpec | str) -> str:
        return table.name if isinstance(table, TableSpec) else table

    def uri(self, table: TableSpec | str) -> str:
        return table_uri(self.root, self._name(table))

    def path(self, layer: str, *names: str) -> str:
        """A folder under the warehouse (models, reports, exports), names checked."""
        return join(self.root, check_name(layer), *(check_name(n) for n in names))

    def exists(self, table: TableSpec | str) -> bool:
        return self.engine.exists(self.uri(table))

    def version(self, table: TableSpec | str) -> int | None:
        return self.engine.version(self.uri(table))

    def read(
        self,
        table: TableSpec | str,
        *,
        version: int | None = None,
        partitions: Mapping[str, Any] | None = None,
        allow_extra: bool | None = None,
    ) -> DataFrame:
        """Read a table (latest or ``version``), pruned to ``partitions`` on the driver.

        With a :class:`TableSpec` the table must have the spec's columns and types
        (raw tables may carry extra columns; they are dropped).
        """
        name = self._name(table)
        df, read_version = self.engine.read(
            self.uri(name), name, version=version, partitions=partitions
        )
        current = ledger.current()
        if current is not None:
            current.record_read(name, read_version)
        if isinstance(table, TableSpec):
            extra_ok = table.layer == "raw" if allow_extra is None else allow_extra
            check_columns(df.schema, table.schema, name, allow_extra=extra_ok)
            df = df.select(*table.columns)
        return df

    def read_as_of(self, table: TableSpec | str, as_of: dt.date, *, hint: str) -> DataFrame:
        """The ``as_of_date`` partition of ``table``; none or an empty one is a
        :class:`MissingTableError` naming the table, with ``hint`` (what to run first)."""
        name = self._name(table)
        df = self.read(table, partitions={"as_of_date": as_of})
        # inputFiles() is free (driver-side listing) and enough for the offline engine,
        # which prunes partitions itself; an engine that filters lazily needs the probe.
        if not df.inputFiles() or df.isEmpty():
            raise MissingTableError(name, self.uri(name), f"no rows for as_of_date={as_of}; {hint}")
        return df

    def latest_as_of(
        self,
        table: TableSpec | str,
        *,
        before: dt.date | None = None,
        on_or_before: dt.date | None = None,
    ) -> dt.date | None:
        """The newest ``as_of_date`` of ``table`` (strictly before ``before``, or on or
        before ``on_or_before``); None if the table or such a partition does not exist."""
        name = self._name(table)
        if not self.exists(name):
            return None
        df = self.read(name)
        if before is not None:
            df = df.where(F.col("as_of_date") < F.lit(before))
        if on_or_before is not None:
            df = df.where(F.col("as_of_date") <= F.lit(on_or_before))
        row = df.agg(F.max("as_of_date")).first()
        return None if row is None else row[0]

    def schema(self, table: TableSpec | str) -> T.StructType:
        name = self._name(table)
        return self.engine.schema(self.uri(name), name)

    def write(
        self,
        df: DataFrame,
        spec: TableSpec,
        *,
        mode: WriteMode,
        replace: Mapping[str, Any] | None = None,
        metadata: Mapping[str, str] | None = None,
        expect_version: int | None = None,
    ) -> WriteResult:
        """Write ``df`` (conformed to ``spec``) in one Delta commit.

        ``overwrite_partitions`` replaces exactly the partitions named by ``replace``
        (for example ``{"as_of_date": as_of}``): rerunning a date replaces that date only.
        """
        if mode == "overwrite_partitions" and not replace:
            raise ValueError("overwrite_partitions needs replace={partition column: value}")
        df = spec.conform(df)
        uri = self.uri(spec)
        self._check_matches_table(df, spec, uri)
        current = ledger.current()
        meta = {**_commit_metadata(spec.name, current), **(metadata or {})}
        result = self.engine.write(df, uri, WriteRequest(
            spec.name,
            mode,
            spec.partition_by,
            {k: _plain(v) for k, v in (replace or {}).items()},
            meta,
            expect_version,
        ))
        if current is not None:
            current.record_write(spec.name, result.version, result.rows)
        log.info("wrote %s v%d: %d rows in %d files", spec.name, result.version, result.rows, result.files)
        return result

    def _check_matches_table(self, df: DataFrame, spec: TableSpec, uri: str) -> None:
        """Raise :class:`SchemaMismatchError` if the table exists with other columns,
        types or partition columns than ``df`` and ``spec`` (a write never evolves it)."""
        if not self.engine.exists(uri):
            return
        check_columns(df.schema, self.engine.schema(uri, spec.name), spec.name, allow_extra=False)
        have = self.engine.table_info(uri, spec.name).partition_columns
        if have != spec.partition_by:
            raise SchemaMismatchError(spec.name, retyped=[
                f"partitioning ({', '.join(have)}; expected {', '.join(spec.partition_by)})"])

    def delete_partitions_before(
        self, table: TableSpec | str, column: str, cutoff: dt.date
    ) -> DeleteResult | None:
        """Drop the whole partitions with ``column < cutoff`` in one commit.

        ``column`` must be a date partition column: only remove actions are committed,
        no data file is rewritten, and the files stay on disk (readable at older
        versions) until ``sparkseg vacuum`` removes them after its retention. None when
        the table does not exist; a result with ``version=None`` when nothing matched.
        """
        name = self._name(table)
        uri = self.uri(name)
        if not self.engine.exists(uri):
            return None
        current = ledger.current()
        if current is not None:
            # The version before the delete: ops/runs then lists where to time-travel back
            # to (until vacuum), and a failure after it is recorded like one after a read.
            before = self.engine.version(uri)
            if before is not None:
                current.record_read(name, before)
        result = self.engine.delete_partitions_before(uri, DeleteRequest(
            name, column, cutoff,
            {**_commit_metadata(name, current), "sparkseg.cutoff": cutoff.isoformat()},
        ))
        if current is not None and result.version is not None:
            current.record_write(name, result.version, result.rows)
        log.debug("%s: dropped %d partition(s) with %s < %s (%d rows, %d files)%s", name,
                 len(result.partitions), column, cutoff, result.rows, result.files,
                 f" in v{result.version}" if result.version is not None else "")
        return result

    def history(self, table: TableSpec | str, limit: int = 20) -> list[dict[str, Any]]:
        return self.engine.history(self.uri(table), limit)

    def commit_metadata(self, table: TableSpec | str, limit: int = 100
                        ) -> list[tuple[int, dict[str, str]]]:
        """``(version, sparkseg metadata)`` of the newest ``limit`` commits, newest first.

        Both engines store a write's metadata with its commit (delta-rs as commitInfo
        fields, delta-spark as the JSON of ``userMetadata``); this reads either.
        """
        if not self.exists(table):
            return []
        out = []
        for entry in self.history(table, limit):
            meta = {k: str(v) for k, v in entry.items() if k.startswith("sparkseg.")}
            user = entry.get("userMetadata")
            if isinstance(user, str) and user.startswith("{"):
                meta.update({k: str(v) for k, v in json.loads(user).items()})
            out.append((int(entry["version"]), meta))
        return sorted(out, key=lambda vm: -vm[0])

    def table_info(self, table: TableSpec | str) -> TableInfo:
        name = self._name(table)
        return self.engine.table_info(self.uri(name), name)

    def changes(self, table: TableSpec | str, *, since: int, until: int,
                info: TableInfo) -> Changes:
        """The data files ``table`` gained in versions ``since + 1 .. until`` (see changes)."""
        uri = self.uri(table)
        return added_files(HadoopFs(self.spark, uri), uri, since=since, until=until,
                           properties=info.properties)

    def read_files(self, spec: TableSpec, files: list[AddedFile], *, version: int,
                   info: TableInfo) -> DataFrame:
        """Just these data files of ``spec``'s table, checked and selected like :meth:`read`.

        ``version`` is the table version the files belong to (recorded as read).
        """
        schema = self.schema(spec)
        check_columns(schema, spec.schema, spec.name, allow_extra=spec.layer == "raw")
        df = scan_files(self.spark, self.uri(spec), schema, list(info.partition_columns),
                        [f.path for f in files], [f.partition_values for f in files])
        current = ledger.current()
        if current is not None:
            current.record_read(spec.name, version)
        return df.select(*spec.columns)


def _commit_metadata(table: str, current: ledger.Ledger | None) -> dict[str, str]:
    """What every commit records: the table and, inside a stage, the stage's run."""
    meta = {"sparkseg.table": table}
    if current is not None:
        meta.update(
            {
                "sparkseg.stage": current.stage,
                "sparkseg.run_id": current.run_id,
                "sparkseg.as_of": current.as_of.isoformat() if current.as_of else "",
            }
        )
    return meta


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
