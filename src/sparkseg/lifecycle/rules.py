"""Lifecycle stage conditions: validation before any data is read, and evaluation.

The conditions (``lifecycle.stages[].when``) are config expressions like the tag rules
and go through the same checks (:mod:`sparkseg.tags.expressions`,
:mod:`sparkseg.tags.sandbox`): the allow-list on the parse tree, then analysis against an
empty frame of the features' documented columns. A problem is one ConfigError line:
``<config>: lifecycle stage '<name>': <problem> in when: <expression>``.
"""

from __future__ import annotations

import itertools

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.config import Config
from sparkseg.lifecycle.config import LifecycleConfig
from sparkseg.tags.entries import EntryKind
from sparkseg.tags.expressions import identifiers, user_expr
from sparkseg.tags.inputs import feature_columns

STAGE = EntryKind("lifecycle stage", "stage", "lifecycle.stages", "config")


def known_feature_schema(cfg: Config) -> T.StructType:
    """The columns a condition may use: those of ``silver/customer_features``."""
    return T.StructType([T.StructField(n, t, True) for n, t in feature_columns(cfg)])


def validate_conditions(
    spark: SparkSession, lifecycle: LifecycleConfig, schema: T.StructType, source: str
) -> None:
    """Every ``when`` is allowed and boolean over ``schema`` (no data read, no job)."""
    types = STAGE.expression_types(
        spark, schema, source, [(s.name, "when", s.when) for s in lifecycle.stages]
    )
    for stage, dtype in zip(lifecycle.stages, types, strict=True):
        if not isinstance(dtype, T.BooleanType):
            raise STAGE.error(source, stage.name, f"'when' must be boolean, got {dtype.simpleString()}")


def referenced_columns(lifecycle: LifecycleConfig, columns: set[str]) -> set[str]:
    """The names of ``columns`` (lower case) that some condition mentions."""
    used: set[str] = set()
    for stage in lifecycle.stages:
        used |= identifiers(stage.when)
    return used & columns


def _lookup(mapping: dict[str, str], key: Column) -> Column:
    return F.element_at(
        F.create_map(*itertools.chain.from_iterable((F.lit(k), F.lit(v)) for k, v in mapping.items())),
        key,
    )


def matched_stage(lifecycle: LifecycleConfig) -> Column:
    """The first stage whose condition holds (null conditions are false), else null."""
    out: Column | None = None
    for stage in lifecycle.stages:
        cond = F.coalesce(user_expr(stage.when), F.lit(False))
        out = F.when(cond, F.lit(stage.name)) if out is None else out.when(cond, F.lit(stage.name))
    assert out is not None  # the config requires at least one stage
    return out


def with_stage(df: DataFrame, *, lifecycle: LifecycleConfig) -> DataFrame:
    """Add ``stage``, ``stage_zh`` and ``by_fallback`` (one projection, no job).

    Needs the columns the conditions use. ``by_fallback`` is true where no condition
    held and ``stage`` is ``lifecycle.fallback``.
    """
    matched = df.withColumn("__matched__", matched_stage(lifecycle))
    zh = {s.name: s.name_zh for s in lifecycle.stages}
    return (
        matched.withColumn("by_fallback", F.col("__matched__").isNull())
        .withColumn("stage", F.coalesce(F.col("__matched__"), F.lit(lifecycle.fallback)))
        .withColumn("stage_zh", _lookup(zh, F.col("stage")))
        .drop("__matched__")
    )
