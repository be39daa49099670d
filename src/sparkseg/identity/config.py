"""Config of the ``identity`` stage (ONE_ID stitching)."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class IdentityConfig(Section):
    # Propagation rounds before the stage gives up with ConvergenceError. A round moves
    # labels one hop, so this bounds the longest identifier chain (hops) that is stitched.
    max_rounds: int = Field(30, ge=1)
    # Truncate the label lineage every this many rounds (Spark plans grow with each round).
    checkpoint_every: int = Field(4, ge=1)
    # An identifier linked to more bank customers than this is not used to merge.
    max_customers_per_id: int = Field(3, ge=1)
    # Environment variable holding the key of the keyed hash for personal identifiers.
    hash_key_env: str = "SPARKSEG_HASH_KEY"
    pii_id_types: tuple[str, ...] = ("phone_hash",)
