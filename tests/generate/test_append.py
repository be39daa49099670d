"""``sparkseg generate --append-days N`` on real Delta tables: one commit per table and day.

The warehouse ends on 2026-10-30 (exclusive), so the three appended days are 2026-10-30,
2026-10-31 (a month end: balances) and 2026-11-01 (the third day: raw/customers rewritten,
``rewrite_customers_every=3``). They are appended by two runs (2 days, then 1) to check that
a rerun continues after the last appended day; a second warehouse appends all 3 at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.cli import main
from sparkseg.config import Config
from sparkseg.errors import ConfigError
from sparkseg.generate import stage
from sparkseg.generate.append import append_days, covered_through
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TRANSACTIONS,
    RAW_TRUTH_PERSONAS,
)
from tests.support.config import make_config
from tests.support.generate import APPEND_GEN as GEN
from tests.support.generate import DAYS, Warehouse, added_rows, commits, fingerprint


def _generated(spark: SparkSession, root: Path) -> tuple[Config, Warehouse]:
    cfg = make_config(root, generate=GEN)
    stage.run(spark, cfg, cfg.generate.end_date)
    lake = Lakehouse(spark, cfg)
    versions = {t.name: lake.version(t) for t in stage.GENERATED_TABLES}
    return cfg, Warehouse(lake, root, {k: v for k, v in versions.items() if v is not None})


@pytest.fixture(scope="module")
def appended(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    cfg, wh = _generated(spark, tmp_path_factory.mktemp("append") / "lake")
    append_days(spark, cfg, 2)
    append_days(spark, cfg, 1)  # a rerun: must continue with the third day
    return wh


@pytest.fixture(scope="module")
def appended_at_once(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    cfg, wh = _generated(spark, tmp_path_factory.mktemp("append-once") / "lake")
    append_days(spark, cfg, 3)
    return wh


def test_each_appended_day_is_one_new_version_of_every_event_table(appended: Warehouse) -> None:
    for spec in (RAW_TRANSACTIONS, RAW_EVENTS, RAW_IDENTITY_LINKS):
        by_version = commits(appended, spec)
        base = appended.base_versions[spec.name]
        assert sorted(by_version) == [base + 1, base + 2, base + 3], spec.name
        assert [c["day"] for _, c in sorted(by_version.items())] == DAYS, spec.name


def test_added_files_hold_that_days_rows_or_exact_copies_of_earlier_rows(
    appended: Warehouse,
) -> None:
    late_total = 0
    for spec, ts, key in ((RAW_TRANSACTIONS, "txn_ts", "txn_id"), (RAW_EVENTS, "event_ts", "event_id")):
        for version, commit in commits(appended, spec).items():
            rows = added_rows(appended, spec, commit["adds"])
            fresh = rows.filter(F.to_date(ts) == F.lit(commit["day"]))
            late = rows.filter(F.to_date(ts) != F.lit(commit["day"]))
            assert fresh.count() > 0, (spec.name, commit["day"])
            before = appended.lake.read(spec, version=version - 1)
            # Late duplicates: exact copies of rows already in the table, 1-3 days earlier.
            assert late.exceptAll(before).count() == 0, (spec.name, commit["day"])
            assert late.join(before, key, "left_anti").count() == 0
            lags = {r[0] for r in late.select(F.datediff(F.lit(commit["day"]), F.to_date(ts)))
                    .distinct().collect()}
            assert lags <= {1, 2, 3}, lags
            # Fresh rows have ids never seen before (ids carry the day).
            assert fresh.join(before, key, "left_semi").count() == 0
            assert fresh.filter(~F.col(key).startswith(f"{key[0].upper()}{commit['day']:%Y%m%d}")
                                ).count() == 0
            late_total += late.count()
    assert late_total > 0


def test_new_customers_appear_with_their_day_as_open_date(appended: Warehouse) -> None:
    customers = appended.lake.read(RAW_CUSTOMERS)
    new = {r["customer_id"]: r["open_date"] for r in customers.filter(
        F.col("customer_id") > "C000000200").collect()}
    expected = {f"C{200 + 3 * i + j + 1:09d}": day for i, day in enumerate(DAYS) for j in range(3)}
    assert new == expected
    truth = appended.lake.read(RAW_TRUTH_PERSONAS).filter(F.col("customer_id") > "C000000200")
    assert {r[0] for r in truth.select("persona").distinct().collect()} == {"new_customer"}
    assert truth.count() == 9
    kyc = appended.lake.read(RAW_IDENTITY_LINKS).filter(
        (F.col("source") == "kyc") & (F.col("id_value_a") > "C000000200"))
    assert {r[0] for r in kyc.select("id_value_a").collect()} == set(expected)


def test_new_device_links_and_a_link_joining_two_customers(appended: Warehouse) -> None:
    for commit in commits(appended, RAW_IDENTITY_LINKS).values():
        rows = added_rows(appended, RAW_IDENTITY_LINKS, commit["adds"])
        old = rows.filter((F.col("id_type_b") == "customer_id")
                          & (F.col("id_value_b") <= "C000000200"))
        devices = old.groupBy("id_value_a").agg(F.countDistinct("id_value_b").alias("n"))
        counts = sorted(r["n"] for r in devices.collect())
        # Two new devices of one customer each, one device of two customers (chance 1.0).
        assert counts == [1, 1, 2], (commit["day"], counts)
        assert rows.filter(F.to_date("observed_ts") != F.lit(commit["day"])).count() == 0


def test_month_end_day_appends_balance_snapshots_of_that_day_only(appended: Warehouse) -> None:
    by_version = commits(appended, RAW_BALANCES)
    assert [c["day"] for c in by_version.values()] == [dt.date(2026, 10, 31)]
    (commit,) = by_version.values()
    rows = added_rows(appended, RAW_BALANCES, commit["adds"])
    assert [r[0] for r in rows.select("snapshot_date").distinct().collect()] == [commit["day"]]
    # Every customer has a deposit snapshot, the 6 new ones (opened 30 and 31 Oct) too.
    deposits = rows.filter(F.col("product_type") == "deposit")
    assert deposits.select("customer_id").distinct().count() == 206
    assert deposits.groupBy("customer_id").count().filter("count > 1").count() == 0


def test_rewrite_day_overwrites_customers_with_remove_actions_and_changed_attributes(
    appended: Warehouse,
) -> None:
    by_version = commits(appended, RAW_CUSTOMERS)
    assert [c["day"] for c in by_version.values()] == DAYS
    modes = [(bool(c["removes"]), c["day"]) for c in by_version.values()]
    assert modes == [(False, DAYS[0]), (False, DAYS[1]), (True, DAYS[2])]
    rewrite = max(by_version)
    before = appended.lake.read(RAW_CUSTOMERS, version=rewrite - 1)
    after = appended.lake.read(RAW_CUSTOMERS, version=rewrite)
    assert after.count() == before.count() + 3
    joined = before.alias("b").join(after.alias("a"), "customer_id")
    changed = joined.filter(
        (F.col("b.city") != F.col("a.city")) | (F.col("b.income_band") != F.col("a.income_band"))
        | (F.col("b.risk_level") != F.col("a.risk_level")))
    assert 1 <= changed.count() <= 30
    # Nothing else changes; a move keeps city, tier and branch area together.
    for c in ("birth_date", "gender", "occupation", "open_date"):
        assert joined.filter(F.col(f"b.{c}") != F.col(f"a.{c}")).count() == 0, c
    moved = joined.filter(F.col("b.city") != F.col("a.city"))
    assert moved.filter(F.substring("a.branch_id", 5, 3) != F.substring("b.branch_id", 5, 3)
                        ).count() == 0


def test_same_seed_gives_identical_appended_rows(
    appended: Warehouse, appended_at_once: Warehouse
) -> None:
    for spec in stage.GENERATED_TABLES:
        assert fingerprint(appended.lake.read(spec)) == fingerprint(
            appended_at_once.lake.read(spec)), spec.name


def test_a_rerun_continues_after_the_last_appended_day(
    spark: SparkSession, appended: Warehouse
) -> None:
    cfg = appended.lake.cfg
    assert covered_through(appended.lake, RAW_EVENTS, cfg.generate) == DAYS[-1]
    days = [c["day"] for c in commits(appended, RAW_EVENTS).values()]
    assert len(days) == len(set(days)) == 3


def test_append_days_below_one_is_a_config_error(tmp_path: Path) -> None:
    conf = tmp_path / "c.yaml"
    conf.write_text(f"warehouse: {tmp_path / 'lake'}\nengine: offline\n")
    assert main(["generate", "--config", str(conf), "--append-days", "0"]) == 2


def test_appending_with_another_seed_than_the_data_is_a_config_error(
    spark: SparkSession, appended: Warehouse
) -> None:
    cfg = appended.lake.cfg
    other = cfg.model_copy(update={"generate": cfg.generate.model_copy(update={"seed": 12})})
    with pytest.raises(ConfigError, match="seed=11"):
        append_days(spark, other, 1)
