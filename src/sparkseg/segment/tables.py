"""Tables written by the ``score`` and ``profile`` stages (columns per docs/contracts.md)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from sparkseg.tables import DB, INT, L, S, TableSpec, check_columns, schema

if TYPE_CHECKING:  # the specs stay importable without the lakehouse (docs generator)
    from sparkseg.lakehouse import Lakehouse

D = T.DateType()

SEGMENTS = TableSpec(
    "gold/segments",
    schema(
        ("one_id", S), ("segment_id", INT), ("segment_name", S), ("segment_name_zh", S),
        ("distance", DB), ("model_version", INT), ("as_of_date", D),
    ),
    ("as_of_date",),
)

# The columns other stages join onto a customer: every column but the keys.
SEGMENT_COLUMNS: tuple[tuple[str, T.DataType], ...] = tuple(
    (f.name, f.dataType) for f in SEGMENTS.schema.fields if f.name not in ("one_id", "as_of_date")
)


def read_segments(lake: Lakehouse, as_of: dt.date) -> DataFrame:
    """``one_id`` plus the :data:`SEGMENT_COLUMNS` of ``gold/segments`` at ``as_of``
    (other columns a newer score may add are dropped); an empty as-of is missing."""
    segments = lake.read_as_of(SEGMENTS.name, as_of, hint="run `sparkseg score` first")
    expected = T.StructType(
        [T.StructField("one_id", S), *(T.StructField(n, t) for n, t in SEGMENT_COLUMNS)]
    )
    check_columns(segments.schema, expected, SEGMENTS.name, allow_extra=True)
    return segments.select(*expected.fieldNames())


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
