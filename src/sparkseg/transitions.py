"""Customers counted from one value to another between two as-ofs.

The shape shared by ``gold/segment_migration`` (segments) and
``gold/lifecycle_transitions`` (lifecycle stages).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def moves_between(
    previous: DataFrame | None,
    current: DataFrame,
    *,
    column: str,
    kind: str,
    as_of: dt.date,
    prev_as_of: dt.date | None,
) -> DataFrame:
    """Customers per (``from_<column>``, ``to_<column>``) between two as-ofs.

    Needs ``one_id`` and ``column`` (of Spark type ``kind``) in both; returns
    ``as_of_date, prev_as_of_date, from_<column>, to_<column>, customers``. Full outer
    join on ``one_id``: a null ``from_<column>`` is a customer new since ``prev_as_of``
    (every customer when ``previous`` is None), a null ``to_<column>`` one who is gone.
    """
    source, target = f"from_{column}", f"to_{column}"
    cur = current.select("one_id", F.col(column).alias(target))
    if previous is None:
        joined = cur.withColumn(source, F.lit(None).cast(kind))
    else:
        prev = previous.select("one_id", F.col(column).alias(source))
        joined = prev.join(cur, "one_id", "full_outer")
    return joined.groupBy(source, target).agg(
        F.count(F.lit(1)).alias("customers")
    ).select(
        F.lit(as_of).cast("date").alias("as_of_date"),
        F.lit(prev_as_of).cast("date").alias("prev_as_of_date"),
        F.col(source).cast(kind),
        F.col(target).cast(kind),
        F.col("customers").cast("long"),
    )
