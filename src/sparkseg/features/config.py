"""Config of the ``features`` stage."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class FeaturesConfig(Section):
    honeymoon_days: int = Field(90, ge=1)
    new_customer_days: int = Field(180, ge=1)
    dictionary: str = "conf/features.yaml"
