"""Config of the ``ingest`` stage (validation and quarantine)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from sparkseg._model import Section


class IngestConfig(Section):
    # Above this share of bad rows in any raw table the stage fails and writes nothing.
    max_bad_share: float = Field(0.05, ge=0.0, le=1.0)
    # Event times (txn_ts, event_ts, observed_ts, snapshot_date) before this day are bad:
    # the bank's digital records start long after; earlier values are placeholders (1970-01-01).
    earliest_event_date: dt.date = dt.date(1990, 1, 1)
    # Customer life dates (birth_date, open_date) before this day are bad.
    earliest_customer_date: dt.date = dt.date(1900, 1, 1)
