"""Transaction features: RFM, payroll, spending mix, wealth purchases, channel mix, trends.

All of them come from ONE ``groupBy(customer_id)`` over the transactions before as-of:
every window is a conditional aggregate (``sum(when(...))``), never a re-scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.features.windows import (
    as_of_start,
    count_distinct_small,
    count_if,
    days_ago,
    flag_if,
    money,
    ratio,
    sum_if,
    to_yuan,
    within,
)
from sparkseg.tables import PRODUCT_TYPES, TXN_CHANNELS

# Columns of transaction_features that stay null for a customer with no transaction.
NULL_WHEN_ABSENT = frozenset(
    {"days_since_last_txn", "days_since_first_txn", "days_since_first_wealth_purchase"}
)


def used_flag(product_type: str) -> str:
    """Name of the internal "used this product in 365d" flag (combined with balances)."""
    return f"used_{product_type}"


def _month_index(d: Column, as_of: dt.date) -> Column:
    """Calendar months from the month of ``d`` to the month of ``as_of`` (0 = same month)."""
    return (F.lit(as_of.year * 12 + as_of.month) - (F.year(d) * 12 + F.month(d))).cast("int")


def transaction_features(
    txns: DataFrame, *, as_of: dt.date, child_mcc: Sequence[str]
) -> DataFrame:
    """One row per customer with a transaction before ``as_of``.

    Needs ``customer_id, txn_ts, amount, direction, channel, category, product_type, mcc``.
    Returns ``customer_id`` plus the transaction columns of silver/customer_features
    (RFM, active_days_90d, payroll, spending mix, wealth purchases, channel shares,
    trends) and internal ``used_<product_type>`` flags (1 when the product appears on a
    transaction in 365d). Rows at or after ``as_of`` midnight are ignored, so an earlier
    as-of on data that runs past it sees only what was known then. The "first" columns
    (``days_since_first_txn``, ``days_since_first_wealth_purchase``) are over the rows
    given: the stage gives ``features.history_days`` of history, so they are at most that.
    """
    t = txns.where(F.col("txn_ts") < as_of_start(as_of)).select(
        "customer_id",
        to_yuan(F.col("amount")).alias("amount"),
        "channel",
        "product_type",
        "category",
        "mcc",
        F.col("direction").eqNullSafe("debit").alias("is_debit"),
        F.col("direction").eqNullSafe("credit").alias("is_credit"),
        days_ago(F.col("txn_ts"), as_of).alias("d"),
        _month_index(F.to_date("txn_ts"), as_of).alias("m"),
    )
    d, amount = F.col("d"), F.col("amount")
    debit, credit = F.col("is_debit"), F.col("is_credit")
    cat = F.col("category")
    salary = cat.eqNullSafe("salary") & credit
    consumption = cat.eqNullSafe("consumption") & debit
    wealth = cat.eqNullSafe("wealth_purchase")

    aggs: list[Column] = [
        F.min("d").alias("days_since_last_txn"),
        F.max("d").alias("days_since_first_txn"),
    ]
    for n in (30, 90, 365):
        aggs += [
            count_if(within(d, n)).alias(f"txn_count_{n}d"),
            sum_if(within(d, n) & debit, amount).alias(f"debit_amount_{n}d"),
            sum_if(within(d, n) & credit, amount).alias(f"credit_amount_{n}d"),
        ]
    prev = d.between(31, 120)  # [as_of - 120, as_of - 30)
    aggs += [
        count_distinct_small(d - 1, 90, within(d, 90)).alias("active_days_90d"),
        count_if(within(d, 365) & salary).alias("salary_count_365d"),
        # A 365-day window touches at most 13 calendar months.
        count_distinct_small(F.col("m"), 13, within(d, 365) & salary).alias("salary_months_12m"),
        sum_if(within(d, 90) & salary, amount).alias("salary_amount_90d"),
        sum_if(within(d, 90) & consumption, amount).alias("consumption_amount_90d"),
        count_if(within(d, 90) & consumption).alias("consumption_count_90d"),
        sum_if(within(d, 90) & cat.eqNullSafe("transfer") & debit, amount).alias(
            "transfer_out_amount_90d"
        ),
        sum_if(
            within(d, 365) & consumption & F.col("mcc").isin(*child_mcc), amount
        ).alias("child_related_spend_365d"),
        count_if(within(d, 30) & wealth).alias("wealth_purchase_count_30d"),
        count_if(within(d, 365) & wealth).alias("wealth_purchase_count_365d"),
        sum_if(within(d, 365) & wealth, amount).alias("wealth_purchase_amount_365d"),
        F.max(F.when(wealth, d)).alias("days_since_first_wealth_purchase"),
        count_if(prev).alias("txn_count_prev_30_120d"),
        sum_if(prev & debit, amount).alias("_debit_prev_30_120d"),
    ]
    aggs += [
        count_if(within(d, 90) & F.col("channel").eqNullSafe(c)).alias(f"_n_{c}")
        for c in TXN_CHANNELS
    ]
    aggs += [
        flag_if(within(d, 365) & F.col("product_type").eqNullSafe(p)).alias(used_flag(p))
        for p in PRODUCT_TYPES
    ]
    g = t.groupBy("customer_id").agg(*aggs)

    money_cols = [
        *(f"{k}_amount_{n}d" for k in ("debit", "credit") for n in (30, 90, 365)),
        "salary_amount_90d", "consumption_amount_90d", "transfer_out_amount_90d",
        "child_related_spend_365d", "wealth_purchase_amount_365d",
    ]
    g = g.select(
        *(money(F.col(c)).alias(c) if c in money_cols else F.col(c) for c in g.columns)
    )
    zero = F.lit(0.0)
    n90 = F.col("txn_count_90d")
    debit_prev = money(F.col("_debit_prev_30_120d"))
    return g.select(
        *(c for c in g.columns if not c.startswith("_")),
        ratio(F.col("consumption_amount_90d"), F.col("debit_amount_90d"), empty=zero).alias(
            "consumption_share_90d"
        ),
        *(ratio(F.col(f"_n_{c}"), n90, empty=zero).alias(f"share_txn_{c}_90d")
          for c in TXN_CHANNELS),
        # Last 30 days against the monthly average of the 90 before; max(1, .) keeps a
        # customer new to the window from dividing by zero.
        (F.col("txn_count_30d") / F.greatest(F.lit(1.0), F.col("txn_count_prev_30_120d") / 3.0))
        .alias("txn_trend_ratio"),
        (F.col("debit_amount_30d") / F.greatest(F.lit(1.0), debit_prev / 3.0)).alias(
            "debit_trend_ratio"
        ),
        money(F.col("credit_amount_90d") - F.col("debit_amount_90d")).alias("net_flow_90d"),
    )
