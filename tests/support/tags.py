"""Hand-built input rows for tag and audience tests: neutral defaults plus overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from sparkseg.tables import TableSpec
from sparkseg.tags.inputs import CONTRACT_FEATURES, SEGMENT_COLUMNS
from tests.support.rows import frame, row

AS_OF = dt.date(2026, 6, 30)

FEATURES_SPEC = TableSpec(
    "silver/customer_features",
    T.StructType([T.StructField(n, t, True) for n, t in CONTRACT_FEATURES]),
    ("as_of_date",),
)
SEGMENTS_SPEC = TableSpec(
    "gold/segments",
    T.StructType(
        [
            T.StructField("one_id", T.StringType()),
            *(T.StructField(n, t) for n, t in SEGMENT_COLUMNS),
            T.StructField("as_of_date", T.DateType()),
        ]
    ),
    ("as_of_date",),
)
INPUT_SCHEMA = T.StructType(
    [*FEATURES_SPEC.schema.fields, *(T.StructField(n, t) for n, t in SEGMENT_COLUMNS)]
)
# What a tag rule reads: a customer's features joined with their segment (not a table).
INPUTS = TableSpec("silver/tag_inputs", INPUT_SCHEMA, ("as_of_date",))

# A 45-year-old, moderately active mass customer in segment 2 who earns no flag tag.
_NEUTRAL: dict[str, Any] = {
    "age": 45,
    "aum": 10000.0,
    "total_balance": 10000.0,
    "txn_count_30d": 5,
    "txn_count_90d": 15,
    "txn_count_prev_30_120d": 15,
    "txn_trend_ratio": 1.0,
    "event_count_90d": 4,
    "segment_id": 2,
    "segment_name": "steady_savers",
}


def _default(dtype: T.DataType) -> Any:
    if isinstance(dtype, T.IntegerType | T.LongType):
        return 0
    if isinstance(dtype, T.DoubleType):
        return 0.0
    return None


def input_row(one_id: str, as_of: dt.date = AS_OF, **overrides: Any) -> tuple[Any, ...]:
    """One features-and-segments row; unknown override names are a test bug."""
    defaults = {f.name: _default(f.dataType) for f in INPUT_SCHEMA.fields}
    defaults.update(_NEUTRAL)
    defaults.update({"one_id": one_id, "customer_id": one_id, "as_of_date": as_of})
    # Recency and first-purchase day counts are null when nothing happened.
    defaults.update(
        days_since_first_wealth_purchase=None, days_since_last_event=None, aum_cv_12m=None
    )
    return row(INPUTS, defaults, **overrides)


def input_frame(spark: SparkSession, rows: list[tuple[Any, ...]]) -> DataFrame:
    return frame(spark, INPUTS, rows)


def split_inputs(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(features, segments) tables from an input frame."""
    seg_cols = ["one_id", *(n for n, _ in SEGMENT_COLUMNS), "as_of_date"]
    return df.select(*FEATURES_SPEC.columns), df.select(*seg_cols)


# An established, steadily active customer: matches only `mature` of the default
# lifecycle stages.
MATURE_CUSTOMER: dict[str, Any] = {
    "tenure_days": 800, "days_since_last_txn": 3, "days_since_last_event": 2,
    "txn_count_30d": 5, "txn_count_prev_30_120d": 15, "txn_trend_ratio": 1.0,
    "aum": 10000.0, "aum_90d_ago": 10000.0, "aum_change_90d": 0.0,
}


def mature_features(
    spark: SparkSession, rows: dict[str, dict[str, Any]], as_of: dt.date = AS_OF
) -> DataFrame:
    """A features table: per ``one_id``, the mature customer with that row's overrides."""
    built = [input_row(one_id, as_of, **{**MATURE_CUSTOMER, **over}) for one_id, over in rows.items()]
    return split_inputs(input_frame(spark, built))[0]
