"""One writer process for the concurrency tests: ``python -m tests.lakehouse.writer_process``.

Arguments: engine warehouse mode one_id as_of barrier_dir. Writes one row of
``tests.lakehouse.test_offline_engine.SPEC`` for ``as_of`` (mode ``append``,
``guarded_append``: an append expecting the version read before the barrier, or
``overwrite_partitions`` of that date) and exits like the command line: 0, or the
error's exit code after one ``sparkseg: error:`` line.

Both writers meet at a barrier (a file each in ``barrier_dir``) at the last moment before
their commits can race: the offline engine after its data files are staged (its table
snapshot is then already taken), the spark engine just before the Delta write (whose
transaction reads the table, writes files and commits in one call).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from sparkseg.config import config_from_mapping
from sparkseg.errors import SparksegError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.offline import OfflineEngine
from sparkseg.session import delta_settings
from tests.support.lakehouse import SPEC, rows
from tests.support.session import TEST_JVM_OPTIONS


def _meet(barrier: Path, me: str, parties: int = 2, timeout: float = 300) -> None:
    (barrier / f"{me}.ready").touch()
    deadline = time.monotonic() + timeout
    while len(list(barrier.glob("*.ready"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError("the other writer never reached the barrier")
        time.sleep(0.05)


def main(engine: str, warehouse: str, mode: str, one_id: str, as_of: str, barrier: str) -> int:
    builder = SparkSession.builder.master("local[1]").appName(f"writer-{one_id}")
    for key, value in {
        **delta_settings({}),
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "1",
        "spark.databricks.delta.snapshotPartitions": "1",
        "spark.driver.memory": "700m",
        "spark.driver.extraJavaOptions": TEST_JVM_OPTIONS,
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    cfg = config_from_mapping({"warehouse": warehouse, "engine": engine}, source="<test>")
    lake = Lakehouse(spark, cfg)
    day = dt.date.fromisoformat(as_of)
    df = rows(spark, [(one_id, 1, 1, day)])
    df.cache().count()  # nothing left to compute once past the barrier
    read = lake.version(SPEC)  # what a guarded append (ingest's commits) expects
    if engine == "offline":
        original = OfflineEngine._row_counts

        def staged_then_meet(*args: Any) -> dict[str, int]:
            counts = original(*args)
            _meet(Path(barrier), one_id)
            return counts

        OfflineEngine._row_counts = staticmethod(staged_then_meet)  # type: ignore[method-assign]
    else:
        _meet(Path(barrier), one_id)
    try:
        if mode == "append":
            lake.write(df, SPEC, mode="append")
        elif mode == "guarded_append":
            lake.write(df, SPEC, mode="append", expect_version=-1 if read is None else read)
        else:
            lake.write(df, SPEC, mode="overwrite_partitions", replace={"as_of_date": day})
    except SparksegError as err:
        print(f"sparkseg: error: {err}", file=sys.stderr)
        return err.exit_code
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sys.exit(main(*sys.argv[1:7]))
