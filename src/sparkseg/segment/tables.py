"""Tables written by the ``score`` and ``profile`` stages (columns per docs/contracts.md)."""

from __future__ import annotations

from pyspark.sql import types as T

from sparkseg.tables import DB, INT, L, S, TableSpec, schema

D = T.DateType()

SEGMENTS = TableSpec(
    "gold/segments",
    schema(
        ("one_id", S), ("segment_id", INT), ("segment_name", S), ("segment_name_zh", S),
        ("distance", DB), ("model_version", INT), ("as_of_date", D),
    ),
    ("as_of_date",),
)

SEGMENT_MIGRATION = TableSpec(
    "gold/segment_migration",
    schema(
        ("as_of_date", D), ("prev_as_of_date", D), ("from_segment_id", INT),
        ("to_segment_id", INT), ("customers", L),
    ),
    ("as_of_date",),
)

SEGMENT_PROFILES = TableSpec(
    "gold/segment_profiles",
    schema(
        ("as_of_date", D), ("segment_id", INT), ("model_version", INT), ("size", L),
        ("share", DB), ("name_en", S), ("name_zh", S),
    ),
    ("as_of_date",),
)

SEGMENT_FEATURE_STATS = TableSpec(
    "gold/segment_feature_stats",
    schema(
        ("as_of_date", D), ("segment_id", INT), ("feature", S), ("mean", DB), ("median", DB),
        ("lift_z", DB),
    ),
    ("as_of_date",),
)

# The features table is read by name so that this package does not depend on the
# features stage's module; its columns are fixed in docs/contracts.md.
CUSTOMER_FEATURES_NAME = "silver/customer_features"
