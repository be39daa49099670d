"""Time ``sparkseg generate`` at a given size: seconds, rows and files per raw table.

    python -m scripts.bench generate --customers 100000 [--cores 2] [--warehouse /tmp/gen_timing]

Starts local Spark with ``--cores`` cores (default 2, the project's reference machine),
writes every raw table with the offline engine and prints one line per table plus the
total, with the JVM's CPU seconds (user + system) next to wall-clock seconds: on a shared
machine the CPU figure is the one that compares between runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import SparkSession

from sparkseg.cli import start_session
from sparkseg.config import config_from_mapping
from sparkseg.generate.stage import write_tables


def jvm_cpu_seconds(spark: SparkSession) -> float:
    """User + system CPU seconds of the local driver JVM (Linux /proc), or -1."""
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        pid = jvm.java.lang.ProcessHandle.current().pid()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench generate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--warehouse", default="/tmp/sparkseg_gen_timing")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse afterwards")
    args = parser.parse_args(argv)

    shutil.rmtree(args.warehouse, ignore_errors=True)
    cfg = config_from_mapping({
        "warehouse": args.warehouse,
        "engine": "offline",
        "generate": {"customers": args.customers, "months": args.months, "seed": args.seed},
        "spark": {"master": f"local[{args.cores}]", "driver_memory": args.driver_memory,
                  "log_level": "ERROR", "show_progress": False},
    })
    spark = start_session(cfg)
    try:
        cpu0, t0 = jvm_cpu_seconds(spark), time.perf_counter()
        marks = [cpu0]
        written = write_tables(spark, cfg, on_written=lambda _: marks.append(jvm_cpu_seconds(spark)))
        wall, cpu = time.perf_counter() - t0, jvm_cpu_seconds(spark) - cpu0
    finally:
        spark.stop()
    print(f"customers={args.customers} months={args.months} cores={args.cores}")
    for i, w in enumerate(written):
        print(f"{w.table:<22} rows={w.rows:>12,} files={w.files:>3} seconds={w.seconds:8.1f} "
              f"jvm_cpu_seconds={marks[i + 1] - marks[i]:8.1f}")
    total = sum(w.rows for w in written)
    print(f"{'total':<22} rows={total:>12,} wall_seconds={wall:.1f} jvm_cpu_seconds={cpu:.1f}")
    if not args.keep:
        shutil.rmtree(args.warehouse, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
