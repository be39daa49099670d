"""Daily operation: a first full run, then N appended days, each run incrementally.

    python -m scripts.bench daily --customers 1000000 --days 10 [--warehouse /tmp/bench_daily]

Runs the command line as an operator would (``sparkseg generate``, ``sparkseg run``,
then per day ``sparkseg generate --append-days 1`` and ``sparkseg run --as-of <day>``),
with the offline engine and ``--no-report`` (``--config``, default conf/local.yaml, and
``--set`` as for ``sparkseg``; ``--as-of`` the first run's, default 2026-11-01), retraining the model every
``--retrain-every-days`` (default 7, as conf/cluster.yaml). Prints, per run: wall seconds of the run,
seconds and rows written per stage (from ``ops/runs``), and the bytes of ``silver/``'s
raw copies against ``raw/`` (every file under each table folder, Delta log included).
Figures only; nothing is asserted (see README "Measured figures").
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sparkseg.cli import common_parser
from sparkseg.tables import RAW_TABLES, SILVER_TABLES

END = dt.date(2026, 11, 1)  # generate.end_date of conf/local.yaml
REPO = Path(__file__).resolve().parents[2]


def _settings(root: Path, customers: int, retrain_every_days: int, config: str,
              extra: Sequence[str]) -> list[str]:
    """The config (conf/local.yaml: its rules, audiences and dictionary) on a warehouse of
    our own; ``extra`` (--set) last, so it wins."""
    sets = {"warehouse": root / "lake", "engine": "offline", "generate.customers": customers,
            "segment.retrain_every_days": retrain_every_days,
            "spark.log_level": "ERROR", "spark.show_progress": "false"}
    pairs = [*(f"{k}={v}" for k, v in sets.items()), *extra]
    return ["--config", config, *(a for kv in pairs for a in ("--set", kv))]


def _sparkseg(*args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(["sparkseg", *args], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"sparkseg {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _stage_rows(lake: Path, as_of: dt.date) -> list[tuple[str, float, int]]:
    """(stage, seconds, rows written) of the newest ops/runs row per stage of ``as_of``."""
    from deltalake import DeltaTable

    runs = DeltaTable(str(lake / "ops" / "runs")).to_pyarrow_table().to_pylist()
    latest: dict[str, dict[str, object]] = {}
    for r in runs:
        if r["as_of_date"] == as_of and r["status"] == "succeeded" and r["stage"] != "generate":
            latest[str(r["stage"])] = r  # appended in order: the last one wins
    out = []
    for stage, r in latest.items():
        counts = dict(r["row_counts"] or [])  # type: ignore[call-overload]
        out.append((stage, float(r["seconds"]), sum(int(v) for v in counts.values())))  # type: ignore[arg-type]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench daily",
                                     parents=[common_parser()],
                                     description=__doc__.splitlines()[0])
    parser.set_defaults(config=str(REPO / "conf" / "local.yaml"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--warehouse", default="/tmp/sparkseg_bench_daily")
    parser.add_argument("--retrain-every-days", type=int, default=7,
                        help="segment.retrain_every_days (0: train for every day)")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse afterwards")
    args = parser.parse_args(argv)
    os.environ.setdefault("SPARKSEG_HASH_KEY", "bench-daily-key")

    root = Path(args.warehouse)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    config = _settings(root, args.customers, args.retrain_every_days, args.config,
                       args.overrides)
    first = args.as_of or END
    lake = root / "lake"
    print(f"customers={args.customers} days={args.days} "
          f"retrain_every_days={args.retrain_every_days} cores={os.cpu_count()} "
          f"load={os.getloadavg()[0]:.1f}")
    print(f"generate: {_sparkseg('generate', *config):.0f}s")
    for day in range(args.days + 1):
        as_of = first + dt.timedelta(days=day)
        if day:
            gen = _sparkseg("generate", *config, "--append-days", "1")
        wall = _sparkseg("run", *config, "--as-of", as_of.isoformat(), "--no-report")
        raw = sum(_bytes(lake / s.name) for s in RAW_TABLES)
        silver = sum(_bytes(lake / s.name) for s in SILVER_TABLES.values())
        stages = ", ".join(f"{s} {sec:.0f}s/{rows:,} rows"
                           for s, sec, rows in _stage_rows(lake, as_of))
        appended = f" (append-days {gen:.0f}s)" if day else " (first run: full)"
        print(f"{as_of} run {wall:.0f}s{appended}; raw {raw / 2**20:.1f} MiB, silver copies "
              f"{silver / 2**20:.1f} MiB ({silver / raw:.2f}x); {stages}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
