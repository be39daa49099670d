"""Config of the ``plan`` command: where the strategies file is.

The strategies themselves (营销策略: audience, eligibility, channel sequence, control
share, non-model comparison) and the contact policy across them live in their own file,
``strategies.definitions`` (conf/strategies.yaml), validated like the tag rules and the
audiences: :mod:`sparkseg.strategies.definitions`.
"""

from __future__ import annotations

from sparkseg._model import Section


class StrategiesConfig(Section):
    # Relative to the config file's folder (Config.resolve).
    definitions: str = "strategies.yaml"
