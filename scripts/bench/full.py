"""Benchmark sparkseg against single-node peers at several sizes; table, CSV and plot.

    pip install duckdb polars psutil scikit-learn    # peers; not sparkseg dependencies
    python -m scripts.bench full --sizes 100000,1000000 --cores 2 --repeat 3 --out docs/bench

For each size (customers), in one run:

0. ``sparkseg generate`` into ``<work>/c<N>/lake`` unless that warehouse already holds the
   generated raw tables of N customers (reused, so a size is generated once).
1. (c) the full ``sparkseg run`` (subprocess, wall time, ``--run-repeat`` times); the
   seconds of each stage come from that run's ``ops/runs`` rows. When the run is skipped
   and the silver tables are missing, ``sparkseg ingest`` and ``identity`` run once.
2. (a) the features stage of sparkseg (``pipeline.run_stage(..., "features", ...)``) and
   (b) MLlib KMeans (row and block solvers: initialisation, one Lloyd iteration, a fit of
   ``segment.max_iter`` iterations) against scikit-learn on the same matrix, in a
   subprocess with a fresh Spark ``local[cores]`` JVM (so its peak memory is its own).
3. (a) the same feature aggregations in DuckDB SQL and in Polars, each in its own
   subprocess limited to ``--cores`` threads, over the Parquet data files of the silver
   tables (the Delta log's live files for the as-of). On the smallest size, every column
   of each peer's output is compared with sparkseg's ``silver/customer_features``.

Every timing is repeated ``--repeat`` times and the median reported, with the minimum,
the ratio to the reference (DuckDB for features, scikit-learn for K-means), the peak RSS
of the process tree (Spark JVM + Python; the peer's process), rows per second per core and
the 1-minute load average before and after. Results merge into ``<out>/results.csv`` (rows
of sizes not measured again are kept), ``results.md`` and the log-log plot
``time_vs_size.png``. A missing peer (not installed) is skipped with a message.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from scripts.bench import report as rep
from scripts.bench.memory import PeakSampler, peak_memory, tree_cpu
from sparkseg.cli import common_parser, resolve_as_of

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from sparkseg.config import Config

REPO = Path(__file__).resolve().parents[2]

SPARK = "sparkseg"
STEP_RUN = "full run"
STEP_FEATURES = "features"
STEP_GENERATE = "generate"
STEP_INIT = "kmeans init"
STEP_ITER = "kmeans 1 iteration"
STEP_FIT = "kmeans fit"
STEP_TRAIN = "stage train"
PEERS = ("duckdb", "polars")
REFERENCES = {STEP_FEATURES: "duckdb", STEP_ITER: "sklearn", STEP_FIT: "sklearn"}
PLOT_SERIES = (
    (STEP_RUN, SPARK), (STEP_FEATURES, SPARK), (STEP_FEATURES, "duckdb"),
    (STEP_FEATURES, "polars"), (STEP_TRAIN, SPARK), (STEP_FIT, "MLlib row"),
    (STEP_FIT, "MLlib block"), (STEP_FIT, "sklearn"),
)
SILVER_INPUTS = ("customers", "transactions", "balances", "events", "identity_map")
RAW_INPUTS = ("customers", "transactions", "balances", "events", "identity_links")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.bench full", parents=[common_parser()],
                                description=__doc__.split("\n\n")[0])
    p.set_defaults(config=str(REPO / "conf" / "local.yaml"))
    p.add_argument("--sizes", default="100000", help="comma list of customer counts")
    p.add_argument("--cores", type=int, default=2, help="Spark local[N]; peer threads")
    p.add_argument("--repeat", type=int, default=3, help="timings per step (median reported)")
    p.add_argument("--run-repeat", type=int, default=1,
                   help="repetitions of the full `sparkseg run` (minutes each at 1M)")
    p.add_argument("--out", default="docs/bench", help="results folder (CSV, markdown, PNG)")
    p.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "sparkseg_bench"),
                   help="warehouses of the generated sizes (<work>/c<N>/lake), reused")
    p.add_argument("--driver-memory", help="Spark driver memory (default: sparkseg's, half "
                   "the machine's memory up to 16g)")
    p.add_argument("--skip", default="", help="comma list of: run, features, kmeans, peers")
    p.add_argument("--peers", default=",".join(PEERS), help="comma list of: duckdb, polars")
    p.add_argument("--check", choices=("smallest", "all", "none"), default="smallest",
                   help="compare the peers' output with sparkseg's on which sizes")
    p.add_argument("--k", type=int, default=8, help="k of the K-means comparison")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-report", action="store_true", help="`sparkseg run --no-report`")
    p.add_argument("--event-log", help="write Spark event logs of every Spark process here "
                   "(profile: python -m scripts.bench eventlog <file>)")
    p.add_argument("--render", action="store_true",
                   help="measure nothing: rewrite results.md and the plot from results.csv")
    # Internal: the Spark steps of one size, run in a child process (fresh JVM).
    p.add_argument("--spark-worker", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def load1() -> float:
    return os.getloadavg()[0]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def overrides(args: argparse.Namespace, warehouse: Path) -> list[str]:
    """--set values of every sparkseg process of the benchmark: one size, one core count."""
    out = [
        f"warehouse={warehouse}",
        f"spark.master=local[{args.cores}]",
        # What sparkseg picks on a machine with `cores` cores, whatever this one has.
        f"spark.shuffle_partitions={max(4, 4 * args.cores)}",
        "spark.show_progress=false",
    ]
    if args.driver_memory:
        out.append(f"spark.driver_memory={args.driver_memory}")
    return out + list(args.overrides)


def env_for(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    # Synthetic data only: any key works, but ingest refuses to run without one.
    env.setdefault("SPARKSEG_HASH_KEY", "sparkseg-bench")
    if args.event_log:
        # Read by pyspark when it launches the JVM: reaches `sparkseg` subprocesses too,
        # whose Spark settings come from the config file only.
        Path(args.event_log).mkdir(parents=True, exist_ok=True)
        env["PYSPARK_SUBMIT_ARGS"] = (
            "--conf spark.eventLog.enabled=true --conf spark.eventLog.compress=false "
            "--conf spark.eventLog.rolling.enabled=false --conf spark.eventLog.dir="
            f"file://{Path(args.event_log).resolve()} pyspark-shell")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")) if p
    )
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_logged(cmd: list[str], env: dict[str, str], log: Path
               ) -> tuple[float, int | None, float]:
    """Run ``cmd`` with output to ``log``: wall seconds, peak RSS of its process tree and
    CPU seconds (user + system of it and every descendant, all waited for at exit)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
        sampler = PeakSampler(proc.pid).start()
        rc = proc.wait()
        seconds = time.perf_counter() - t0
        peak = sampler.stop()
        # The Spark JVM is a grandchild that is not always waited for: take the larger.
        cpu = max(_children_cpu() - cpu0, sampler.cpu_seconds)
    if rc != 0:
        tail = log.read_text().splitlines()[-15:]
        raise SystemExit(f"failed ({rc}): {' '.join(cmd)}\n  " + "\n  ".join(tail))
    return seconds, peak, cpu


