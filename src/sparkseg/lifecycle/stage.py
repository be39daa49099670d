"""The ``lifecycle`` stage: each customer's lifecycle stage (生命周期) per as-of.

Reads ``silver/customer_features`` of the as-of, evaluates ``lifecycle.stages`` in order
(first match wins, else ``lifecycle.fallback``) and writes ``gold/customer_lifecycle``.
The customer's row of the latest earlier as-of in that table gives ``previous_stage``
and carries ``stage_since`` over while the stage stays the same. Then the counts from
stage to stage between the two as-ofs go to ``gold/lifecycle_transitions`` (the pattern
of ``gold/segment_migration``).

Both writes replace only the as-of's partition, so a rerun of a date gives the same rows
(its inputs are that date's features and an earlier date's lifecycle rows). A backfill
of an earlier date does not rewrite later dates' ``previous_stage`` or ``stage_since``:
rerun the later dates in order for that.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.errors import SchemaMismatchError
from sparkseg.lakehouse import Lakehouse
from sparkseg.lifecycle.config import LifecycleConfig
from sparkseg.lifecycle.rules import (
    known_feature_schema,
    referenced_columns,
    validate_conditions,
    with_stage,
)
from sparkseg.lifecycle.tables import CUSTOMER_LIFECYCLE, LIFECYCLE_TRANSITIONS
from sparkseg.tags.inputs import FEATURES_TABLE
from sparkseg.tags.sandbox import without_sql_on_files
from sparkseg.transitions import moves_between

log = logging.getLogger(__name__)


def load_stages(spark: SparkSession, cfg: Config) -> LifecycleConfig:
    """``cfg.lifecycle`` with every condition checked against the documented features."""
    validate_conditions(spark, cfg.lifecycle, known_feature_schema(cfg), cfg.source)
    return cfg.lifecycle


def check_against(spark: SparkSession, cfg: Config, features: DataFrame) -> None:
    """The real features must have the columns the conditions use (schemas only, no job)."""
    documented = {n.lower() for n in known_feature_schema(cfg).fieldNames()}
    have = {c.lower() for c in features.columns}
    missing = sorted(referenced_columns(cfg.lifecycle, documented) - have)
    if missing:
        raise SchemaMismatchError(FEATURES_TABLE, missing=missing)
    validate_conditions(spark, cfg.lifecycle, features.schema, cfg.source)


def customer_lifecycle(
    features: DataFrame,
    previous: DataFrame | None,
    *,
    lifecycle: LifecycleConfig,
    as_of: dt.date,
    prev_as_of: dt.date | None,
) -> DataFrame:
    """``gold/customer_lifecycle`` rows of ``as_of``: one per row of ``features``.

    Needs ``one_id, customer_id`` and the columns the conditions use in ``features``;
    ``one_id, stage, stage_since`` in ``previous`` (the table's rows of ``prev_as_of``).
    ``stage_since`` is the previous row's while the stage is unchanged, else ``as_of``:
    the first as-of of the current unbroken run in the stage that the table has seen.
    """
    staged = features.transform(with_stage, lifecycle=lifecycle)
    if previous is None:
        joined = staged.withColumns(
            {"previous_stage": F.lit(None).cast("string"), "previous_since": F.lit(None).cast("date")}
        )
    else:
        prev = previous.select(
            "one_id",
            F.col("stage").alias("previous_stage"),
            F.col("stage_since").alias("previous_since"),
        )
        joined = staged.join(prev, "one_id", "left")
    since = F.when(
        F.col("previous_stage") == F.col("stage"), F.col("previous_since")
    ).otherwise(F.lit(as_of).cast("date"))
    return joined.withColumn("stage_since", since).select(
        "one_id",
        "customer_id",
        F.lit(as_of).cast("date").alias("as_of_date"),
        "stage",
        "stage_zh",
        "by_fallback",
        "previous_stage",
        F.lit(prev_as_of).cast("date").alias("previous_as_of_date"),
        "stage_since",
        F.datediff(F.lit(as_of).cast("date"), F.col("stage_since")).alias("days_in_stage"),
    )


@without_sql_on_files
def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    lifecycle = load_stages(spark, cfg)
    lake = Lakehouse(spark, cfg)
    features = lake.read_as_of(FEATURES_TABLE, as_of, hint="run `sparkseg features` first")
    check_against(spark, cfg, features)

    prev_date = lake.latest_as_of(CUSTOMER_LIFECYCLE, before=as_of)
    previous = (
        lake.read(CUSTOMER_LIFECYCLE, partitions={"as_of_date": prev_date}) if prev_date else None
    )
    rows = customer_lifecycle(
        features, previous, lifecycle=lifecycle, as_of=as_of, prev_as_of=prev_date
    )
    replace = {"as_of_date": as_of}
    result = lake.write(rows, CUSTOMER_LIFECYCLE, mode="overwrite_partitions", replace=replace)
    log.info("lifecycle %s: %d customers in %d stages (previous as-of %s)",
             as_of, result.rows, len(lifecycle.stages), prev_date or "none")

    current = lake.read(CUSTOMER_LIFECYCLE, partitions={"as_of_date": as_of})
    # from_stage null: new in the table since prev_date; to_stage null: gone since.
    transitions = moves_between(previous, current, column="stage", kind="string", as_of=as_of,
                                prev_as_of=prev_date)
    lake.write(transitions, LIFECYCLE_TRANSITIONS, mode="overwrite_partitions", replace=replace)
    log_counts(lake, as_of)


def log_counts(lake: Lakehouse, as_of: dt.date) -> None:
    """One log line per stage: customers now and the change (a few rows, read back)."""
    rows = (
        lake.read(LIFECYCLE_TRANSITIONS, partitions={"as_of_date": as_of})
        .groupBy("to_stage").agg(F.sum("customers").alias("n"))
        .where(F.col("to_stage").isNotNull())
        .orderBy("to_stage")
        .collect()  # one row per stage
    )
    for r in rows:
        log.info("lifecycle %-12s %9d customers", r["to_stage"], r["n"])
