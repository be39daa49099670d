"""The whole ``sparkseg run`` on Spark's own Delta connector equals the offline engine's.

The e2e run (offline engine) and a run of the same raw tables with ``engine: spark``
(delta-spark resolved from Maven by sparkseg itself) must publish the same rows in every
output table, and the spark engine's tables must open in delta-rs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession

from tests.support.bank import AS_OF
from tests.support.cli import run_cli, write_config
from tests.support.e2e import E2E
from tests.support.warehouse import export_rows, output_rows, output_tables, runs_rows

pytestmark = pytest.mark.slow



def test_pipeline_on_the_spark_engine_publishes_what_the_offline_engine_does(
    spark: SparkSession, e2e: E2E, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    shutil.copytree(e2e.root / "raw", root / "raw")
    config = write_config(tmp_path / "spark.yaml", root, engine="spark")
    code, log, _ = run_cli(
        ["run", "--config", str(config), "--as-of", AS_OF.isoformat()],
        log=tmp_path / "spark.log", cwd=tmp_path, env=e2e.env,
    )
    assert code == 0, log[-3000:]
    tables = output_tables(e2e.root)
    assert sorted(output_tables(root)) == sorted(tables)
    for table in tables:
        want = output_rows(spark, e2e.root, table)
        got = output_rows(spark, root, table)
        assert got == want, f"{table} differs between the engines"
        # delta-rs opens what delta-spark wrote, with the same row count.
        assert DeltaTable(str(root / table)).to_pyarrow_table().num_rows == sum(got.values())
    assert export_rows(spark, root) == export_rows(spark, e2e.root)
    runs = runs_rows(spark, root)
    assert {r["engine"] for r in runs} == {"spark"}
    assert all(r["status"] == "succeeded" for r in runs)
