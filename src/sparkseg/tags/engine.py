"""Evaluating tag rules: one pass over the features-and-segments frame.

All rules become columns of one projection (derived tags are added level by level with
``withColumns``; Catalyst collapses those projections into the same stage, so the input
is scanned once and no job runs per tag). The applying tags of each customer are then
gathered into one array of structs, from which the long and the wide tables are cut.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.tags.expressions import user_expr
from sparkseg.tags.rules import FLAG_VALUE, RuleSet, TagRule

ENTRIES = "tag_entries"


def rule_column(rule: TagRule) -> Column:
    """The tag's column: a non-null boolean for a flag, a string (or null) for a value.

    A flag whose expression is null (say ``age >= 60`` with unknown age) is false: a
    customer is only tagged on evidence.
    """
    if rule.is_flag:
        return F.coalesce(user_expr(rule.expression), F.lit(False))
    value = user_expr(rule.expression)
    if not rule.buckets:
        return value.cast("string")
    out: Column | None = None
    for bucket in rule.buckets:
        cond = value.isNotNull() if bucket.below is None else value < F.lit(bucket.below)
        out = F.when(cond, F.lit(bucket.label)) if out is None else out.when(cond, F.lit(bucket.label))
    assert out is not None
    return out


def with_tag_columns(df: DataFrame, *, rules: RuleSet) -> DataFrame:
    """Add one column per rule, named after the tag.

    Needs the columns the rules use; adds a boolean (flag) or string (value) column per tag.
    """
    for level in rules.levels:
        df = df.withColumns({r.name: rule_column(r) for r in level})
    return df


def with_tag_entries(df: DataFrame, *, rules: RuleSet) -> DataFrame:
    """Add ``tag_entries``: array<struct<tag, value, category, label>> of applying tags.

    Needs the tag columns of :func:`with_tag_columns`. ``value`` is ``"true"`` for a flag;
    ``label`` is the wide form's element: ``payroll`` for a flag, ``aum_tier=affluent``
    for a value tag.
    """
    structs = []
    for r in rules.rules:
        col = F.col(r.name)
        value = F.when(col, F.lit(FLAG_VALUE)) if r.is_flag else col
        label = F.lit(r.name) if r.is_flag else F.concat(F.lit(f"{r.name}="), col)
        structs.append(
            F.struct(
                F.lit(r.name).alias("tag"),
                value.alias("value"),
                F.lit(r.category).alias("category"),
                label.alias("label"),
            )
        )
    if not structs:
        empty = "array<struct<tag:string,value:string,category:string,label:string>>"
        return df.withColumn(ENTRIES, F.array().cast(empty))
    return df.withColumn(ENTRIES, F.filter(F.array(*structs), lambda e: e["value"].isNotNull()))


def evaluate_tags(frame: DataFrame, *, rules: RuleSet) -> DataFrame:
    """``one_id, tag_entries``: every rule evaluated in one projection of ``frame``."""
    return (
        frame.transform(with_tag_columns, rules=rules)
        .transform(with_tag_entries, rules=rules)
        .select("one_id", ENTRIES)
    )


def to_long(entries: DataFrame, *, as_of: dt.date, rule_version: str) -> DataFrame:
    """``gold/customer_tags`` rows: one per customer and applying tag."""
    return entries.select("one_id", F.explode(ENTRIES).alias("e")).select(
        "one_id",
        F.col("e.tag").alias("tag"),
        F.col("e.value").alias("value"),
        F.col("e.category").alias("category"),
        F.lit(as_of).alias("as_of_date"),
        F.lit(rule_version).alias("rule_version"),
    )


def to_wide(entries: DataFrame, *, as_of: dt.date) -> DataFrame:
    """``gold/customer_tags_wide`` rows: every customer, with an empty array if untagged."""
    return entries.select(
        "one_id",
        F.transform(ENTRIES, lambda e: e["label"]).alias("tags"),
        F.lit(as_of).alias("as_of_date"),
    )


def count_tags(long: DataFrame) -> DataFrame:
    """``tag, value, customers`` from long tag rows (one row per customer and tag)."""
    return long.groupBy("tag", "value").agg(F.count(F.lit(1)).alias("customers"))


def with_previous_counts(
    current: DataFrame, previous: DataFrame | None, *, as_of: dt.date
) -> DataFrame:
    """``gold/tag_counts`` rows: this as-of's counts against the previous as-of's.

    ``current`` and ``previous`` have ``tag, value, customers``. A tag value present only
    before shows ``customers = 0``; without a previous as-of, ``prev_customers`` and
    ``change`` are null.
    """
    cur = current.select("tag", "value", F.col("customers").cast("long").alias("customers"))
    if previous is None:
        out = cur.withColumn("prev_customers", F.lit(None).cast("long"))
    else:
        prev = previous.select(
            "tag", "value", F.col("customers").cast("long").alias("prev_customers")
        )
        out = cur.join(prev, ["tag", "value"], "full_outer").withColumn(
            "customers", F.coalesce("customers", F.lit(0).cast("long"))
        )
    return out.select(
        F.lit(as_of).alias("as_of_date"),
        "tag",
        "value",
        "customers",
        "prev_customers",
        (F.col("customers") - F.col("prev_customers")).alias("change"),
    )
