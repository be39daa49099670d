"""Config of ``sparkseg generate`` (synthetic raw tables)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from sparkseg._model import Section


class GenerateConfig(Section):
    customers: int = Field(20_000, ge=1)
    seed: int = 42
    months: int = Field(12, ge=1, le=60)
    # The last day covered by generated data (exclusive); the demo as-of date.
    end_date: dt.date = dt.date(2026, 11, 1)
    # Share of rows per raw table deliberately broken (null keys, duplicates, ...).
    dirty_share: float = Field(0.005, ge=0.0, le=0.5)
    txn_per_customer: float = Field(50.0, gt=0)
    events_per_customer: float = Field(50.0, gt=0)
