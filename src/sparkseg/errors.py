"""Named failures. The command line turns each into one stderr line and an exit code.

Exit codes (documented in the README, relied on by orchestrators):

====  ==========================================================
0     success
1     internal error (a bug or an unexpected Spark/IO failure)
2     bad configuration: config file, --set override, tag rule, audience, name
3     missing input: a table or model the stage needs does not exist
4     incompatible table: schema mismatch or an unsupported Delta feature
5     data-quality failure: too many bad rows, a failed extract guard
6     write conflict: another run committed to the same table first
====  ==========================================================
"""

from __future__ import annotations

from collections.abc import Sequence


class SparksegError(Exception):
    """Base of every failure sparkseg reports on purpose."""

    exit_code = 1


class ConfigError(SparksegError):
    """A config file, override, rule or audience definition is wrong."""

    exit_code = 2


class InvalidNameError(ConfigError):
    """A table, layer or model name would escape the warehouse (separators, ``..``)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"invalid name {name!r}: names may hold letters, digits, '_' and '-' only"
        )
        self.name = name


class MissingTableError(SparksegError):
    """A table (or model) the stage reads does not exist."""

    exit_code = 3

    def __init__(self, table: str, uri: str, hint: str = "") -> None:
        msg = f"missing table {table} at {uri}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)
        self.table = table
        self.uri = uri


class IncompleteAsOfError(MissingTableError):
    """An as-of has no pipeline completion record yet (or cannot be given one)."""

    def __init__(self, as_of: object, detail: str) -> None:
        SparksegError.__init__(self, f"as-of {as_of} is not complete ({detail})")
        self.table = "ops/completions"
        self.uri = ""
        self.as_of = as_of


class SchemaMismatchError(SparksegError):
    """A DataFrame or table does not have the columns and types its contract requires."""

    exit_code = 4

    def __init__(
        self,
        table: str,
        *,
        missing: Sequence[str] = (),
        extra: Sequence[str] = (),
        retyped: Sequence[str] = (),
    ) -> None:
        parts = []
        if missing:
            parts.append("missing column(s) " + ", ".join(missing))
        if retyped:
            parts.append("wrong type for " + ", ".join(retyped))
        if extra:
            parts.append("unexpected column(s) " + ", ".join(extra))
        super().__init__(f"schema mismatch for {table}: " + "; ".join(parts))
        self.table = table
        self.missing = list(missing)
        self.extra = list(extra)
        self.retyped = list(retyped)


class UnsupportedTableFeatureError(SparksegError):
    """The Delta table uses a reader feature the offline engine cannot honour."""

    exit_code = 4

    def __init__(self, table: str, feature: str) -> None:
        super().__init__(
            f"table {table} uses Delta feature '{feature}', which the offline engine "
            "cannot read; use engine: spark, or rewrite the table without it"
        )
        self.table = table
        self.feature = feature


class DataQualityError(SparksegError):
    """Input data is too broken to go on (bad-row ceiling, pathological identity graph)."""

    exit_code = 5


class ConvergenceError(SparksegError):
    """An iterative algorithm ran past a bound no input can reach: a bug (exit 1)."""


class CommitConflictError(SparksegError):
    """Another writer committed a conflicting change to the same table first."""

    exit_code = 6

    def __init__(self, table: str, detail: str) -> None:
        super().__init__(f"write conflict on {table}: {detail}")
        self.table = table
