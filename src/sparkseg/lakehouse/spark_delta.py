"""The ``spark`` Delta engine: Spark's own Delta connector (delta-spark).

Used where the Delta jars are on the classpath (cluster images, ``--packages
io.delta:delta-spark_2.13:<version>``) and the session has Delta's SQL extension.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.errors import CommitConflictError, MissingTableError, SchemaMismatchError
from sparkseg.lakehouse.base import (
    DeleteResult,
    TableInfo,
    DeleteRequest,
    WriteRequest,
    WriteResult,
    check_partition_column,
    keep_to_partition,
    other_partition_in,
)
from sparkseg.spark_conf import conf_set


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


# delta-spark's DeltaTable.delete takes no options: commit metadata comes from this
# session setting, set for the one call.
_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"


def _version_or_minus_one(version: int | None) -> int:
    return -1 if version is None else version


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

    def table_info(self, uri: str, table: str) -> TableInfo:
        if not self.exists(uri):
            raise MissingTableError(table, uri)
        row = self._table(uri).detail().select("id", "partitionColumns", "properties").first()
        assert row is not None
        return TableInfo(str(row["id"]), tuple(row["partitionColumns"] or ()),
                         dict(row["properties"] or {}))

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
            if isinstance(value, (list, tuple, set, frozenset)):
                df = df.where(F.col(col).isin(*sorted(value)))
            else:
                df = df.where(F.col(col) == F.lit(value))
        return df, pinned

    def write(self, df: DataFrame, uri: str, request: WriteRequest) -> WriteResult:
        table, mode, partition_by, replace, expect_version = (
            request.table, request.mode, request.partition_by, request.replace,
            request.expect_version)
        # Loading delta.exceptions.captured makes py4j raise Delta's conflict classes; they
        # share no Python base class but PySparkException, so all of them are named.
        from delta import exceptions as delta_errors
        from delta.exceptions import captured as _captured  # noqa: F401

        conflicts = tuple(getattr(delta_errors, name) for name in delta_errors.__all__)

        if expect_version is not None and _version_or_minus_one(self.version(uri)) != (
                expect_version):
            raise CommitConflictError(table, f"another writer committed after version "
                                      f"{expect_version} was read")
        write_id = uuid.uuid4().hex
        meta = {**request.metadata, "sparkseg.write_id": write_id, "sparkseg.mode": mode}
        if mode == "overwrite_partitions" and replace:
            # Delta refuses rows outside replaceWhere too, but names them in its internal
            # encoding (days since 1970); this guard names the values as written.
            df = keep_to_partition(df, replace)
        writer = (
            df.write.format("delta")
            .mode("append" if mode == "append" else "overwrite")
            .option("userMetadata", json.dumps(meta, sort_keys=True))
        )
        if mode != "append":
            # The session's dynamic partition overwrite (set for Parquet staging) would
            # make a whole-table overwrite keep every partition it does not write; a
            # partition replace is bounded by replaceWhere instead.
            writer = writer.option("partitionOverwriteMode", "static")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        if expect_version is not None:
            # Delta's idempotent-write transaction: of two writers that both read
            # ``expect_version``, the one committing second fails (ConcurrentTransaction)
            # or, if it read the winner's snapshot, is skipped (caught below).
            writer = (writer.option("txnAppId", f"sparkseg:{table}")
                      .option("txnVersion", str(expect_version + 1)))
        if mode == "overwrite_partitions":
            if not replace:
                raise SchemaMismatchError(table, missing=["replace predicate"])
            # Delta records the predicate as what this transaction read: a concurrent
            # commit adding files to these partitions makes this one fail
            # (ConcurrentAppendException), also for a partition that is new.
            where = " AND ".join(f"`{c}` = {_sql_literal(v)}" for c, v in replace.items())
            writer = writer.option("replaceWhere", where)
        try:
            writer.save(uri)
        except conflicts as err:
            # Includes two first writes of one table: the loser sees the winner's protocol
            # and metadata (ProtocolChangedException / MetadataChangedException).
            detail = f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"
            raise CommitConflictError(table, detail[:300]) from None
        except Exception as err:
            other = other_partition_in(err)
            if other is None:
                raise
            wanted = ", ".join(f"{c}={v}" for c, v in (replace or {}).items())
            raise SchemaMismatchError(
                table, retyped=[f"{other} written while replacing {wanted}"]
            ) from None
        if mode == "append" and self._find_commit(uri, write_id) is None:
            if expect_version is not None and self.version(uri) != expect_version:
                raise CommitConflictError(table, "another writer committed first")
            # delta-spark commits nothing for an append of no rows, but a sparkseg write
            # is also a record (ingest's watermark travels in the commit's metadata).
            self._commit_empty_append(uri, table, meta, guarded=expect_version is not None)
        return self._result_of_write(uri, table, write_id)

    @staticmethod
    def _commit_empty_append(uri: str, table: str, meta: Mapping[str, str], *,
                             guarded: bool) -> None:
        """An append commit with no files that carries ``meta`` as its ``userMetadata``.

        Written with delta-rs (a dependency of sparkseg either way): Delta's protocol has
        no notion of which writer committed, and delta-spark reads the commit like its own.
        """
        from deltalake import DeltaTable as RsTable
        from deltalake.exceptions import CommitFailedError
        from deltalake.transaction import CommitProperties

        rs = RsTable(uri)
        try:
            rs.create_write_transaction(
                [], mode="append", schema=rs.schema(),
                partition_by=list(rs.metadata().partition_columns) or None,
                commit_properties=CommitProperties(
                    custom_metadata={"userMetadata": json.dumps(meta, sort_keys=True)},
                    max_commit_retries=0 if guarded else None),
            )
        except CommitFailedError as err:
            raise CommitConflictError(table, str(err).splitlines()[0]) from None

    def _find_commit(self, uri: str, write_id: str) -> int | None:
        """The version of the recent commit carrying ``write_id``, if any."""
        row = (self._table(uri).history(20).where(F.col("userMetadata").contains(write_id))
               .select("version").first())
        return None if row is None else int(row[0])

    def delete_partitions_before(self, uri: str, request: DeleteRequest) -> DeleteResult:
        """delta-spark ``DELETE WHERE column < cutoff`` on a partition column.

        A predicate on partition columns only is a metadata-only delete in Delta: whole
        files are removed, none is rewritten. Delta's own conflict detection applies (a
        concurrent commit adding files to a partition being dropped fails this one).
        """
        table, column, cutoff = request.table, request.column, request.cutoff
        from delta import exceptions as delta_errors
        from delta.exceptions import captured as _captured  # noqa: F401

        conflicts = tuple(getattr(delta_errors, name) for name in delta_errors.__all__)
        latest = self.version(uri)
        if latest is None:
            raise MissingTableError(table, uri)
        pinned = self.spark.read.format("delta").option("versionAsOf", latest).load(uri)
        have = tuple(self._table(uri).detail().first()["partitionColumns"])
        check_partition_column(table, column, have, pinned.schema)
        old = F.col(column) < F.lit(cutoff)
        # One row per dropped date; counting needs only the Parquet footers.
        plan = {
            r[0].isoformat(): int(r[1])
            for r in pinned.where(old).groupBy(column).count().collect()
        }
        if not plan:
            return DeleteResult(table, None, (), 0, 0)
        write_id = uuid.uuid4().hex
        meta = {**request.metadata, "sparkseg.write_id": write_id, "sparkseg.mode": "delete"}
        try:
            with conf_set(self.spark, _USER_METADATA, json.dumps(meta, sort_keys=True)):
                self._table(uri).delete(old)
        except conflicts as err:
            detail = f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"
            raise CommitConflictError(table, detail[:300]) from None
        version, metrics = self._commit_of(uri, table, write_id)
        if int(metrics.get("numAddedFiles", 0) or 0):
            raise RuntimeError(f"{table}: partition delete rewrote files: {metrics}")
        rows = metrics.get("numDeletedRows")
        return DeleteResult(
            table,
            version,
            tuple(sorted(plan)),
            int(rows) if rows is not None else sum(plan.values()),
            int(metrics.get("numRemovedFiles", 0) or 0),
        )

    def _result_of_write(self, uri: str, table: str, write_id: str) -> WriteResult:
        version, metrics = self._commit_of(uri, table, write_id)
        return WriteResult(
            table,
            version,
            int(metrics.get("numOutputRows", 0) or 0),
            int(metrics.get("numFiles", 0) or 0),
        )

    def _commit_of(self, uri: str, table: str, write_id: str) -> tuple[int, dict[str, str]]:
        """Version and metrics of the commit carrying ``write_id`` (others may have
        committed after it)."""
        history = self._table(uri)
        found = None
        for limit in (20, None):  # the last commits first; the whole history if that fails
            hist = history.history(limit) if limit else history.history()
            found = (
                hist.where(F.col("userMetadata").contains(write_id))
                .select("version", "operationMetrics")
                .first()
            )
            if found is not None:
                break
        if found is None:
            raise RuntimeError(f"{table}: committed write {write_id} is not in its history")
        return int(found["version"]), dict(found["operationMetrics"] or {})
