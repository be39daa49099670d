#!/usr/bin/env python
"""Time the customer-360 half of the pipeline (ingest, identity, features) for one as-of.

Needs a warehouse that already holds the raw tables, e.g.::

    sparkseg generate --customers 1000000 --set warehouse=/data/lake
    python scripts/time_customer360.py --set warehouse=/data/lake --as-of 2026-11-01

Prints the seconds of each stage (measured by sparkseg.pipeline.run_stage, which also
records the run in ops/runs) and the rate in raw input rows per second: the rows of all
raw tables (customers, transactions, balances, events, identity links) divided by the
stage's seconds, and by the three stages' total.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import sys
import time

from sparkseg.config import load_config
from sparkseg.lakehouse import Lakehouse
from sparkseg.pipeline import run_stage
from sparkseg.session import build_session
from sparkseg.tables import RAW_TABLES

STAGES = ("ingest", "identity", "features")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="conf/local.yaml")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="default: config as_of")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY.PATH=VALUE")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help="comma-separated subset of " + ",".join(STAGES))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"unknown stage(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    cfg = load_config(args.config, args.overrides)
    as_of = args.as_of or cfg.as_of or dt.datetime.now(dt.UTC).date()
    spark = build_session(cfg.spark, delta=cfg.engine == "spark")
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
