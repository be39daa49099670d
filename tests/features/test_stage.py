"""The ``features`` stage end to end on real Delta tables under tmp_path."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from sparkseg.errors import MissingTableError
from sparkseg.features import stage
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    RAW_CUSTOMERS,
    SILVER_TABLES,
    VALID_FROM,
)
from tests.support.features import (
    AS_OF,
    assert_columns,
    bal,
    cust,
    custs,
    days_before,
    evt,
    raw_frames,
    to_silver,
    txn,
    write_silver,
)

D = dt.date


def test_run_writes_one_row_per_customer_known_before_as_of(lake: Lakehouse) -> None:
    spark = lake.spark
    frames = raw_frames(
        spark,
        customers=[
            cust("c1", open_date=D(2021, 3, 1)),
            cust("c2", open_date=D(2026, 10, 20)),
            cust("c3", open_date=D(2026, 11, 5)),  # opened after as-of: no row yet
        ],
        transactions=[
            txn("c1", days_before(1), 100, channel="atm"),
            txn("c1", days_before(40), 300, "credit", category="salary"),
            txn("c1", days_before(0), 5000),     # at as-of: excluded
            txn("c1", days_before(-10), 5000),   # after as-of: excluded
        ],
        balances=[
            bal("c1", "deposit", 2000, D(2026, 10, 31)),
            bal("c1", "deposit", 9000, D(2026, 11, 30)),  # after as-of: excluded
        ],
        events=[
            evt("dev9", days_before(3), "login", id_type="device_id"),
            evt("c2", days_before(0), "login"),  # at as-of: excluded
            evt("c2", days_before(1), "sms_sent", "sms"),
        ],
    )
    write_silver(lake, frames, [("customer_id", "c1", "c1", "c1"), ("device_id", "dev9", "c1", "c1"),
                                ("customer_id", "c2", "c2", "c2")])

    stage.run(spark, lake.cfg, AS_OF)

    out = lake.read(CUSTOMER_FEATURES, partitions={"as_of_date": AS_OF})
    assert_columns(
        out,
        ["one_id", "as_of_date", "txn_count_30d", "credit_amount_90d", "salary_months_12m",
         "share_txn_atm_90d", "total_balance", "login_count_30d", "event_count_30d",
         "sms_sent_90d", "days_since_last_event", "tenure_days", "in_honeymoon"],
        [
            ("c1", "c1", AS_OF, 1, 300.0, 1, 0.5, 2000.0, 1, 1, 0, 3, 2071, 0),
            ("c2", "c2", AS_OF, 0, 0.0, 0, 0.0, 0.0, 0, 0, 1, None, 12, 1),
        ],
    )
    assert out.count() == 2


def test_run_without_customers_valid_at_the_as_of_is_a_missing_table_error(
    lake: Lakehouse,
) -> None:
    # The only customer was first seen by the ingest of a later as-of.
    later = to_silver(custs(lake.spark, [cust("c1")]), RAW_CUSTOMERS).withColumn(
        VALID_FROM, F.lit(AS_OF + dt.timedelta(days=1)))
    lake.write(later, SILVER_TABLES[RAW_CUSTOMERS.name], mode="append")
    with pytest.raises(MissingTableError, match="no customer valid at 2026-11-01; run ingest"):
        stage.run(lake.spark, lake.cfg, AS_OF)
