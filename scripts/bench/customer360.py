"""Time the customer-360 half of the pipeline (ingest, identity, features) for one as-of.

Needs a warehouse that already holds the raw tables, e.g.::

    sparkseg generate --customers 1000000 --set warehouse=/data/lake
    python -m scripts.bench customer360 --set warehouse=/data/lake --as-of 2026-11-01

Prints the seconds of each stage (measured by sparkseg.pipeline.run_stage, which also
records the run in ops/runs) and the rate in raw input rows per second: the rows of all
raw tables (customers, transactions, balances, events, identity links) divided by the
stage's seconds, and by the three stages' total.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence

from sparkseg.cli import common_parser, resolve_as_of, start_session
from sparkseg.config import load_config
from sparkseg.lakehouse import Lakehouse
from sparkseg.pipeline import run_stage
from sparkseg.tables import RAW_TABLES

STAGES = ("ingest", "identity", "features")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench customer360",
                                     parents=[common_parser()],
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default=",".join(STAGES),
                        help="comma-separated subset of " + ",".join(STAGES))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"unknown stage(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    cfg = load_config(args.config, args.overrides)
    as_of = resolve_as_of(args, cfg)
    spark = start_session(cfg)
    try:
        lake = Lakehouse(spark, cfg)
        # Row counts only (one number per table), never the rows themselves.
        raw_rows = {t.name: lake.read(t).count() for t in RAW_TABLES}
        total_raw = sum(raw_rows.values())
        cores = spark.sparkContext.defaultParallelism
        print(f"warehouse {cfg.warehouse}  as-of {as_of}  engine {lake.engine.name}  "
              f"master {spark.sparkContext.master}  parallelism {cores}  "
              f"cpus {os.cpu_count()}  python {platform.python_version()}  spark {spark.version}")
        for name, n in raw_rows.items():
            print(f"  {name:<22} {n:>14,d} rows")
        print(f"  {'raw input':<22} {total_raw:>14,d} rows")
        timings: dict[str, float] = {}
        for stage in stages:
            t0 = time.perf_counter()
            ledger = run_stage(spark, cfg, stage, as_of)
            timings[stage] = time.perf_counter() - t0
            written = ", ".join(f"{t}={n:,d}" for t, n in ledger.rows.items())
            print(f"{stage:<10} {timings[stage]:>9.1f} s  "
                  f"{total_raw / timings[stage]:>12,.0f} raw rows/s  ({written})")
        total = sum(timings.values())
        print(f"{'total':<10} {total:>9.1f} s  {total_raw / total:>12,.0f} raw rows/s  "
              f"({'+'.join(timings)})")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
