"""Stage registry and runner: times each stage and appends its row to ``ops/runs``.

A stage that succeeds also appends its ``ops/completions`` row, after all its outputs
are committed; ``run_all`` ends by publishing the as-of's ``pipeline`` completion row
(:mod:`sparkseg.completions`), which is what consumers wait for.

Every stage is a module with ``run(spark, cfg, as_of) -> None``. Modules
are imported only when their stage runs, so the command line starts fast.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable

from pyspark.sql import SparkSession

from sparkseg import completions
from sparkseg.config import Config
from sparkseg.errors import SparksegError
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.tables import OPS_RUNS

log = logging.getLogger("sparkseg")

StageFn = Callable[[SparkSession, Config, dt.date], None]

# Order of `sparkseg run`. Each name maps to the module whose run() implements it.
STAGES: dict[str, str] = {
    "ingest": "sparkseg.ingest.stage",
    "identity": "sparkseg.identity.stage",
    "features": "sparkseg.features.stage",
    "train": "sparkseg.segment.train",
    "score": "sparkseg.segment.score",
    "profile": "sparkseg.segment.profile",
    "tags": "sparkseg.tags.stage",
    "audiences": "sparkseg.audiences.stage",
    # Last: it reads only the features, and nothing reads it yet, so a rerun after a
    # rule change asks no other stage to run again before the as-of is published.
    "lifecycle": "sparkseg.lifecycle.stage",
}


def stage_function(name: str) -> StageFn:
    module = importlib.import_module(STAGES[name])
    fn: StageFn = module.run
    return fn


def run_stage(
    spark: SparkSession, cfg: Config, name: str, as_of: dt.date, fn: StageFn | None = None
) -> ledger.Ledger:
    """Run one stage inside a ledger and record the outcome in ``ops/runs``."""
    fn = fn or stage_function(name)
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    log.info("%s %s: start", name, as_of)
    with ledger.open_ledger(name, as_of) as led:
        try:
            fn(spark, cfg, as_of)
        except BaseException as err:
            seconds = time.perf_counter() - t0
            # Failures before anything was read (bad config, missing input) change no table;
            # failures after reading are recorded so the audit log shows them.
            if led.inputs and not isinstance(err, KeyboardInterrupt | SystemExit):
                _record(spark, cfg, led, "failed", started, seconds, _first_line(err))
            raise
    seconds = time.perf_counter() - t0
    _record(spark, cfg, led, "succeeded", started, seconds, led.message[:500])
    # fn() returned, so every output of the stage is committed: now it counts as complete.
    completions.record_stage(spark, cfg, led)
    rows = ", ".join(f"{t}={n}" for t, n in led.rows.items()) or "no output"
    log.info("%s %s: done in %.1fs (%s)", name, as_of, seconds, rows)
    return led


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:500]


def _record(
    spark: SparkSession,
    cfg: Config,
    led: ledger.Ledger,
    status: str,
    started: dt.datetime,
    seconds: float,
    message: str,
) -> None:
    lake = Lakehouse(spark, cfg)
    row = (
        led.run_id, led.stage, led.as_of, status, cfg.hash(), lake.engine.name,
        started, float(seconds),
        dict(led.inputs), dict(led.outputs), dict(led.rows), message,
    )
    df = spark.createDataFrame([row], OPS_RUNS.schema).coalesce(1)  # one row: one file
    try:
        lake.write(df, OPS_RUNS, mode="append", metadata={"sparkseg.stage": led.stage})
    except SparksegError as err:  # never hide the stage's own outcome behind the audit write
        log.warning("could not record ops/runs row: %s", err)


def run_all(spark: SparkSession, cfg: Config, as_of: dt.date) -> list[ledger.Ledger]:
    """Every stage in order, then the as-of's ``pipeline`` completion row."""
    ledgers = [run_stage(spark, cfg, name, as_of) for name in STAGES]
    completions.publish(spark, cfg, as_of, list(STAGES))
    return ledgers


