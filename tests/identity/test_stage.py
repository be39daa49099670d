"""Stage ``identity`` on silver tables of two as-of dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pyspark.sql import SparkSession

from sparkseg.errors import MissingTableError
from sparkseg.identity.stage import run
from sparkseg.identity.tables import IDENTITY_EXPLODED, IDENTITY_MAP
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_CUSTOMERS, RAW_EVENTS, RAW_IDENTITY_LINKS, SILVER_TABLES
from tests.conftest import make_config
from tests.ingest.data import customer, event, link, write_table

D1, D2 = dt.date(2026, 6, 1), dt.date(2026, 7, 1)
# What ingest stores for a phone: its keyed hash (the stage never sees raw phones).
PHONE = hashlib.sha256(b"stand-in for an HMAC").hexdigest()


def anon(smallest: str) -> str:
    return "anon-" + hashlib.sha256(smallest.encode()).hexdigest()[:16]


def _day(rows: list[tuple[Any, ...]], day: dt.date) -> list[tuple[Any, ...]]:
    return [(*r, day) for r in rows]


CUSTOMERS_D1 = [customer("C1"), customer("C2")]
LINKS_D1 = [
    link("customer_id", "C1", "device_id", "d1"), link("customer_id", "C2", "device_id", "d1"),
    link("web_cookie", "k1", "device_id", "k2"),
    link("phone_hash", PHONE, "customer_id", "C1"),
]
EVENTS_D1 = [event("e1", id_type="device_id", id_value="lonely")]
SILVER = {
    RAW_CUSTOMERS.name: _day(CUSTOMERS_D1, D1) + _day([*CUSTOMERS_D1, customer("C3")], D2),
    RAW_IDENTITY_LINKS.name: _day(LINKS_D1, D1)
    + _day([*LINKS_D1, link("device_id", "z1", "web_cookie", "z2")], D2),
    RAW_EVENTS.name: _day(EVENTS_D1, D1) + _day(EVENTS_D1, D2),
}


@dataclass
class Stitched:
    lake: Lakehouse
    map_d1: list[tuple[Any, ...]]
    map_d2: list[tuple[Any, ...]]
    exploded: list[tuple[Any, ...]]
    warnings: list[str]


@pytest.fixture(scope="module")
def stitched(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stitched]:
    cfg = make_config(tmp_path_factory.mktemp("identity") / "lake",
                      identity={"max_customers_per_id": 1})
    lake = Lakehouse(spark, cfg)
    for name, rows in SILVER.items():
        write_table(lake, SILVER_TABLES[name], rows)
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    handler = Collect()
    logging.getLogger("sparkseg").addHandler(handler)
    try:
        run(spark, cfg, D1)
        run(spark, cfg, D2)
    finally:
        logging.getLogger("sparkseg").removeHandler(handler)

    def rows(spec: Any, day: dt.date) -> list[tuple[Any, ...]]:
        df = lake.read(spec, partitions={"as_of_date": day})
        return sorted((tuple(r) for r in df.collect()), key=repr)

    yield Stitched(lake, rows(IDENTITY_MAP, D1), rows(IDENTITY_MAP, D2),
                   rows(IDENTITY_EXPLODED, D1), warnings)


def test_identity_map_of_the_as_of_holds_every_identifier(stitched: Stitched) -> None:
    expected = [
        ("customer_id", "C1", "C1", "C1", D1), ("customer_id", "C2", "C2", "C2", D1),
        ("device_id", "d1", anon("device_id:d1"), None, D1),
        ("device_id", "k2", anon("device_id:k2"), None, D1),
        ("device_id", "lonely", anon("device_id:lonely"), None, D1),
        ("phone_hash", PHONE, "C1", "C1", D1),
        ("web_cookie", "k1", anon("device_id:k2"), None, D1),
    ]
    assert stitched.map_d1 == sorted(expected, key=repr)


def test_device_shared_by_two_customers_is_reported_with_its_degree(stitched: Stitched) -> None:
    assert stitched.exploded == [(D1, "device_id", "d1", 2)]
    assert any("device_id:d1 (2 customers)" in w for w in stitched.warnings)


def test_anonymous_one_id_is_stable_between_runs(stitched: Stitched) -> None:
    def one_id(rows: list[tuple[Any, ...]], value: str) -> str:
        return str(next(r[2] for r in rows if r[1] == value))

    assert one_id(stitched.map_d2, "k1") == one_id(stitched.map_d1, "k1") == anon("device_id:k2")
    assert one_id(stitched.map_d2, "z1") == anon("device_id:z1")
    assert one_id(stitched.map_d2, "C3") == "C3"


def test_as_of_without_ingested_data_is_a_missing_input(stitched: Stitched) -> None:
    with pytest.raises(MissingTableError, match="no rows for as_of_date=2026-08-01: run ingest"):
        run(stitched.lake.spark, stitched.lake.cfg, dt.date(2026, 8, 1))
