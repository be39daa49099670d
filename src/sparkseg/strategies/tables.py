"""Tables written by ``sparkseg plan`` (docs/contracts.md, "gold tables")."""

from __future__ import annotations

from sparkseg.tables import DB, INT, D, L, S, TableSpec, schema

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
# `sparkseg evaluate` of launch date as_of_date (strategies/evaluate.py): per strategy,
# step, channel and group, the rows planned, sent, opened and converted.
STRATEGY_FUNNEL = TableSpec(
    "gold/strategy_funnel",
    schema(
        ("strategy", S), ("launch_date", D), ("step", INT), ("channel", S), ("group", S),
        ("planned", L), ("sent", L), ("opened", L), ("converted", L), ("as_of_date", D),
    ),
    ("as_of_date",),
)
# Per customer with a sent touch of a launch on as_of_date: the step and channel first
# opened on (null: none of them, the lost group).
STRATEGY_RESPONSES = TableSpec(
    "gold/strategy_responses",
    schema(
        ("one_id", S), ("strategy", S), ("group", S), ("touches", L), ("responded_step", INT),
        ("responded_channel", S), ("responded_on", D), ("as_of_date", D),
    ),
    ("as_of_date",),
)
# Per strategy, goal metric and comparison (control: the offer's uplift; non_model: the
# model's lift over the plain rule) of launch date as_of_date.
STRATEGY_EVALUATION = TableSpec(
    "gold/strategy_evaluation",
    schema(
        ("strategy", S), ("as_of_date", D), ("window_start", D), ("window_end", D),
        ("metric", S), ("comparison", S), ("target_n", L), ("target_responders", L),
        ("target_rate", DB), ("comparison_n", L), ("comparison_responders", L),
        ("comparison_rate", DB), ("diff", DB), ("ci_low", DB), ("ci_high", DB),
    ),
    ("as_of_date",),
)