def sparkseg_cmd(args: argparse.Namespace, warehouse: Path, *command: str) -> list[str]:
    cmd = [sys.executable, "-m", "sparkseg.cli", *command, "--config", args.config]
    for item in overrides(args, warehouse):
        cmd += ["--set", item]
    return cmd


# --------------------------------------------------------------------------- Delta files


def live_files(warehouse: Path, table: str, as_of: dt.date | None) -> list[str]:
    """Parquet data files of a Delta table (of one as_of_date partition when given)."""
    from deltalake import DeltaTable

    path = warehouse / table
    if not (path / "_delta_log").is_dir():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dtab = DeltaTable(str(path))
        if as_of is None:
            return list(dtab.file_uris())
        return list(dtab.file_uris(partition_filters=[("as_of_date", "=", as_of.isoformat())]))


def silver_input_files(warehouse: Path, table: str, as_of: dt.date,
                       history_days: int) -> list[str]:
    """Parquet files of a features input of ``as_of``, read as the stage reads it.

    ``identity_map``: its ``as_of_date`` partition. ``customers``: the whole (versioned,
    unpartitioned) table; the peers pick the version valid at the as-of. Event tables:
    the ``event_month`` partitions of ``[as_of - history_days, as_of)`` (the months of
    ``sparkseg.silver.read_events``); the peers filter the exact dates.
    """
    from deltalake import DeltaTable

    from sparkseg.silver import months
    from sparkseg.tables import EVENT_MONTH

    if table == "identity_map":
        return live_files(warehouse, f"silver/{table}", as_of)
    if table == "customers":
        return live_files(warehouse, f"silver/{table}", None)
    path = warehouse / "silver" / table
    if not (path / "_delta_log").is_dir():
        return []
    start = as_of - dt.timedelta(days=history_days)
    wanted = [m.isoformat() for m in months(start - dt.timedelta(days=1), as_of)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dtab = DeltaTable(str(path))
        return list(dtab.file_uris(partition_filters=[(EVENT_MONTH, "in", wanted)]))


def parquet_rows(files: Sequence[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def generated_customers(warehouse: Path) -> int | None:
    files = live_files(warehouse, "raw/_truth_personas", None)
    return parquet_rows(files) if files else None


# --------------------------------------------------------------------------- steps


def ensure_generated(args: argparse.Namespace, n: int, wh: Path, log: Path) -> list[rep.Result]:
    have = generated_customers(wh)
    if have == n and all(live_files(wh, f"raw/{t}", None) for t in RAW_INPUTS):
        print(f"  reusing generated data: {wh}")
        return []
    if have is not None:
        raise SystemExit(f"{wh} holds {have} generated customers, not {n}: remove it or "
                         "choose another --work")
    print(f"  generating {n:,} customers into {wh} ...", flush=True)
    before = load1()
    cmd = sparkseg_cmd(args, wh, "generate", "--customers", str(n))
    seconds, peak, cpu = run_logged(cmd, env_for(args), log)
    raw_rows = sum(parquet_rows(live_files(wh, f"raw/{t}", None)) for t in RAW_INPUTS)
    return [rep.make_result(customers=n, cores=args.cores, step=STEP_GENERATE, engine=SPARK,
                            seconds=[seconds], cpu=[cpu], peak_bytes=peak, rows=raw_rows,
                            load_before=before, load_after=load1(), measured_at=now_iso())]


def silver_ready(wh: Path, as_of: dt.date, history_days: int) -> bool:
    return all(silver_input_files(wh, t, as_of, history_days) for t in SILVER_INPUTS)


def stage_seconds(wh: Path, since: dt.datetime) -> dict[str, float]:
    """Seconds of each stage recorded in ops/runs by runs that started after ``since``."""
    from deltalake import DeltaTable

    rows = DeltaTable(str(wh / "ops" / "runs")).to_pyarrow_table(
        columns=["stage", "status", "started_at", "seconds"]).to_pylist()
    out: dict[str, float] = {}
    for r in sorted(rows, key=lambda r: r["started_at"]):
        if r["started_at"] >= since and r["status"] == "succeeded":
            out[r["stage"]] = float(r["seconds"])
    return out


def full_run(args: argparse.Namespace, n: int, wh: Path, log: Path) -> list[rep.Result]:
    raw_rows = sum(parquet_rows(live_files(wh, f"raw/{t}", None)) for t in RAW_INPUTS)
    # train reuses the model of an identical earlier run of the as-of (idempotent reruns):
    # on a reused warehouse that would time the reuse (1 s), not the fit.
    cmd = sparkseg_cmd(args, wh, "run", *(["--no-report"] if args.no_report else []),
                       "--set", "segment.retrain=true")
    seconds: list[float] = []
    cpus: list[float] = []
    peaks: list[int] = []
    stages: dict[str, list[float]] = {}
    before = load1()
    for i in range(args.run_repeat):
        print(f"  sparkseg run ({i + 1}/{args.run_repeat}) ...", flush=True)
        started = dt.datetime.now(dt.UTC)
        s, peak, cpu = run_logged(cmd, env_for(args), log)
        seconds.append(s)
        cpus.append(cpu)
        if peak is not None:
            peaks.append(peak)
        for stage, secs in stage_seconds(wh, started).items():
            stages.setdefault(stage, []).append(secs)
        print(f"    {s:.1f} s (CPU {cpu:.0f} s)", flush=True)
    after = load1()
    common = dict(customers=n, cores=args.cores, engine=SPARK, load_before=before,
                  load_after=after, measured_at=now_iso())
    out = [rep.make_result(step=STEP_RUN, seconds=seconds, cpu=cpus,
                           peak_bytes=max(peaks, default=None),
                           rows=raw_rows, note="wall time of the subprocess, incl. JVM start"
                           + ("" if args.no_report else " and report"), **common)]
    for stage, timings in stages.items():
        out.append(rep.make_result(step=f"stage {stage}", seconds=timings, peak_bytes=None,
                                   rows=0, note="from ops/runs of the full run", **common))
    return out


def prepare_silver(args: argparse.Namespace, n: int, wh: Path, as_of: dt.date,
                   log: Path, history_days: int) -> None:
    if silver_ready(wh, as_of, history_days):
        return
    for stage in ("ingest", "identity"):
        print(f"  sparkseg {stage} (to get silver tables) ...", flush=True)
        seconds, _, _ = run_logged(sparkseg_cmd(args, wh, stage), env_for(args), log)
        print(f"    {seconds:.1f} s", flush=True)


def spark_steps(args: argparse.Namespace, n: int, wh: Path, log: Path) -> list[rep.Result]:
    """(a) and (b) on the Spark side, in a child process with its own JVM."""
    result = wh.parent / "spark_steps.json"
    result.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "scripts.bench", "full", "--spark-worker", str(result),
           "--sizes", str(n), "--cores", str(args.cores), "--repeat", str(args.repeat),
           "--work", args.work, "--config", args.config, "--k", str(args.k),
           "--seed", str(args.seed), "--skip", args.skip]
    if args.as_of:
        cmd += ["--as-of", args.as_of.isoformat()]
    if args.driver_memory:
        cmd += ["--driver-memory", args.driver_memory]
    if args.event_log:
        cmd += ["--event-log", args.event_log]
    if args.verbose:
        cmd.append("--verbose")
    for item in args.overrides:
        cmd += ["--set", item]
    print("  Spark steps (features stage, K-means) ...", flush=True)
    run_logged(cmd, env_for(args), log)
    got = json.loads(result.read_text())
    for line in got["messages"]:
        print(f"    {line}", flush=True)
    return [rep.Result(**r) for r in got["results"]]


def peer_steps(args: argparse.Namespace, n: int, wh: Path, as_of: dt.date, cfg: Config,
               log: Path, check: bool) -> list[rep.Result]:
    from scripts.bench.peers import Inputs, check_columns_cover_spec

    check_columns_cover_spec()
    history = cfg.features.history_days
    files = {t: silver_input_files(wh, t, as_of, history) for t in SILVER_INPUTS}
    rows = sum(parquet_rows(f) for f in files.values())
    inputs = Inputs(**files)
    out: list[rep.Result] = []
    wanted = [p.strip() for p in args.peers.split(",") if p.strip()]
    folder = wh.parent / "peers"
    folder.mkdir(exist_ok=True)
    for engine in wanted:
        module = {"duckdb": "duckdb", "polars": "polars"}.get(engine)
        if module is None:
            raise SystemExit(f"unknown peer {engine!r} (duckdb, polars)")
        try:
            __import__(module)
        except ImportError:
            print(f"  {engine} is not installed: `pip install {engine}` to compare with it "
                  "(benchmark only; sparkseg does not depend on it). Skipped.")
            continue
        target = folder / f"{engine}.parquet"
        spec = {
            "engine": engine, "threads": args.cores, "repeat": args.repeat, "out": str(target),
            "as_of": as_of.isoformat(), "child_mcc": list(cfg.features.child_mcc),
            "new_customer_days": cfg.features.new_customer_days,
            "honeymoon_days": cfg.features.honeymoon_days, "history_days": history,
            "inputs": inputs.as_dict(),
        }
        spec_path = folder / f"{engine}.json"
        spec_path.write_text(json.dumps(spec))
        env = env_for(args)
        # Read once at import: the worker refuses to run without it.
        env["POLARS_MAX_THREADS"] = str(args.cores)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.cores)
        print(f"  {engine} x{args.repeat} ...", flush=True)
        before = load1()
        worker = [sys.executable, "-m", "scripts.bench.peer_worker", str(spec_path)]
        with log.open("a") as fh:
            fh.write(f"\n$ {' '.join(worker)}\n")
        proc = subprocess.Popen(worker, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, cwd=REPO, text=True)
        with peak_memory(proc.pid) as sampler:
            stdout, stderr = proc.communicate()
        with log.open("a") as fh:
            fh.write(stdout + stderr)
        if proc.returncode != 0:
            raise SystemExit(f"{engine} failed:\n{stderr[-3000:]}")
        res = json.loads(stdout.strip().splitlines()[-1])
        peak = max(sampler.peak or 0, int(res["maxrss_bytes"])) or None
        out.append(rep.make_result(
            customers=n, cores=args.cores, step=STEP_FEATURES, engine=engine,
            seconds=res["seconds"], cpu=res["cpu_seconds"], peak_bytes=peak, rows=rows,
            load_before=before,
            load_after=load1(), measured_at=now_iso(),
            note=f"{engine} {res['version']}, {res['rows']:,} rows written to Parquet"))
        print(f"    median {statistics.median(res['seconds']):.2f} s", flush=True)
        if check:
            print("    " + check_peer(wh, as_of, target, engine), flush=True)
    return out


def check_peer(wh: Path, as_of: dt.date, peer_file: Path, engine: str) -> str:
    from scripts.bench.check import compare_tables, read_parquet_files

    ours = live_files(wh, "silver/customer_features", as_of)
    if not ours:
        return f"check: no silver/customer_features for {as_of}; nothing to compare"
    result = compare_tables(read_parquet_files(ours), read_parquet_files([str(peer_file)]))
    return "check: " + result.summary(SPARK, engine)


# --------------------------------------------------------------------------- Spark worker


def spark_worker(args: argparse.Namespace) -> int:
    """Child process: features stage x repeat, then the K-means comparison; JSON rows."""
    import logging

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.cores))
    from sparkseg.cli import start_session
    from sparkseg.config import load_config
    from sparkseg.pipeline import run_stage

    n = int(args.sizes)
    wh = Path(args.work) / f"c{n}" / "lake"
    skip = set(filter(None, args.skip.split(",")))
    cfg = load_config(args.config, [*overrides(args, wh), "spark.log_level=ERROR"])
    as_of = resolve_as_of(args, cfg)
    spark = start_session(cfg)
    out: list[rep.Result] = []
    messages: list[str] = []
    try:
        common = dict(customers=n, cores=args.cores)
        if "features" not in skip:
            history = cfg.features.history_days
            rows = sum(parquet_rows(silver_input_files(wh, t, as_of, history))
                       for t in SILVER_INPUTS)
            seconds, cpus, peak, before = [], [], 0, load1()
            for _ in range(args.repeat):
                with peak_memory() as s:
                    c0, t0 = tree_cpu(), time.perf_counter()
                    run_stage(spark, cfg, "features", as_of)
                    seconds.append(time.perf_counter() - t0)
                    c1 = tree_cpu()
                    if c0 is not None and c1 is not None:
                        cpus.append(c1 - c0)
                peak = max(peak, s.peak or 0)
            messages.append("features stage: " + ", ".join(f"{x:.1f}" for x in seconds) + " s")
            out.append(rep.make_result(
                step=STEP_FEATURES, engine=SPARK, seconds=seconds, cpu=cpus,
                peak_bytes=peak or None,
                rows=rows, load_before=before, load_after=load1(), measured_at=now_iso(),
                note=f"pipeline.run_stage in one JVM (first run cold); driver memory "
                     f"{spark.conf.get('spark.driver.memory')}", **common))
        if "kmeans" not in skip:
            out += kmeans_rows(args, spark, cfg, as_of, n, messages)
    finally:
        spark.stop()
    Path(args.spark_worker).write_text(json.dumps(
        {"results": [dataclasses.asdict(r) for r in out], "messages": messages}))
    return 0


