"""Config of ``sparkseg retain``."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class RetentionConfig(Section):
    # Days of as-of partitions kept before the as-of: `sparkseg retain` at as-of D drops
    # as_of_date < D - keep_days from the gold tables and silver/customer_features.
    # None keeps everything (retain then does nothing); --keep-days overrides it.
    keep_days: int | None = Field(None, ge=1)
