"""Config of the ``ingest`` stage (validation, quarantine and the extract guards)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from sparkseg._model import Section

# Raw tables by short name, as config keys name them. raw/customers is not among them: it
# has no event time (no freshness or volume) and may never be empty.
GuardedTable = Literal["transactions", "balances", "events", "identity_links"]
# Tables with an event time per row, where "rows of one day" is meaningful. Balances are
# month-end snapshots: a daily count compares a snapshot day with 29 days of nothing.
DailyTable = Literal["transactions", "events", "identity_links"]


class StalenessDays(Section):
    """Per table: the newest valid event time before the as-of may be this many days old.

    ``null`` switches the check off for that table. Days are whole calendar days from the
    date of the newest row to the as-of (a row dated the day before the as-of is 1 day old).
    """

    # A daily extract: two missed deliveries (a weekend, a holiday) pass, a third fails.
    transactions: int | None = Field(3, ge=1)
    # Month-end snapshots: the latest month end is at most 31 days old when the extract is
    # on time; 45 leaves two weeks for a late month-end load.
    balances: int | None = Field(45, ge=1)
    events: int | None = Field(3, ge=1)
    # Links are observed rarely (a new device, a new phone): weeks without one are normal.
    identity_links: int | None = Field(None, ge=1)


class VolumeCheck(Section):
    """Rows of the day before the as-of against the days before it (see guards.py)."""

    # Tables whose daily volume is checked; [] switches the check off.
    tables: tuple[DailyTable, ...] = ("transactions", "events")
    # The latest day fails below min_ratio or above max_ratio times the baseline (the
    # median rows per day over the window); null switches that side off.
    min_ratio: float | None = Field(0.2, ge=0.0)
    # 10, not 5: a quarterly interest posting (one row per deposit account) is a legitimate
    # spike; on generated data that day holds 8.4x the median (see docs/decisions.md).
    max_ratio: float | None = Field(10.0, gt=0.0)
    # Days before the latest one that make the baseline.
    window_days: int = Field(28, ge=1, le=366)
    # Fewer days with rows in the window: too little history, the check is skipped.
    min_history_days: int = Field(7, ge=1)
    # A baseline below this many rows a day is skipped: day-to-day noise of a handful of
    # rows (a test bank, a pilot branch) would make any ratio meaningless.
    min_baseline_rows: float = Field(100.0, ge=0.0)

    @model_validator(mode="after")
    def _consistent(self) -> VolumeCheck:
        if self.min_history_days > self.window_days:
            raise ValueError("min_history_days must not exceed window_days")
        if (self.min_ratio is not None and self.max_ratio is not None
                and self.min_ratio >= self.max_ratio):
            raise ValueError("min_ratio must be below max_ratio")
        return self


class IngestConfig(Section):
    # Rebuild silver from the whole raw tables instead of reading what is new
    # (`sparkseg ingest --full-refresh`; see ingest/incremental.py).
    full_refresh: bool = False
    # Above this share of bad rows in any raw table the stage fails and writes nothing.
    max_bad_share: float = Field(0.05, ge=0.0, le=1.0)
    # Event times (txn_ts, event_ts, observed_ts, snapshot_date) before this day are bad:
    # the bank's digital records start long after; earlier values are placeholders (1970-01-01).
    earliest_event_date: dt.date = dt.date(1990, 1, 1)
    # Customer life dates (birth_date, open_date) before this day are bad.
    earliest_customer_date: dt.date = dt.date(1900, 1, 1)
    # Extract guards: a stale, empty or shrunken extract stops the stage (exit 5) before
    # anything is written, like the bad-row ceiling.
    max_staleness_days: StalenessDays = StalenessDays()
    # Raw tables that may hold no rows at all (raw/customers never may).
    allow_empty: tuple[GuardedTable, ...] = ("identity_links",)
    volume: VolumeCheck = VolumeCheck()
