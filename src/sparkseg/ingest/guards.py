"""Extract guards: a stale, empty or shrunken raw table stops ingest before it writes.

Row rules catch broken rows; these catch a broken *delivery*: yesterday's extract that
never arrived (every customer would turn dormant downstream), an empty event table
(0 % bad rows, yet nothing to segment on), a partial load. Every figure comes from the
counting job ingest runs anyway (:func:`row_counts`): it groups the valid rows by their
day, so freshness and volume add no pass over the tables and collect a few dozen rows.

Checks, per raw table, in this order (only the first failure of a table is reported):

1. **empty**: a table with no rows at all fails, unless listed in ``ingest.allow_empty``
   (raw/customers never may be empty); an allowed empty table skips 2 and 3.
2. **freshness**: the newest event date among valid rows before the as-of (txn_ts,
   event_ts, observed_ts as a date in the session time zone; snapshot_date) must be at
   most ``ingest.max_staleness_days.<table>`` days before the as-of.
3. **volume**: valid rows dated the day before the as-of ("the latest day") against the
   baseline, the median of the daily counts of the ``ingest.volume.window_days`` days
   before it that hold rows. Below ``min_ratio`` or above ``max_ratio`` times the
   baseline fails. Skipped (and logged) with fewer than ``min_history_days`` such days,
   or a baseline under ``min_baseline_rows`` rows a day.

Figures are counted on the frame that flags duplicates by key alone (see
``with_duplicates(survivor=False)``): when copies of a key differ in their event time,
which copy is counted may differ from the one silver keeps. That moves a day's count by
at most the number of such copies, a negligible share of any table worth checking.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.errors import DataQualityError
from sparkseg.ingest.config import IngestConfig
from sparkseg.ingest.incremental import SilverState
from sparkseg.ingest.validate import REASON
from sparkseg.tables import EVENT_TIME, RAW_CUSTOMERS

_DAYS_AGO = "_days_ago"
_NEWEST = "_newest"


@dataclass(frozen=True)
class TableCounts:
    """What the counting job learnt about one raw table."""

    table: str
    # Rows per reason (None: valid rows).
    reasons: dict[str | None, int]
    # The newest event date among valid rows before the as-of (None: no such row).
    newest: dt.date | None = None
    # Valid rows per day, keyed by days before the as-of (1 = the day before), for the
    # days 1 .. window_days + 1; days without rows are absent.
    daily: dict[int, int] = field(default_factory=dict)
    # Valid rows earlier runs already ingested (the silver state): a daily batch with no
    # rows of a table that silver holds is not an empty table.
    known_rows: int = 0

    @property
    def rows(self) -> int:
        return sum(self.reasons.values())


def with_known(c: TableCounts, state: SilverState | None, *, as_of: dt.date,
               window_days: int) -> TableCounts:
    """The batch's figures plus what silver already holds: the guards' view of the table.

    Newest date and rows per day of the volume window come from the silver state (see
    ingest/incremental.py), so a one-day batch is checked against the days before it
    without re-reading silver.
    """
    if state is None:
        return c
    daily = dict(c.daily)
    for day, n in state.daily.items():
        ago = (as_of - day).days
        if 1 <= ago <= window_days + 1:
            daily[ago] = daily.get(ago, 0) + n
    before = [d for d in state.daily if d < as_of]
    if state.newest is not None and state.newest < as_of:
        before.append(state.newest)
    newest = max([d for d in (c.newest, *before) if d is not None], default=None)
    return replace(c, newest=newest, daily=daily, known_rows=state.rows)


def _activity(table: str, as_of: dt.date, window_days: int) -> tuple[Column, Column]:
    """(days-ago bucket, newest date) expressions of a table's valid rows before ``as_of``."""
    column = EVENT_TIME.get(table)
    if column is None:
        return F.lit(None).cast("int"), F.max(F.lit(None).cast("date"))
    # Calendar days as features count them (windows.days_ago): the date in the session
    # time zone, so "the day before the as-of" means the same here and downstream.
    day = F.to_date(F.col(column))
    days_ago = F.datediff(F.lit(as_of), day)
    before = F.col(REASON).isNull() & (days_ago >= 1)
    bucket = F.when(before & (days_ago <= window_days + 1), days_ago)
    return bucket, F.max(F.when(before, day))


def row_counts(
    flagged: Mapping[str, DataFrame], *, as_of: dt.date, window_days: int
) -> dict[str, TableCounts]:
    """Rows per reason, plus newest valid date and daily valid rows, in one Spark job.

    Each frame needs its contract columns plus ``reason``. Groups are (reason, day in the
    window or null): at most reasons + window_days + 1 rows per table come back.
    """
    per_table = []
    for table, df in flagged.items():
        bucket, newest = _activity(table, as_of, window_days)
        per_table.append(
            df.groupBy(REASON, bucket.alias(_DAYS_AGO))
            .agg(F.count(F.lit(1)).alias("count"), newest.alias(_NEWEST))
            .select(F.lit(table).alias("table"), REASON, _DAYS_AGO, "count", _NEWEST)
        )
    reasons: dict[str, dict[str | None, int]] = {t: {} for t in flagged}
    daily: dict[str, dict[int, int]] = {t: {} for t in flagged}
    newest_of: dict[str, dt.date | None] = dict.fromkeys(flagged)
    for r in reduce(DataFrame.unionByName, per_table).collect():
        t, n = r["table"], int(r["count"])
        reasons[t][r[REASON]] = reasons[t].get(r[REASON], 0) + n
        if r[_DAYS_AGO] is not None:
            daily[t][int(r[_DAYS_AGO])] = n
        seen = newest_of[t]
        if r[_NEWEST] is not None and (seen is None or r[_NEWEST] > seen):
            newest_of[t] = r[_NEWEST]
    return {t: TableCounts(t, reasons[t], newest_of[t], daily[t]) for t in flagged}


