"""Why ingest re-reads raw files instead of persisting them: time both on one raw table.

    python scripts/bench_lib/ingest_scan.py /tmp/sparkseg_bench/c1000000/lake [--cores 2]

Prints, for raw/transactions: a scan with the row rules, a count by reason, the write of
the valid rows to Parquet straight from the raw files, and the build of a persisted copy
(compressed, the default, then uncompressed) with a count and a write from it. The
figures are in docs/decisions.md ("Ingest re-reads the raw files per job").
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import functions as F

from sparkseg.config import load_config
from sparkseg.ingest.validate import REASON, RULES, row_reason
from sparkseg.lakehouse import Lakehouse
from sparkseg.session import build_session
from sparkseg.tables import RAW_TRANSACTIONS


def timed(label: str, fn: Callable[[], Any]) -> None:
    t0 = time.perf_counter()
    fn()
    print(f"{label:<48} {time.perf_counter() - t0:7.1f} s", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("warehouse")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--config", default="conf/local.yaml")
    args = p.parse_args()
    cfg = load_config(args.config, [f"warehouse={args.warehouse}",
                                    f"spark.master=local[{args.cores}]",
                                    f"spark.shuffle_partitions={4 * args.cores}",
                                    "spark.show_progress=false"])
    spark = build_session(cfg.spark, delta=cfg.engine == "spark")
    raw = Lakehouse(spark, cfg).read(RAW_TRANSACTIONS)
    rules = RULES[RAW_TRANSACTIONS.name]
    checked = raw.withColumn(REASON, row_reason(rules, now=dt.datetime.now(dt.UTC),
                                                limits=cfg.ingest))
    valid = checked.filter(F.col(REASON).isNull()).drop(REASON)
    out = tempfile.mkdtemp(prefix="ingest_scan_")

    def write(df: Any) -> None:
        shutil.rmtree(out, ignore_errors=True)
        df.write.parquet(out)

    timed("scan + row rules (noop sink)", lambda: checked.write.format("noop")
          .mode("overwrite").save())
    timed("scan + row rules, count by reason", lambda: checked.groupBy(REASON).count().collect())
    timed("scan + row rules, write valid rows", lambda: write(valid))
    for compressed in ("true", "false"):
        spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", compressed)
        cached = checked.persist(StorageLevel.MEMORY_AND_DISK)
        timed(f"persist (compressed={compressed}): build", cached.count)
        timed("  count by reason from the cache",
              lambda c=cached: c.groupBy(REASON).count().collect())
        timed("  write valid rows from the cache",
              lambda c=cached: write(c.filter(F.col(REASON).isNull()).drop(REASON)))
        cached.unpersist(blocking=True)
    shutil.rmtree(out, ignore_errors=True)
    spark.stop()


if __name__ == "__main__":
    main()
