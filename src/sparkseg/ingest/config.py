"""Config of the ``ingest`` stage (validation and quarantine)."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class IngestConfig(Section):
    # Above this share of bad rows in any raw table the stage fails and writes nothing.
    max_bad_share: float = Field(0.05, ge=0.0, le=1.0)
