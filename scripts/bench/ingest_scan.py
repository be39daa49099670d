"""Why ingest re-reads raw files instead of persisting them: time both on one raw table.

    python -m scripts.bench ingest-scan /tmp/sparkseg_bench/c1000000/lake [--cores 2]

Prints, for raw/transactions: a scan with the row rules, a count by reason, the write of
the valid rows to Parquet straight from the raw files, and the build of a persisted copy
(compressed, the default, then uncompressed) with a count and a write from it. The
figures are in docs/decisions.md ("Ingest re-reads the raw files per job").
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkseg.cli import common_parser, start_session
from sparkseg.config import load_config
from sparkseg.ingest.validate import REASON, RULES, row_reason
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_TRANSACTIONS


def timed(label: str, fn: Callable[[], object]) -> None:
    t0 = time.perf_counter()
    fn()
    print(f"{label:<48} {time.perf_counter() - t0:7.1f} s", flush=True)


def count_by_reason(checked: DataFrame) -> object:
    return checked.groupBy(REASON).count().collect()


def keep_valid_rows(checked: DataFrame) -> DataFrame:
    """Rows of ``checked`` that no rule rejected, without the ``REASON`` column."""
    return checked.filter(F.col(REASON).isNull()).drop(REASON)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.bench ingest-scan",
                                parents=[common_parser()],
                                description=__doc__.split("\n\n")[0])
    p.add_argument("warehouse")
    p.add_argument("--cores", type=int, default=2)
    args = p.parse_args(argv)
    cfg = load_config(args.config, [f"warehouse={args.warehouse}",
                                    f"spark.master=local[{args.cores}]",
                                    f"spark.shuffle_partitions={4 * args.cores}",
                                    "spark.show_progress=false", *args.overrides])
    spark = start_session(cfg)
    raw = Lakehouse(spark, cfg).read(RAW_TRANSACTIONS)
    rules = RULES[RAW_TRANSACTIONS.name]
    checked = raw.withColumn(REASON, row_reason(rules, now=dt.datetime.now(dt.UTC),
                                                limits=cfg.ingest))
    valid = keep_valid_rows(checked)
    out = tempfile.mkdtemp(prefix="ingest_scan_")

    def write(df: DataFrame) -> None:
        shutil.rmtree(out, ignore_errors=True)
        df.write.parquet(out)

    timed("scan + row rules (noop sink)", lambda: checked.write.format("noop")
          .mode("overwrite").save())
    timed("scan + row rules, count by reason", partial(count_by_reason, checked))
    timed("scan + row rules, write valid rows", partial(write, valid))
    for compressed in ("true", "false"):
        spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", compressed)
        cached = checked.persist(StorageLevel.MEMORY_AND_DISK)
        timed(f"persist (compressed={compressed}): build", cached.count)
        timed("  count by reason from the cache", partial(count_by_reason, cached))
        timed("  write valid rows from the cache", partial(write, keep_valid_rows(cached)))
        cached.unpersist(blocking=True)
    shutil.rmtree(out, ignore_errors=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
