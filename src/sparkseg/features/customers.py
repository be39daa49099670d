"""Customer base: who gets a feature row at an as-of, with demographics, age and tenure."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

DEMOGRAPHICS = ("gender", "city_tier", "income_band", "occupation", "risk_level")


def age_at(birth_date: Column, as_of: dt.date) -> Column:
    """Age in whole years on ``as_of``: the birthday itself counts (an int, null if unknown).

    Year difference, minus one if the birthday has not come yet this year; someone born
    on 29 February turns a year older on 1 March in common years.
    """
    before_birthday = (F.lit(as_of.month) < F.month(birth_date)) | (
        (F.lit(as_of.month) == F.month(birth_date)) & (F.lit(as_of.day) < F.dayofmonth(birth_date))
    )
    return (F.lit(as_of.year) - F.year(birth_date) - F.when(before_birthday, 1).otherwise(0)).cast(
        "int"
    )


def customer_base(customers: DataFrame, *, as_of: dt.date) -> DataFrame:
    """One row per customer who was a customer before ``as_of``.

    Needs ``customer_id, birth_date, open_date`` and the demographic columns (gender,
    city_tier, income_band, occupation, risk_level). Keeps customers whose ``open_date``
    is before ``as_of`` (or unknown): one opened on or after as-of did not exist yet,
    which keeps back-fills point-in-time. Returns ``customer_id``, the demographics,
    ``age`` (whole years at as-of) and ``tenure_days`` (days since open_date).
    """
    opened = F.col("open_date")
    return customers.where(opened.isNull() | (opened < F.lit(as_of))).select(
        "customer_id",
        *DEMOGRAPHICS,
        age_at(F.col("birth_date"), as_of).alias("age"),
        F.datediff(F.lit(as_of), opened).alias("tenure_days"),
    )
