"""A small gold table for the lakehouse tests, on both Delta engines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from sparkseg.lakehouse import Lakehouse, offline
from sparkseg.tables import MONEY, TableSpec, schema

ENGINES = ("offline", "spark")
D1, D2 = dt.date(2026, 1, 31), dt.date(2026, 2, 28)
SPEC = TableSpec(
    "gold/sample",
    schema(("one_id", T.StringType()), ("amount", MONEY), ("n", T.LongType()),
           ("as_of_date", T.DateType())),
    ("as_of_date",),
)


def rows(spark: SparkSession, data: list[tuple[Any, ...]]) -> DataFrame:
    """``(one_id, amount, n, as_of_date)`` rows of SPEC; amounts given as floats."""
    fixed = [(a, Decimal(str(b)) if b is not None else None, c, d) for a, b, c, d in data]
    return spark.createDataFrame(fixed, SPEC.schema)


def sorted_rows(df: DataFrame) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in df.collect())


def crash_one_write(lake: Lakehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """An offline-engine append of SPEC killed after its data files, before its commit."""

    def crash(*_: Any, **__: Any) -> None:
        raise SystemExit("killed between data files and commit")

    monkeypatch.setattr(offline.DeltaTable, "create_write_transaction", crash)
    with pytest.raises(SystemExit):
        lake.write(rows(lake.spark, [("b", 1, 1, D1)]), SPEC, mode="append")
    monkeypatch.undo()
