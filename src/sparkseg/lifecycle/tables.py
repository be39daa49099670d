"""Tables written by the ``lifecycle`` stage (docs/contracts.md, "gold tables")."""

from __future__ import annotations

from sparkseg.tables import INT, B, D, L, S, TableSpec, schema

CUSTOMER_LIFECYCLE = TableSpec(
    "gold/customer_lifecycle",
    schema(
        ("one_id", S), ("customer_id", S), ("as_of_date", D), ("stage", S), ("stage_zh", S),
        ("by_fallback", B), ("previous_stage", S), ("previous_as_of_date", D),
        ("stage_since", D), ("days_in_stage", INT),
    ),
    ("as_of_date",),
)
LIFECYCLE_TRANSITIONS = TableSpec(
    "gold/lifecycle_transitions",
    schema(
        ("as_of_date", D), ("prev_as_of_date", D), ("from_stage", S), ("to_stage", S),
        ("customers", L),
    ),
    ("as_of_date",),
)
