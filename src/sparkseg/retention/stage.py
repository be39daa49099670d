"""``sparkseg retain``: drop as-of partitions older than ``retention.keep_days``.

At as-of D it drops, from every gold table partitioned by ``as_of_date`` and from
``silver/customer_features``, the partitions with ``as_of_date < D - keep_days`` (so
D - keep_days .. D, and any later date, are kept). Each table loses whole partitions in
one Delta commit of remove actions; no data file is rewritten. The files stay on disk,
readable at older table versions, until ``sparkseg vacuum`` removes them after its
retention (``--retention-hours``).

Never touched: ``raw/`` (input owned by upstream systems), the other silver tables
(ingest and identity keep them per as-of for reruns), ``ops/`` (the audit trail) and
``models/``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from pyspark.sql import SparkSession

from sparkseg.audiences.tables import AUDIENCE_MEMBERS, CAMPAIGN_EVALUATION
from sparkseg.config import Config
from sparkseg.errors import ConfigError
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.lifecycle.tables import CUSTOMER_LIFECYCLE, LIFECYCLE_TRANSITIONS
from sparkseg.segment.tables import (
    SEGMENT_FEATURE_STATS,
    SEGMENT_MIGRATION,
    SEGMENT_PROFILES,
    SEGMENTS,
)
from sparkseg.strategies.definitions import StrategyBook, read_strategies
from sparkseg.strategies.tables import (
    CONTACT_PLAN,
    STRATEGY_EVALUATION,
    STRATEGY_FUNNEL,
    STRATEGY_RESPONSES,
)
from sparkseg.tables import TableSpec
from sparkseg.tags.tables import CUSTOMER_TAGS, CUSTOMER_TAGS_WIDE, TAG_COUNTS

log = logging.getLogger("sparkseg")

COLUMN = "as_of_date"

# Every gold table (all are partitioned by as_of_date) and the one silver table that
# grows by a full customer base each day. tests/test_retain.py checks that no gold spec
# of the package is missing here.
RETAINED: tuple[TableSpec, ...] = (
    CUSTOMER_FEATURES,
    SEGMENTS, SEGMENT_MIGRATION, SEGMENT_PROFILES, SEGMENT_FEATURE_STATS,
    CUSTOMER_TAGS, CUSTOMER_TAGS_WIDE, TAG_COUNTS,
    CUSTOMER_LIFECYCLE, LIFECYCLE_TRANSITIONS,
    AUDIENCE_MEMBERS, CAMPAIGN_EVALUATION,
    CONTACT_PLAN, STRATEGY_FUNNEL, STRATEGY_RESPONSES, STRATEGY_EVALUATION,
)


@dataclass(frozen=True)
class Retained:
    """One table's outcome: ``version`` None when nothing was dropped or no table."""

    table: str
    exists: bool
    version: int | None
    partitions: tuple[str, ...]
    rows: int

    def line(self, cutoff: dt.date) -> str:
        if not self.exists:
            return f"{self.table}: no table, skipped"
        if self.version is None:
            return f"{self.table}: nothing before {cutoff}"
        span = self.partitions[0] if len(self.partitions) == 1 else (
            f"{self.partitions[0]}..{self.partitions[-1]}")
        return (f"{self.table}: dropped {len(self.partitions)} partition(s) ({span}), "
                f"{self.rows} rows, v{self.version}")


def cutoff_of(cfg: Config, as_of: dt.date) -> dt.date:
    """The first as-of date kept: ``as_of - keep_days``; ConfigError if it is unsafe.

    The audiences stage evaluates the audience of ``as_of - window_days`` (its campaign
    window has just closed): a shorter retention would drop that audience's members
    before they are evaluated, silently. (:func:`check_plan_lookback` adds the contact
    plans' own bound once Spark is up.)
    """
    keep = cfg.retention.keep_days
    if keep is None:
        raise ConfigError(f"{cfg.source}: retention.keep_days is not set")
    window = cfg.audiences.evaluation.window_days
    if cfg.audiences.evaluation.enabled and keep < window:
        raise ConfigError(
            f"{cfg.source}: retention.keep_days {keep} is shorter than "
            f"audiences.evaluation.window_days {window}: audiences would be dropped before "
            "their campaign evaluation (raise keep_days or disable the evaluation)"
        )
    return as_of - dt.timedelta(days=keep)


def check_plan_lookback(lake: Lakehouse, cfg: Config) -> None:
    """ConfigError if ``gold/contact_plan`` exists and the retention is shorter than the
    days of plans ``sparkseg plan`` reads back (cooldowns, follow-ups, the touch cap)."""
    keep = cfg.retention.keep_days
    path = cfg.resolve(cfg.strategies.definitions)
    if keep is None or not path.is_file() or not lake.exists(CONTACT_PLAN):
        return
    strategies, policy = read_strategies(path)
    lookback = StrategyBook(strategies, policy, str(path)).lookback_days
    if keep < lookback:
        raise ConfigError(
            f"{cfg.source}: retention.keep_days {keep} is shorter than the {lookback} days "
            f"of {CONTACT_PLAN.name} that the strategies of {path} read back (cooldown, "
            "sequence, touch cap): raise keep_days"
        )


def retain(spark: SparkSession, cfg: Config, as_of: dt.date) -> list[Retained]:
    """Drop the partitions before :func:`cutoff_of` from every table of :data:`RETAINED`."""
    cutoff = cutoff_of(cfg, as_of)
    lake = Lakehouse(spark, cfg)
    check_plan_lookback(lake, cfg)
    out: list[Retained] = []
    for spec in RETAINED:
        result = lake.delete_partitions_before(spec, COLUMN, cutoff)
        done = (Retained(spec.name, False, None, (), 0) if result is None else
                Retained(spec.name, True, result.version, result.partitions, result.rows))
        log.info("%s", done.line(cutoff))
        out.append(done)
    current = ledger.current()
    if current is not None:
        current.message = summary(out, cutoff)
    return out


def summary(results: list[Retained], cutoff: dt.date) -> str:
    dropped = [r for r in results if r.version is not None]
    return (f"dropped as_of_date < {cutoff}: {sum(len(r.partitions) for r in dropped)} "
            f"partition(s), {sum(r.rows for r in dropped)} rows in {len(dropped)} table(s); "
            "files are removed by `sparkseg vacuum` after its retention")


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """The stage entry point (``pipeline.run_stage(..., fn=run)``)."""
    retain(spark, cfg, as_of)
