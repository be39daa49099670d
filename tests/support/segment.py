"""Small, clearly separated customer groups for the segmentation tests."""

from __future__ import annotations

import datetime as dt

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from sparkseg.tables import TableSpec, schema

AS_OF = dt.date(2026, 1, 31)
# Only the columns the tests cluster on (the real table has many more).
FEATURES_SPEC = TableSpec(
    "silver/customer_features",
    schema(
        ("one_id", T.StringType()), ("aum", T.DoubleType()), ("txn_count_90d", T.LongType()),
        ("age", T.LongType()), ("as_of_date", T.DateType()),
    ),
    ("as_of_date",),
)
SEGMENT_SECTION = {
    "features": [
        {"name": "aum", "transform": "log1p"},
        {"name": "txn_count_90d", "impute": "zero", "transform": "log1p"},
        {"name": "age"},
    ],
    "algorithms": ["kmeans"],
    "k_min": 4,
    "k_max": 4,
    "max_iter": 10,
    "seed": 1,
}
# Four planted groups: wealthy, busy, senior, and plain customers.
GROUPS = ("wealthy", "busy", "senior", "plain")


def blob_rows(per_group: int = 60, seed: int = 0, as_of: dt.date = AS_OF) -> list[tuple]:
    """(one_id, aum, txn_count_90d, age, as_of_date, group) rows, groups far apart."""
    rng = np.random.default_rng(seed)
    rows = []
    for g, name in enumerate(GROUPS):
        for i in range(per_group):
            log_aum = (12.0 if name == "wealthy" else 8.0) + 0.2 * rng.standard_normal()
            log_txn = (4.0 if name == "busy" else 1.5) + 0.2 * rng.standard_normal()
            age = (70.0 if name == "senior" else 35.0) + 3.0 * rng.standard_normal()
            rows.append(
                (f"{name}-{i:03d}", float(np.exp(log_aum)), round(np.exp(log_txn)),
                 round(age), as_of, g)
            )
    return rows


def blob_features(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    """The rows as a features table (without the planted group)."""
    return spark.createDataFrame([r[:5] for r in rows], FEATURES_SPEC.schema)
