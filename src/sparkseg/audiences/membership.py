"""Audience membership and control groups (pure DataFrame transforms).

Control groups: each (audience, customer) pair gets a number in [0, 1) from SHA-256 of
``"<audience>:<one_id>"`` (first 13 hex digits / 16**13); the pair is in the control
group when that number is below the audience's ``control_share``. The number depends
only on the two strings, so a customer stays in the same group in every run, Spark
version and cluster, and a marketing system can recompute it with any SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.audiences.definitions import Audience
from sparkseg.tags.expressions import user_expr
from sparkseg.tags.rules import RuleSet

_HEX_DIGITS = 13  # 52 bits: exact in a double
MEMBERS_SCHEMA = "audience string, one_id string, group string"


def control_unit(audience: str, one_id: Column) -> Column:
    """A stable pseudo-random number in [0, 1) per audience and customer."""
    digest = F.sha2(F.concat(F.lit(f"{audience}:"), one_id), 256)
    as_int = F.conv(F.substring(digest, 1, _HEX_DIGITS), 16, 10).cast("double")
    return as_int / F.lit(float(16**_HEX_DIGITS))


def _starts_with(prefix: str) -> Callable[[Column], Column]:
    # F.filter reads the lambda's arity (1: element, 2: element and index), so the
    # prefix is bound by a closure, not a default argument.
    return lambda t: t.startswith(prefix)


def with_tag_columns_from_wide(wide: DataFrame, *, rules: RuleSet) -> DataFrame:
    """Turn the wide form's ``tags`` array back into one column per tag.

    Needs ``tags`` (array<string> of ``payroll`` / ``aum_tier=affluent`` labels); adds a
    boolean column per flag tag and a string column (null if absent) per value tag.
    """
    columns: dict[str, Column] = {}
    for rule in rules.rules:
        if rule.is_flag:
            columns[rule.name] = F.coalesce(F.array_contains("tags", rule.name), F.lit(False))
        else:
            prefix = f"{rule.name}="
            values = F.transform(
                F.filter("tags", _starts_with(prefix)),
                lambda t: F.split(t, "=", 2).getItem(1),
            )
            columns[rule.name] = F.try_element_at(values, F.lit(1))
    return wide.withColumns(columns) if columns else wide


def audience_members(frame: DataFrame, *, audiences: Sequence[Audience]) -> DataFrame:
    """``audience, one_id, group`` for every audience a customer's row satisfies.

    Needs ``one_id`` and the columns the ``include`` expressions use. All audiences are
    evaluated in one projection; a null ``include`` counts as false.
    """
    if not audiences:
        return frame.sparkSession.createDataFrame([], MEMBERS_SCHEMA)
    one_id = F.col("one_id")
    hits = [
        F.when(
            F.coalesce(user_expr(a.include), F.lit(False)),
            F.struct(
                F.lit(a.name).alias("audience"),
                F.when(control_unit(a.name, one_id) < F.lit(a.control_share), F.lit("control"))
                .otherwise(F.lit("target"))
                .alias("group"),
            ),
        )
        for a in audiences
    ]
    member = F.explode(F.filter(F.array(*hits), lambda h: h.isNotNull())).alias("m")
    return frame.select("one_id", member).select(
        F.col("m.audience").alias("audience"), "one_id", F.col("m.group").alias("group")
    )


def with_as_of(df: DataFrame, *, as_of: dt.date) -> DataFrame:
    """Add the ``as_of_date`` column."""
    return df.withColumn("as_of_date", F.lit(as_of).cast(T.DateType()))


def group_sizes(members: DataFrame) -> DataFrame:
    """``audience, group, customers``: small (audiences x 2 rows), safe to collect."""
    return members.groupBy("audience", "group").agg(F.count(F.lit(1)).alias("customers"))
