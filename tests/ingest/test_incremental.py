"""Daily ingest reads only what is new in raw and keeps one silver copy."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.ingest.stage import run
from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import read_customers
from sparkseg.tables import (
    OPS_QUARANTINE,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    SILVER_TABLES,
)
from tests.support.config import make_config
from tests.support.ingest import (
    AS_OF,
    PHONES,
    append_table,
    balance,
    customer,
    event,
    link,
    txn,
    write_raw,
    write_table,
)
from tests.support.raw import BALANCES, CUSTOMERS, EVENTS, LINKS, TRANSACTIONS

D2, D3 = AS_OF + dt.timedelta(days=1), AS_OF + dt.timedelta(days=2)
TS2 = dt.datetime(2026, 6, 1, 10, 0)
TS3 = dt.datetime(2026, 6, 2, 8, 0)
SILVER_TXN = SILVER_TABLES[TRANSACTIONS]
SILVER_CUSTOMERS = SILVER_TABLES[CUSTOMERS]

DAY1: dict[str, list[tuple[Any, ...]]] = {
    CUSTOMERS: [customer("c1"), customer("c2")],
    TRANSACTIONS: [txn("t1"), txn("t2", cust="c2")],
    BALANCES: [balance("c1", "deposit", 100)],
    EVENTS: [event("e1")],
    LINKS: [link("customer_id", "c1", "phone_hash", PHONES[0])],
}


def _txn_ids(lake: Lakehouse) -> list[str]:
    return sorted(r[0] for r in lake.read(SILVER_TXN).select("txn_id").collect())


def _quarantined(lake: Lakehouse, table: str) -> list[tuple[dt.date, str, str]]:
    rows = lake.read(OPS_QUARANTINE).where(f"source_table = '{table}'").collect()
    return sorted((r["as_of_date"], r["reason"], r["row_json"][:14]) for r in rows)


def _versions(lake: Lakehouse) -> dict[str, int | None]:
    return {s.name: lake.version(s) for s in [*SILVER_TABLES.values(), OPS_QUARANTINE]}


@pytest.fixture(scope="module", params=["offline", "spark"])
def _two_days(request: pytest.FixtureRequest, spark: SparkSession,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Day 1 ingested; day 2 upstream appended transactions and events and rewrote
    raw/customers (c2 moved city, c3 opened), then ingested. Built once per engine."""
    root = tmp_path_factory.mktemp(f"daily-{request.param}") / "lake"
    cfg = _config(root, request.param)
    lake = Lakehouse(spark, cfg)
    write_raw(lake, DAY1)
    run(spark, cfg, AS_OF)
    moved = (*customer("c2")[:3], "Beijing", *customer("c2")[4:])
    write_table(lake, RAW_CUSTOMERS, [customer("c1"), moved, customer("c3", opened=AS_OF)])
    append_table(lake, RAW_TRANSACTIONS, [
        txn("t3", ts=TS2),
        txn("t1"),                        # late duplicate: an exact copy of day 1's row
        txn("t4", ts=TS2, amount=0),      # non_positive_amount
    ])
    append_table(lake, RAW_EVENTS, [event("e2", ts=TS2)])
    run(spark, cfg, D2)
    spark.catalog.clearCache()
    return root, request.param


def _config(root: Path, engine: str) -> Config:
    return make_config(root, engine=engine, ingest={"max_bad_share": 1.0})


@pytest.fixture
def daily(_two_days: tuple[Path, str], spark_clean: SparkSession,
          tmp_path: Path) -> tuple[Lakehouse, Config]:
    """A private copy of the two-day warehouse (raw and silver), which a test may change."""
    built, engine = _two_days
    root = tmp_path / "lake"
    shutil.copytree(built, root)
    cfg = _config(root, engine)
    return Lakehouse(spark_clean, cfg), cfg


