"""``ops/completions``: which as-of dates are complete, and at which table versions.

A stage run appends its row only after every output it writes is committed (the runner
does it after the stage function returns); ``publish`` appends the ``pipeline`` row of an
as-of once every stage of :data:`sparkseg.pipeline.STAGES` has completed for it, in
pipeline order. The consumer contract (docs/consumers.md):

    as-of D is complete iff ops/completions has a ``pipeline`` row for D; read each table
    at the version listed in that row's ``output_versions`` and each audience export from
    the folder listed in its ``exports``.

Reading at the listed versions gives one consistent snapshot across tables even while a
later rerun of D (or another date) is committing. Only a handful of rows per as-of
(one per stage run) ever reach the driver.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.errors import IncompleteAsOfError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.ledger import Ledger
from sparkseg.tables import OPS_COMPLETIONS

log = logging.getLogger(__name__)

PIPELINE = "pipeline"


@dataclass(frozen=True)
class Completion:
    """One row of ``ops/completions``."""

    as_of: dt.date
    stage: str
    run_id: str
    completed_at: dt.datetime
    config_hash: str
    output_versions: dict[str, int]
    exports: dict[str, str]


def _append(lake: Lakehouse, c: Completion) -> None:
    row = (c.as_of, c.stage, c.run_id, c.completed_at, c.config_hash,
           dict(c.output_versions), dict(c.exports))
    df = lake.spark.createDataFrame([row], OPS_COMPLETIONS.schema).coalesce(1)  # one file
    lake.write(df, OPS_COMPLETIONS, mode="append", metadata={"sparkseg.stage": c.stage})


def record_stage(spark: SparkSession, cfg: Config, led: Ledger) -> Completion:
    """Append the completion row of a stage run whose outputs are all committed.

    Unlike the ``ops/runs`` row, a failure here is raised: an as-of whose completion
    cannot be recorded must not look complete, and the exit code says so.
    """
    assert led.as_of is not None
    done = Completion(led.as_of, led.stage, led.run_id, dt.datetime.now(dt.UTC),
                      cfg.hash(), dict(led.outputs), dict(led.exports))
    _append(Lakehouse(spark, cfg), done)
    return done


def completions_of(lake: Lakehouse, as_of: dt.date) -> list[Completion]:
    """Every completion row of ``as_of`` (a few per stage run), oldest first."""
    if not lake.exists(OPS_COMPLETIONS):
        return []
    rows = (lake.read(OPS_COMPLETIONS).where(F.col("as_of_date") == F.lit(as_of))
            .collect())  # one row per completed stage run of one date: a handful
    out = [_completion(r) for r in rows]
    return sorted(out, key=lambda c: (c.completed_at, c.stage, c.run_id))


def _completion(r: Any) -> Completion:
    return Completion(r.as_of_date, str(r.stage), str(r.run_id), r.completed_at,
                      str(r.config_hash or ""), dict(r.output_versions or {}),
                      dict(r.exports or {}))


def latest_by_stage(rows: Sequence[Completion]) -> dict[str, Completion]:
    """The newest completion of each stage (rows sorted oldest first)."""
    latest: dict[str, Completion] = {}
    for c in rows:
        latest[c.stage] = c
    return latest


def pipeline_completion(lake: Lakehouse, as_of: dt.date) -> Completion | None:
    """The newest ``pipeline`` row of ``as_of``, or None: the as-of is not complete."""
    return latest_by_stage(completions_of(lake, as_of)).get(PIPELINE)


def completed_versions(lake: Lakehouse, as_of: dt.date) -> dict[str, int] | None:
    """``{table: version}`` of the newest complete pipeline run of ``as_of``, else None."""
    done = pipeline_completion(lake, as_of)
    return None if done is None else dict(done.output_versions)


def pipeline_row(as_of: dt.date, stages: Sequence[str], latest: dict[str, Completion],
                 *, config_hash: str, now: dt.datetime, run_id: str) -> Completion:
    """The ``pipeline`` row from each stage's newest completion (pure; raises if none).

    Every stage must have completed, and no later than the stage after it: a stage rerun
    after its downstream stages completed leaves them built from older inputs, so the
    as-of stays incomplete until they are rerun too. Versions and exports are merged in
    pipeline order (a later stage's commit to the same table wins).
    """
    missing = [s for s in stages if s not in latest]
    if missing:
        raise IncompleteAsOfError(as_of, f"no completion record for stage(s) {', '.join(missing)}")
    versions: dict[str, int] = {}
    exports: dict[str, str] = {}
    for before, after in itertools.pairwise(stages):
        if latest[after].completed_at < latest[before].completed_at:
            raise IncompleteAsOfError(
                as_of, f"{before} completed again after {after}; rerun {after} and later stages")
    for s in stages:
        versions.update(latest[s].output_versions)
        exports.update(latest[s].exports)
    return Completion(as_of, PIPELINE, run_id, now, config_hash, versions, exports)


def publish(spark: SparkSession, cfg: Config, as_of: dt.date,
            stages: Sequence[str] | None = None) -> Completion:
    """Append the ``pipeline`` row of ``as_of`` (``sparkseg publish``; ``run`` ends with it)."""
    from sparkseg.pipeline import STAGES

    lake = Lakehouse(spark, cfg)
    latest = latest_by_stage(completions_of(lake, as_of))
    done = pipeline_row(as_of, list(stages or STAGES), latest, config_hash=cfg.hash(),
                        now=dt.datetime.now(dt.UTC), run_id=uuid.uuid4().hex[:16])
    _append(lake, done)
    log.info("as-of %s complete: pipeline run %s published %d table version(s), %d export(s)",
             as_of, done.run_id, len(done.output_versions), len(done.exports))
    return done
