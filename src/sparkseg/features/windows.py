"""``Column -> Column`` helpers shared by the feature transforms: windows and aggregates.

Every window is ``[as_of - N days, as_of)``, measured in whole calendar days of the
session time zone: a row's ``days_ago`` is ``datediff(as_of, to_date(ts))``, so a row at
exactly ``as_of`` has ``days_ago = 0`` (excluded everywhere), and one at
``as_of - N days`` (any time that day) has ``days_ago = N`` (inside the N-day window).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column
from pyspark.sql import functions as F

# bit_or over a long holds 64 distinct values per chunk.
_BITS = 64


def as_of_start(as_of: dt.date) -> Column:
    """Midnight at the start of ``as_of`` in the session time zone, as a timestamp."""
    return F.lit(as_of).cast("timestamp")


def days_ago(value: Column, as_of: dt.date) -> Column:
    """Whole days from the calendar date of ``value`` (timestamp or date) to ``as_of``."""
    return F.datediff(F.lit(as_of), F.to_date(value))


def within(days: Column, n: int) -> Column:
    """True when ``days`` (a ``days_ago`` value) lies in the window ``[as_of - n, as_of)``."""
    return days.between(1, n)


def count_if(cond: Column) -> Column:
    """Rows where ``cond`` holds (a long; 0 when none)."""
    return F.count(F.when(cond, F.lit(1)))


def sum_if(cond: Column, value: Column) -> Column:
    """Sum of ``value`` over rows where ``cond`` holds (null when none)."""
    return F.sum(F.when(cond, value))


def flag_if(cond: Column) -> Column:
    """1 when ``cond`` holds on any row, else 0 (an int flag)."""
    return F.coalesce(F.max(F.when(cond, F.lit(1))), F.lit(0)).cast("int")


def count_distinct_small(index: Column, size: int, cond: Column) -> Column:
    """Distinct values of ``index`` (an int in ``[0, size)``) among rows where ``cond`` holds.

    Why not ``countDistinct``: several distinct aggregates in one ``groupBy`` make Spark
    expand every input row once per distinct column (``Expand``), which multiplies the
    shuffle of the largest table. A bitmap per customer (``bit_or`` of ``1 << index``, one
    long per 64 values) keeps the aggregation a plain hash aggregate in one pass; the
    popcount of the bitmap is the distinct count. Used for days of a 30/90-day window
    and calendar months of a year.
    """
    parts = []
    for chunk in range(0, size, _BITS):
        in_chunk = cond & (index >= chunk) & (index < min(size, chunk + _BITS))
        bits = F.bit_or(F.when(in_chunk, F.call_function("shiftleft", F.lit(1).cast("long"), index - chunk)))
        parts.append(F.coalesce(F.bit_count(bits), F.lit(0)))
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total.cast("long")


def ratio(num: Column, den: Column, *, empty: Column | None = None) -> Column:
    """``num / den`` as double; ``empty`` (default null) when ``den`` is 0 or null."""
    fallback = empty if empty is not None else F.lit(None).cast("double")
    return F.when(den > 0, num.cast("double") / den.cast("double")).otherwise(fallback)


def to_yuan(amount: Column) -> Column:
    """A decimal(18,2) amount as double, for summing.

    Why double: sums of decimal(18,2) widen to decimal(28,2) and above, which Spark
    aggregates as BigDecimal objects (measured about 1.5x slower for the transaction
    aggregation); double sums of cent values rounded back to cents by :func:`money` are
    exact for any realistic per-customer total (error << 0.005 yuan below 1e9 yuan).
    """
    return amount.cast("double")


def money(value: Column) -> Column:
    """A summed amount in yuan rounded to cents; 0.0 when null (amounts of nothing are 0.0)."""
    return F.coalesce(F.round(value, 2), F.lit(0.0))
