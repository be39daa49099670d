"""The ``spark`` Delta engine: Spark's own Delta connector (delta-spark).

Used where the Delta jars are on the classpath (cluster images, ``--packages
io.delta:delta-spark_2.13:<version>``) and the session has Delta's SQL extension.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.errors import CommitConflictError, MissingTableError, SchemaMismatchError
from sparkseg.lakehouse.base import WriteMode, WriteResult
from sparkseg.tables import check_columns


def delta_spark_available(spark: SparkSession) -> bool:
    """True when delta-spark's classes are loadable and its SQL extension is configured."""
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
        jvm.java.lang.Class.forName("io.delta.tables.DeltaTable", False, loader)
    except Exception:
        return False
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    return "DeltaSparkSessionExtension" in extensions


def _sql_literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class SparkDeltaEngine:
    name = "spark"

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark

    def _table(self, uri: str) -> Any:
        from delta.tables import DeltaTable  # imported lazily: needs the jars

        return DeltaTable.forPath(self.spark, uri)

    def exists(self, uri: str) -> bool:
        from delta.tables import DeltaTable

        return bool(DeltaTable.isDeltaTable(self.spark, uri))

    def version(self, uri: str) -> int | None:
        if not self.exists(uri):
            return None
        row = self._table(uri).history(1).select("version").first()
        return int(row[0]) if row else None

    def schema(self, uri: str, table: str) -> T.StructType:
        if not self.exists(uri):
            raise MissingTableError(table, uri)
        return self.spark.read.format("delta").load(uri).schema

    def history(self, uri: str, limit: int) -> list[dict[str, Any]]:
        rows = self._table(uri).history(limit).collect()
        return [r.asDict(recursive=True) for r in rows]

    def vacuum(self, uri: str, *, retention_hours: float, dry_run: bool) -> list[str]:
        dry = " DRY RUN" if dry_run else ""
        rows = self.spark.sql(
            f"VACUUM delta.`{uri}` RETAIN {float(retention_hours)} HOURS{dry}"
        ).collect()  # file paths, not customer rows
        return [str(r[0]) for r in rows]

    def read(
        self,
        uri: str,
        table: str,
        *,
        version: int | None = None,
        partitions: Mapping[str, Any] | None = None,
    ) -> tuple[DataFrame, int]:
        latest = self.version(uri)
        if latest is None:
            raise MissingTableError(table, uri)
        if version is not None and version > latest:
            raise MissingTableError(table, uri, f"no version {version}")
        # Pinned to the version found now: every job of a stage that reads this DataFrame
        # sees the same snapshot, even if a writer commits to the table meanwhile.
        pinned = version if version is not None else latest
        df = self.spark.read.format("delta").option("versionAsOf", pinned).load(uri)
        for col, value in (partitions or {}).items():
            df = df.where(F.col(col) == F.lit(value))
        return df, pinned

    def write(
        self,
        df: DataFrame,
        uri: str,
        table: str,
        *,
        mode: WriteMode,
        partition_by: tuple[str, ...],
        replace: Mapping[str, Any] | None,
        metadata: Mapping[str, str],
    ) -> WriteResult:
        if self.exists(uri):
            current = self.spark.read.format("delta").load(uri).schema
            check_columns(df.schema, current, table, allow_extra=False)
        writer = (
            df.write.format("delta")
            .mode("append" if mode == "append" else "overwrite")
            .option("userMetadata", json.dumps(dict(metadata), sort_keys=True))
        )
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if mode == "overwrite_partitions":
            if not replace:
                raise SchemaMismatchError(table, missing=["replace predicate"])
            where = " AND ".join(f"`{c}` = {_sql_literal(v)}" for c, v in replace.items())
            writer = writer.option("replaceWhere", where)
        try:
            writer.save(uri)
        except Exception as err:
            if "ConcurrentAppendException" in str(err) or "ConcurrentModification" in str(err):
                raise CommitConflictError(table, str(err).splitlines()[0]) from None
            raise
        last = self._table(uri).history(1).first()
        assert last is not None
        metrics = last["operationMetrics"] or {}
        return WriteResult(
            table,
            int(last["version"]),
            int(metrics.get("numOutputRows", 0) or 0),
            int(metrics.get("numFiles", 0) or 0),
        )
