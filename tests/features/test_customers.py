"""Customer base: who gets a row at an as-of, age in whole years, tenure."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.features.customers import age_at, customer_base
from tests.support.features import AS_OF, assert_columns, cust, custs

D = dt.date


def test_age_is_whole_years_and_the_birthday_itself_counts(spark_clean: SparkSession) -> None:
    born = spark_clean.createDataFrame(
        [("on_birthday", D(1990, 11, 1)), ("day_before", D(1990, 11, 2)),
         ("leap_day", D(2000, 2, 29)), ("unknown", None)],
        "customer_id string, birth_date date",
    )
    got = born.select(
        "customer_id",
        age_at(F.col("birth_date"), AS_OF).alias("age"),
        age_at(F.col("birth_date"), D(2026, 2, 28)).alias("age_feb28"),
        age_at(F.col("birth_date"), D(2026, 3, 1)).alias("age_mar1"),
    )
    expected = spark_clean.createDataFrame(
        [("on_birthday", 36, 35, 35), ("day_before", 35, 35, 35), ("leap_day", 26, 25, 26),
         ("unknown", None, None, None)],
        "customer_id string, age int, age_feb28 int, age_mar1 int",
    )
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)


def test_customers_opened_on_or_after_as_of_are_not_customers_yet(
    spark_clean: SparkSession,
) -> None:
    rows = [
        cust("old", open_date=D(2026, 8, 3), gender="M", city_tier=2),
        cust("yesterday", open_date=D(2026, 10, 31)),
        cust("today", open_date=AS_OF),
        cust("later", open_date=D(2026, 12, 1)),
        cust("unknown_open", open_date=None),
    ]
    assert_columns(
        customer_base(custs(spark_clean, rows), as_of=AS_OF),
        ["gender", "city_tier", "income_band", "occupation", "risk_level", "age", "tenure_days"],
        [
            ("old", "M", 2, "10k-20k", "engineer", "R3", 36, 90),
            ("yesterday", "F", 1, "10k-20k", "engineer", "R3", 36, 1),
            ("unknown_open", "F", 1, "10k-20k", "engineer", "R3", 36, None),
        ],
    )