def kmeans_rows(args: argparse.Namespace, spark: SparkSession, cfg: Config, as_of: dt.date,
                n: int, messages: list[str]) -> list[rep.Result]:
    from scripts.bench.kmeans_compare import compare, feature_matrix
    from sparkseg.lakehouse import Lakehouse

    iters = cfg.segment.max_iter
    before = load1()
    with peak_memory() as s, tempfile.TemporaryDirectory(prefix="bench_km_") as tmp:
        feats = Lakehouse(spark, cfg).read("silver/customer_features",
                                           partitions={"as_of_date": as_of})
        vectors, x = feature_matrix(spark, feats, cfg.segment, Path(tmp))
        res = compare(vectors, x, k=args.k, iters=iters, repeat=args.repeat,
                      threads=args.cores, seed=args.seed)
        vectors.unpersist()
    after = load1()
    messages.append(f"K-means matrix: {res.rows:,} rows x {res.dims} features, k={res.k}")
    messages += [f"check: {line}" for line in res.checks]
    if res.sklearn_missing:
        messages.append("scikit-learn is not installed: `pip install scikit-learn` to compare "
                        "with it (benchmark only). Timed MLlib alone.")
    common = dict(customers=n, cores=args.cores, peak_bytes=s.peak, rows=res.rows,
                  load_before=before, load_after=after, measured_at=now_iso())
    out = []
    for solver in ("row", "block"):
        eng = f"MLlib {solver}"
        init = res.seconds[f"{eng} maxIter=0"]
        one = res.seconds[f"{eng} maxIter=1"]
        fit = res.seconds[f"{eng} maxIter={iters}"]
        cpu = {m: res.cpu.get(f"{eng} maxIter={m}", []) for m in (0, 1, iters)}
        out.append(rep.make_result(step=STEP_INIT, engine=eng, seconds=init, cpu=cpu[0],
                                   note=f"k={res.k}, random init", **common))
        out.append(rep.make_result(
            step=STEP_ITER, engine=eng, seconds=one,
            median=statistics.median(one) - statistics.median(init),
            minimum=min(one) - min(init),
            cpu_median=(statistics.median(cpu[1]) - statistics.median(cpu[0])
                        if cpu[0] and cpu[1] else None),
            note="median(maxIter=1) - median(maxIter=0)", **common))
        out.append(rep.make_result(
            step=STEP_FIT, engine=eng, seconds=fit, cpu=cpu[iters],
            note=f"maxIter={iters}, tol=0, incl. init; {res.iterations.get(eng)} iterations "
                 f"run; d={res.dims}", **common))
    if not res.sklearn_missing:
        out.append(rep.make_result(step=STEP_ITER, engine="sklearn",
                                   seconds=res.seconds["sklearn max_iter=1"],
                                   cpu=res.cpu.get("sklearn max_iter=1"),
                                   note="fit(max_iter=1) from MLlib's C0", **common))
        out.append(rep.make_result(
            step=STEP_FIT, engine="sklearn", seconds=res.seconds[f"sklearn max_iter={iters}"],
            cpu=res.cpu.get(f"sklearn max_iter={iters}"),
            note=f"max_iter={iters}, tol=0, init=C0; {res.iterations.get('sklearn')} "
                 "iterations run", **common))
    return out


