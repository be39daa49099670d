"""Row validation of the raw tables against the raw contract (docs/contracts.md).

Each raw row gets at most one reason code: the first rule it fails, in this order
(documented in docs/ingest.md; orchestrators and analysts filter on them):

1. ``null_key``               a key column is null or blank
2. ``null_value:<column>``    a required (non-key) column is null
3. ``unknown_code:<column>``  a code column holds a value outside the contract's list
4. ``non_positive_amount``    a transaction amount <= 0
5. ``future_timestamp`` / ``ancient_timestamp``
                              event time later than the wall-clock time of the run,
                              or before ``ingest.earliest_event_date``
6. ``future_date:<column>`` / ``ancient_date:<column>``
                              a date after today (UTC), or before its floor
                              (``earliest_event_date`` for snapshot_date,
                              ``earliest_customer_date`` for birth_date and open_date)
7. ``duplicate_key``          a second (third, ...) row with the key of a valid row

Rows later than the as-of date are not bad: a back-fill runs an earlier as-of on data
that goes past it. Only the wall clock decides what is "in the future".
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sparkseg.errors import DataQualityError
from sparkseg.ingest.config import IngestConfig
from sparkseg.tables import (
    DIRECTIONS,
    EVENT_CHANNELS,
    EVENT_TYPES,
    ID_TYPES,
    PRODUCT_TYPES,
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TRANSACTIONS,
    TXN_CATEGORIES,
    TXN_CHANNELS,
)

REASON = "reason"
_KEY_HASH = "_key_hash"
_CANDIDATE = "_dup_candidate"
# row_json keeps nulls (a null_key row shows its missing value) and timestamps to the
# microsecond with their offset (to_json's default drops digits below the millisecond),
# so a quarantined row can be replayed exactly as it arrived.
QUARANTINE_JSON_OPTIONS = {
    "ignoreNullFields": "false",
    "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
}


@dataclass(frozen=True)
class TableRules:
    """What the contract requires of one raw table's rows."""

    table: str
    # Columns that identify a row; a second valid row with the same values is a duplicate.
    keys: tuple[str, ...]
    # Non-key columns that must not be null.
    required: tuple[str, ...] = ()
    # Code columns and their allowed values (null passes unless the column is required).
    codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Money columns that must be > 0.
    positive: tuple[str, ...] = ()
    # Event timestamps: not after the run's wall-clock time, not before earliest_event_date.
    timestamps: tuple[str, ...] = ()
    # Event dates (floor earliest_event_date) and customer life dates (earliest_customer_date).
    event_dates: tuple[str, ...] = ()
    customer_dates: tuple[str, ...] = ()


RULES: dict[str, TableRules] = {
    r.table: r
    for r in (
        TableRules(
            RAW_CUSTOMERS.name,
            keys=("customer_id",),
            customer_dates=("birth_date", "open_date"),
        ),
        TableRules(
            RAW_TRANSACTIONS.name,
            keys=("txn_id",),
            required=("customer_id", "txn_ts", "amount", "direction", "channel", "category"),
            codes={
                "direction": DIRECTIONS,
                "channel": TXN_CHANNELS,
                "category": TXN_CATEGORIES,
                "product_type": PRODUCT_TYPES,
            },
            positive=("amount",),
            timestamps=("txn_ts",),
        ),
        TableRules(
            RAW_BALANCES.name,
            keys=("customer_id", "product_type", "snapshot_date"),
            required=("balance",),
            codes={"product_type": PRODUCT_TYPES},
            event_dates=("snapshot_date",),
        ),
        TableRules(
            RAW_EVENTS.name,
            keys=("event_id",),
            required=("event_ts", "channel", "id_type", "id_value", "event_type"),
            codes={"channel": EVENT_CHANNELS, "id_type": ID_TYPES, "event_type": EVENT_TYPES},
            timestamps=("event_ts",),
        ),
        TableRules(
            RAW_IDENTITY_LINKS.name,
            # An edge is its two ends; the same edge from another source or time is another
            # observation, so only exact copies of a whole row count as duplicates.
            keys=("id_type_a", "id_value_a", "id_type_b", "id_value_b"),
            codes={"id_type_a": ID_TYPES, "id_type_b": ID_TYPES},
            timestamps=("observed_ts",),
        ),
    )
}
# Tables whose whole row is the duplicate key (see identity_links above).
_WHOLE_ROW_KEY = {RAW_IDENTITY_LINKS.name}


