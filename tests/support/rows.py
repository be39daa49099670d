"""The tests' one row builder: a table's row from its TableSpec, by column name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from sparkseg.tables import TableSpec


def row(spec: TableSpec, defaults: Mapping[str, Any] | None = None, **values: Any) -> tuple[Any, ...]:
    """One row of ``spec`` in its column order: ``values`` over ``defaults``, null elsewhere.

    A name that is not one of the spec's columns is a test bug, and fails here.
    """
    given = {**(defaults or {}), **values}
    unknown = set(given) - set(spec.columns)
    assert not unknown, f"{spec.name} has no column {sorted(unknown)}"
    return tuple(given.get(c) for c in spec.columns)


def frame(spark: SparkSession, spec: TableSpec, rows: Sequence[tuple[Any, ...]]) -> DataFrame:
    """``rows`` (tuples in the spec's column order) as a DataFrame of the spec's schema."""
    return spark.createDataFrame(list(rows), spec.schema)
