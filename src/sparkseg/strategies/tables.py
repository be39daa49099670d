"""Tables written by ``sparkseg plan`` (docs/contracts.md, "gold tables")."""

from __future__ import annotations

from sparkseg.tables import INT, D, S, TableSpec, schema

# One row per customer, strategy and step due on the as-of (the day it is to be sent:
# planned_date = as_of_date). group: target (contact), control (held out: step 1 only,
# never sent) or non_model (picked by the strategy's plain rule instead of the model's
# audience, contacted like the target). suppressed_by: null for a touch to send,
# 'touch_cap' when the contact policy cut it.
CONTACT_PLAN = TableSpec(
    "gold/contact_plan",
    schema(
        ("one_id", S), ("strategy", S), ("launch_date", D), ("step", INT), ("channel", S),
        ("planned_date", D), ("group", S), ("suppressed_by", S), ("as_of_date", D),
    ),
    ("as_of_date",),
)
