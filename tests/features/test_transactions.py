"""Transaction features: hand-computed expectations, as-of 2026-11-01 (UTC session).

Each test owns the rows of its own customers; the features of all of them are computed
once per module (one aggregation job instead of one per test) and compared per test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import Row, SparkSession
from pyspark.sql import functions as F

from sparkseg.features.transactions import transaction_features
from tests.support.features import AS_OF, assert_columns, collected, days_before, txn, txns

CHILD_MCC = ("5641", "5945", "8211", "8220", "8299")

RFM = [
    txn("rfm", days_before(0), 9999),                   # exactly at as-of: excluded
    txn("rfm", days_before(0.001), 10),                 # 23:58 the day before: 1 day ago
    txn("rfm", days_before(0.5), 1),                    # same day again: one active day
    txn("rfm", days_before(30), 20),                    # as-of - 30d midnight: in 30d
    txn("rfm", days_before(30.0001), 40, "credit"),     # a moment earlier: 31 days ago
    txn("rfm", days_before(90), 5),                     # first moment of the 90d window
    txn("rfm", days_before(91) + dt.timedelta(hours=12), 100, "credit"),
    txn("rfm", days_before(365), 7),                    # first moment of the 365d window
    txn("rfm", days_before(366), 1000, "credit"),       # before every window
    txn("rfm", days_before(-30), 5555),                 # a month after as-of: ignored
]
TRENDS = [
    txn("up", days_before(1), 10), txn("up", days_before(2), 10),
    txn("up", days_before(30), 10), txn("up", days_before(60), 30, "credit"),
    txn("up", days_before(31), 6),     # first day of [as_of-120, as_of-30)
    txn("up", days_before(120), 3),    # last day of it
    txn("up", days_before(121), 500),  # before it
    # Nothing before the last 30 days: the denominator is max(1, 0/3) = 1.
    txn("new", days_before(3), 50),
    txn("new", days_before(4), 20, "credit"),
]
PAYROLL = [
    txn("pay", dt.datetime(2026, 10, 25), 8000, "credit", category="salary"),
    txn("pay", dt.datetime(2026, 10, 5), 1000, "credit", category="salary"),  # same month
    txn("pay", dt.datetime(2026, 9, 25), 8000, "credit", category="salary"),
    txn("pay", dt.datetime(2026, 7, 25), 7000, "credit", category="salary"),  # 99 days ago
    txn("pay", dt.datetime(2025, 11, 1), 7000, "credit", category="salary"),  # 365 days ago
    txn("pay", dt.datetime(2025, 10, 31), 7000, "credit", category="salary"),  # 366: out
    txn("pay", dt.datetime(2026, 8, 10), 300, "debit", category="salary"),  # not a credit
]
SPENDING = [
    txn("spend", days_before(10), 100, category="consumption", mcc="5641"),
    txn("spend", days_before(20), 50, category="consumption", mcc="5411"),
    txn("spend", days_before(5), 200, category="transfer"),
    txn("spend", days_before(6), 1000, "credit", category="transfer"),  # transfer in
    txn("spend", days_before(200), 300, category="consumption", mcc="8211"),
    txn("spend", days_before(400), 77, category="consumption", mcc="8211"),
    txn("nodebit", days_before(3), 10, "credit", category="interest"),
]
WEALTH = [
    txn("wealth", days_before(10), 1000, category="wealth_purchase", product_type="wealth"),
    txn("wealth", days_before(100), 2000, category="wealth_purchase", product_type="wealth"),
    txn("wealth", days_before(400), 500, category="wealth_purchase", product_type="fund"),
    txn("wealth", days_before(0), 800, category="wealth_purchase", product_type="wealth"),
    txn("nowealth", days_before(10), 10),
]
CHANNELS = [
    txn("chan", days_before(1), 1, channel="mobile_app"),
    txn("chan", days_before(2), 1, channel="mobile_app"),
    txn("chan", days_before(3), 1, channel="atm"),
    txn("chan", days_before(90), 1, channel="wechat"),
    txn("chan", days_before(91), 1, channel="branch"),  # outside 90d
    txn("oldchan", days_before(200), 1, channel="branch"),
]


@pytest.fixture(scope="module")
def result(spark: SparkSession) -> list[Row]:
    rows = RFM + TRENDS + PAYROLL + SPENDING + WEALTH + CHANNELS
    return collected(transaction_features(txns(spark, rows), as_of=AS_OF, child_mcc=CHILD_MCC))


def test_only_customers_with_a_transaction_before_as_of_get_a_row(result: list[Row]) -> None:
    assert len(result) == len({r[1] for r in RFM + TRENDS + PAYROLL + SPENDING + WEALTH
                                  + CHANNELS})


def test_rfm_windows_include_the_window_start_and_exclude_as_of(result: list[Row]) -> None:
    assert_columns(
        result,
        ["days_since_last_txn", "days_since_first_txn", "txn_count_30d", "txn_count_90d",
         "txn_count_365d", "debit_amount_30d", "debit_amount_90d", "debit_amount_365d",
         "credit_amount_30d", "credit_amount_90d", "credit_amount_365d", "active_days_90d"],
        [("rfm", 1, 366, 3, 5, 7, 31.0, 36.0, 43.0, 0.0, 40.0, 140.0, 4)],
    )


def test_trends_compare_last_30_days_with_the_90_before(result: list[Row]) -> None:
    assert_columns(
        result,
        ["txn_count_prev_30_120d", "txn_trend_ratio", "debit_trend_ratio", "net_flow_90d"],
        [
            # 3 txns / max(1, 3/3); 30 yuan / max(1, 9/3); 30 in - (30 + 6) out in 90d
            ("up", 3, 3.0, 10.0, -6.0),
            ("new", 0, 2.0, 50.0, -30.0),
        ],
    )


def test_payroll_counts_salary_credits_and_distinct_months(result: list[Row]) -> None:
    assert_columns(
        result,
        ["salary_count_365d", "salary_months_12m", "salary_amount_90d"],
        [("pay", 5, 4, 17000.0)],  # months: Oct, Sep, Jul 2026 and Nov 2025
    )


def test_spending_mix_and_child_related_spend(result: list[Row]) -> None:
    assert_columns(
        result,
        ["consumption_amount_90d", "consumption_count_90d", "transfer_out_amount_90d",
         "consumption_share_90d", "child_related_spend_365d"],
        [
            ("spend", 150.0, 2, 200.0, 150.0 / 350.0, 400.0),
            ("nodebit", 0.0, 0, 0.0, 0.0, 0.0),  # nothing debited: share 0.0, not null
        ],
    )


def test_wealth_purchases_by_window_first_purchase_and_products_used(result: list[Row]) -> None:
    assert_columns(
        result,
        ["wealth_purchase_count_30d", "wealth_purchase_count_365d",
         "wealth_purchase_amount_365d", "days_since_first_wealth_purchase",
         "used_wealth", "used_fund", "used_deposit", "used_credit_card"],
        [("wealth", 1, 2, 3000.0, 400, 1, 0, 0, 0), ("nowealth", 0, 0, 0.0, None, 0, 0, 1, 0)],
    )


def test_channel_shares_are_of_the_90_day_count(result: list[Row]) -> None:
    channels = ["branch", "atm", "mobile_app", "online_banking", "wechat", "mini_program",
                "pos", "third_party"]
    assert_columns(
        result,
        [f"share_txn_{c}_90d" for c in channels],
        [
            ("chan", 0.0, 0.25, 0.5, 0.0, 0.25, 0.0, 0.0, 0.0),
            ("oldchan", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        ],
    )


def test_earlier_as_of_ignores_rows_after_it(spark_clean: SparkSession) -> None:
    rows: list[tuple[Any, ...]] = [
        txn(c, days_before(n), 10 + n, "credit" if n % 3 else "debit",
            category="salary" if n % 3 else "wealth_purchase")
        for c, step in (("a", 7), ("b", 11))
        for n in range(-60, 400, step)
    ]
    earlier = dt.date(2026, 9, 15)
    all_rows = txns(spark_clean, rows)
    known_then = all_rows.where(F.col("txn_ts") < F.lit(dt.datetime(2026, 9, 15)))
    assert_df_equality(
        transaction_features(all_rows, as_of=earlier, child_mcc=CHILD_MCC),
        transaction_features(known_then, as_of=earlier, child_mcc=CHILD_MCC),
        ignore_row_order=True,
        ignore_nullable=True,
    )
