"""Privacy: planted phone and id numbers appear in no output, file or log line.

The raw tables of the shared ``e2e`` run carry raw 11-digit phone numbers as
``phone_hash`` identifiers in events and identity links (as core-banking extracts do),
phone numbers under unknown or missing identifier types in rows ingest quarantines, and
extra ``id_number`` / ``mobile`` columns in raw/customers; device ids, WeChat openids and
web cookies in valid and quarantined events and links. After ``sparkseg run`` (all
stages and the report) every Delta table outside raw/ (every column, as text), every
other file under the warehouse (Delta logs, model metadata, exports, the HTML report)
and the run's captured output are scanned for those values and for the hash key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg import pipeline
from sparkseg.errors import ConfigError
from sparkseg.tables import OPS_QUARANTINE
from tests.support.bank import AS_OF
from tests.support.cli import run_cli
from tests.support.config import make_config
from tests.support.e2e import E2E, E2E_CUSTOMERS, cookie, openid
from tests.support.warehouse import (
    OUTPUT_LAYERS,
    delta_tables,
    files_containing,
    keyed_hash,
    leaking_rows,
    read_table,
    snapshot,
)

pytestmark = pytest.mark.slow


def test_every_output_table_is_free_of_planted_values(spark: SparkSession, e2e: E2E) -> None:
    tables = delta_tables(e2e.root, OUTPUT_LAYERS)
    # Every stage wrote: silver copies, identity, features, gold, quarantine, audit.
    assert len(tables) >= 18, tables
    leaks = {t: n for t in tables if (n := leaking_rows(read_table(spark, e2e.root, t), e2e.needles))}
    assert leaks == {}


def test_every_other_file_is_free_of_planted_values(spark: SparkSession, e2e: E2E) -> None:
    files = [p for p in e2e.root.rglob("*") if p.is_file() and "raw" not in p.relative_to(e2e.root).parts[:1]]
    kinds = {p.suffix for p in files}
    # The scan covers the report, the model metadata, CSV exports and the Delta logs.
    assert {".html", ".json", ".csv", ".parquet"} <= kinds, kinds
    assert files_containing(e2e.root, e2e.needles) == []
    # Parquet exports are compressed: read them as rows.
    for folder in {p.parent for p in e2e.root.glob("exports/*/*/*/*.parquet")}:
        assert leaking_rows(spark.read.parquet(str(folder)), e2e.needles) == 0, folder


def test_the_run_log_is_free_of_planted_values(e2e: E2E) -> None:
    assert "audiences" in e2e.log and "quarantine" in e2e.log  # the run did log
    assert [n for n in e2e.needles if n in e2e.log] == []


def test_phone_numbers_are_stored_only_as_keyed_hashes(spark: SparkSession, e2e: E2E) -> None:
    ids = read_table(spark, e2e.root, "silver/identity_map", {"as_of_date": AS_OF})
    phones = {r["id_value"]: r["one_id"]
              for r in ids.where(F.col("id_type") == "phone_hash").collect()}
    key = e2e.env["SPARKSEG_HASH_KEY"]
    # Every planted phone of a valid row is known by its keyed hash, stitched to its customer.
    expected = {keyed_hash(p, key): f"C{i + 1:09d}" for i, p in enumerate(e2e.data.phones)}
    assert phones == expected
    # The quarantined rows that carried phones under unknown or missing types: hashed too.
    quarantined = " ".join(
        r["row_json"] for r in read_table(spark, e2e.root, OPS_QUARANTINE.name).collect()
    )
    for phone in e2e.data.phones[:3]:
        assert keyed_hash(phone, key) in quarantined


def test_channel_identifiers_are_stored_only_as_keyed_hashes(spark: SparkSession, e2e: E2E
                                                            ) -> None:
    key = e2e.env["SPARKSEG_HASH_KEY"]
    ids = read_table(spark, e2e.root, "silver/identity_map", {"as_of_date": AS_OF})
    got: dict[str, dict[str, str]] = {}
    for r in ids.where(F.col("id_type") != "customer_id").collect():
        got.setdefault(r["id_type"], {})[r["id_value"]] = r["one_id"]
    # Hashed on both sides of every link with one key: the graph stitches as before
    # (device -> phone -> customer; cookie -> device; openid -> customer).
    assert got["device_id"] == {keyed_hash(f"dev-{i + 1:06d}", key): f"C{i + 1:09d}"
                                for i in range(E2E_CUSTOMERS)}
    assert got["wechat_openid"] == {keyed_hash(openid(i), key): f"C{i + 1:09d}" for i in range(8)}
    assert got["web_cookie"] == {keyed_hash(cookie(i), key): f"C{i + 1:09d}" for i in range(8)}
    events = read_table(spark, e2e.root, "silver/events")
    assert [tuple(r) for r in events.where(F.col("event_id") == "WX-E-0")
            .select("id_type", "id_value").collect()] == [("wechat_openid", keyed_hash(openid(0), key))]
    # Quarantined rows keep their event id (to find them at the source) and the hash only.
    quarantine = {r["reason"]: r["row_json"] for r in read_table(spark, e2e.root, OPS_QUARANTINE.name)
                  .where(F.col("row_json").contains('"PII-E-')).collect()
                  if '"PII-E-3"' in r["row_json"] or '"PII-E-4"' in r["row_json"]}
    assert set(quarantine) == {"unknown_code:event_type", "null_value:channel"}
    assert keyed_hash(openid(0), key) in quarantine["unknown_code:event_type"]
    assert keyed_hash("dev-000002", key) in quarantine["null_value:channel"]


def test_missing_hash_key_is_exit_2_in_one_line_and_changes_nothing(
    e2e: E2E, tmp_path: Path
) -> None:
    before = snapshot(e2e.root, skip=())
    code, out, _ = run_cli(
        ["ingest", "--config", str(e2e.config), "--as-of", AS_OF.isoformat()],
        log=tmp_path / "ingest.log", cwd=e2e.workdir, env={"SPARKSEG_HASH_KEY": ""},
    )
    errors = [line for line in out.splitlines() if line.startswith("sparkseg: error:")]
    assert code == 2, out[-2000:]
    assert len(errors) == 1 and "SPARKSEG_HASH_KEY" in errors[0]
    assert "Traceback" not in out
    # Checked before any read: not even an ops/runs row.
    assert snapshot(e2e.root, skip=()) == before


def test_the_key_variable_is_the_configured_one(spark: SparkSession, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BANK_PII_KEY", raising=False)
    cfg = make_config(tmp_path / "lake", identity={"hash_key_env": "BANK_PII_KEY"})
    with pytest.raises(ConfigError, match="BANK_PII_KEY") as err:
        pipeline.run_stage(spark, cfg, "ingest", AS_OF)
    assert err.value.exit_code == 2
    assert not (tmp_path / "lake").exists()
