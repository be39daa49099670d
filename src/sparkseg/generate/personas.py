"""What each planted persona looks like: the parameters the builders draw from.

The tables are data, in ``sparkseg/resources/personas.yaml`` (one per behaviour, keyed
by persona name; docs/contracts.md): here they get their names and Python types, and
every table keyed by persona is checked to list exactly the personas of
:data:`~sparkseg.generate.config.PERSONAS`. The numbers are plausible for a mid-sized
Chinese retail bank (yuan, monthly counts); they separate the personas in features while
leaving overlap, so that clustering has real work to do.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from sparkseg.generate.config import PERSONAS

W = dict[str, float]

_TABLES: dict[str, Any] = yaml.safe_load(
    (resources.files("sparkseg") / "resources" / "personas.yaml").read_text(encoding="utf-8")
)


def _by_persona(name: str) -> dict[str, Any]:
    """Table ``name``, which must have one entry per persona, in the file's order."""
    table: dict[str, Any] = _TABLES[name]
    if sorted(table) != sorted(PERSONAS):
        raise ValueError(f"personas.yaml: {name} lists {sorted(table)}, not {sorted(PERSONAS)}")
    return table


def _pairs(name: str) -> dict[str, tuple[float, float]]:
    return {p: (lo, hi) for p, (lo, hi) in _by_persona(name).items()}


AGE: dict[str, tuple[float, float]] = _pairs("age")
TENURE_YEARS: dict[str, tuple[float, float]] = _pairs("tenure_years")
GENDER_FEMALE: dict[str, float] = _by_persona("gender_female")
CITY_TIER: dict[str, W] = _by_persona("city_tier")
OCCUPATION: dict[str, W] = _by_persona("occupation")
INCOME_BANDS: tuple[str, ...] = tuple(_TABLES["income_bands"])
INCOME_SALARY: tuple[float, ...] = tuple(_TABLES["income_salary"])
INCOME: dict[str, W] = _by_persona("income")
RISK: dict[str, W] = _by_persona("risk")
HOLDS: dict[str, dict[str, float]] = _by_persona("holds")
AUM_MEDIAN: dict[str, float] = _by_persona("aum_median")
AUM_SIGMA: dict[str, float] = _by_persona("aum_sigma")
AUM_SPLIT: dict[str, dict[str, float]] = _by_persona("aum_split")
BALANCE_NOISE: dict[str, float] = _by_persona("balance_noise")
BALANCE_DRIFT: dict[str, float] = _by_persona("balance_drift")
SALARY_PROB: dict[str, float] = _by_persona("salary_prob")
# Pension credits are smaller than the income band suggests.
SALARY_FACTOR: dict[str, float] = {p: 1.0 for p in PERSONAS} | {"silver_depositor": 0.45}
TXN_RATE: dict[str, float] = _by_persona("txn_rate")
EVENT_RATE: dict[str, float] = _by_persona("event_rate")
CATEGORY: dict[str, W] = _by_persona("category")
TRANSFER_OUT: dict[str, float] = _by_persona("transfer_out")
TXN_CHANNEL: dict[str, W] = _by_persona("txn_channel")
CATEGORY_CHANNELS: dict[str, tuple[str, ...]] = {c: tuple(chs) for c, chs in _TABLES["category_channels"].items()}
CATEGORY_MEDIAN: dict[str, float] = _TABLES["category_median"]
CATEGORY_SIGMA: dict[str, float] = _TABLES["category_sigma"]
SPEND_LEVEL: dict[str, float] = _by_persona("spend_level")
MCC: dict[str, W] = _by_persona("mcc")
CHILD_MCC: W = _TABLES["child_mcc"]
CHILD_MCC_SHARE: float = _TABLES["child_mcc_share"]
MCC_LEVEL: dict[str, float] = _TABLES["mcc_level"]
EVENT_CHANNEL: dict[str, W] = _by_persona("event_channel")
EVENT_TYPE: dict[str, W] = _by_persona("event_type")
VIEWED_PRODUCT: dict[str, W] = _by_persona("viewed_product")
ACTIVE_HOUR: dict[str, tuple[float, float]] = _pairs("active_hour")
HAS_DEVICE: dict[str, float] = _by_persona("has_device")
SECOND_DEVICE: dict[str, float] = _by_persona("second_device")
HAS_WECHAT: dict[str, float] = _by_persona("has_wechat")
HAS_WEB: dict[str, float] = _by_persona("has_web")
PREFERRED_CHANNEL: dict[str, W] = _by_persona("preferred_channel")
STYLE_NOISE: float = _TABLES["style_noise"]
