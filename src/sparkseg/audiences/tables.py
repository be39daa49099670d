"""Tables written by the ``audiences`` stage (docs/contracts.md, "gold tables")."""

from __future__ import annotations

from sparkseg.tables import DB, D, L, S, TableSpec, schema

AUDIENCE_MEMBERS = TableSpec(
    "gold/audience_members",
    schema(("audience", S), ("one_id", S), ("group", S), ("as_of_date", D)),
    ("as_of_date",),
)
# One row per audience, response metric and audience as-of date. The window is
# [window_start, window_end) (end exclusive) after the audience's as-of date.
CAMPAIGN_EVALUATION = TableSpec(
    "gold/campaign_evaluation",
    schema(
        ("audience", S), ("as_of_date", D), ("window_start", D), ("window_end", D),
        ("metric", S), ("target_n", L), ("target_responders", L), ("target_rate", DB),
        ("control_n", L), ("control_responders", L), ("control_rate", DB), ("diff", DB),
        ("ci_low", DB), ("ci_high", DB),
    ),
    ("as_of_date",),
)
