"""Time zones: the as-of day is a day of ``spark.timezone``, whatever the host's zone.

``sparkseg run`` runs as a subprocess with the host zone ``TZ=America/New_York`` and
``--set spark.timezone=Asia/Shanghai``. Two transactions planted for one extra customer
sit either side of Shanghai midnight at the start of the as-of (2026-11-01 00:00 +08:00
= 2026-10-31T16:00:00Z): 15:30Z is 23:30 on 31 October in Shanghai (inside the 30-day
window), 16:30Z is 00:30 on 1 November (the as-of day itself, outside every window). In
UTC or New York time both fall on 31 October, so ``txn_count_30d = 1`` holds only if the
window is measured in Shanghai time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.tables import RAW_CUSTOMERS, RAW_TRANSACTIONS
from tests.support.bank import AS_OF, build_raw, write_raw
from tests.support.cli import run_cli, write_config
from tests.support.e2e import E2E_HASH_KEY
from tests.support.warehouse import read_table

pytestmark = pytest.mark.slow

CUSTOMER = "C900000001"
INSIDE = dt.datetime(2026, 10, 31, 15, 30, tzinfo=dt.UTC)    # 23:30 Oct 31 in Shanghai
OUTSIDE = dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC)   # 00:30 Nov 1 in Shanghai


def test_as_of_midnight_is_in_the_spark_time_zone_not_the_host_zone(
    spark: SparkSession, tmp_path: Path
) -> None:
    data = build_raw(12, seed=5)
    customers = data.tables[RAW_CUSTOMERS.name]
    txns = data.tables[RAW_TRANSACTIONS.name]
    customers.append({**customers[0], "customer_id": CUSTOMER})
    template = next(t for t in txns if t["customer_id"] == customers[0]["customer_id"])
    for n, ts in enumerate((INSIDE, OUTSIDE)):
        txns.append({**template, "txn_id": f"T-TZ-{n}", "customer_id": CUSTOMER,
                     "account_id": "A-TZ", "txn_ts": ts})
    root = tmp_path / "lake"
    write_raw(root, data.tables)
    config = write_config(tmp_path / "tz.yaml", root)

    code, log, _ = run_cli(
        ["run", "--config", str(config), "--as-of", AS_OF.isoformat(),
         "--set", "spark.timezone=Asia/Shanghai"],
        log=tmp_path / "tz.log", cwd=tmp_path,
        env={"SPARKSEG_HASH_KEY": E2E_HASH_KEY, "TZ": "America/New_York"},
    )
    assert code == 0, log[-3000:]

    features = read_table(spark, root, "silver/customer_features", {"as_of_date": AS_OF})
    row = features.where(features.one_id == CUSTOMER).select(
        "txn_count_30d", "txn_count_90d", "days_since_last_txn").collect()
    assert [r.asDict() for r in row] == [
        {"txn_count_30d": 1, "txn_count_90d": 1, "days_since_last_txn": 1}]
