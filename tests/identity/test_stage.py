"""Stage ``identity`` on silver tables of two as-of dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from sparkseg.errors import MissingTableError
from sparkseg.identity.stage import one_id_changes, run
from sparkseg.identity.tables import IDENTITY_CHANGES, IDENTITY_EXPLODED, IDENTITY_MAP
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_CUSTOMERS, RAW_EVENTS, RAW_IDENTITY_LINKS, SILVER_TABLES
from tests.support.config import make_config
from tests.support.ingest import customer, event, link, write_table

D1, D2 = dt.date(2026, 6, 1), dt.date(2026, 7, 1)
# What ingest stores for a phone: its keyed hash (the stage never sees raw phones).
PHONE = hashlib.sha256(b"stand-in for an HMAC").hexdigest()


def anon(smallest: str) -> str:
    return "anon-" + hashlib.sha256(smallest.encode()).hexdigest()[:16]


def _month(rows: list[tuple[Any, ...]], time_column: int) -> list[tuple[Any, ...]]:
    """Silver event rows: the raw columns plus ``event_month`` of the event time."""
    return [(*r, None if r[time_column] is None else r[time_column].date().replace(day=1))
            for r in rows]


def _versions(rows: list[tuple[Any, ...]], valid_from: dt.date | None) -> list[tuple[Any, ...]]:
    """silver/customers rows: the raw columns plus ``raw_version`` and ``valid_from``."""
    return [(*r, 0 if valid_from is None else 1, valid_from) for r in rows]


# Before D1 / between D1 and D2: what the first / second ingest brought.
T1, T2 = dt.datetime(2026, 5, 20, 12), dt.datetime(2026, 6, 15, 12)
CUSTOMERS_D1 = [customer("C1"), customer("C2")]
LINKS_D1 = [
    link("customer_id", "C1", "device_id", "d1", T1), link("customer_id", "C2", "device_id", "d1", T1),
    link("web_cookie", "k1", "device_id", "k2", T1),
    link("phone_hash", PHONE, "customer_id", "C1", T1),
    link("device_id", "u9", "web_cookie", "u8", None),  # no observed time: known at every as-of
    # each links one customer, their component two (max_customers_per_id=1): exploded
    link("customer_id", "C1", "device_id", "e1", T1), link("device_id", "e1", "web_cookie", "e2", T1),
    link("web_cookie", "e2", "customer_id", "C2", T1),
]
EVENTS_D1 = [event("e1", id_type="device_id", id_value="lonely", ts=T1)]
SILVER = {
    # C3 arrives with the ingest of D2.
    RAW_CUSTOMERS.name: _versions(CUSTOMERS_D1, None) + _versions([customer("C3")], D2),
    RAW_IDENTITY_LINKS.name: _month(
        [*LINKS_D1, link("device_id", "z1", "web_cookie", "z2", T2),
         # lonely (its own component at D1) joins C3; a0, new, becomes the smallest
         # identifier of u9-u8's component
         link("customer_id", "C3", "device_id", "lonely", T2),
         link("device_id", "a0", "device_id", "u9", T2)], time_column=5),
    RAW_EVENTS.name: _month(EVENTS_D1, time_column=1),
}


@dataclass
class Stitched:
    lake: Lakehouse
    map_d1: list[tuple[Any, ...]]
    map_d2: list[tuple[Any, ...]]
    exploded: list[tuple[Any, ...]]
    changes_d1: list[tuple[Any, ...]]
    changes_d2: list[tuple[Any, ...]]
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
                   rows(IDENTITY_EXPLODED, D1), rows(IDENTITY_CHANGES, D1),
                   rows(IDENTITY_CHANGES, D2), warnings)


def test_identity_map_of_the_as_of_holds_every_identifier(stitched: Stitched) -> None:
    expected = [
        ("customer_id", "C1", "C1", "C1", D1), ("customer_id", "C2", "C2", "C2", D1),
        ("device_id", "d1", anon("device_id:d1"), None, D1),
        ("device_id", "e1", anon("device_id:e1"), None, D1),
        ("web_cookie", "e2", anon("device_id:e1"), None, D1),
        ("device_id", "k2", anon("device_id:k2"), None, D1),
        ("device_id", "lonely", anon("device_id:lonely"), None, D1),
        ("device_id", "u9", anon("device_id:u9"), None, D1),
        ("phone_hash", PHONE, "C1", "C1", D1),
        ("web_cookie", "k1", anon("device_id:k2"), None, D1),
        ("web_cookie", "u8", anon("device_id:u9"), None, D1),
    ]
    assert stitched.map_d1 == sorted(expected, key=repr)


def test_device_shared_by_two_customers_is_reported_with_its_degree(stitched: Stitched) -> None:
    # d1 directly, e1-e2 as a component (named by its smallest identifier).
    assert stitched.exploded == [(D1, "device_id", "d1", 2), (D1, "device_id", "e1", 2)]
    assert any("1 identifier(s) linked to more than 1 customers" in w
               and "device_id:d1 (2 customers)" in w for w in stitched.warnings)
    assert any("1 anonymous component(s) linked to more than 1 customers" in w
               and "device_id:e1 (2 customers)" in w for w in stitched.warnings)


def test_anonymous_one_id_is_stable_between_runs(stitched: Stitched) -> None:
    def one_id(rows: list[tuple[Any, ...]], value: str) -> str:
        return str(next(r[2] for r in rows if r[1] == value))

    assert one_id(stitched.map_d2, "k1") == one_id(stitched.map_d1, "k1") == anon("device_id:k2")
    assert one_id(stitched.map_d2, "z1") == anon("device_id:z1")
    assert one_id(stitched.map_d2, "C3") == "C3"


def test_changed_one_ids_are_recorded_with_the_kind_of_change(stitched: Stitched) -> None:
    assert stitched.changes_d1 == []  # no earlier map: nothing to compare with
    expected = [
        (D2, D1, "device_id", "lonely", anon("device_id:lonely"), "C3", "merged"),
        (D2, D1, "device_id", "u9", anon("device_id:u9"), anon("device_id:a0"), "relabelled"),
        (D2, D1, "web_cookie", "u8", anon("device_id:u9"), anon("device_id:a0"), "relabelled"),
    ]
    assert stitched.changes_d2 == sorted(expected, key=repr)


def test_one_id_changes_name_each_kind(spark: SparkSession) -> None:
    cols = "id_type string, id_value string, one_id string, customer_id string"
    previous = spark.createDataFrame([
        ("device_id", "same", "C1", "C1"),        # unchanged
        ("device_id", "a", "anon-a", None),       # joins customer C2
        ("device_id", "b", "anon-b", None),       # its component met anon-c's
        ("device_id", "c", "anon-c", None),
        ("device_id", "n", "anon-n", None),       # takes an id nobody had
        ("device_id", "m", "C1", "C1"),           # a nearer customer: C2
        ("device_id", "h", "C2", "C2"),           # its component reaches too many
        ("device_id", "gone", "anon-g", None),    # absent today: no row
    ], cols)
    current = spark.createDataFrame([
        ("device_id", "same", "C1", "C1"), ("device_id", "a", "C2", "C2"),
        ("device_id", "b", "anon-c", None), ("device_id", "c", "anon-c", None),
        ("device_id", "n", "anon-new", None), ("device_id", "m", "C2", "C2"),
        ("device_id", "h", "anon-h", None), ("device_id", "fresh", "anon-f", None),
    ], cols)
    got = one_id_changes(previous, current, as_of=D2, prev_as_of=D1)
    expected = spark.createDataFrame([
        (D2, D1, "device_id", "a", "anon-a", "C2", "merged"),
        (D2, D1, "device_id", "b", "anon-b", "anon-c", "merged"),
        (D2, D1, "device_id", "n", "anon-n", "anon-new", "relabelled"),
        (D2, D1, "device_id", "m", "C1", "C2", "moved"),
        (D2, D1, "device_id", "h", "C2", "anon-h", "detached"),
    ], IDENTITY_CHANGES.schema)
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_as_of_before_any_customer_is_valid_is_a_missing_input(
    spark: SparkSession, tmp_path: Path
) -> None:
    cfg = make_config(tmp_path / "lake")
    lake = Lakehouse(spark, cfg)
    write_table(lake, SILVER_TABLES[RAW_CUSTOMERS.name], _versions([customer("C9")], D2))
    with pytest.raises(MissingTableError, match="no customer valid at 2026-06-01; run ingest"):
        run(spark, cfg, D1)