def _short(table: str) -> str:
    return table.split("/", 1)[1]


def _fmt(x: float) -> str:
    return f"{x:g}"


def check_empty(c: TableCounts, limits: IngestConfig) -> str | None:
    """A failure line if the table has no rows and may not be empty."""
    if c.rows:
        return None
    if c.table == RAW_CUSTOMERS.name:
        return f"{c.table} is empty (0 rows; it may never be)"
    if _short(c.table) in limits.allow_empty:
        return None
    return f"{c.table} is empty (0 rows; list {_short(c.table)} in ingest.allow_empty to accept that)"


def check_freshness(c: TableCounts, limits: IngestConfig, as_of: dt.date) -> str | None:
    """A failure line if the newest valid event date is older than the table's limit."""
    column = EVENT_TIME.get(c.table)
    if column is None:
        return None
    name = _short(c.table)
    limit = getattr(limits.max_staleness_days, name)
    if limit is None:
        return None
    setting = f"ingest.max_staleness_days.{name} = {limit}"
    if c.newest is None:
        return f"{c.table} is stale: no valid row with {column} before as-of {as_of} ({setting})"
    age = (as_of - c.newest).days
    if age <= limit:
        return None
    return (f"{c.table} is stale: newest {column} {c.newest} is {age} days before "
            f"as-of {as_of} ({setting})")


def check_volume(c: TableCounts, limits: IngestConfig, as_of: dt.date) -> tuple[str | None, str]:
    """(failure line or None, log note) of the latest day's rows against the baseline."""
    v = limits.volume
    if c.table not in EVENT_TIME or _short(c.table) not in v.tables:
        return None, "volume not checked"
    latest = c.daily.get(1, 0)
    history = [n for d, n in c.daily.items() if 2 <= d <= v.window_days + 1 and n > 0]
    if len(history) < v.min_history_days:
        return None, (f"volume check skipped: {len(history)} day(s) with rows in the "
                      f"{v.window_days} before the latest (ingest.volume.min_history_days "
                      f"= {v.min_history_days})")
    # The median, not the mean: month-end, campaign and interest days are spikes that
    # would lift a mean; a weekday/weekend rhythm leaves the median in between.
    baseline = float(statistics.median(history))
    if baseline < v.min_baseline_rows:
        return None, (f"volume check skipped: baseline {_fmt(baseline)} rows/day is below "
                      f"ingest.volume.min_baseline_rows = {_fmt(v.min_baseline_rows)}")
    ratio = latest / baseline
    day = as_of - dt.timedelta(days=1)
    figure = (f"{latest} valid rows dated {day} are {ratio:.2f}x the median of "
              f"{_fmt(baseline)} rows/day over the {len(history)} days with rows before")
    if v.min_ratio is not None and ratio < v.min_ratio:
        return (f"{c.table} volume dropped: {figure} (ingest.volume.min_ratio = "
                f"{_fmt(v.min_ratio)})"), figure
    if v.max_ratio is not None and ratio > v.max_ratio:
        return (f"{c.table} volume jumped: {figure} (ingest.volume.max_ratio = "
                f"{_fmt(v.max_ratio)})"), figure
    return None, figure


def guard_results(
    counts: Mapping[str, TableCounts], limits: IngestConfig, as_of: dt.date
) -> tuple[list[str], dict[str, str]]:
    """(failure lines, one log note per table): the first failing check of each table."""
    failures: list[str] = []
    notes: dict[str, str] = {}
    for table, c in counts.items():
        newest = f"newest {EVENT_TIME[table]} {c.newest}" if table in EVENT_TIME else ""
        if not c.rows and not c.known_rows:
            empty = check_empty(c, limits)
            failures += [empty] if empty else []
            notes[table] = empty or "empty (allowed by ingest.allow_empty)"
            continue
        stale = check_freshness(c, limits, as_of)
        if stale:
            failures.append(stale)
            notes[table] = stale
            continue
        failed, note = check_volume(c, limits, as_of)
        failures += [failed] if failed else []
        notes[table] = "; ".join(s for s in (f"{c.rows} rows", newest, note) if s)
    return failures, notes


def check_guards(failures: list[str]) -> None:
    """Raise :class:`DataQualityError` (one line) naming every failing table."""
    if failures:
        raise DataQualityError("; ".join(failures) + "; nothing was written")
