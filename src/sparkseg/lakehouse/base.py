"""The interface every Delta engine implements (see DESIGN.md, "two Delta engines")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pyspark.sql import DataFrame
from pyspark.sql import types as T

# append: add rows. overwrite: replace the whole table.
# overwrite_partitions: replace only the partitions named by ``replace`` (e.g. one as_of_date).
WriteMode = Literal["append", "overwrite", "overwrite_partitions"]


@dataclass(frozen=True)
class WriteResult:
    table: str
    version: int
    rows: int
    files: int


class DeltaEngine(Protocol):
    name: str

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
    ) -> WriteResult: ...

    def history(self, uri: str, limit: int) -> list[dict[str, Any]]: ...

    def vacuum(self, uri: str, *, retention_hours: float, dry_run: bool) -> list[str]:
        """Remove data files no version within the retention needs; return their paths."""
        ...
