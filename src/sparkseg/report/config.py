"""Config of ``sparkseg report``."""

from __future__ import annotations

from sparkseg._model import Section


class ReportConfig(Section):
    enabled: bool = True
