"""Base class for every typed config section: frozen, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# A name that becomes one path segment under the warehouse (model, table, audience): no
# separators, no "..", nothing hidden. Config fields use it as their pattern, so a bad
# name fails at config load, before Spark starts; lakehouse.names checks it again.
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$"


class Section(BaseModel):
    """A config section. Subclasses declare typed fields with defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
