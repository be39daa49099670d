"""Generate-test data: the small generated sets, the builders' clean frames, fingerprints,
and readers of the commits ``generate --append-days`` leaves."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import TableSpec

# Small but with every persona: 3 months keep the row counts (and the test time) low.
GEN = {
    "customers": 600,
    "months": 3,
    "seed": 7,
    "dirty_share": 0.04,
    "txn_per_customer": 20,
    "events_per_customer": 20,
    "campaigns": 3,
    "anonymous_share": 0.05,
}


@dataclass(frozen=True)
class Clean:
    base: DataFrame
    transactions: DataFrame
    balances: DataFrame
    events: DataFrame
    links: DataFrame

    def frames(self) -> list[DataFrame]:
        return [self.base, self.transactions, self.balances, self.events, self.links]


def fingerprint(df: DataFrame) -> tuple[int, Decimal]:
    """Row count and an order-independent sum of row hashes."""
    row = df.agg(F.count("*"), F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)"))).first()
    assert row is not None
    return int(row[0]), row[1]


APPEND_GEN = {
    "customers": 200,
    "months": 2,
    "seed": 11,
    "end_date": "2026-10-30",
    # No planted dirt: every appended row can then be told apart by its day alone (dirt
    # moves some timestamps to 2099, which would blur "rows of that day").
    "dirty_share": 0.0,
    "txn_per_customer": 20,
    "events_per_customer": 20,
    "campaigns": 2,
    "anonymous_share": 0.05,
    "new_customers_per_day": 3,
    "late_duplicate_share": 0.05,
    "new_device_links_per_day": 2,
    "merge_link_chance": 1.0,
    "rewrite_customers_every": 3,
    "changed_customer_share": 0.05,
}
DAYS = [dt.date(2026, 10, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 1)]


@dataclass(frozen=True)
class Warehouse:
    lake: Lakehouse
    root: Path
    base_versions: dict[str, int]  # each table's version after the plain generate


def log_entries(wh: Warehouse, spec: TableSpec, version: int) -> list[dict[str, Any]]:
    path = wh.root / spec.name / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def commits(wh: Warehouse, spec: TableSpec) -> dict[int, dict[str, Any]]:
    """Appended versions of ``spec`` -> {day, adds, removes}."""
    out: dict[int, dict[str, Any]] = {}
    latest = wh.lake.version(spec)
    assert latest is not None
    for v in range(wh.base_versions[spec.name] + 1, latest + 1):
        entries = log_entries(wh, spec, v)
        info = next(e["commitInfo"] for e in entries if "commitInfo" in e)
        out[v] = {
            "day": dt.date.fromisoformat(info["sparkseg.generate.day"]),
            "adds": [e["add"]["path"] for e in entries if "add" in e],
            "removes": [e["remove"]["path"] for e in entries if "remove" in e],
        }
    return out


def added_rows(wh: Warehouse, spec: TableSpec, adds: list[str]) -> DataFrame:
    """The rows of exactly the files one commit added (not the table at that version)."""
    spark = wh.lake.spark
    return spark.read.parquet(*[str(wh.root / spec.name / p) for p in adds]).select(*spec.columns)