# A key made only of whitespace is no key. trim() strips only U+0020, so Unicode spaces
# are named here (Java regex): \s is ASCII [ \t\n\x0B\f\r]; \p{Z} every space
# separator (NBSP U+00A0, full-width U+3000, U+2000-U+200A, U+2028/9, U+202F, U+205F);
# \p{javaWhitespace} adds the ASCII separators U+001C-U+001F; U+180E, U+200B, U+2060
# and U+FEFF (BOM) are invisible format characters that extracts leave in blank fields.
BLANK_PATTERN = r"^[\s\p{Z}\p{javaWhitespace}\u180E\u200B\u2060\uFEFF]*$"


def _blank(c: Column) -> Column:
    return c.isNull() | c.cast("string").rlike(BLANK_PATTERN)


def row_reason(rules: TableRules, *, now: dt.datetime, limits: IngestConfig) -> Column:
    """The first row-level rule (1-6 of the module doc) a row fails, else null."""
    event_floor = dt.datetime.combine(limits.earliest_event_date, dt.time(), dt.UTC)
    today = now.astimezone(dt.UTC).date()
    checks: list[tuple[Column, str]] = [
        (reduce(operator.or_, [_blank(F.col(k)) for k in rules.keys]), "null_key"),
    ]
    checks += [(F.col(c).isNull(), f"null_value:{c}") for c in rules.required]
    checks += [(~F.col(c).isin(list(v)), f"unknown_code:{c}") for c, v in rules.codes.items()]
    checks += [(F.col(c) <= 0, "non_positive_amount") for c in rules.positive]
    for c in rules.timestamps:
        checks += [(F.col(c) > F.lit(now), "future_timestamp"),
                   (F.col(c) < F.lit(event_floor), "ancient_timestamp")]
    dated = [(c, limits.earliest_event_date) for c in rules.event_dates]
    dated += [(c, limits.earliest_customer_date) for c in rules.customer_dates]
    for c, floor in dated:
        checks += [(F.col(c) > F.lit(today), f"future_date:{c}"),
                   (F.col(c) < F.lit(floor), f"ancient_date:{c}")]
    # A failed comparison on null is null, so `when` skips it: nulls only fail rules 1-2.
    return F.coalesce(*[F.when(cond, F.lit(code)) for cond, code in checks])


def key_columns(rules: TableRules, columns: Sequence[str]) -> list[str]:
    """The columns that identify a row (all of them for whole-row-key tables)."""
    return list(columns) if rules.table in _WHOLE_ROW_KEY else list(rules.keys)


def key_hash(rules: TableRules, columns: Sequence[str]) -> Column:
    """64-bit hash of a row's duplicate key (the whole row for whole-row-key tables).

    Only narrows the duplicate search: rows with equal keys have equal hashes; a collision
    merely adds a candidate that the exact window of :func:`with_duplicates` tells apart.
    """
    keys = columns if rules.table in _WHOLE_ROW_KEY else rules.keys
    return F.xxhash64(*[F.col(c) for c in keys])


def duplicate_candidates(checked: DataFrame, rules: TableRules) -> DataFrame:
    """Key hashes shared by two or more rows that pass the row rules (column ``_key_hash``).

    Needs the contract columns plus ``reason`` from :func:`row_reason`. Shuffles one long
    per valid row instead of whole rows; the result is as large as the number of
    duplicated keys, a small share of a table that is not mostly copies.
    """
    columns = [c for c in checked.columns if c != REASON]
    return (
        checked.filter(F.col(REASON).isNull())
        .groupBy(key_hash(rules, columns).alias(_KEY_HASH))
        .count()
        .filter(F.col("count") > 1)
        .select(_KEY_HASH)
    )


