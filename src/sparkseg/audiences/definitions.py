"""Audience definitions (名单): loading from YAML and validation before any data is read.

An audiences file is a mapping with an ``audiences`` list. Each audience has a ``name``
(letters, digits, ``_`` and ``-``: it names an export folder), a ``description``, an
``include`` expression (Spark SQL with AND / OR / NOT over tags and segment columns:
``payroll AND NOT lost``, ``segment_id = 3``, ``aum_tier = 'hnw'``), an optional
``control_share`` in [0, 0.5] and an optional ``export`` format (``csv`` or ``parquet``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg._model import Section
from sparkseg.config import Config
from sparkseg.segment.tables import SEGMENT_COLUMNS
from sparkseg.tags.entries import Description, EntryKind
from sparkseg.tags.inputs import known_input_schema
from sparkseg.tags.rules import RuleSet, load_rule_set

ExportFormat = Literal["csv", "parquet"]
# Same alphabet as lakehouse folder names (sparkseg.lakehouse.names.check_name).
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]{0,99}$")


@dataclass(frozen=True)
class Audience:
    name: str
    description: str
    include: str
    control_share: float = 0.0
    export: ExportFormat | None = None


@dataclass(frozen=True)
class AudiencePlan:
    """Validated audiences together with the tag rules their expressions refer to."""

    audiences: tuple[Audience, ...]
    rules: RuleSet
    source: str



class _AudienceEntry(Section):
    name: str
    description: Description | str = ""
    include: str = Field(min_length=1)
    control_share: float = Field(0.0, ge=0.0, le=0.5)
    export: ExportFormat | None = None


AUDIENCE = EntryKind("audience", "audience", "audiences", "audiences file")
_err = AUDIENCE.error


def parse_audience(entry: Any, source: str, index: int) -> Audience:
    parsed = AUDIENCE.parse_entry(entry, _AudienceEntry, source, index)
    if not _NAME.match(parsed.name):
        raise _err(source, parsed.name, "name may hold letters, digits, '_' and '-' only")
    desc = parsed.description
    text = desc if isinstance(desc, str) else desc.en
    return Audience(parsed.name, text, parsed.include, parsed.control_share, parsed.export)


def read_audiences(path: Path) -> tuple[Audience, ...]:
    """Parse an audiences file (structure and names; expressions are checked later)."""
    source = str(path)
    entries, _ = AUDIENCE.read_file(path)
    audiences = tuple(parse_audience(e, source, i) for i, e in enumerate(entries))
    seen: set[str] = set()
    for a in audiences:
        # Case-insensitive: export folders must not collide on case-insensitive stores.
        if a.name.lower() in seen:
            raise _err(source, a.name, "duplicate audience name")
        seen.add(a.name.lower())
    return audiences


def audience_input_schema(rules: RuleSet) -> T.StructType:
    """What an ``include`` expression may use: the tags and the segment columns."""
    return T.StructType(
        [
            T.StructField("one_id", T.StringType()),
            *rules.tag_schema(),
            *(T.StructField(n, t) for n, t in SEGMENT_COLUMNS),
        ]
    )


def validate_audiences(
    spark: SparkSession, audiences: tuple[Audience, ...], schema: T.StructType, source: str
) -> None:
    """Analyse every ``include`` against an empty frame: unknown names, syntax, type."""
    types = AUDIENCE.expression_types(
        spark, schema, source, [(a.name, "include", a.include) for a in audiences]
    )
    for a, dtype in zip(audiences, types, strict=True):
        if not isinstance(dtype, T.BooleanType):
            raise _err(source, a.name, f"include must be boolean, got {dtype.simpleString()}")


def load_plan(spark: SparkSession, cfg: Config) -> AudiencePlan:
    """Audiences of ``audiences.definitions`` checked against the configured tag rules."""
    rules = load_rule_set(cfg, known_input_schema(cfg).fieldNames())
    path = cfg.resolve(cfg.audiences.definitions)
    audiences = read_audiences(path)
    validate_audiences(spark, audiences, audience_input_schema(rules), str(path))
    return AudiencePlan(audiences, rules, str(path))
