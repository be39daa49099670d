"""Several generated days ingested one by one give the features of one full refresh.

A small generated warehouse is ingested on its end date, then three days are appended
(``generate --append-days``: new customers, late duplicates, new links, a month end, a
rewrite of raw/customers) and each is ingested the next day. A copy of the same raw
tables ingested once with ``--full-refresh`` must then give the same silver event tables
and the same ``silver/customer_features`` (every column, chispa) for the last day; and
a backfill of the first appended day, run after the last, must give the features that
day's own run wrote (after the full refresh: but for the rewritten customer attributes).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.features.customers import DEMOGRAPHICS
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.generate import stage as generate
from sparkseg.generate.append import append_days
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import EVENT_TIME, OPS_QUARANTINE, SILVER_TABLES
from tests.support.config import make_config

pytestmark = pytest.mark.slow

END = dt.date(2026, 10, 30)
GEN = {
    "customers": 150, "months": 2, "seed": 5, "end_date": END.isoformat(),
    "txn_per_customer": 20, "events_per_customer": 20, "dirty_share": 0.01,
    "new_customers_per_day": 3, "late_duplicate_share": 0.05,
    "new_device_links_per_day": 2, "merge_link_chance": 1.0,
    "rewrite_customers_every": 3, "changed_customer_share": 0.05,
}
# Small tables: the shares of planted dirt and late duplicates are far above 5 %; the
# volume guard has too little history on two months of 150 customers.
INGEST = {"max_bad_share": 1.0, "volume": {"tables": []}}
LAST = END + dt.timedelta(days=3)


def _cfg(root: Path, **ingest: object) -> Config:
    return make_config(root, generate=GEN, ingest={**INGEST, **ingest})


def _stages(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    for name in ("ingest", "identity", "features"):
        pipeline.run_stage(spark, cfg, name, as_of)


def test_appended_days_ingested_daily_equal_one_full_refresh(
    spark: SparkSession, tmp_path: Path
) -> None:
    daily = _cfg(tmp_path / "daily")
    generate.run(spark, daily, END)
    _stages(spark, daily, END)
    for day in range(1, 4):
        append_days(spark, daily, 1)
        _stages(spark, daily, END + dt.timedelta(days=day))
    # The features of the first appended day as its daily run wrote them (a local copy:
    # the backfill below replaces that partition).
    first = {"as_of_date": END + dt.timedelta(days=1)}
    on_the_day = Lakehouse(spark, daily).read(CUSTOMER_FEATURES, partitions=first)
    on_the_day = spark.createDataFrame(on_the_day.collect(), on_the_day.schema)

    shutil.copytree(tmp_path / "daily" / "raw", tmp_path / "full" / "raw")
    full = _cfg(tmp_path / "full", full_refresh=True)
    _stages(spark, full, LAST)

    a, b = Lakehouse(spark, daily), Lakehouse(spark, full)
    for raw_name, spec in SILVER_TABLES.items():
        if raw_name in EVENT_TIME:
            assert_df_equality(a.read(spec), b.read(spec), ignore_row_order=True,
                               ignore_nullable=True)
    # The same bad event rows were quarantined, once (over four days, or in the one run).
    # (A rewritten raw/customers is read whole again: its bad rows are quarantined again.)
    columns = ["source_table", "reason", "row_json"]
    events = f"source_table IN ({', '.join(repr(t) for t in EVENT_TIME)})"
    assert_df_equality(a.read(OPS_QUARANTINE).where(events).select(columns),
                       b.read(OPS_QUARANTINE).where(events).select(columns),
                       ignore_row_order=True, ignore_nullable=True)
    part = {"as_of_date": LAST}
    got = a.read(CUSTOMER_FEATURES, partitions=part)
    assert got.count() > 150  # the new customers of the appended days are there
    assert_df_equality(got, b.read(CUSTOMER_FEATURES, partitions=part),
                       ignore_row_order=True, ignore_nullable=True, allow_nan_equality=True)

    # A backfill of the first appended day, run after the last (out of order), gives the
    # features that day's own run wrote.
    backfill = first["as_of_date"]
    for name in ("identity", "features"):
        pipeline.run_stage(spark, daily, name, backfill)
    assert_df_equality(a.read(CUSTOMER_FEATURES, partitions=first), on_the_day,
                       ignore_row_order=True, ignore_nullable=True, allow_nan_equality=True)
    # So does the same backfill after a full refresh, except for the attributes of
    # raw/customers: a full refresh knows only raw's current snapshot of that table, so
    # an attribute rewritten on day 3 holds "since always" there (README "Stages").
    for name in ("identity", "features"):
        pipeline.run_stage(spark, full, name, backfill)
    refreshed = b.read(CUSTOMER_FEATURES, partitions=first)
    assert_df_equality(refreshed.drop(*DEMOGRAPHICS), on_the_day.drop(*DEMOGRAPHICS),
                       ignore_row_order=True, ignore_nullable=True, allow_nan_equality=True)
