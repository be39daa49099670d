"""Rule 7 (duplicate_key) on its own: the narrow candidate search and the exact window."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.ingest.validate import (
    REASON,
    RULES,
    duplicate_candidates,
    key_hash,
    with_duplicates,
)
from sparkseg.tables import RAW_BALANCES, RAW_IDENTITY_LINKS

SCHEMA = "customer_id string, product_type string, snapshot_date string, balance int, reason string"
# Balances: key (customer_id, product_type, snapshot_date); reason = rules 1-6.
ROWS = [
    # c1: three valid copies of one key; the smallest balance (100) survives.
    ("c1", "deposit", "2026-10-31", 300, None),
    ("c1", "deposit", "2026-10-31", 100, None),
    ("c1", "deposit", "2026-10-31", 200, None),
    # c1 in another product: a different key, alone.
    ("c1", "loan", "2026-10-31", 50, None),
    # c2: a broken copy (a null balance) does not compete: the valid row stays.
    ("c2", "deposit", "2026-10-31", None, "null_value:balance"),
    ("c2", "deposit", "2026-10-31", 900, None),
    # c3: exact copies: one stays, one is a duplicate.
    ("c3", "card", "2026-10-30", 7, None),
    ("c3", "card", "2026-10-30", 7, None),
]
# Worked out by hand from the comments above.
EXPECTED = [
    ("c1", "deposit", "2026-10-31", 100, None),
    ("c1", "deposit", "2026-10-31", 200, "duplicate_key"),
    ("c1", "deposit", "2026-10-31", 300, "duplicate_key"),
    ("c1", "loan", "2026-10-31", 50, None),
    ("c2", "deposit", "2026-10-31", None, "null_value:balance"),
    ("c2", "deposit", "2026-10-31", 900, None),
    ("c3", "card", "2026-10-30", 7, None),
    ("c3", "card", "2026-10-30", 7, "duplicate_key"),
]


@pytest.fixture
def checked(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(ROWS, SCHEMA)


def _sorted(df: DataFrame) -> DataFrame:
    return df.orderBy(*[F.col(c).asc_nulls_first() for c in df.columns])


def _expected(spark: SparkSession) -> DataFrame:
    return _sorted(spark.createDataFrame(EXPECTED, SCHEMA))


def test_candidates_are_the_keys_of_two_or_more_valid_rows(
    spark: SparkSession, checked: DataFrame
) -> None:
    rules = RULES[RAW_BALANCES.name]
    got = duplicate_candidates(checked, rules)
    want = checked.filter(F.col("customer_id").isin("c1", "c3") & (F.col("product_type") != "loan"))
    want = want.select(key_hash(rules, checked.columns).alias("_key_hash")).distinct()
    assert_df_equality(got, want, ignore_row_order=True)
    assert got.count() == 2  # c2's key has one valid row only


@pytest.mark.parametrize("broadcast", [True, False])
def test_every_valid_copy_but_the_smallest_is_a_duplicate(
    spark: SparkSession, checked: DataFrame, broadcast: bool
) -> None:
    rules = RULES[RAW_BALANCES.name]
    got = with_duplicates(checked, duplicate_candidates(checked, rules), rules, broadcast=broadcast)
    assert got.columns == checked.columns
    assert_df_equality(_sorted(got), _expected(spark))


def test_a_colliding_candidate_is_told_apart_by_the_exact_key(
    spark: SparkSession, checked: DataFrame
) -> None:
    """Every row's hash a candidate (as if all keys collided): the result is unchanged."""
    rules = RULES[RAW_BALANCES.name]
    every = checked.select(key_hash(rules, checked.columns).alias("_key_hash")).distinct()
    got = with_duplicates(checked, every, rules)
    assert_df_equality(_sorted(got), _expected(spark))


def test_whole_row_key_tables_flag_only_exact_copies(spark: SparkSession) -> None:
    rules = RULES[RAW_IDENTITY_LINKS.name]
    schema = ("id_type_a string, id_value_a string, id_type_b string, id_value_b string, "
              "source string, reason string")
    rows = [
        ("customer_id", "c1", "phone_hash", "p1", "crm", None),
        ("customer_id", "c1", "phone_hash", "p1", "crm", None),   # exact copy
        ("customer_id", "c1", "phone_hash", "p1", "app", None),   # another observation
        ("customer_id", "c2", "phone_hash", None, "crm", "null_key"),
        ("customer_id", "c2", "phone_hash", None, "crm", "null_key"),  # broken: not counted
    ]
    checked = spark.createDataFrame(rows, schema)
    got = with_duplicates(checked, duplicate_candidates(checked, rules), rules)
    reasons = sorted((r[REASON] or "") for r in got.collect())
    assert reasons == ["", "", "duplicate_key", "null_key", "null_key"]


def test_counting_mode_flags_as_many_copies_without_choosing_them(
    spark: SparkSession, checked: DataFrame
) -> None:
    rules = RULES[RAW_BALANCES.name]
    got = with_duplicates(checked, duplicate_candidates(checked, rules), rules, survivor=False)
    counts = {r[REASON]: r["count"] for r in got.groupBy(REASON).count().collect()}
    assert counts == {None: 4, "duplicate_key": 3, "null_value:balance": 1}
