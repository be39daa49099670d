"""Tiny raw tables for ingest tests: explicit schemas, one row per case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake
from pyspark.sql import DataFrame, SparkSession

from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_TABLES, TableSpec

AS_OF = dt.date(2026, 6, 1)
# The day before the as-of (fresh for the extract guards), after it (a back-fill's later
# rows: valid), wall-clock future, too old.
TS = dt.datetime(2026, 5, 31, 9, 30)
AFTER_AS_OF = dt.datetime(2026, 6, 15, 12, 0)
FUTURE = dt.datetime(2099, 1, 1)
ANCIENT = dt.datetime(1989, 12, 31, 23, 59)
DAY = dt.date(2026, 4, 30)

PHONES = ("13800000001", "13800000002", "13800000003")


def money(x: float | None) -> Decimal | None:
    return None if x is None else Decimal(f"{x:.2f}")


def customer(cid: str | None, birth: dt.date = dt.date(1985, 3, 1),
             opened: dt.date = dt.date(2015, 1, 1)) -> tuple[Any, ...]:
    return (cid, birth, "F", "Shanghai", 1, "engineer", "10-20k", opened, "R2", "b01")


def txn(tid: str | None, *, cust: str | None = "c1", ts: dt.datetime = TS, amount: float = 10.0,
        direction: str = "debit", channel: str = "pos", category: str = "consumption",
        product: str | None = "credit_card") -> tuple[Any, ...]:
    return (tid, cust, "a1", ts, money(amount), "CNY", direction, channel, category, product, "5411")


def balance(cust: str | None, product: str | None, amount: float | None,
            day: dt.date | None = DAY) -> tuple[Any, ...]:
    return (cust, product, money(amount), day)


def event(eid: str | None, *, id_type: str | None = "customer_id", id_value: str | None = "c1",
          ts: dt.datetime = TS, channel: str = "app", event_type: str = "login") -> tuple[Any, ...]:
    return (eid, ts, channel, id_type, id_value, event_type, None, None)


def link(ta: str | None, va: str | None, tb: str | None, vb: str | None,
         ts: dt.datetime = TS, source: str = "crm") -> tuple[Any, ...]:
    return (ta, va, tb, vb, source, ts)


def frame(spark: SparkSession, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(list(rows), spec.schema)


_ARROW = {
    "string": pa.string(), "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
    "int": pa.int32(), "bigint": pa.int64(), "decimal(18,2)": pa.decimal128(18, 2),
}


def write_table(lake: Lakehouse, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> None:
    """Write a Delta table with delta-rs: input tables for a stage without a Spark job.

    Raw tables come from outside sparkseg anyway (core banking extracts); writing them
    with another Delta writer also keeps the tests fast on two cores.
    """
    names = spec.columns
    schema = pa.schema([(f.name, _ARROW[f.dataType.simpleString()]) for f in spec.schema.fields])
    table = pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows], schema)
    write_deltalake(lake.uri(spec), table, mode="overwrite",
                    partition_by=list(spec.partition_by) or None)


def write_raw(
    lake: Lakehouse, tables: Mapping[str, Sequence[tuple[Any, ...]]], *, skip: tuple[str, ...] = ()
) -> None:
    """Write every raw table but ``skip`` (those not given are written empty)."""
    for spec in RAW_TABLES:
        if spec.name not in skip:
            write_table(lake, spec, tables.get(spec.name, ()))


def append_table(lake: Lakehouse, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append ``rows`` as a new version of a raw table (delta-rs, like an upstream loader)."""
    names = spec.columns
    schema = pa.schema([(f.name, _ARROW[f.dataType.simpleString()]) for f in spec.schema.fields])
    table = pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows], schema)
    write_deltalake(lake.uri(spec), table, mode="append")
