"""The interface every Delta engine implements (see README, "The two Delta engines")."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any, Literal, Protocol

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.errors import SchemaMismatchError

# append: add rows. overwrite: replace the whole table.
# overwrite_partitions: replace only the partitions named by ``replace`` (e.g. one as_of_date).
WriteMode = Literal["append", "overwrite", "overwrite_partitions"]


@dataclass(frozen=True)
class WriteResult:
    table: str
    version: int
    rows: int
    files: int


@dataclass(frozen=True)
class WriteRequest:
    """What an engine's write commits, besides the rows and the table's folder."""

    table: str
    mode: WriteMode
    partition_by: tuple[str, ...]
    replace: Mapping[str, Any] | None
    metadata: Mapping[str, str]
    # Commit only if the table is still at this version (-1: does not exist yet), else
    # CommitConflictError: for a writer whose rows depend on what it read (ingest's
    # batches on the watermark).
    expect_version: int | None = None


@dataclass(frozen=True)
class DeleteRequest:
    """What an engine's partition delete drops: ``column < cutoff`` of ``table``."""

    table: str
    column: str  # a date partition column of the table
    cutoff: dt.date
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class TableInfo:
    """What incremental reads need from a table's metadata."""

    id: str
    partition_columns: tuple[str, ...]
    properties: dict[str, str]


@dataclass(frozen=True)
class DeleteResult:
    """What a delete of whole partitions dropped; ``version`` is None when nothing
    matched (then nothing is committed)."""

    table: str
    version: int | None
    partitions: tuple[str, ...]  # the partition values dropped, oldest first
    rows: int
    files: int


class DeltaEngine(Protocol):
    name: str

    def table_info(self, uri: str, table: str) -> TableInfo: ...

    def exists(self, uri: str) -> bool: ...

    def version(self, uri: str) -> int | None: ...

    def schema(self, uri: str, table: str) -> T.StructType: ...

    def read(
        self,
        uri: str,
        table: str,
        *,
        version: int | None,
        partitions: Mapping[str, Any] | None,
    ) -> tuple[DataFrame, int]:
        """The table (at ``version`` or latest) as a DataFrame, and the version read."""
        ...

    def write(self, df: DataFrame, uri: str, request: WriteRequest) -> WriteResult:
        """Commit ``df`` (already conformed and checked by :meth:`Lakehouse.write`
        against the table's schema and partitioning) as ``request`` says."""
        ...

    def delete_partitions_before(self, uri: str, request: DeleteRequest) -> DeleteResult:
        """Drop the partitions with ``request.column < request.cutoff`` in one commit (no
        file rewritten). The commit carries the request's metadata and a
        ``sparkseg.write_id`` like a write's.
        """
        ...

    def history(self, uri: str, limit: int) -> list[dict[str, Any]]: ...

    def vacuum(self, uri: str, *, retention_hours: float, dry_run: bool) -> list[str]:
        """Remove data files no version within the retention needs; return their paths."""
        ...


_OTHER_PARTITION = "sparkseg: row outside the partition being replaced: "


def keep_to_partition(df: DataFrame, replace: Mapping[str, Any]) -> DataFrame:
    """``df``, failing the job at the first row whose partition values differ from ``replace``.

    A replace of one partition must never write rows of another (they would survive the
    next rerun of their own date). The failure message names the values found; read it
    back with :func:`other_partition_in`.
    """
    same = [F.col(c) == F.lit(v) for c, v in replace.items()]
    found = F.concat_ws(", ", *[
        F.concat(F.lit(f"{c}="), F.coalesce(F.col(c).cast("string"), F.lit("null")))
        for c in replace
    ])
    guard = F.assert_true(reduce(operator.and_, same),
                          F.concat(F.lit(_OTHER_PARTITION), found, F.lit(";")))
    return df.where(guard.isNull())


def other_partition_in(err: BaseException) -> str | None:
    """The partition values :func:`keep_to_partition` found, if ``err`` is its failure."""
    hit = re.search(re.escape(_OTHER_PARTITION) + r"([^;]*);", str(err))
    return hit.group(1) if hit else None


_PLAIN_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_partition_column(
    table: str, column: str, partition_by: tuple[str, ...], schema: T.StructType
) -> None:
    """Raise :class:`SchemaMismatchError` unless ``column`` is a date partition column.

    A delete on anything else would rewrite data files (and a quoted name would have to
    be escaped differently in each engine's SQL dialect).
    """
    if not _PLAIN_COLUMN.fullmatch(column) or column not in partition_by:
        raise SchemaMismatchError(table, missing=[f"partition column {column}"])
    kind = schema[column].dataType if column in schema.fieldNames() else None
    if not isinstance(kind, T.DateType):
        got = kind.simpleString() if kind is not None else "none"
        raise SchemaMismatchError(table, retyped=[f"{column} ({got}, expected date)"])
