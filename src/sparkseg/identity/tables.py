"""Tables written by the ``identity`` stage (contracts in docs/contracts.md)."""

from __future__ import annotations

from sparkseg.tables import D, L, S, TableSpec, schema

# Every identifier seen in the silver partition of the as-of, with its ONE_ID.
IDENTITY_MAP = TableSpec(
    "silver/identity_map",
    schema(
        ("id_type", S), ("id_value", S), ("one_id", S), ("customer_id", S), ("as_of_date", D),
    ),
    ("as_of_date",),
)

# Identifiers linked directly to more customers than identity.max_customers_per_id (not
# used to merge), and anonymous components linked to more (attributed to no customer;
# named by their smallest identifier).
IDENTITY_EXPLODED = TableSpec(
    "ops/identity_exploded",
    schema(("as_of_date", D), ("id_type", S), ("id_value", S), ("customers", L)),
    ("as_of_date",),
)

# Identifiers whose ONE_ID differs from the one they had at the latest earlier as-of of
# silver/identity_map: each merge (an anonymous component joining a customer or another
# component), move (to another customer) or detachment (from a customer to anonymous).
IDENTITY_CHANGES = TableSpec(
    "ops/identity_changes",
    schema(
        ("as_of_date", D), ("prev_as_of_date", D), ("id_type", S), ("id_value", S),
        ("from_one_id", S), ("to_one_id", S), ("change", S),
    ),
    ("as_of_date",),
)
