"""The ``tags`` stage: rule-based tags per customer (README "Tags", docs/contracts.md).

Reads ``silver/customer_features`` and ``gold/segments`` of one as-of date, evaluates
every rule of ``tags.rules`` (plus the built-in channel-habit tags) in one pass and
writes ``gold/customer_tags`` (long), ``gold/customer_tags_wide`` and ``gold/tag_counts``.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from sparkseg.config import Config
from sparkseg.errors import ConfigError
from sparkseg.lakehouse import Lakehouse
from sparkseg.segment.tables import read_segments
from sparkseg.tags import engine
from sparkseg.tags.expressions import identifiers
from sparkseg.tags.inputs import (
    FEATURES_TABLE,
    check_referenced_columns,
    known_input_schema,
)
from sparkseg.tags.rules import RuleSet, load_rule_set, validate_expressions
from sparkseg.tags.sandbox import without_sql_on_files
from sparkseg.tags.tables import CUSTOMER_TAGS, CUSTOMER_TAGS_WIDE, TAG_COUNTS

log = logging.getLogger(__name__)

# Tag counts logged per run; more (tag, value) pairs than this are only in gold/tag_counts.
_LOGGED_COUNTS = 200


def load_rules(spark: SparkSession, cfg: Config) -> RuleSet:
    """Load and fully validate the rules against the documented input columns (no data)."""
    inputs = known_input_schema(cfg)
    rules = load_rule_set(cfg, inputs.fieldNames())
    validate_expressions(spark, rules, inputs)
    return rules


def tag_input_frame(features: DataFrame, segments: DataFrame) -> DataFrame:
    """Features left-joined with segments on ``one_id`` (unsegmented customers keep nulls)."""
    return features.join(segments, "one_id", "left")


def check_rules_against(spark: SparkSession, cfg: Config, rules: RuleSet, frame: DataFrame) -> None:
    """The real input must have what the rules use; checked on schemas only (no job).

    A documented column the table lacks is a :class:`SchemaMismatchError` naming the
    table; the expressions are then analysed again with the real column types.
    """
    have = {c.lower() for c in frame.columns}
    clash = sorted(set(rules.names) & have)
    if clash:
        raise ConfigError(
            f"{rules.source}: tag rule '{clash[0]}': name clashes with a column of the input"
        )
    documented = {n.lower() for n in known_input_schema(cfg).fieldNames()}
    used: set[str] = set()
    for rule in rules.rules:
        used |= identifiers(rule.expression)
    check_referenced_columns(used & documented, have)
    validate_expressions(spark, rules, frame.schema)


def previous_counts(lake: Lakehouse, as_of: dt.date) -> DataFrame | None:
    """``gold/tag_counts`` of the latest as-of before ``as_of``, or None."""
    prev_date = lake.latest_as_of(TAG_COUNTS, before=as_of)
    if prev_date is None:
        return None
    return lake.read(TAG_COUNTS, partitions={"as_of_date": prev_date})


@without_sql_on_files
def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    rules = load_rules(spark, cfg)
    lake = Lakehouse(spark, cfg)
    features = lake.read_as_of(FEATURES_TABLE, as_of, hint="run `sparkseg features` first")
    frame = tag_input_frame(features, read_segments(lake, as_of))
    check_rules_against(spark, cfg, rules, frame)
    log.info("tags %s: %d rules (version %s)", as_of, len(rules.rules), rules.version)

    # Three tables are cut from the same evaluation: keep it instead of scanning the
    # features three times. Only one_id and the applying tags are kept, so it is small.
    entries = engine.evaluate_tags(frame, rules=rules).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        replace = {"as_of_date": as_of}
        long = engine.to_long(entries, as_of=as_of, rule_version=rules.version)
        lake.write(long, CUSTOMER_TAGS, mode="overwrite_partitions", replace=replace)
        wide = engine.to_wide(entries, as_of=as_of)
        lake.write(wide, CUSTOMER_TAGS_WIDE, mode="overwrite_partitions", replace=replace)
        counts = engine.with_previous_counts(
            engine.count_tags(long), previous_counts(lake, as_of), as_of=as_of
        )
        lake.write(counts, TAG_COUNTS, mode="overwrite_partitions", replace=replace)
    finally:
        entries.unpersist()
    log_counts(lake, as_of)


def log_counts(lake: Lakehouse, as_of: dt.date) -> None:
    """One log line per tag value: customers and change against the previous as-of."""
    rows = (
        lake.read(TAG_COUNTS, partitions={"as_of_date": as_of})
        .orderBy("tag", "value")
        .limit(_LOGGED_COUNTS)
        .collect()
    )
    for r in rows:
        label = r["tag"] if r["value"] == "true" else f"{r['tag']}={r['value']}"
        change = "new" if r["change"] is None else f"{r['change']:+d}"
        log.info("tag %-40s %9d customers (%s)", label, r["customers"], change)
