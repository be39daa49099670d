"""Stage ``ingest`` end to end on tiny raw Delta tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.errors import ConfigError, DataQualityError, MissingTableError, SchemaMismatchError
from sparkseg.ingest.stage import run
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    OPS_QUARANTINE,
    OPS_RUNS,
    RAW_BALANCES,
    RAW_EVENTS,
    RAW_TABLES,
    SILVER_TABLES,
    TableSpec,
    schema,
)
from tests.support.config import make_config
from tests.support.ingest import (
    AFTER_AS_OF,
    ANCIENT,
    AS_OF,
    FUTURE,
    PHONES,
    balance,
    customer,
    event,
    link,
    txn,
    write_raw,
    write_table,
)
from tests.support.logs import captured_log
from tests.support.raw import BALANCES, CUSTOMERS, EVENTS, LINKS, TRANSACTIONS
from tests.support.rows import frame


def keyed(value: str) -> str:
    key = os.environ["SPARKSEG_HASH_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


# Channel identifiers: personal data like phones, so stored only as keyed hashes.
DEVICE, OPENID, COOKIE = "dev-raw-1", "oX-raw-openid-1", "ck-raw-1"
# HMAC-SHA256 under the tests' key "test-only-key-not-secret" (tests/conftest.py), computed
# once with Python's hmac module and written down.
DEVICE_HASH = "32913e7d7b9c1a40863a05fc6825f0902f62a1292494bf7215ebc37666784ba0"
COOKIE_HASH = "e122ef664b5d121f06a0ca7fd510baf0a432bd39439b1a41e9cff91124178307"

# One raw table per contract, each with clean rows and one row per reason.
RAW: dict[str, list[tuple[Any, ...]]] = {
    CUSTOMERS: [
        customer("c1"),
        customer("c2"),
        customer("c3"), customer("c3"),                    # exact copy -> duplicate_key
        customer(None),                                    # null_key
        customer("  "),                                    # null_key (blank)
        customer("\u3000"),                               # null_key (full-width space)
        customer("\u00a0\t"),                             # null_key (NBSP and tab)
        customer("c4", birth=AS_OF.replace(year=2099)),    # future_date:birth_date
        customer("c5", opened=AS_OF.replace(year=1899)),   # ancient_date:open_date
    ],
    TRANSACTIONS: [
        txn("t1"),
        txn("t2", ts=AFTER_AS_OF),                         # after as-of: still valid
        txn("t3", amount=0),                               # non_positive_amount
        txn("t4", channel="fax"),                          # unknown_code:channel
        txn("t5", ts=FUTURE),                              # future_timestamp
        txn("t6", ts=ANCIENT),                             # ancient_timestamp
        txn("t7", cust=None),                              # null_value:customer_id
        txn("t8", product="crypto"),                       # unknown_code:product_type
        txn("t9", amount=20.0), txn("t9", amount=10.0),    # 20.00 -> duplicate_key
        txn("t10", channel="fax", amount=-1),              # rule 3 comes before rule 4
        txn("t11", product=None),                          # product_type may be null
    ],
    BALANCES: [
        balance("c1", "deposit", 100), balance("c1", "deposit", 200),  # 200 -> duplicate_key
        balance("c1", "gold", 1),                          # unknown_code:product_type
        balance("c2", "deposit", None),                    # null_value:balance
        balance("c2", "deposit", 5, None),                 # null_key
        balance("c2", "loan", -50),                        # negative balance is valid
    ],
    EVENTS: [
        event("e1"),
        event("e2", id_type="phone_hash", id_value=PHONES[0]),
        event("e3", id_type="phone", id_value=PHONES[1]),  # unknown_code:id_type
        event("e4", event_type="dance"),                   # unknown_code:event_type
        event("e5", channel="fax"),                        # unknown_code:channel
        event("e6", id_value=None),                        # null_value:id_value
        event("e7", id_type="phone_hash", id_value=PHONES[2], ts=FUTURE),  # future_timestamp
        event("e8", id_type="device_id", id_value=DEVICE),
        event("e9", id_type="wechat_openid", id_value=OPENID),
        event("e10", id_type="web_cookie", id_value=COOKIE, event_type="dance"),  # unknown_code
    ],
    LINKS: [
        link("customer_id", "c1", "phone_hash", PHONES[0]),
        link("customer_id", "c1", "phone_hash", PHONES[0]),  # exact copy -> duplicate_key
        link("customer_id", "c2", "device_id", "d2"),
        link("customer_id", "c2", "device_id", "d2", source="app"),  # another observation
        link("customer_id", "c2", "device_id", None),      # null_key
        link("phone_hash", PHONES[2], "imei", "x9"),        # unknown_code:id_type_b
        link("web_cookie", COOKIE, "device_id", DEVICE),
    ],
}

EXPECTED_REASONS = {
    CUSTOMERS: ["ancient_date:open_date", "duplicate_key", "future_date:birth_date",
                         "null_key", "null_key", "null_key", "null_key"],
    TRANSACTIONS: ["ancient_timestamp", "duplicate_key", "future_timestamp",
                            "non_positive_amount", "null_value:customer_id",
                            "unknown_code:channel", "unknown_code:channel",
                            "unknown_code:product_type"],
    BALANCES: ["duplicate_key", "null_key", "null_value:balance",
                        "unknown_code:product_type"],
    EVENTS: ["future_timestamp", "null_value:id_value", "unknown_code:channel",
                      "unknown_code:event_type", "unknown_code:event_type",
                      "unknown_code:id_type"],
    LINKS: ["duplicate_key", "null_key", "unknown_code:id_type_b"],
}


def rows_of(lake: Lakehouse, spec: TableSpec) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in lake.read(spec).collect()), key=repr)


def quarantine_rows(lake: Lakehouse) -> list[tuple[str, str, str]]:
    df = lake.read(OPS_QUARANTINE).select("source_table", "reason", "row_json")
    return sorted(tuple(r) for r in df.collect())


@dataclass
class Ingested:
    lake: Lakehouse
    silver_first: dict[str, list[tuple[Any, ...]]]
    silver_second: dict[str, list[tuple[Any, ...]]]
    quarantine_first: list[tuple[str, str, str]]
    quarantine_second: list[tuple[str, str, str]]
    log_text: str


@pytest.fixture(scope="module")
def ingested(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    """The stage run twice on the same raw data (max_bad_share 1: tiny tables are all cases)."""
    cfg = make_config(tmp_path_factory.mktemp("ingest") / "lake", ingest={"max_bad_share": 1.0})
    lake = Lakehouse(spark, cfg)
    write_raw(lake, RAW)
    with captured_log(logging.DEBUG) as lines:
        pipeline.run_stage(spark, cfg, "ingest", AS_OF)
        silver_first = {n: rows_of(lake, s) for n, s in SILVER_TABLES.items()}
        quarantine_first = quarantine_rows(lake)
        run(spark, cfg, AS_OF)
    yield Ingested(
        lake,
        silver_first,
        {n: rows_of(lake, s) for n, s in SILVER_TABLES.items()},
        quarantine_first,
        quarantine_rows(lake),
        "\n".join(lines),
    )


def test_every_broken_row_is_quarantined_with_its_first_failing_rule(ingested: Ingested) -> None:
    got: dict[str, list[str]] = {}
    for table, reason, _ in ingested.quarantine_first:
        got.setdefault(table, []).append(reason)
    assert {t: sorted(r) for t, r in got.items()} == EXPECTED_REASONS


def test_quarantine_keeps_the_original_row_as_json(ingested: Ingested) -> None:
    by_reason = {(t, r): json.loads(j) for t, r, j in ingested.quarantine_first}
    row = by_reason[(TRANSACTIONS, "null_value:customer_id")]
    assert row["txn_id"] == "t7" and row["customer_id"] is None and row["amount"] == 10.0
    assert by_reason[(BALANCES, "null_key")]["snapshot_date"] is None
    q = ingested.lake.read(OPS_QUARANTINE)
    assert {r["as_of_date"] for r in q.select("as_of_date").collect()} == {AS_OF}
    assert q.filter(F.col("run_id").isNull() | F.col("quarantined_at").isNull()).count() == 0


def test_clean_rows_reach_silver_with_their_event_month_and_customers_their_version(
    ingested: Ingested,
) -> None:
    silver = ingested.silver_first
    assert [r[0] for r in silver[CUSTOMERS]] == ["c1", "c2", "c3"]
    # First versions: the raw version read (v0) and valid since before the first ingest.
    assert {r[-2:] for r in silver[CUSTOMERS]} == {(0, None)}
    assert sorted(r[0] for r in silver[TRANSACTIONS]) == ["t1", "t11", "t2", "t9"]
    months = {r[0]: r[-1] for r in silver[TRANSACTIONS]}
    assert months == {"t1": dt.date(2026, 5, 1), "t11": dt.date(2026, 5, 1),
                      "t2": dt.date(2026, 6, 1), "t9": dt.date(2026, 5, 1)}
    spark = ingested.lake.spark
    expected = frame(spark, RAW_BALANCES, [balance("c1", "deposit", 100), balance("c2", "loan", -50)])
    got = ingested.lake.read(SILVER_TABLES[BALANCES]).drop("event_month")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_duplicate_key_keeps_the_smallest_row(ingested: Ingested) -> None:
    t9 = [r for r in ingested.silver_first[TRANSACTIONS] if r[0] == "t9"]
    assert [str(r[4]) for r in t9] == ["10.00"]
    links = ingested.silver_first[LINKS]
    # Two observations of c2-d2 from different sources are both kept; the exact copy is not.
    assert sorted((r[1], r[3], r[4]) for r in links) == sorted([
        ("c1", keyed(PHONES[0]), "crm"), ("c2", keyed("d2"), "app"), ("c2", keyed("d2"), "crm"),
        (keyed(COOKIE), keyed(DEVICE), "crm"),
    ])


def test_phone_identifiers_are_stored_as_keyed_hashes(ingested: Ingested) -> None:
    events = {r[0]: r for r in ingested.silver_first[EVENTS]}
    assert events["e2"][3:5] == ("phone_hash", keyed(PHONES[0]))
    # customer_id is the bank's own key: kept in clear (it is what ONE_IDs are made of).
    assert events["e1"][3:5] == ("customer_id", "c1")
    quarantined = {json.loads(j).get("event_id"): json.loads(j)
                   for t, _, j in ingested.quarantine_first if t == EVENTS}
    # Unknown identifier types are hashed too: "phone" may hold a phone number.
    assert quarantined["e3"]["id_value"] == keyed(PHONES[1])
    assert quarantined["e7"]["id_value"] == keyed(PHONES[2])
    bad_link = next(json.loads(j) for t, r, j in ingested.quarantine_first
                    if r == "unknown_code:id_type_b")
    assert (bad_link["id_value_a"], bad_link["id_value_b"]) == (keyed(PHONES[2]), keyed("x9"))


def test_no_raw_phone_number_reaches_silver_quarantine_or_log(ingested: Ingested) -> None:
    text = repr(ingested.silver_first) + repr(ingested.quarantine_first) + ingested.log_text
    assert ingested.log_text  # the stage did log
    for value in (*PHONES, DEVICE, OPENID, COOKIE):
        assert value not in text


def test_a_device_id_in_silver_events_is_its_keyed_hash(ingested: Ingested) -> None:
    assert os.environ["SPARKSEG_HASH_KEY"] == "test-only-key-not-secret"  # DEVICE_HASH's key
    events = {r[0]: r for r in ingested.silver_first[EVENTS]}
    assert events["e8"][3:5] == ("device_id", DEVICE_HASH)
    assert events["e9"][3:5] == ("wechat_openid", keyed(OPENID))
    links = ingested.silver_first[LINKS]
    # Both ends hashed with the same key: the link still meets the event's device.
    assert ("web_cookie", COOKIE_HASH, "device_id", DEVICE_HASH) in [r[:4] for r in links]


def test_a_quarantined_event_keeps_its_key_and_only_the_hash_of_its_cookie(
    ingested: Ingested
) -> None:
    assert os.environ["SPARKSEG_HASH_KEY"] == "test-only-key-not-secret"  # COOKIE_HASH's key
    (row_json,) = [j for t, r, j in ingested.quarantine_first
                   if t == EVENTS and '"e10"' in j]
    # The event id (to find it at the source) and every non-identifier column as they came.
    assert row_json == (
        '{"event_id":"e10","event_ts":"2026-05-31T09:30:00.000000Z","channel":"app",'
        f'"id_type":"web_cookie","id_value":"{COOKIE_HASH}","event_type":"dance",'
        '"campaign_id":null,"product_id":null}'
    )


def test_rerun_of_the_same_date_gives_the_same_rows(ingested: Ingested) -> None:
    assert ingested.silver_second == ingested.silver_first
    assert ingested.quarantine_second == ingested.quarantine_first


def test_run_is_recorded_with_row_counts(ingested: Ingested) -> None:
    runs = ingested.lake.read(OPS_RUNS).collect()
    assert [(r["stage"], r["status"]) for r in runs] == [("ingest", "succeeded")]
    counts = runs[0]["row_counts"]
    assert counts["silver/transactions"] == 4
    assert counts["ops/quarantine"] == sum(len(v) for v in EXPECTED_REASONS.values())
    assert set(runs[0]["input_versions"]) == {s.name for s in RAW_TABLES}


def _written(lake: Lakehouse) -> list[str]:
    return [s.name for s in [*SILVER_TABLES.values(), OPS_QUARANTINE] if lake.exists(s)]


def test_bad_share_above_ceiling_fails_naming_table_share_and_top_reasons(
    lake: Lakehouse, cfg: Config
) -> None:
    write_raw(lake, {
        CUSTOMERS: [customer("c1")],
        TRANSACTIONS: [
            *(txn(f"ok{i}") for i in range(4)),
            *(txn(f"np{i}", amount=0) for i in range(3)),
            *(txn(f"ch{i}", channel="fax") for i in range(2)),
            txn("fu", ts=FUTURE),
        ],
    })
    with pytest.raises(DataQualityError) as err:
        run(lake.spark, cfg, AS_OF)
    message = str(err.value)
    assert "\n" not in message
    assert ("raw/transactions: 60.00% bad rows (6 of 10; non_positive_amount=3, "
            "unknown_code:channel=2, future_timestamp=1)") in message
    assert "raw/customers" not in message
    assert _written(lake) == []


def test_missing_column_fails_before_any_data_is_read(lake: Lakehouse, cfg: Config) -> None:
    # Transactions would breach the ceiling: the schema check comes first.
    write_raw(lake, {TRANSACTIONS: [txn("np", amount=0)]}, skip=(EVENTS,))
    no_event_type = TableSpec(
        EVENTS, schema(*[(f.name, f.dataType) for f in RAW_EVENTS.schema.fields
                                  if f.name != "event_type"]),
    )
    write_table(lake, no_event_type, [])
    with pytest.raises(SchemaMismatchError, match=r"raw/events: missing column\(s\) event_type"):
        run(lake.spark, cfg, AS_OF)
    assert _written(lake) == []


def test_missing_raw_table_is_a_named_error(lake: Lakehouse, cfg: Config) -> None:
    write_raw(lake, {})
    Path(lake.uri(RAW_BALANCES), "_delta_log").rename(Path(lake.uri(RAW_BALANCES), "gone"))
    with pytest.raises(MissingTableError, match="raw/balances"):
        run(lake.spark, cfg, AS_OF)
    assert _written(lake) == []


def test_missing_hash_key_fails_before_reading(
    lake: Lakehouse, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARKSEG_HASH_KEY", "")
    # No raw table exists: the key is checked first, so the error is about the key.
    with pytest.raises(ConfigError, match="SPARKSEG_HASH_KEY"):
        run(lake.spark, cfg, AS_OF)