def with_duplicates(
    checked: DataFrame,
    candidates: DataFrame,
    rules: TableRules,
    *,
    broadcast: bool = True,
    survivor: bool = True,
) -> DataFrame:
    """Rule 7: ``reason`` becomes ``duplicate_key`` on every valid row but one per key.

    ``checked`` has the contract columns plus ``reason`` (rules 1-6); ``candidates`` is
    :func:`duplicate_candidates` of it. Only valid rows whose key hash is a candidate go
    through the exact window: rows sharing a key are ordered by all their columns and
    every one but the first is a duplicate, so the survivor does not depend on file order
    or partitioning and reruns keep the same row. Broken rows never compete for a key, so
    a broken copy cannot push out a valid one. With ``broadcast`` the candidate hashes
    are joined map-side (no shuffle of ``checked``); without, Spark chooses the join.

    ``survivor=False`` is for counting only: copies are ordered by their key alone, so
    which copy is flagged is arbitrary but how many are is not, and Spark reads only the
    columns the rules and the key need.
    """
    columns = [c for c in checked.columns if c != REASON]
    keys = columns if rules.table in _WHOLE_ROW_KEY else list(rules.keys)
    marks = candidates.select(_KEY_HASH, F.lit(True).alias(_CANDIDATE))
    marked = checked.withColumn(_KEY_HASH, key_hash(rules, columns)).join(
        F.broadcast(marks) if broadcast else marks, _KEY_HASH, "left"
    )
    contested = F.col(_CANDIDATE).isNotNull() & F.col(REASON).isNull()
    order = [F.col(c).asc_nulls_first() for c in (columns if survivor else keys)]
    w = Window.partitionBy(*keys).orderBy(*order)
    ranked = marked.filter(contested).withColumn(
        REASON, F.when(F.row_number().over(w) > 1, F.lit("duplicate_key"))
    )
    out = marked.filter(~contested).unionByName(ranked)
    return out.select(*columns, REASON)


def keep_valid_rows(flagged: DataFrame) -> DataFrame:
    """Rows without a reason, without the ``reason`` column."""
    return flagged.filter(F.col(REASON).isNull()).drop(REASON)


def to_quarantine_rows(
    flagged: DataFrame,
    *,
    source_table: str,
    run_id: str,
    quarantined_at: dt.datetime,
    as_of: dt.date,
) -> DataFrame:
    """``ops/quarantine`` rows for the flagged rows with a reason.

    Needs the contract columns plus ``reason``; ``row_json`` keeps nulls as ``null`` so
    the missing value of a ``null_key`` row is visible. Personal identifiers must have
    been hashed before (the JSON is the row as stored, not as it arrived).
    """
    contract = [c for c in flagged.columns if c != REASON]
    return flagged.filter(F.col(REASON).isNotNull()).select(
        F.lit(source_table).alias("source_table"),
        F.col(REASON).alias("reason"),
        F.to_json(F.struct(*contract), QUARANTINE_JSON_OPTIONS).alias("row_json"),
        F.lit(run_id).alias("run_id"),
        F.lit(quarantined_at).alias("quarantined_at"),
        F.lit(as_of).alias("as_of_date"),
    )


@dataclass(frozen=True)
class TableQuality:
    table: str
    rows: int
    bad: dict[str, int]

    @property
    def bad_rows(self) -> int:
        return sum(self.bad.values())

    @property
    def bad_share(self) -> float:
        return self.bad_rows / self.rows if self.rows else 0.0

    def describe(self, top: int = 3) -> str:
        reasons = sorted(self.bad.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        listed = ", ".join(f"{r}={n}" for r, n in reasons)
        return f"{self.table}: {self.bad_share:.2%} bad rows ({self.bad_rows} of {self.rows}; {listed})"


def table_quality(table: str, counts: Mapping[str | None, int]) -> TableQuality:
    bad = {r: n for r, n in counts.items() if r is not None}
    return TableQuality(table, sum(counts.values()), bad)


def check_bad_share(quality: list[TableQuality], max_bad_share: float) -> None:
    """Raise :class:`DataQualityError` (one line) if any table is over the ceiling."""
    over = [q for q in quality if q.bad_share > max_bad_share]
    if over:
        detail = "; ".join(q.describe() for q in over)
        raise DataQualityError(
            f"too many bad rows (ingest.max_bad_share {max_bad_share:.2%}): {detail}; "
            "nothing was written"
        )
