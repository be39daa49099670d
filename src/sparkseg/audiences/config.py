"""Config of the ``audiences`` stage."""

from __future__ import annotations

from sparkseg._model import Section


class AudiencesConfig(Section):
    definitions: str = "conf/audiences.yaml"
