"""The calendar of a generated data set: period, month ends, interest days, campaigns.

Everything here is a handful of dates (at most 60 months), computed on the driver and
handed to Spark as literals; nothing grows with the number of customers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sparkseg.generate.config import GenerateConfig

EPOCH = dt.date(1970, 1, 1)


def epoch_day(d: dt.date) -> int:
    return (d - EPOCH).days


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` moved by whole months, clamped to the month's last day."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(d.day, _month_len(year, month + 1)))


def _month_len(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    day: int  # epoch day the touches are sent
    product_id: str


@dataclass(frozen=True)
class Period:
    """``[start, end)`` of the generated history, as dates and epoch days."""

    start: dt.date
    end: dt.date
    month_starts: tuple[int, ...]  # first day of each month touching the period (epoch days)
    month_ends: tuple[int, ...]  # month-end snapshot days inside the period
    interest_days: tuple[int, ...]  # quarterly interest postings (21 Mar/Jun/Sep/Dec)
    campaigns: tuple[Campaign, ...]

    @property
    def start_day(self) -> int:
        return epoch_day(self.start)

    @property
    def end_day(self) -> int:
        return epoch_day(self.end)

    @property
    def days(self) -> int:
        return self.end_day - self.start_day

    @classmethod
    def of(cls, gen: GenerateConfig) -> Period:
        end = gen.end_date
        start = add_months(end, -gen.months)
        first = dt.date(start.year, start.month, 1)
        month_starts: list[int] = []
        month_ends: list[int] = []
        interest: list[int] = []
        m = first
        while m < end:
            month_starts.append(epoch_day(m))
            last = dt.date(m.year, m.month, _month_len(m.year, m.month))
            if start <= last < end:
                month_ends.append(epoch_day(last))
            posting = dt.date(m.year, m.month, 21)
            if m.month % 3 == 0 and start <= posting < end:
                interest.append(epoch_day(posting))
            m = add_months(m, 1)
        span = (end - start).days
        campaigns = []
        for k in range(gen.campaigns):
            day = start + dt.timedelta(days=int((k + 0.5) * span / gen.campaigns))
            # Campaigns promote a product that customers can also view in the app.
            product = ("WM", "FD", "CC", "IS")[k % 4] + f"{day:%y%m}{k + 1:02d}"
            campaigns.append(Campaign(f"CMP{day:%Y%m}{k + 1:02d}", epoch_day(day), product))
        return cls(start, end, tuple(month_starts), tuple(month_ends), tuple(interest),
                   tuple(campaigns))
