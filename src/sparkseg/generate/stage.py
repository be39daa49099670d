"""``sparkseg generate``: write every raw table of DESIGN.md with synthetic data.

The tables are built by Spark itself from ``spark.range(customers)``: each table starts
from its own range, whose partition count is sized so that one partition makes one
output file of about ``generate.target_file_mb``; the builders only explode and project
(no shuffle), so the range's partitioning is the files' partitioning. Every random value
is a hash of the seed and row keys, so a seed gives the same rows on any cluster.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from sparkseg.config import Config
from sparkseg.generate.balances import PRODUCTS, build_balances
from sparkseg.generate.config import GenerateConfig
from sparkseg.generate.customers import customer_base, customers_table, truth_personas
from sparkseg.generate.dirty import dirt_for, with_dirty_rows
from sparkseg.generate.events import anonymous_base, build_anonymous_events, build_events
from sparkseg.generate.links import build_anonymous_links, build_identity_links
from sparkseg.generate.period import Period
from sparkseg.generate.transactions import build_transactions
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TRANSACTIONS,
    RAW_TRUTH_PERSONAS,
    TableSpec,
)

log = logging.getLogger(__name__)
_WHOLE_STAGE = "spark.sql.codegen.wholeStage"

# Snappy Parquet bytes per row, measured on generated data (scripts/gen_timing.py).
BYTES_PER_ROW: dict[str, float] = {
    RAW_CUSTOMERS.name: 45.0,
    RAW_TRANSACTIONS.name: 40.0,
    RAW_BALANCES.name: 14.0,
    RAW_EVENTS.name: 40.0,
    RAW_IDENTITY_LINKS.name: 90.0,
    RAW_TRUTH_PERSONAS.name: 12.0,
}


@dataclass(frozen=True)
class Plan:
    """How to build one raw table: its spec, partitions (= files) and lazy builder."""

    spec: TableSpec
    partitions: int
    build: Callable[[], DataFrame]
    dirty: bool = True


def partitions_for(rows: float, bytes_per_row: float, target_mb: int) -> int:
    """Partitions (= output files) so that each file holds about ``target_mb``."""
    return max(1, math.ceil(rows * bytes_per_row / (target_mb * 2**20)))


def expected_rows(gen: GenerateConfig, period: Period) -> dict[str, float]:
    """Rough row counts per table (to size files; the real counts vary by persona mix)."""
    n = gen.customers
    n_anon = round(n * gen.anonymous_share)
    return {
        RAW_CUSTOMERS.name: n,
        RAW_TRUTH_PERSONAS.name: n,
        RAW_TRANSACTIONS.name: n * gen.txn_per_customer,
        RAW_BALANCES.name: n * len(period.month_ends) * len(PRODUCTS) * 0.4,
        RAW_EVENTS.name: n * gen.events_per_customer + n_anon * ANON_EVENTS,
        RAW_IDENTITY_LINKS.name: n * 4.0 + n_anon * 0.3,
    }


# Mean events of an anonymous visitor (anonymous_base draws 1-10).
ANON_EVENTS = 5.5


def table_plans(spark: SparkSession, gen: GenerateConfig) -> list[Plan]:
    """The raw tables to generate, in write order, each with a lazy builder.

    The customer base is defined once, on as many range partitions as the biggest table
    needs, and narrowed with ``coalesce`` (no shuffle) for the smaller tables: defining
    it costs thousands of JVM calls, so doing it once per run matters for small runs.
    """
    period = Period.of(gen)
    rows = expected_rows(gen, period)
    parts = {name: partitions_for(r, BYTES_PER_ROW[name], gen.target_file_mb)
             for name, r in rows.items()}
    base = customer_base(spark.range(0, gen.customers, 1, max(parts.values())), gen=gen,
                         period=period)
    n_anon = round(gen.customers * gen.anonymous_share)
    anon = anonymous_base(spark.range(0, n_anon, 1, 1), gen=gen) if n_anon else None

    def of(spec: TableSpec) -> DataFrame:
        return base.coalesce(parts[spec.name])

    def events() -> DataFrame:
        own = build_events(of(RAW_EVENTS), gen=gen, period=period)
        if anon is None:
            return own
        return own.unionByName(build_anonymous_events(anon, gen=gen, period=period))

    def links() -> DataFrame:
        own = build_identity_links(of(RAW_IDENTITY_LINKS), gen=gen, period=period)
        if anon is None:
            return own
        return own.unionByName(build_anonymous_links(anon, gen=gen, period=period))

    def plan(spec: TableSpec, build: Callable[[], DataFrame], dirty: bool = True) -> Plan:
        return Plan(spec, parts[spec.name], build, dirty)

    return [
        plan(RAW_CUSTOMERS, lambda: customers_table(of(RAW_CUSTOMERS))),
        plan(RAW_TRUTH_PERSONAS, lambda: truth_personas(of(RAW_TRUTH_PERSONAS)), dirty=False),
        plan(RAW_TRANSACTIONS,
             lambda: build_transactions(of(RAW_TRANSACTIONS), gen=gen, period=period)),
        plan(RAW_BALANCES, lambda: build_balances(of(RAW_BALANCES), gen=gen, period=period)),
        plan(RAW_EVENTS, events),
        plan(RAW_IDENTITY_LINKS, links),
    ]


def build_table(plan: Plan, gen: GenerateConfig) -> DataFrame:
    """The table of ``plan`` with its share of dirty rows, conformed to its spec."""
    df = plan.build()
    if plan.dirty:
        df = with_dirty_rows(
            df, dirt_for(plan.spec.name, gen.end_date), share=gen.dirty_share, seed=gen.seed,
            salt=sum(map(ord, plan.spec.name)),
        )
    return plan.spec.conform(df)


@dataclass(frozen=True)
class Written:
    """What one table write produced (for logs and the timing script)."""

    table: str
    rows: int
    files: int
    seconds: float


def write_tables(spark: SparkSession, cfg: Config) -> list[Written]:
    """Build and overwrite every raw table (and raw/_truth_personas), in order."""
    gen = cfg.generate
    lake = Lakehouse(spark, cfg)
    done: list[Written] = []
    # Whole-stage code generation fuses each table's dozens of CASE expressions into one
    # huge method that the JVM runs slowly; per-operator code generation measured about
    # half the CPU time per generated row. Scoped to this stage and restored afterwards.
    previous = spark.conf.get(_WHOLE_STAGE, None)
    spark.conf.set(_WHOLE_STAGE, "false")
    try:
        for plan in table_plans(spark, gen):
            t0 = time.perf_counter()
            result = lake.write(build_table(plan, gen), plan.spec, mode="overwrite",
                                metadata={"sparkseg.generate.seed": str(gen.seed)})
            done.append(Written(plan.spec.name, result.rows, result.files,
                                time.perf_counter() - t0))
    finally:
        if previous is None:
            spark.conf.unset(_WHOLE_STAGE)
        else:
            spark.conf.set(_WHOLE_STAGE, previous)
    return done


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """Overwrite every raw table (and raw/_truth_personas) with generated data.

    The data covers ``generate.months`` months ending at ``generate.end_date``
    (exclusive); ``as_of`` does not move it, so the same config always gives the same
    tables.
    """
    gen = cfg.generate
    if as_of != gen.end_date:
        log.info("generate: data ends at generate.end_date=%s (as-of %s does not move it)",
                 gen.end_date, as_of)
    for w in write_tables(spark, cfg):
        log.info("generated %s: %d rows, %d file(s), %.1fs", w.table, w.rows, w.files, w.seconds)
