"""``Lakehouse.read_as_of`` and ``latest_as_of``: the one way stages read an as-of."""

from __future__ import annotations

import datetime as dt

import pytest

from sparkseg.errors import MissingTableError
from sparkseg.lakehouse import Lakehouse
from tests.support.lakehouse import SPEC, rows, sorted_rows

D1, D2, D3 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)


def _two_dates(lake: Lakehouse) -> None:
    lake.write(rows(lake.spark, [("a", 1, 1, D1), ("b", 2, 2, D1), ("c", 3, 3, D3)]), SPEC,
               mode="append")


def test_read_as_of_returns_that_partition_only(lake: Lakehouse) -> None:
    _two_dates(lake)
    got = lake.read_as_of(SPEC, D1, hint="run x first")
    assert sorted_rows(got.select("one_id", "n")) == [("a", 1), ("b", 2)]


def test_an_as_of_with_no_rows_is_missing_with_the_hint(lake: Lakehouse) -> None:
    _two_dates(lake)
    with pytest.raises(MissingTableError, match=r"gold/sample .*no rows for "
                       r"as_of_date=2026-02-28; run x first"):
        lake.read_as_of(SPEC, D2, hint="run x first")


def test_a_table_that_does_not_exist_is_missing(lake: Lakehouse) -> None:
    with pytest.raises(MissingTableError, match="gold/sample"):
        lake.read_as_of(SPEC, D1, hint="run x first")


def test_latest_as_of_before_and_on_or_before(lake: Lakehouse) -> None:
    assert lake.latest_as_of(SPEC) is None  # no table yet
    _two_dates(lake)
    assert lake.latest_as_of(SPEC) == D3
    assert lake.latest_as_of(SPEC, before=D3) == D1
    assert lake.latest_as_of(SPEC, on_or_before=D3) == D3
    assert lake.latest_as_of(SPEC, on_or_before=D2) == D1
    assert lake.latest_as_of(SPEC, before=D1) is None