# --------------------------------------------------------------------------- main


def machine_line(args: argparse.Namespace) -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / rep.GB
    return (f"{platform.node()}: {os.cpu_count()} cpus, {mem:.0f} GB memory, python "
            f"{platform.python_version()}; benchmark cores {args.cores}; load average "
            + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def write_outputs(out_dir: Path, results: list[rep.Result], header: list[str]) -> list[str]:
    """Merge ``results`` into results.csv; rewrite results.md (with every run's header line
    from runs.txt) and the plot; return the target lines."""
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_file = out_dir / "runs.txt"
    if header:
        lines_before = runs_file.read_text().splitlines() if runs_file.exists() else []
        entry = f"{now_iso()[:16]}Z " + " | ".join(header)
        # One line per run: a run writes after every size, replacing its own line.
        if lines_before and lines_before[-1].split(" ", 1)[1] == entry.split(" ", 1)[1]:
            lines_before = lines_before[:-1]
        runs_file.write_text("\n".join([*lines_before, entry]) + "\n")
    header = runs_file.read_text().splitlines() if runs_file.exists() else []
    merged = rep.merge(rep.read_csv(out_dir / "results.csv"), results)
    rep.set_ratios(merged, REFERENCES)
    rep.write_csv(out_dir / "results.csv", merged)
    lines = rep.targets(merged, run_step=STEP_RUN, feat_step=STEP_FEATURES, spark_engine=SPARK,
                        train_step=STEP_TRAIN)
    plotted = rep.plot(merged, out_dir / "time_vs_size.png", PLOT_SERIES)
    md = ["# sparkseg benchmark results", "", "Runs (UTC start of the write, machine, load "
          "average at the start, command):", "", *(f"- {h}" for h in header), "",
          *rep.markdown_table(merged), "", "## Targets (issue 9)", "",
          *(f"- {t}" for t in lines), ""]
    if plotted:
        md += ["![time against size](time_vs_size.png)", ""]
    (out_dir / "results.md").write_text("\n".join(md))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.spark_worker:
        return spark_worker(args)
    from sparkseg.config import load_config

    if args.render:
        out_dir = Path(args.out)
        lines = write_outputs(out_dir, [], [])
        print("\n".join(rep.table_lines(rep.read_csv(out_dir / "results.csv"))))
        print("\ntargets:\n" + "\n".join(f"  {t}" for t in lines))
        return 0
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    skip = set(filter(None, args.skip.split(",")))
    unknown = skip - {"run", "features", "kmeans", "peers"}
    if unknown:
        raise SystemExit(f"--skip: unknown step(s) {sorted(unknown)}")
    work = Path(args.work).resolve()
    args.work = str(work)
    out_dir = Path(args.out)
    given = sys.argv[1:] if argv is None else list(argv)
    header = [machine_line(args), f"command: python -m scripts.bench full {' '.join(given)}"]
    print(header[0], flush=True)
    results: list[rep.Result] = []
    for n in sizes:
        wh = work / f"c{n}" / "lake"
        log = work / f"c{n}" / "bench.log"
        cfg = load_config(args.config, overrides(args, wh))
        as_of = resolve_as_of(args, cfg)
        print(f"\n== {n:,} customers, as-of {as_of}, load {load1():.1f} (log: {log})",
              flush=True)
        results += ensure_generated(args, n, wh, log)
        if "run" not in skip:
            results += full_run(args, n, wh, log)
        # Silver only feeds the feature, K-means and peer steps: `--skip run,features,
        # kmeans,peers` only generates (a size's data made ahead of its timed runs).
        if not {"features", "kmeans", "peers"} <= skip:
            prepare_silver(args, n, wh, as_of, log, cfg.features.history_days)
        if not {"features", "kmeans"} <= skip:
            results += spark_steps(args, n, wh, log)
        if "peers" not in skip:
            check = args.check == "all" or (args.check == "smallest" and n == sizes[0])
            results += peer_steps(args, n, wh, as_of, cfg, log, check)
        # Written after every size: a long run interrupted later keeps what it measured.
        write_outputs(out_dir, results, header)
    rep.set_ratios(results, REFERENCES)
    print()
    print("\n".join(rep.table_lines(results)))
    lines = write_outputs(out_dir, results, header)
    print(f"\ntargets (issue 9, {rep.TARGET_CORES} cores; over all rows in "
          f"{out_dir / 'results.csv'}):")
    print("\n".join(f"  {t}" for t in lines))
    print(f"\nwrote {out_dir / 'results.csv'}, {out_dir / 'results.md'}, "
          f"{out_dir / 'time_vs_size.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
