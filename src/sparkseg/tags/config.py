"""Config of the ``tags`` stage."""

from __future__ import annotations

from sparkseg._model import Section


class TagsConfig(Section):
    rules: str = "conf/tags.yaml"
