"""Balance features: latest month-end, AUM now and 90 days ago, volatility, holdings."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
from pyspark.sql import Row, SparkSession

from sparkseg.features.balances import balance_features
from tests.support.features import AS_OF, assert_columns, bal, bals, collected

D = dt.date
ROWS = [
    # "full": four month-ends in the last year, a fund closed before the latest one.
    bal("full", "deposit", 1000, D(2026, 10, 31)),
    bal("full", "wealth", 500, D(2026, 10, 31)),
    bal("full", "credit_card", 300, D(2026, 10, 31)),
    bal("full", "deposit", 800, D(2026, 9, 30)),
    bal("full", "wealth", 500, D(2026, 9, 30)),
    bal("full", "fund", 200, D(2026, 9, 30)),
    bal("full", "deposit", 600, D(2026, 8, 31)),
    bal("full", "deposit", 400, D(2026, 7, 31)),    # latest snapshot before as-of - 90d
    bal("full", "insurance", 100, D(2026, 7, 31)),
    bal("full", "deposit", 50, D(2025, 10, 31)),    # 366 days ago: outside 12 months
    bal("full", "deposit", 99999, D(2026, 11, 30)),  # after as-of: ignored
    bal("full", "deposit", 88888, D(2026, 11, 1)),   # at as-of: ignored
    # "two": exactly 90 days ago is not "before as-of - 90d"; zero loan is not held.
    bal("two", "deposit", 10, D(2026, 8, 3)),
    bal("two", "deposit", 20, D(2026, 8, 2)),
    bal("two", "loan", 0, D(2026, 8, 3)),
    bal("two", "mortgage", 5000, D(2026, 8, 3)),
    # "future": only a snapshot after as-of: no row at all.
    bal("future", "deposit", 1, D(2026, 11, 30)),
]


@pytest.fixture(scope="module")
def result(spark: SparkSession) -> list[Row]:
    return collected(balance_features(bals(spark, ROWS), as_of=AS_OF))


def test_customers_without_a_snapshot_before_as_of_get_no_row(result: list[Row]) -> None:
    assert sorted(r.customer_id for r in result) == ["full", "two"]


def test_balances_come_from_the_latest_month_end_and_closed_products_are_zero(
    result: list[Row],
) -> None:
    assert_columns(
        result,
        ["balance_deposit", "balance_wealth", "balance_fund", "balance_insurance",
         "balance_credit_card", "balance_loan", "balance_mortgage", "total_balance", "aum"],
        [
            ("full", 1000.0, 500.0, 0.0, 0.0, 300.0, 0.0, 0.0, 1800.0, 1500.0),
            ("two", 10.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5000.0, 5010.0, 10.0),
        ],
    )


def test_aum_90_days_ago_is_the_latest_snapshot_before_that_day(result: list[Row]) -> None:
    assert_columns(
        result,
        ["aum_90d_ago", "aum_change_90d", "balance_months_12m"],
        [("full", 500.0, 1000.0, 4), ("two", 20.0, -10.0, 2)],
    )


def test_aum_volatility_over_12_months_needs_three_snapshots(result: list[Row]) -> None:
    series = [1500.0, 1500.0, 600.0, 500.0]  # Oct, Sep, Aug, Jul month-end AUM
    cv = statistics.pstdev(series) / statistics.mean(series)
    assert_columns(result, ["aum_cv_12m"], [("full", cv), ("two", None)])


def test_products_held_are_nonzero_balances_in_365_days(result: list[Row]) -> None:
    assert_columns(
        result,
        ["held_deposit", "held_wealth", "held_fund", "held_insurance", "held_credit_card",
         "held_loan", "held_mortgage"],
        [("full", 1, 1, 1, 1, 1, 0, 0), ("two", 1, 0, 0, 0, 0, 0, 1)],
    )
