"""Balance features: balances by product, AUM now and 90 days ago, AUM volatility, holdings.

One scan of the balance snapshots before as-of, aggregated in two steps: first per
customer and snapshot date (a month-end's products side by side, so that AUM per month
exists for the volatility), then per customer with every window as a conditional
aggregate. The second step runs on the much smaller per-month rows.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.features.windows import (
    count_if,
    days_ago,
    flag_if,
    money,
    sum_if,
    to_yuan,
    within,
)
from sparkseg.tables import PRODUCT_TYPES

# Assets under management: what the customer owns at the bank (not what they owe).
AUM_PRODUCTS = ("deposit", "wealth", "fund", "insurance")

# Columns of balance_features that stay null for a customer with no snapshot.
NULL_WHEN_ABSENT = frozenset({"aum_cv_12m"})


def held_flag(product_type: str) -> str:
    """Name of the internal "held this product in 365d" flag (combined with transactions)."""
    return f"held_{product_type}"


def _total(cols: list[Column]) -> Column:
    total = cols[0]
    for c in cols[1:]:
        total = total + c
    return total


def balance_features(balances: DataFrame, *, as_of: dt.date) -> DataFrame:
    """One row per customer with a balance snapshot before ``as_of``.

    Needs ``customer_id, product_type, balance, snapshot_date``. Returns ``customer_id``,
    ``balance_<product_type>``, ``total_balance`` (all products), ``aum`` (deposit + wealth
    + fund + insurance), all taken from the customer's latest snapshot date before as-of
    among the rows given (the stage gives ``features.history_days``: a customer whose last
    snapshot is older has none; a product missing from that month-end has been closed:
    0.0); ``aum_90d_ago`` (the same
    as of ``as_of - 90 days``, i.e. the latest snapshot strictly before it; 0.0 if none),
    ``aum_change_90d``, ``balance_months_12m`` (snapshot dates in 365d), ``aum_cv_12m``
    (population std / mean of month-end AUM in 365d; null with fewer than 3 snapshots or a
    zero mean), and internal ``held_<product_type>`` flags (a non-zero balance in 365d).
    """
    b = balances.where(F.col("snapshot_date") < F.lit(as_of)).select(
        "customer_id", "snapshot_date", "product_type", to_yuan(F.col("balance")).alias("balance")
    )
    # Step 1: one row per customer and month-end, products side by side.
    per_date = b.groupBy("customer_id", "snapshot_date").agg(
        *(sum_if(F.col("product_type").eqNullSafe(p), F.col("balance")).alias(p)
          for p in PRODUCT_TYPES)
    )
    zero = F.lit(0.0)
    per_date = per_date.select(
        "customer_id",
        "snapshot_date",
        *PRODUCT_TYPES,
        _total([F.coalesce(F.col(p), zero) for p in PRODUCT_TYPES]).alias("total"),
        _total([F.coalesce(F.col(p), zero) for p in AUM_PRODUCTS]).alias("aum"),
        days_ago(F.col("snapshot_date"), as_of).alias("d"),
    )
    d, aum = F.col("d"), F.col("aum")
    in_year = within(d, 365)
    snapshot = F.col("snapshot_date")
    # Step 2: one row per customer. One max_by per value rather than one over a struct:
    # a struct buffer forces a sort-based aggregate, plain values keep a hash aggregate.
    # max_by ignores rows whose ordering is null, so the when() restricts the "90 days
    # ago" pick to snapshots before as_of - 90 days.
    g = per_date.groupBy("customer_id").agg(
        *(F.max_by(F.col(c), snapshot).alias(f"latest_{c}")
          for c in (*PRODUCT_TYPES, "total", "aum")),
        F.max_by(aum, F.when(d > 90, snapshot)).alias("aum_90d_ago"),
        count_if(in_year).alias("balance_months_12m"),
        F.stddev_pop(F.when(in_year, aum)).alias("_aum_std"),
        F.avg(F.when(in_year, aum)).alias("_aum_mean"),
        *(flag_if(in_year & (F.col(p) != 0)).alias(held_flag(p)) for p in PRODUCT_TYPES),
    )
    current_aum = money(F.col("latest_aum"))
    aum_90d_ago = money(F.col("aum_90d_ago"))
    mean = F.col("_aum_mean")
    return g.select(
        "customer_id",
        *(money(F.col(f"latest_{p}")).alias(f"balance_{p}") for p in PRODUCT_TYPES),
        money(F.col("latest_total")).alias("total_balance"),
        current_aum.alias("aum"),
        aum_90d_ago.alias("aum_90d_ago"),
        money(current_aum - aum_90d_ago).alias("aum_change_90d"),
        "balance_months_12m",
        F.when((F.col("balance_months_12m") >= 3) & (mean != 0), F.col("_aum_std") / mean)
        .cast("double")
        .alias("aum_cv_12m"),
        *(held_flag(p) for p in PRODUCT_TYPES),
    )
