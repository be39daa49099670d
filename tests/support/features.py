"""Tiny typed inputs for the feature tests: rows with defaults, explicit schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from chispa.row_comparer import are_rows_approx_equal
from chispa.rows_comparer import assert_generic_rows_equality
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.silver import event_month
from sparkseg.tables import (
    EVENT_MONTH,
    EVENT_TIME,
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    RAW_VERSION,
    VALID_FROM,
    S,
    TableSpec,
    schema,
)
from tests.support.rows import frame, row

AS_OF = dt.date(2026, 11, 1)
MIDNIGHT = dt.datetime(2026, 11, 1)


def days_before(n: float, *, at: dt.datetime = MIDNIGHT) -> dt.datetime:
    """A timestamp ``n`` days before as-of midnight (fractions allowed)."""
    return at - dt.timedelta(days=n)


TXN: dict[str, Any] = {
    "account_id": "acc", "currency": "CNY", "channel": "mobile_app", "category": "consumption",
    "product_type": "deposit",
}
EVT: dict[str, Any] = {"id_type": "customer_id"}
CUST: dict[str, Any] = {
    "birth_date": dt.date(1990, 1, 1), "gender": "F", "city": "Shanghai", "city_tier": 1,
    "occupation": "engineer", "income_band": "10k-20k", "open_date": dt.date(2020, 1, 1),
    "risk_level": "R3", "branch_id": "b001",
}


def txn(
    customer_id: str, ts: dt.datetime, amount: float, direction: str = "debit", **columns: Any
) -> tuple[Any, ...]:
    """A raw transaction; ``columns`` override TXN (channel, category, product_type, mcc)."""
    return row(
        RAW_TRANSACTIONS, TXN, txn_id=f"t-{customer_id}-{ts.isoformat()}-{amount}",
        customer_id=customer_id, txn_ts=ts, amount=Decimal(str(amount)).quantize(Decimal("0.01")),
        direction=direction, **columns,
    )


def txns(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return frame(spark, RAW_TRANSACTIONS, rows)


def bal(customer_id: str, product_type: str, balance: float, snapshot: dt.date) -> tuple[Any, ...]:
    return row(
        RAW_BALANCES, customer_id=customer_id, product_type=product_type,
        balance=Decimal(str(balance)).quantize(Decimal("0.01")), snapshot_date=snapshot,
    )


def bals(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return frame(spark, RAW_BALANCES, rows)


def evt(
    id_value: str, ts: dt.datetime, event_type: str, channel: str = "app", **columns: Any
) -> tuple[Any, ...]:
    """A raw event; ``columns`` override EVT (id_type, campaign_id)."""
    return row(
        RAW_EVENTS, EVT, event_id=f"e-{id_value}-{ts.isoformat()}-{event_type}", event_ts=ts,
        channel=channel, id_value=id_value, event_type=event_type, **columns,
    )


def evts(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return frame(spark, RAW_EVENTS, rows)


def cust(customer_id: str, **columns: Any) -> tuple[Any, ...]:
    """A raw customer; ``columns`` override CUST (birth_date, open_date, gender, city_tier)."""
    return row(RAW_CUSTOMERS, CUST, customer_id=customer_id, **columns)


def custs(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return frame(spark, RAW_CUSTOMERS, rows)


def to_silver(df: DataFrame, raw: TableSpec) -> DataFrame:
    """Raw rows as their silver copy (``sparkseg.tables.silver_of``): an event table gains
    ``event_month``; customers a first version (``raw_version`` 0, ``valid_from`` null:
    valid at every as-of)."""
    if raw.name in EVENT_TIME:
        return df.withColumn(EVENT_MONTH, event_month(F.col(EVENT_TIME[raw.name])))
    return df.withColumns(
        {RAW_VERSION: F.lit(0).cast("long"), VALID_FROM: F.lit(None).cast("date")}
    )


# The identity stage's contract (docs/contracts.md); its TableSpec lives in
# sparkseg.identity.tables once that stage exists.
IDENTITY_MAP_SCHEMA = schema(
    ("id_type", S), ("id_value", S), ("one_id", S), ("customer_id", S),
    ("as_of_date", T.DateType()),
)


def identity_map_spec() -> TableSpec:
    try:
        from sparkseg.identity.tables import IDENTITY_MAP
    except ImportError:
        return TableSpec("silver/identity_map", IDENTITY_MAP_SCHEMA, ("as_of_date",))
    spec: TableSpec = IDENTITY_MAP
    return spec


def ids(
    spark: SparkSession, rows: list[tuple[str, str, str, str | None]], as_of: dt.date = AS_OF
) -> DataFrame:
    """Identity map rows ``(id_type, id_value, one_id, customer_id)``."""
    return spark.createDataFrame([(*r, as_of) for r in rows], IDENTITY_MAP_SCHEMA)


def by_customer(df: DataFrame, columns: list[str]) -> dict[str, tuple[Any, ...]]:
    """``{customer_id: (columns...)}`` of a small result (tests only)."""
    return {r["customer_id"]: tuple(r[c] for c in columns) for r in df.collect()}


def assert_columns(
    actual: DataFrame | list[Row],
    columns: list[str],
    rows: list[tuple[Any, ...]],
    precision: float = 1e-9,
) -> None:
    """chispa: ``customer_id`` + ``columns`` of the customers in ``rows`` equal ``rows``.

    ``actual`` may be rows collected once by a module fixture (see :func:`collected`), so
    that many tests compare one small result without one Spark job each. Doubles compare
    within ``precision``; row order does not matter.
    """
    got = actual.collect() if isinstance(actual, DataFrame) else actual
    names = ["customer_id", *columns]
    wanted = {r[0] for r in rows}
    picked = [Row(**{c: r[c] for c in names}) for r in got if r["customer_id"] in wanted]
    expected = [Row(**dict(zip(names, r, strict=True))) for r in rows]
    assert_generic_rows_equality(
        sorted(picked, key=lambda r: r[0]),
        sorted(expected, key=lambda r: r[0]),
        are_rows_approx_equal,
        {"precision": precision},
    )


def collected(df: DataFrame) -> list[Row]:
    """A small result's rows: computed once by a module fixture, compared by many tests."""
    return df.collect()
