"""The assembled feature row: every customer once, fills, products, lifecycle, contract."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pyspark.sql import DataFrame, Row, SparkSession

from sparkseg.config import Config
from sparkseg.features.dictionary import check_against_dictionary, load_dictionary
from sparkseg.features.stage import build_features
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.tables import RAW_BALANCES, RAW_CUSTOMERS, RAW_EVENTS, RAW_TRANSACTIONS
from tests.support.config import REPO, make_config
from tests.support.features import (
    AS_OF,
    assert_columns,
    bal,
    collected,
    cust,
    days_before,
    evt,
    ids,
    raw_frames,
    txn,
)

D = dt.date
CUSTOMERS = [
    cust("busy", open_date=D(2020, 1, 1)),
    cust("idle", open_date=D(2026, 10, 1), birth_date=D(2000, 6, 15), gender="M"),
    cust("t90", open_date=D(2026, 8, 3)),      # tenure 90: out of the honeymoon, still new
    cust("t180", open_date=D(2026, 5, 5)),     # tenure 180: not new any more
    cust("unknown", open_date=None),           # tenure unknown: no lifecycle flag
]
# Columns a customer with no activity at all has as null (recency, rates, volatility).
NULL_WITHOUT_ACTIVITY = {
    "days_since_last_txn", "days_since_first_txn", "days_since_first_wealth_purchase",
    "days_since_last_event", "aum_cv_12m", "push_open_rate_90d", "sms_click_rate_90d",
    "wechat_open_rate_90d",
}


@pytest.fixture(scope="module")
def features(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> DataFrame:
    cfg: Config = make_config(tmp_path_factory.mktemp("unused"))
    frames = raw_frames(
        spark,
        customers=CUSTOMERS,
        transactions=[txn("busy", days_before(10), 50, product_type="credit_card")],
        balances=[bal("busy", "deposit", 1000, D(2026, 10, 31))],
        events=[evt("busy", days_before(2), "login")],
    )
    return build_features(
        frames[RAW_CUSTOMERS], frames[RAW_TRANSACTIONS], frames[RAW_BALANCES], frames[RAW_EVENTS],
        ids(spark, [("customer_id", "busy", "busy", "busy")]),
        cfg=cfg.features,
        as_of=AS_OF,
    )


@pytest.fixture(scope="module")
def result(features: DataFrame) -> list[Row]:
    return collected(features)


def test_output_has_the_contract_columns_types_and_order(features: DataFrame) -> None:
    CUSTOMER_FEATURES.conform(features)  # the columns and types of the contract, in order
    check_against_dictionary(
        features.schema, load_dictionary(REPO / "conf" / "features.yaml"), source="conf"
    )


def test_every_customer_gets_exactly_one_row_keyed_by_one_id(result: list[Row]) -> None:
    assert len(result) == len(CUSTOMERS)
    assert_columns(result, ["one_id", "as_of_date"], [(c[0], c[0], AS_OF) for c in CUSTOMERS])


def test_customer_with_no_activity_gets_zeros_and_null_recency(result: list[Row]) -> None:
    known: dict[str, Any] = {
        "one_id": "idle", "as_of_date": AS_OF, "tenure_days": 31,
        "age": 26, "gender": "M", "city_tier": 1, "income_band": "10k-20k",
        "occupation": "engineer", "risk_level": "R3", "is_new_customer": 1, "in_honeymoon": 1,
    }
    columns = CUSTOMER_FEATURES.columns[:1] + CUSTOMER_FEATURES.columns[2:]  # all but the key
    row: list[Any] = ["idle"]
    for field in CUSTOMER_FEATURES.schema.fields:
        if field.name == "customer_id":
            continue
        if field.name in known:
            row.append(known[field.name])
        elif field.name in NULL_WITHOUT_ACTIVITY:
            row.append(None)
        else:  # counts, amounts, shares, trend ratios, flags
            row.append(0.0 if field.dataType.simpleString() == "double" else 0)
    assert_columns(result, columns, [tuple(row)], precision=0.0)


def test_products_held_in_balances_or_used_in_transactions_both_count(
    result: list[Row],
) -> None:
    assert_columns(
        result,
        ["product_count", "has_credit_card", "has_loan", "has_mortgage", "has_wealth",
         "has_fund", "has_insurance", "total_balance", "debit_amount_30d", "login_count_30d"],
        [("busy", 2, 1, 0, 0, 0, 0, 0, 1000.0, 50.0, 1)],  # deposit held + card used
    )


def test_lifecycle_flags_follow_tenure(result: list[Row]) -> None:
    assert_columns(
        result,
        ["tenure_days", "is_new_customer", "in_honeymoon"],
        [
            ("busy", 2496, 0, 0),
            ("idle", 31, 1, 1),
            ("t90", 90, 1, 0),
            ("t180", 180, 0, 0),
            ("unknown", None, 0, 0),
        ],
    )
