"""Config of the ``identity`` stage (ONE_ID stitching)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from sparkseg._model import Section

CheckpointMode = Literal["auto", "reliable", "local"]


class IdentityConfig(Section):
    # Breadth-first rounds of the nearest-customer search, run only inside anonymous
    # components linked to 2..max_customers_per_id customers (one round = one hop). An
    # identifier further than this from every customer of its component takes the
    # smallest customer_id linked to the component (logged). Components themselves take
    # O(log n) rounds whatever their diameter; data never raises ConvergenceError.
    max_rounds: int = Field(30, ge=1)
    # How each round's labels are checkpointed (every round cuts the lineage): "reliable"
    # writes them to the checkpoint folder (spark.checkpoint_dir; survives a lost
    # executor), "local" keeps them on the executors (fast; a lost executor fails the
    # stage, which the orchestrator retries), "auto" is reliable when a folder is set.
    checkpoint: CheckpointMode = "auto"
    # An identifier linked to more bank customers than this is not used to merge; an
    # anonymous component linked to more is attributed to no customer. Both are listed
    # in ops/identity_exploded.
    max_customers_per_id: int = Field(3, ge=1)
    # Environment variable holding the key of the keyed hash for personal identifiers.
    hash_key_env: str = Field("SPARKSEG_HASH_KEY", min_length=1)
    # Identifier types whose values are personal data, stored only as keyed hashes.
    # Every channel identifier is pseudonymous personal data (it singles out a person's
    # phone, device, WeChat account or browser); only customer_id, the bank's own key,
    # stays in clear. Hashing is consistent (one key), so links and events still join.
    pii_id_types: tuple[str, ...] = ("device_id", "wechat_openid", "web_cookie", "phone_hash")

    @field_validator("pii_id_types")
    @classmethod
    def _customer_id_stays_plain(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # customer_id is the ONE_ID of a bank customer: hashed, it would match no customer.
        if "customer_id" in value:
            raise ValueError("customer_id cannot be hashed: it is the ONE_ID of a customer")
        return value
