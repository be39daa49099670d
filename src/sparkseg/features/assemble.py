"""Join the per-table aggregates onto the customer base and finish the feature row."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.features import balances, events, transactions
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.tables import PRODUCT_TYPES

# Product flags published as columns (deposit counts in product_count only).
FLAGGED_PRODUCTS = ("credit_card", "loan", "mortgage", "wealth", "fund", "insurance")


def _filled(df: DataFrame, keep_null: frozenset[str]) -> list[Column]:
    """Every column but the key, with nulls (customer absent from this table) as 0."""
    out = []
    for field in df.schema.fields:
        if field.name == "customer_id":
            continue
        col = F.col(field.name)
        if field.name not in keep_null:
            col = F.coalesce(col, F.lit(0).cast(field.dataType))
        out.append(col.alias(field.name))
    return out


def assemble_features(
    base: DataFrame,
    txn: DataFrame,
    bal: DataFrame,
    evt: DataFrame,
    *,
    as_of: dt.date,
    new_customer_days: int,
    honeymoon_days: int,
) -> DataFrame:
    """The rows of silver/customer_features, in its column order.

    Needs ``base`` from :func:`customers.customer_base`, ``txn`` from
    :func:`transactions.transaction_features`, ``bal`` from
    :func:`balances.balance_features` and ``evt`` from :func:`events.event_features`, each
    keyed by ``customer_id``. Every customer of ``base`` gets one row: counts and
    amounts of a table they do not appear in are 0, recency and rates null. Adds the keys
    (``one_id`` = ``customer_id`` for bank customers, ``as_of_date``), product holdings
    (held in balances or used in transactions within 365d) and lifecycle flags.
    """
    joined = (
        base.join(txn, "customer_id", "left")
        .join(bal, "customer_id", "left")
        .join(evt, "customer_id", "left")
    )
    filled = joined.select(
        *(F.col(c) for c in base.columns),
        *_filled(txn, transactions.NULL_WHEN_ABSENT),
        *_filled(bal, balances.NULL_WHEN_ABSENT),
        *_filled(evt, events.NULL_WHEN_ABSENT),
    )
    holds = {
        p: F.greatest(F.col(transactions.used_flag(p)), F.col(balances.held_flag(p)))
        for p in PRODUCT_TYPES
    }
    tenure = F.col("tenure_days")
    product_count = holds[PRODUCT_TYPES[0]].cast("long")
    for p in PRODUCT_TYPES[1:]:
        product_count = product_count + holds[p]
    derived = {
        "one_id": F.col("customer_id"),
        "as_of_date": F.lit(as_of),
        "product_count": product_count.cast("long"),
        **{f"has_{p}": holds[p].cast("int") for p in FLAGGED_PRODUCTS},
        # Unknown tenure is not "new": the flag would otherwise drive welcome campaigns.
        "is_new_customer": F.coalesce((tenure < new_customer_days).cast("int"), F.lit(0)),
        "in_honeymoon": F.coalesce((tenure < honeymoon_days).cast("int"), F.lit(0)),
    }
    # No blanket cast to the spec's types: a transform that produces a wrong type should
    # fail the contract check (CUSTOMER_FEATURES.conform), not be coerced silently.
    return filled.select(
        *(derived[c].alias(c) if c in derived else F.col(c) for c in CUSTOMER_FEATURES.columns)
    )