def test_a_day_appends_only_its_new_rows_and_quarantines_a_late_duplicate(
    daily: tuple[Lakehouse, Config],
) -> None:
    lake, _ = daily
    assert _txn_ids(lake) == ["t1", "t2", "t3"]
    assert _quarantined(lake, TRANSACTIONS) == [
        (D2, "duplicate_key", '{"txn_id":"t1"'), (D2, "non_positive_amount", '{"txn_id":"t4"')]
    events = lake.read(SILVER_TABLES[EVENTS]).collect()
    assert sorted((r["event_id"], r["event_month"]) for r in events) == [
        ("e1", dt.date(2026, 5, 1)), ("e2", dt.date(2026, 6, 1))]
    # Silver commits of day 2: one append per table that changed; balances and links had
    # no new raw version and were not committed again.
    commits = {s: len(lake.commit_metadata(s)) for s in (SILVER_TXN, SILVER_TABLES[BALANCES])}
    assert commits == {SILVER_TXN: 2, SILVER_TABLES[BALANCES]: 1}


def test_a_rewritten_dimension_keeps_each_customers_versions_point_in_time(
    daily: tuple[Lakehouse, Config],
) -> None:
    lake, _ = daily
    stored = sorted((r["customer_id"], r["city"], r["raw_version"], r["valid_from"])
                    for r in lake.read(SILVER_CUSTOMERS).collect())
    # c1 arrived again unchanged: not stored twice; c2 changed from day 2; c3 is new.
    assert stored == [("c1", "Shanghai", 0, None), ("c2", "Beijing", 1, D2),
                      ("c2", "Shanghai", 0, None), ("c3", "Shanghai", 1, None)]
    as_of_1 = {r["customer_id"]: r["city"] for r in read_customers(lake, AS_OF).collect()}
    as_of_2 = {r["customer_id"]: r["city"] for r in read_customers(lake, D2).collect()}
    assert as_of_1 == {"c1": "Shanghai", "c2": "Shanghai", "c3": "Shanghai"}
    assert as_of_2 == {"c1": "Shanghai", "c2": "Beijing", "c3": "Shanghai"}


def test_a_rerun_of_the_day_commits_nothing_and_a_full_refresh_gives_the_same_silver(
    daily: tuple[Lakehouse, Config], spark_clean: SparkSession,
) -> None:
    lake, cfg = daily
    before = _versions(lake)
    silver = {n: sorted(map(tuple, lake.read(s).collect())) for n, s in SILVER_TABLES.items()}
    run(spark_clean, cfg, D2)
    assert _versions(lake) == before
    refresh = cfg.model_copy(update={"ingest": cfg.ingest.model_copy(
        update={"full_refresh": True})})
    run(spark_clean, refresh, D2)
    assert {n: sorted(map(tuple, lake.read(s).collect())) for n, s in SILVER_TABLES.items()} == (
        silver)


def test_an_overwritten_raw_event_table_is_reingested_in_full_with_a_warning(
    daily: tuple[Lakehouse, Config], spark_clean: SparkSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lake, cfg = daily
    write_table(lake, RAW_TRANSACTIONS, [txn("t1"), txn("t3", ts=TS2), txn("t5", ts=TS3)])
    with caplog.at_level(logging.WARNING, logger="sparkseg"):
        run(spark_clean, cfg, D3)
    assert _txn_ids(lake) == ["t1", "t3", "t5"]
    assert any("raw/transactions: commit 2 removed data files" in r.getMessage()
               and "re-ingesting the whole table" in r.getMessage() for r in caplog.records)


def test_a_day_without_new_transactions_is_not_an_empty_table(
    daily: tuple[Lakehouse, Config], spark_clean: SparkSession,
) -> None:
    lake, cfg = daily
    append_table(lake, RAW_EVENTS, [event("e3", ts=TS3)])
    before = lake.version(SILVER_TXN)
    run(spark_clean, cfg, D3)  # the freshness guard sees day 2's transactions in the state
    assert lake.version(SILVER_TXN) == before
    assert sorted(r[0] for r in lake.read(SILVER_TABLES[EVENTS]).collect()) == [
        "e1", "e2", "e3"]
