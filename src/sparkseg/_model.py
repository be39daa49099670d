"""Base class for every typed config section: frozen, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A config section. Subclasses declare typed fields with defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
