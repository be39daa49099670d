"""Reading silver point in time: every stage reads the validated tables through here.

Silver holds one copy of each raw table (see :func:`sparkseg.tables.silver_of`):

* event tables, append-only and partitioned by ``event_month``: :func:`read_events`
  reads only the months of a window (partition pruning) and then filters the event
  time exactly, so what a stage sees depends only on the window, never on how the rows
  were ingested (one day at a time, out of order, or a full refresh);
* ``silver/customers``, one row per customer and changed version: :func:`customers_as_of`
  gives each customer's version valid at an as-of.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sparkseg.errors import MissingTableError
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    EVENT_MONTH,
    EVENT_TIME,
    RAW_CUSTOMERS,
    RAW_VERSION,
    SILVER_TABLES,
    VALID_FROM,
    TableSpec,
)


def event_month(event_time: Column) -> Column:
    """The partition value of an event: the first day of its month (session time zone)."""
    return F.trunc(F.to_date(event_time), "month")


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    """First days of the months from ``start``'s month to ``end``'s month, inclusive."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def read_events(lake: Lakehouse, raw: TableSpec, *, start: dt.date, end: dt.date) -> DataFrame:
    """Rows of the silver copy of event table ``raw`` whose event date is in ``[start, end)``.

    Only the ``event_month`` partitions that can hold such dates are read (one day of
    margin each side, so a change of the session time zone between ingest and read moves
    no row out of the pruned months); the exact filter is on the event time itself.
    """
    spec = SILVER_TABLES[raw.name]
    day = F.to_date(F.col(EVENT_TIME[raw.name]))
    pruned = months(start - dt.timedelta(days=1), end)
    df = lake.read(spec, partitions={EVENT_MONTH: pruned})
    return df.where((day >= F.lit(start)) & (day < F.lit(end))).drop(EVENT_MONTH)


def customers_as_of(customers: DataFrame, as_of: dt.date) -> DataFrame:
    """Each customer's version valid at ``as_of``: the newest ``raw_version`` among rows
    whose ``valid_from`` is null (known since before the first ingest) or on or before
    ``as_of``. Needs the columns of silver/customers; returns the raw contract's columns.
    """
    valid = customers.where(F.col(VALID_FROM).isNull() | (F.col(VALID_FROM) <= F.lit(as_of)))
    newest = Window.partitionBy("customer_id").orderBy(
        F.col(RAW_VERSION).desc(), F.col(VALID_FROM).desc_nulls_last())
    ranked = valid.withColumn("_rank", F.row_number().over(newest))
    return ranked.where(F.col("_rank") == 1).select(*RAW_CUSTOMERS.columns)


def read_customers(lake: Lakehouse, as_of: dt.date) -> DataFrame:
    """silver/customers as of ``as_of`` (see :func:`customers_as_of`)."""
    return customers_as_of(lake.read(SILVER_TABLES[RAW_CUSTOMERS.name]), as_of)


def read_known_customers(lake: Lakehouse, as_of: dt.date) -> DataFrame:
    """:func:`read_customers`, or :class:`MissingTableError` when no customer is valid
    at ``as_of`` (a stage keyed on customers would write an empty result). Runs one
    small job (``isEmpty``)."""
    customers = read_customers(lake, as_of)
    if customers.isEmpty():
        spec = SILVER_TABLES[RAW_CUSTOMERS.name]
        raise MissingTableError(
            spec.name, lake.uri(spec), f"no customer valid at {as_of.isoformat()}; run ingest first"
        )
    return customers
