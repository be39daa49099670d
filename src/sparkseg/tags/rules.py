"""Tag rules: loading from YAML and validation before any data is read.

A rules file is a mapping with a ``rules`` list. Each rule has a ``name``, one of the six
``CATEGORIES`` of the bank's tag system, a ``description`` (``en`` and ``zh``) and either

- ``when``: a Spark SQL boolean expression (a flag tag: the customer has it or not), or
- ``value``: an expression whose value is the tag's value, optionally cut into ordered
  ``buckets`` (``[{label: mass, below: 50000}, {label: affluent, below: 500000},
  {label: hnw}]``: the first bucket whose ``below`` exceeds the value, else the last).

Expressions may use the columns of ``silver/customer_features`` and ``gold/segments`` and
other tags by name (derived tags: a flag tag is a boolean column, a value tag a string
column). Every problem raises :class:`ConfigError` naming the rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg._model import Section
from sparkseg.config import Config
from sparkseg.tags.entries import Description, EntryKind
from sparkseg.tags.expressions import identifiers

# The tag system of the background article: 基本属性, 关联关系, 兴趣偏好, 价值信息,
# 风险信息, 营销信息.
CATEGORIES = (
    "basic_attributes",
    "relationships",
    "interests_preferences",
    "value",
    "risk",
    "marketing",
)
# Tag names are used as column names in rules and audiences: plain lower-case words.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FLAG_VALUE = "true"


@dataclass(frozen=True)
class Bucket:
    label: str
    below: float | None  # None: the last, open-ended bucket


@dataclass(frozen=True)
class TagRule:
    """One tag: a flag (``when``) or a value (``value`` with optional ``buckets``)."""

    name: str
    category: str
    description_en: str
    description_zh: str = ""
    when: str | None = None
    value: str | None = None
    buckets: tuple[Bucket, ...] = ()
    builtin: bool = False

    @property
    def is_flag(self) -> bool:
        return self.when is not None

    @property
    def expression(self) -> str:
        expr = self.when if self.when is not None else self.value
        assert expr is not None  # guaranteed by the loader
        return expr

    @property
    def column_type(self) -> T.DataType:
        """How other rules and audiences see this tag: boolean flag or string value."""
        return T.BooleanType() if self.is_flag else T.StringType()


@dataclass(frozen=True)
class RuleSet:
    """Validated rules in evaluation order (every rule after the tags it uses)."""

    rules: tuple[TagRule, ...]
    # Rules grouped by dependency depth: level 0 uses only input columns.
    levels: tuple[tuple[TagRule, ...], ...]
    # Short hash of the rules file content (and built-in rule parameters).
    version: str
    source: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)

    def get(self, name: str) -> TagRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def tag_schema(self) -> list[T.StructField]:
        return [T.StructField(r.name, r.column_type, True) for r in self.rules]


# --- YAML entries (typed, unknown keys rejected) -------------------------------------------



class _BucketEntry(Section):
    label: str = Field(min_length=1)
    below: float | None = None


class _RuleEntry(Section):
    name: str
    category: str
    description: Description | str
    when: str | None = None
    value: str | None = None
    buckets: list[_BucketEntry] | None = None


RULE = EntryKind("tag rule", "rule", "rules", "tag rules file")
_err = RULE.error


def _parse_buckets(source: str, name: str, entries: Sequence[_BucketEntry]) -> tuple[Bucket, ...]:
    if not entries:
        raise _err(source, name, "buckets must not be empty")
    labels = [b.label for b in entries]
    if len(set(labels)) != len(labels):
        raise _err(source, name, "bucket labels must be unique")
    *bounded, last = entries
    if last.below is not None:
        raise _err(source, name, f"the last bucket ('{last.label}') must have no 'below'")
    previous: float | None = None
    for b in bounded:
        if b.below is None:
            raise _err(source, name, f"bucket '{b.label}' needs 'below' (only the last has none)")
        if previous is not None and b.below <= previous:
            raise _err(source, name, "bucket 'below' bounds must increase")
        previous = b.below
    return tuple(Bucket(b.label, b.below) for b in entries)


def parse_rule(entry: Any, source: str, index: int) -> TagRule:
    """One YAML entry -> :class:`TagRule` (structure only; expressions checked later)."""
    parsed = RULE.parse_entry(entry, _RuleEntry, source, index)
    name = parsed.name
    if not _NAME.match(name):
        raise _err(source, name, "name must be lower-case letters, digits and '_' (start with a letter)")
    if parsed.category not in CATEGORIES:
        raise _err(
            source, name, f"unknown category '{parsed.category}' (one of {', '.join(CATEGORIES)})"
        )
    if (parsed.when is None) == (parsed.value is None):
        raise _err(source, name, "give exactly one of 'when' (flag tag) or 'value' (value tag)")
    if parsed.buckets is not None and parsed.value is None:
        raise _err(source, name, "'buckets' need a 'value' expression")
    for expr in (parsed.when, parsed.value):
        if expr is not None and not expr.strip():
            raise _err(source, name, "empty expression")
    desc = parsed.description
    en, zh = (desc, "") if isinstance(desc, str) else (desc.en, desc.zh)
    buckets = _parse_buckets(source, name, parsed.buckets) if parsed.buckets is not None else ()
    return TagRule(name, parsed.category, en, zh, parsed.when, parsed.value, buckets)


def dependencies(rule: TagRule, names: Sequence[str]) -> set[str]:
    """The tags ``rule`` refers to (its expression's identifiers that are tag names)."""
    return identifiers(rule.expression) & set(names)


def order_rules(
    rules: Sequence[TagRule], source: str
) -> tuple[tuple[TagRule, ...], tuple[tuple[TagRule, ...], ...]]:
    """Rules in dependency order and by level; a cycle raises :class:`ConfigError`."""
    names = [r.name for r in rules]
    by_name = {r.name: r for r in rules}
    deps = {r.name: dependencies(r, names) for r in rules}
    level: dict[str, int] = {}
    visiting: list[str] = []

    def visit(name: str) -> int:
        if name in level:
            return level[name]
        if name in visiting:
            cycle = [*visiting[visiting.index(name):], name]
            raise _err(source, name, "cycle between derived tags: " + " -> ".join(cycle))
        visiting.append(name)
        depth = 1 + max((visit(d) for d in sorted(deps[name])), default=-1)
        visiting.pop()
        level[name] = depth
        return depth

    for name in names:
        visit(name)
    position = {n: i for i, n in enumerate(names)}
    ordered = tuple(sorted(rules, key=lambda r: (level[r.name], position[r.name])))
    levels = tuple(
        tuple(by_name[n] for n in names if level[n] == lv) for lv in range(max(level.values(), default=-1) + 1)
    )
    return ordered, levels


def build_rule_set(
    rules: Sequence[TagRule],
    *,
    source: str,
    version: str,
    input_columns: Sequence[str] = (),
) -> RuleSet:
    """Check names (unique, no clash with input columns) and order the rules."""
    seen: dict[str, TagRule] = {}
    inputs = {c.lower() for c in input_columns}
    for rule in rules:
        if rule.name in seen:
            kind = "a built-in tag" if seen[rule.name].builtin else "another rule"
            raise _err(source, rule.name, f"duplicate name (already used by {kind})")
        if rule.name in inputs:
            raise _err(source, rule.name, "name clashes with an input column of the same name")
        seen[rule.name] = rule
    ordered, levels = order_rules(rules, source)
    return RuleSet(ordered, levels, version, source)


def rules_version(content: bytes, extra: str = "") -> str:
    """Short content hash recorded with every tag row (``rule_version``)."""
    return hashlib.sha256(content + extra.encode()).hexdigest()[:12]


def read_rules_file(path: Path) -> tuple[list[TagRule], bytes]:
    """Parse a rules file into rules (structure only) and its raw content."""
    entries, content = RULE.read_file(path)
    return [parse_rule(e, str(path), i) for i, e in enumerate(entries)], content


def validate_expressions(spark: SparkSession, rules: RuleSet, inputs: T.StructType) -> None:
    """Analyse every expression against an empty frame of ``inputs`` plus all tag columns.

    Catches syntax errors, unknown columns and functions, aggregates and wrong result
    types (``when`` must be boolean; bucketed values numeric) without reading data.
    """
    schema = T.StructType([*inputs.fields, *rules.tag_schema()])
    types = RULE.expression_types(
        spark, schema, rules.source,
        [(r.name, "when" if r.is_flag else "value", r.expression) for r in rules.rules],
    )
    for rule, dtype in zip(rules.rules, types, strict=True):
        if rule.is_flag and not isinstance(dtype, T.BooleanType):
            raise _err(
                rules.source, rule.name, f"'when' must be boolean, got {dtype.simpleString()}"
            )
        if rule.buckets and not isinstance(dtype, T.NumericType):
            raise _err(
                rules.source, rule.name,
                f"bucketed 'value' must be numeric, got {dtype.simpleString()}",
            )
        if not rule.is_flag and not isinstance(dtype, T.AtomicType):
            raise _err(
                rules.source, rule.name, f"'value' must be a scalar, got {dtype.simpleString()}"
            )


def load_rule_set(cfg: Config, input_columns: Sequence[str]) -> RuleSet:
    """The configured rules file plus the built-in channel-habit tags (no Spark needed)."""
    from sparkseg.tags.habit import habit_fingerprint, habit_rules

    path = cfg.resolve(cfg.tags.rules)
    rules, content = read_rules_file(path)
    habit = cfg.tags.channel_habit
    builtin = list(habit_rules(habit)) if habit.enabled else []
    # Built-ins go first so a same-named file rule is reported as the duplicate.
    return build_rule_set(
        [*builtin, *rules],
        source=str(path),
        version=rules_version(content, habit_fingerprint(habit) if habit.enabled else ""),
        input_columns=input_columns,
    )
