"""Tiny typed inputs for the feature tests: rows with defaults, explicit schemas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    S,
    TableSpec,
    schema,
)

AS_OF = dt.date(2026, 11, 1)
MIDNIGHT = dt.datetime(2026, 11, 1)


def days_before(n: float, *, at: dt.datetime = MIDNIGHT) -> dt.datetime:
    """A timestamp ``n`` days before as-of midnight (fractions allowed)."""
    return at - dt.timedelta(days=n)


def txn(
    customer_id: str,
    ts: dt.datetime,
    amount: float,
    direction: str = "debit",
    *,
    channel: str = "mobile_app",
    category: str = "consumption",
    product_type: str | None = "deposit",
    mcc: str | None = None,
) -> tuple[Any, ...]:
    return (
        f"t-{customer_id}-{ts.isoformat()}-{amount}", customer_id, "acc", ts,
        Decimal(str(amount)).quantize(Decimal("0.01")), "CNY", direction, channel, category,
        product_type, mcc,
    )


def txns(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, RAW_TRANSACTIONS.schema)


def bal(customer_id: str, product_type: str, balance: float, snapshot: dt.date) -> tuple[Any, ...]:
    return (customer_id, product_type, Decimal(str(balance)).quantize(Decimal("0.01")), snapshot)


def bals(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, RAW_BALANCES.schema)


def evt(
    id_value: str,
    ts: dt.datetime,
    event_type: str,
    channel: str = "app",
    *,
    id_type: str = "customer_id",
    campaign_id: str | None = None,
) -> tuple[Any, ...]:
    return (
        f"e-{id_value}-{ts.isoformat()}-{event_type}", ts, channel, id_type, id_value,
        event_type, campaign_id, None,
    )


def evts(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, RAW_EVENTS.schema)


def cust(
    customer_id: str,
    *,
    birth_date: dt.date | None = dt.date(1990, 1, 1),
    open_date: dt.date | None = dt.date(2020, 1, 1),
    gender: str = "F",
    city_tier: int = 1,
) -> tuple[Any, ...]:
    return (
        customer_id, birth_date, gender, "Shanghai", city_tier, "engineer", "10k-20k",
        open_date, "R3", "b001",
    )


def custs(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return spark.createDataFrame(rows, RAW_CUSTOMERS.schema)


# The identity stage's contract (docs/contracts.md); its TableSpec lives in
# sparkseg.identity.tables once that stage exists.
IDENTITY_MAP_SCHEMA = schema(
    ("id_type", S), ("id_value", S), ("one_id", S), ("customer_id", S),
    ("as_of_date", T.DateType()),
)


def identity_map_spec() -> TableSpec:
    try:
        from sparkseg.identity.tables import IDENTITY_MAP  # type: ignore[import-not-found]
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
    actual: DataFrame, columns: list[str], rows: list[tuple[Any, ...]], precision: float = 1e-9
) -> None:
    """chispa: ``customer_id`` + ``columns`` of the customers in ``rows`` equal ``rows``.

    The expected frame takes the actual column types, so a row states values only.
    """
    from chispa import assert_approx_df_equality

    wanted = [r[0] for r in rows]
    picked = actual.where(F.col("customer_id").isin(wanted)).select("customer_id", *columns)
    expected = actual.sparkSession.createDataFrame(rows, picked.schema)
    assert_approx_df_equality(
        picked, expected, precision, ignore_nullable=True, ignore_row_order=True
    )


def materialize(df: DataFrame) -> DataFrame:
    """A small result as a local DataFrame: computed once, then compared by many tests.

    (Not ``cache()``: the ``spark_clean`` fixture clears caches after every test.)
    """
    return df.sparkSession.createDataFrame(df.collect(), df.schema)
