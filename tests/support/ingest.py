"""Tiny raw tables for ingest tests: explicit schemas, one row per case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TABLES,
    RAW_TRANSACTIONS,
    TableSpec,
)
from tests.support.delta import write_delta
from tests.support.rows import row

AS_OF = dt.date(2026, 6, 1)
# The day before the as-of (fresh for the extract guards), after it (a back-fill's later
# rows: valid), wall-clock future, too old.
TS = dt.datetime(2026, 5, 31, 9, 30)
AFTER_AS_OF = dt.datetime(2026, 6, 15, 12, 0)
FUTURE = dt.datetime(2099, 1, 1)
ANCIENT = dt.datetime(1989, 12, 31, 23, 59)
DAY = dt.date(2026, 4, 30)

PHONES = ("13800000001", "13800000002", "13800000003")
CUSTOMER: dict[str, Any] = {
    "gender": "F", "city": "Shanghai", "city_tier": 1, "occupation": "engineer",
    "income_band": "10-20k", "risk_level": "R2", "branch_id": "b01",
}
TXN: dict[str, Any] = {"account_id": "a1", "currency": "CNY", "mcc": "5411"}


def money(x: float | None) -> Decimal | None:
    return None if x is None else Decimal(f"{x:.2f}")


def customer(cid: str | None, birth: dt.date = dt.date(1985, 3, 1),
             opened: dt.date = dt.date(2015, 1, 1)) -> tuple[Any, ...]:
    return row(RAW_CUSTOMERS, CUSTOMER, customer_id=cid, birth_date=birth, open_date=opened)


def txn(tid: str | None, *, cust: str | None = "c1", ts: dt.datetime = TS, amount: float = 10.0,
        direction: str = "debit", channel: str = "pos", category: str = "consumption",
        product: str | None = "credit_card") -> tuple[Any, ...]:
    return row(
        RAW_TRANSACTIONS, TXN, txn_id=tid, customer_id=cust, txn_ts=ts, amount=money(amount),
        direction=direction, channel=channel, category=category, product_type=product,
    )


def balance(cust: str | None, product: str | None, amount: float | None,
            day: dt.date | None = DAY) -> tuple[Any, ...]:
    return row(RAW_BALANCES, customer_id=cust, product_type=product, balance=money(amount),
               snapshot_date=day)


def event(eid: str | None, *, id_type: str | None = "customer_id", id_value: str | None = "c1",
          ts: dt.datetime = TS, channel: str = "app", event_type: str = "login") -> tuple[Any, ...]:
    return row(RAW_EVENTS, event_id=eid, event_ts=ts, channel=channel, id_type=id_type,
               id_value=id_value, event_type=event_type)


def link(ta: str | None, va: str | None, tb: str | None, vb: str | None,
         ts: dt.datetime = TS, source: str = "crm") -> tuple[Any, ...]:
    return row(RAW_IDENTITY_LINKS, id_type_a=ta, id_value_a=va, id_type_b=tb, id_value_b=vb,
               source=source, observed_ts=ts)


def write_table(lake: Lakehouse, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> None:
    """Replace a raw table with ``rows`` (tuples in the spec's column order)."""
    write_delta(lake.uri(spec), spec, rows, partitioned=True)


def write_raw(
    lake: Lakehouse, tables: Mapping[str, Sequence[tuple[Any, ...]]], *, skip: tuple[str, ...] = ()
) -> None:
    """Write every raw table but ``skip`` (those not given are written empty)."""
    for spec in RAW_TABLES:
        if spec.name not in skip:
            write_table(lake, spec, tables.get(spec.name, ()))


def append_table(lake: Lakehouse, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append ``rows`` as a new version of a raw table (delta-rs, like an upstream loader)."""
    write_delta(lake.uri(spec), spec, rows, mode="append")
