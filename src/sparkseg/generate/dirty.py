"""Deliberately broken rows, so that ingest's validation and quarantine have work to do.

``with_dirty_rows`` picks about ``share`` of a table's rows by a hash of the row and breaks
each picked row in one way (its *kind*): in place (null key, unknown code, impossible
time, non-positive amount) or by adding a copy next to it (an exact duplicate, or the same
key with other values). It needs one pass and no shuffle: the copy is made by exploding a
one- or two-element array.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.generate.rng import uniform
from sparkseg.tables import (
    MONEY,
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TRANSACTIONS,
)

_SALT = 600  # salts 600-699 belong to this module
# Far enough in the future for any wall clock this code will meet, and long before the bank's
# digital records (ingest's earliest_event_date defaults to 1990-01-01).
FUTURE_YEAR = 2099
ANCIENT = dt.datetime(1975, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Dirt:
    """One way to break a row: column overrides, applied in place or to an added copy."""

    kind: str
    changes: Mapping[str, Callable[[], Column]] = field(default_factory=dict)
    duplicate: bool = False


def _null(type_name: str) -> Callable[[], Column]:
    return lambda: F.lit(None).cast(type_name)


def _const(value: object, type_name: str) -> Callable[[], Column]:
    return lambda: F.lit(value).cast(type_name)


def _future_ts(column: str) -> Callable[[], Column]:
    # Same day of year and time, in FUTURE_YEAR.
    return lambda: F.make_timestamp(
        F.lit(FUTURE_YEAR), F.month(column), F.least(F.dayofmonth(column), F.lit(28)),
        F.hour(column), F.minute(column), F.second(column),
    )


def _ancient_ts(column: str, end: dt.date) -> Callable[[], Column]:
    # Shift by the distance from 1975 to the end of the data: lands in 1970-1975 for any
    # period of up to five years.
    end_ts = dt.datetime.combine(end, dt.time(), dt.UTC)
    shift = int((end_ts - ANCIENT).total_seconds())
    return lambda: F.timestamp_seconds(F.unix_seconds(F.col(column)) - F.lit(shift))


def _future_date(column: str) -> Callable[[], Column]:
    return lambda: F.make_date(F.lit(FUTURE_YEAR), F.month(column),
                               F.least(F.dayofmonth(column), F.lit(28)))


def customer_dirt() -> list[Dirt]:
    return [
        Dirt("null_key", {"customer_id": _null("string")}),
        Dirt("exact_duplicate", duplicate=True),
        # A second extract of the customer after a move: same key, other city and branch.
        Dirt("conflicting_duplicate", {
            "city": _const("上海", "string"), "city_tier": _const(1, "int"),
            "branch_id": _const("3100001", "string"),
        }, duplicate=True),
        Dirt("future_date", {"open_date": _future_date("open_date")}),
        # Placeholder birth dates from a legacy system (before ingest's 1900 floor).
        Dirt("ancient_date", {"birth_date": _const("1800-01-01", "date")}),
    ]


def transaction_dirt(end: dt.date) -> list[Dirt]:
    return [
        Dirt("null_key", {"txn_id": _null("string")}),
        Dirt("blank_key", {"txn_id": _const("  ", "string")}),
        Dirt("missing_customer", {"customer_id": _null("string")}),
        Dirt("exact_duplicate", duplicate=True),
        Dirt("conflicting_duplicate",
             {"amount": lambda: (F.col("amount") + F.lit(1)).cast(MONEY)}, duplicate=True),
        Dirt("zero_amount", {"amount": _const(0, "decimal(18,2)")}),
        Dirt("negative_amount", {"amount": lambda: (-F.col("amount")).cast(MONEY)}),
        Dirt("unknown_channel", {"channel": _const("ussd", "string")}),
        Dirt("unknown_category", {"category": _const("refund", "string")}),
        Dirt("future_timestamp", {"txn_ts": _future_ts("txn_ts")}),
        Dirt("ancient_timestamp", {"txn_ts": _ancient_ts("txn_ts", end)}),
    ]


def balance_dirt() -> list[Dirt]:
    return [
        Dirt("null_key", {"customer_id": _null("string")}),
        Dirt("exact_duplicate", duplicate=True),
        Dirt("conflicting_duplicate",
             {"balance": lambda: (F.col("balance") * F.lit(2) + F.lit(1)).cast(MONEY)},
             duplicate=True),
        Dirt("unknown_product", {"product_type": _const("precious_metal", "string")}),
        Dirt("future_date", {"snapshot_date": _future_date("snapshot_date")}),
        Dirt("ancient_date", {"snapshot_date": _const("1985-12-31", "date")}),
    ]


def event_dirt(end: dt.date) -> list[Dirt]:
    return [
        Dirt("null_key", {"event_id": _null("string")}),
        Dirt("missing_id_value", {"id_value": _null("string")}),
        Dirt("exact_duplicate", duplicate=True),
        Dirt("conflicting_duplicate",
             {"event_ts": lambda: F.col("event_ts") + F.expr("INTERVAL 1 HOUR")}, duplicate=True),
        Dirt("unknown_channel", {"channel": _const("tiktok", "string")}),
        Dirt("unknown_event_type", {"event_type": _const("swipe", "string")}),
        Dirt("unknown_id_type", {"id_type": _const("imei", "string")}),
        Dirt("future_timestamp", {"event_ts": _future_ts("event_ts")}),
        Dirt("ancient_timestamp", {"event_ts": _ancient_ts("event_ts", end)}),
    ]


def link_dirt(end: dt.date) -> list[Dirt]:
    return [
        Dirt("null_key", {"id_value_b": _null("string")}),
        Dirt("exact_duplicate", duplicate=True),
        Dirt("unknown_id_type", {"id_type_a": _const("imei", "string")}),
        Dirt("future_timestamp", {"observed_ts": _future_ts("observed_ts")}),
        Dirt("ancient_timestamp", {"observed_ts": _ancient_ts("observed_ts", end)}),
    ]


def dirt_for(table: str, end: dt.date) -> list[Dirt]:
    """The kinds of dirt planted in a raw table (by spec name)."""
    by_table: dict[str, Callable[[], list[Dirt]]] = {
        RAW_CUSTOMERS.name: customer_dirt,
        RAW_TRANSACTIONS.name: lambda: transaction_dirt(end),
        RAW_BALANCES.name: balance_dirt,
        RAW_EVENTS.name: lambda: event_dirt(end),
        RAW_IDENTITY_LINKS.name: lambda: link_dirt(end),
    }
    return by_table[table]()


def with_dirty_rows(
    df: DataFrame, dirts: list[Dirt], *, share: float, seed: int, salt: int = 0
) -> DataFrame:
    """``df`` with about ``share`` of its rows broken, each by one of ``dirts``.

    Needs nothing but ``df``'s own columns, and returns the same columns. Rows are
    chosen by a hash of all their values, so the choice does not depend on partitioning.
    """
    if share <= 0 or not dirts:
        return df
    cols = df.columns
    row_hash = F.xxhash64(*[F.col(c) for c in cols])
    picked = uniform(seed, _SALT + salt, row_hash) < share
    kind = F.floor(uniform(seed, _SALT + salt + 1, row_hash) * len(dirts)).cast("int")
    dup_kinds = [i for i, d in enumerate(dirts) if d.duplicate]
    marked = df.withColumns({
        "_dirt": F.when(picked, kind).otherwise(F.lit(-1)),
    })
    dirt = F.col("_dirt")
    copies = F.when(dirt.isin(*dup_kinds), F.array(F.lit(0), F.lit(1))).otherwise(F.array(F.lit(0))) \
        if dup_kinds else F.array(F.lit(0))
    marked = marked.withColumn("_copy", F.explode(copies))
    out = []
    for c in cols:
        expr = F.col(c)
        for i, d in enumerate(dirts):
            if c in d.changes:
                hit = (dirt == i) & (F.col("_copy") == (1 if d.duplicate else 0))
                expr = F.when(hit, d.changes[c]()).otherwise(expr)
        out.append(expr.alias(c))
    return marked.select(*out)
