"""Tables written by the ``tags`` stage (docs/contracts.md, "gold tables")."""

from __future__ import annotations

from pyspark.sql import types as T

from sparkseg.tables import D, L, S, TableSpec, schema

CUSTOMER_TAGS = TableSpec(
    "gold/customer_tags",
    schema(
        ("one_id", S), ("tag", S), ("value", S), ("category", S), ("as_of_date", D),
        ("rule_version", S),
    ),
    ("as_of_date",),
)
CUSTOMER_TAGS_WIDE = TableSpec(
    "gold/customer_tags_wide",
    schema(("one_id", S), ("tags", T.ArrayType(S, True)), ("as_of_date", D)),
    ("as_of_date",),
)
TAG_COUNTS = TableSpec(
    "gold/tag_counts",
    schema(
        ("as_of_date", D), ("tag", S), ("value", S), ("customers", L), ("prev_customers", L),
        ("change", L),
    ),
    ("as_of_date",),
)
