"""Tables written by one engine are read and extended by the other, and by delta-rs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from sparkseg.lakehouse import Lakehouse
from tests.support.config import make_config
from tests.support.lakehouse import D1, D2, SPEC, rows, sorted_rows


def _lakes(spark: SparkSession, tmp_path: Path) -> dict[str, Lakehouse]:
    return {e: Lakehouse(spark, make_config(tmp_path / "lake", engine=e))
            for e in ("offline", "spark")}


@pytest.mark.parametrize(("first", "second"), [("spark", "offline"), ("offline", "spark")])
def test_a_table_of_one_engine_is_extended_and_replaced_by_the_other(
    spark_clean: SparkSession, tmp_path: Path, first: str, second: str
) -> None:
    lakes = _lakes(spark_clean, tmp_path)
    lakes[first].write(rows(spark_clean, [("a", 1, 1, D1), ("b", 2, 2, D1)]), SPEC, mode="append")
    lakes[second].write(rows(spark_clean, [("c", 3, 3, D2)]), SPEC, mode="append")
    lakes[second].write(rows(spark_clean, [("z", 9, 9, D1)]), SPEC, mode="overwrite_partitions",
                        replace={"as_of_date": D1})
    want = [("c", Decimal("3.00"), 3, D2), ("z", Decimal("9.00"), 9, D1)]
    for engine in ("offline", "spark"):
        assert sorted_rows(lakes[engine].read(SPEC)) == want, engine
        assert lakes[engine].version(SPEC) == 2
    # The first version is still readable by both: the replaced files were only tombstoned.
    for engine in ("offline", "spark"):
        assert [r[0] for r in sorted_rows(lakes[engine].read(SPEC, version=0))] == ["a", "b"]
    got = DeltaTable(lakes[first].uri(SPEC)).to_pyarrow_table().to_pylist()
    assert sorted((r["one_id"], r["n"]) for r in got) == [("c", 3), ("z", 9)]
