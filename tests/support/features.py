"""Tiny typed inputs for the feature tests: rows with defaults, explicit schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from chispa.row_comparer import are_rows_approx_equal
from chispa.rows_comparer import assert_generic_rows_equality
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import event_month
from sparkseg.tables import (
    EVENT_MONTH,
    EVENT_TIME,
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    RAW_VERSION,
    SILVER_TABLES,
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


def raw_frames(
    spark: SparkSession,
    *,
    customers: Sequence[tuple[Any, ...]] = (),
    transactions: Sequence[tuple[Any, ...]] = (),
    balances: Sequence[tuple[Any, ...]] = (),
    events: Sequence[tuple[Any, ...]] = (),
) -> dict[TableSpec, DataFrame]:
    """The four raw inputs of the features stage as frames, keyed by their raw spec."""
    return {
        RAW_CUSTOMERS: custs(spark, list(customers)),
        RAW_TRANSACTIONS: txns(spark, list(transactions)),
        RAW_BALANCES: bals(spark, list(balances)),
        RAW_EVENTS: evts(spark, list(events)),
    }


def write_silver(
    lake: Lakehouse, frames: Mapping[TableSpec, DataFrame],
    identity: list[tuple[str, str, str, str | None]],
) -> None:
    """Raw frames as their silver copies, and the identity map of ``identity`` rows."""
    for raw, df in frames.items():
        lake.write(to_silver(df, raw), SILVER_TABLES[raw.name], mode="append")
    lake.write(ids(lake.spark, identity), identity_map_spec(), mode="append")


def edge_inputs(spark: SparkSession) -> dict[str, DataFrame]:
    """Inputs of ``build_features`` with the edges the features stage cares about (see
    the comments), by input name: customers, transactions, balances, events, identity_map."""
    return {
        "customers": custs(spark, [
            cust("c1", open_date=dt.date(2021, 3, 1)),
            cust("c2", open_date=dt.date(2026, 9, 1), birth_date=dt.date(1990, 11, 1)),  # birthday at as-of
            cust("c3", open_date=dt.date(2026, 11, 5)),  # opened after as-of: no row
            cust("c4", open_date=None, birth_date=dt.date(1990, 11, 2)),  # unknown tenure
            cust("c5", open_date=dt.date(2026, 10, 1)),  # no activity at all
        ]),
        "transactions": txns(spark, [
            txn("c1", days_before(0), 5000),  # at as-of: excluded
            txn("c1", days_before(-3), 5000),  # after as-of: excluded
            txn("c1", days_before(30), 10.5, channel="atm"),  # first day of the 30d window
            txn("c1", days_before(30.5), 7.25, channel="wechat"),  # day 31
            txn("c1", days_before(1), 100.1, category="transfer"),
            txn("c1", days_before(1.5), 3, direction=None),  # unknown direction
            txn("c1", days_before(40), 300, "credit", category="salary"),
            txn("c1", days_before(70), 300, "credit", category="salary"),
            txn("c1", days_before(100), 55.55, mcc="5641", channel="pos"),
            txn("c1", days_before(200), 1000, category="wealth_purchase", product_type="wealth"),
            txn("c1", days_before(10), 20, product_type="credit_card", channel="online_banking"),
            txn("c1", days_before(400), 1, channel="branch"),  # only in "ever"
            txn("c4", days_before(5), 42, channel="third_party", product_type=None),
        ]),
        "balances": bals(spark, [
            bal("c1", "deposit", 1000, dt.date(2026, 10, 31)),
            bal("c1", "loan", 500, dt.date(2026, 10, 31)),
            bal("c1", "deposit", 900, dt.date(2026, 9, 30)),
            bal("c1", "wealth", 300, dt.date(2026, 9, 30)),  # closed before the latest month-end
            bal("c1", "deposit", 800, dt.date(2026, 7, 31)),
            bal("c1", "deposit", 700, dt.date(2026, 5, 31)),
            bal("c1", "deposit", 9999, dt.date(2026, 11, 1)),  # at as-of: excluded
            bal("c4", "fund", 0, dt.date(2026, 10, 31)),  # a zero balance is not held
        ]),
        "events": evts(spark, [
            evt("c1", days_before(2), "login"),
            evt("c1", days_before(2.2), "page_view", "wechat"),
            evt("c1", days_before(20), "push_sent"),
            evt("c1", days_before(19), "push_opened"),
            evt("c1", days_before(19.5), "push_opened"),  # more opens than sends: rate capped
            evt("c1", days_before(200), "sms_sent", "sms"),
            evt("c1", days_before(0), "login"),  # at as-of: excluded
            evt("dev-2", days_before(3), "search", "mini_program", id_type="device_id"),
            evt("dev-anon", days_before(3), "login", id_type="device_id"),  # anonymous
        ]),
        "identity_map": ids(spark, [
            ("customer_id", "c1", "c1", "c1"),
            ("customer_id", "c2", "c2", "c2"),
            ("device_id", "dev-2", "c2", "c2"),
            ("device_id", "dev-anon", "anon-1", None),
        ]),
    }
