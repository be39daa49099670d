"""Point-in-time reads of silver: customers as of a date, event windows pruned to their
months, and the features stage's history bound (``features.history_days``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from sparkseg.errors import ConfigError
from sparkseg.features import stage
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import customers_as_of, months, read_customers, read_events
from sparkseg.tables import (
    EVENT_MONTH,
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    SILVER_TABLES,
)
from tests.support.config import make_config
from tests.support.features import (
    AS_OF,
    bal,
    cust,
    days_before,
    evt,
    ids,
    raw_frames,
    to_silver,
    txn,
    txns,
    write_silver,
)

D = dt.date
CUSTOMERS = SILVER_TABLES[RAW_CUSTOMERS.name]
TRANSACTIONS = SILVER_TABLES[RAW_TRANSACTIONS.name]


def _customer(cid: str, city: str, version: int, valid_from: dt.date | None) -> tuple[Any, ...]:
    row = list(cust(cid))
    row[3] = city
    return (*row, version, valid_from)


# c1 moved from city A to city B, seen by the ingest of 2026-06-10 (raw version 3);
# c2 was first seen by that ingest.
VERSIONS = [
    _customer("c1", "A", 1, None),
    _customer("c1", "B", 3, D(2026, 6, 10)),
    _customer("c2", "A", 3, D(2026, 6, 10)),
]


def _cities(rows: list[Row]) -> dict[str, str]:
    return {r["customer_id"]: r["city"] for r in rows}


def test_customers_as_of_takes_the_newest_version_valid_at_the_date(spark: SparkSession) -> None:
    versions = spark.createDataFrame(VERSIONS, CUSTOMERS.schema)
    before = customers_as_of(versions, D(2026, 6, 9))
    assert before.columns == RAW_CUSTOMERS.columns
    assert _cities(before.collect()) == {"c1": "A"}  # c2 not known yet
    assert _cities(customers_as_of(versions, D(2026, 6, 10)).collect()) == {"c1": "B", "c2": "A"}
    assert _cities(customers_as_of(versions, D(2026, 12, 31)).collect()) == {"c1": "B", "c2": "A"}


def test_read_customers_reads_silver_customers_as_of_the_date(lake: Lakehouse) -> None:
    lake.write(lake.spark.createDataFrame(VERSIONS, CUSTOMERS.schema), CUSTOMERS, mode="append")
    assert _cities(read_customers(lake, D(2026, 6, 9)).collect()) == {"c1": "A"}
    assert _cities(read_customers(lake, D(2026, 6, 10)).collect()) == {"c1": "B", "c2": "A"}


# Transactions in April, May and June 2026 (noon UTC, the session time zone).
TXN_DAYS = [D(2026, 4, 15), D(2026, 4, 30), D(2026, 5, 1), D(2026, 5, 10), D(2026, 5, 20),
            D(2026, 5, 21), D(2026, 5, 31), D(2026, 6, 1), D(2026, 6, 15)]


def _write_txns(lake: Lakehouse) -> None:
    rows = [txn("c1", dt.datetime.combine(d, dt.time(12)), 10.0) for d in TXN_DAYS]
    lake.write(to_silver(txns(lake.spark, rows), RAW_TRANSACTIONS), TRANSACTIONS, mode="append")


def _days(rows: list[Row]) -> list[dt.date]:
    return sorted(r["txn_ts"].date() for r in rows)


def _months_of_files(files: list[str]) -> set[str]:
    return {part.split("=", 1)[1] for f in files for part in f.split("/")
            if part.startswith(f"{EVENT_MONTH}=")}


def test_months_lists_the_first_days_from_start_to_end_month() -> None:
    assert months(D(2025, 11, 30), D(2026, 2, 1)) == [
        D(2025, 11, 1), D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]


def test_read_events_returns_the_window_and_reads_only_its_months_offline(
    lake: Lakehouse,
) -> None:
    _write_txns(lake)
    inside = read_events(lake, RAW_TRANSACTIONS, start=D(2026, 5, 10), end=D(2026, 5, 21))
    assert inside.columns == RAW_TRANSACTIONS.columns
    assert _days(inside.collect()) == [D(2026, 5, 10), D(2026, 5, 20)]  # end exclusive
    assert _months_of_files(inside.inputFiles()) == {"2026-05-01"}
    # A window from the first of a month also reads the month before (one day of margin
    # for a change of session time zone) but returns only the window's rows.
    june = read_events(lake, RAW_TRANSACTIONS, start=D(2026, 6, 1), end=D(2026, 7, 1))
    assert _days(june.collect()) == [D(2026, 6, 1), D(2026, 6, 15)]
    assert _months_of_files(june.inputFiles()) == {"2026-05-01", "2026-06-01"}


def test_read_events_on_delta_spark_prunes_event_month_partitions(
    spark_clean: SparkSession, tmp_path: Path
) -> None:
    lake = Lakehouse(spark_clean, make_config(tmp_path / "lake", engine="spark"))
    _write_txns(lake)
    inside = read_events(lake, RAW_TRANSACTIONS, start=D(2026, 5, 10), end=D(2026, 5, 21))
    assert _days(inside.collect()) == [D(2026, 5, 10), D(2026, 5, 20)]
    plan = inside._jdf.queryExecution().executedPlan().toString()
    filters = next(line for line in plan.splitlines() if "PartitionFilters" in line)
    assert EVENT_MONTH in filters.split("PartitionFilters:", 1)[1].split("]", 1)[0]
    assert _months_of_files(inside.inputFiles()) == {"2026-05-01"}


# --- the features stage's history bound ----------------------------------------------

HISTORY = 730
# c1: transactions 1, 400 and 700 days back, and one 731 days back: outside the bound.
# c2: a balance snapshot 760 days back only; c1 snapshots inside the bound.
TXNS = [
    txn("c1", days_before(1), 100),
    txn("c1", days_before(400), 50, "credit", category="salary"),
    txn("c1", days_before(HISTORY), 20),
    txn("c1", days_before(HISTORY + 1), 999),
]
BALANCES = [
    bal("c1", "deposit", 2000, D(2026, 10, 31)),
    bal("c1", "deposit", 1500, D(2025, 1, 31)),
    bal("c2", "deposit", 7000, AS_OF - dt.timedelta(days=760)),
]
EVENTS = [evt("c1", days_before(2), "login"), evt("c2", days_before(HISTORY + 5), "login")]
OLD = AS_OF - dt.timedelta(days=HISTORY)


@pytest.fixture(scope="module")
def bounded(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Row]:
    """The features stage's rows of AS_OF over the data above (default history_days)."""
    cfg = make_config(tmp_path_factory.mktemp("history") / "lake")
    assert cfg.features.history_days == HISTORY
    lake = Lakehouse(spark, cfg)
    frames = raw_frames(spark, customers=[cust("c1"), cust("c2")], transactions=TXNS,
                        balances=BALANCES, events=EVENTS)
    identity = [("customer_id", "c1", "c1", "c1"), ("customer_id", "c2", "c2", "c2")]
    write_silver(lake, frames, identity)
    stage.run(spark, cfg, AS_OF)
    out = lake.read(CUSTOMER_FEATURES, partitions={"as_of_date": AS_OF})
    # What the features were before the bound: computed on every row, minus the rows
    # older than history_days (which the bound must be the only one to drop).
    inside = {
        RAW_TRANSACTIONS: frames[RAW_TRANSACTIONS].where(F.to_date("txn_ts") >= F.lit(OLD)),
        RAW_BALANCES: frames[RAW_BALANCES].where(F.col("snapshot_date") >= F.lit(OLD)),
        RAW_EVENTS: frames[RAW_EVENTS].where(F.to_date("event_ts") >= F.lit(OLD)),
    }
    unbounded = stage.build_features(
        frames[RAW_CUSTOMERS], inside[RAW_TRANSACTIONS], inside[RAW_BALANCES],
        inside[RAW_EVENTS], ids(spark, identity),
        cfg=cfg.features, as_of=AS_OF,
    )
    rows = {f"stage:{r['customer_id']}": r for r in out.collect()}
    rows.update({f"all:{r['customer_id']}": r for r in unbounded.collect()})
    return rows


def test_features_of_data_inside_the_history_bound_are_unchanged(bounded: dict[str, Row]) -> None:
    for c in ("c1", "c2"):
        assert bounded[f"stage:{c}"].asDict() == bounded[f"all:{c}"].asDict()


def test_days_since_first_txn_counts_back_at_most_history_days(bounded: dict[str, Row]) -> None:
    c1 = bounded["stage:c1"]
    # The 731-day-old transaction is not read: the first seen is 730 days back.
    assert c1["days_since_first_txn"] == HISTORY
    assert c1["days_since_last_txn"] == 1
    assert c1["txn_count_365d"] == 1
    assert c1["total_balance"] == 2000.0


def test_balance_snapshot_older_than_the_history_bound_is_not_the_latest(
    bounded: dict[str, Row],
) -> None:
    c2 = bounded["stage:c2"]
    assert c2["total_balance"] == 0.0
    assert c2["aum"] == 0.0
    assert c2["days_since_first_txn"] is None
    assert c2["days_since_last_event"] is None


def test_history_days_below_a_year_and_a_day_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="history_days"):
        make_config(tmp_path / "lake", features={"history_days": 365})

