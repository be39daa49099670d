"""Strategies (营销策略) and the contact policy: loading from YAML, validation before any
data is read.

A strategies file is a mapping with an optional ``policy`` and a ``strategies`` list::

    policy:
      max_touches: 3          # at most 3 touches per customer ...
      per_days: 7             # ... in any 7 days, over all strategies
      do_not_contact: null    # a Delta table under the warehouse with a customer_id column
      response_events: [push_opened, sms_clicked, wechat_msg_opened]
      export: csv             # exports/contact_plan_<channel>/ (null: none)
    strategies:
      - name: first_loan
        description: {en: ..., zh: ...}
        audiences: [first_loan_app_push]   # target groups of gold/audience_members
        eligibility: coalesce(has_loan, 0) = 0
        goal: [loan_disbursement]          # names of audiences.evaluation.metrics
        priority: 1                        # lower first when the touch cap bites
        control_share: 0.1
        cooldown_days: 30                  # no new launch for a customer within 30 days
        steps:
          - {day: 0, channel: habit, fallback: app_push}
          - {day: 2, channel: app_push, if_no_response: true}
        non_model: {include: "txn_count_90d >= 5"}

``eligibility`` and ``non_model.include`` are Spark SQL boolean expressions over
``silver/customer_features``, checked like the tag rules (allow-list, then analysis
against the documented columns). Every problem is one :class:`ConfigError` line naming
the file and the strategy.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg._model import Section
from sparkseg.audiences.definitions import read_audiences
from sparkseg.config import Config, parse_yaml
from sparkseg.errors import ConfigError
from sparkseg.lifecycle.rules import known_feature_schema
from sparkseg.tables import EVENT_TYPES
from sparkseg.tags.entries import Description, EntryKind

# The channels a step can send on: the values of the channel_habit tag (tags/habit.py).
Channel = Literal["app_push", "sms", "wechat"]
HABIT = "habit"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DEFAULT_RESPONSES = ("push_opened", "sms_clicked", "wechat_msg_opened")


class Step(Section):
    """One touch of a strategy's sequence, ``day`` days after the customer's launch."""

    day: int = Field(ge=0, le=90)
    # "habit": the customer's channel_habit tag when known, else `fallback`.
    channel: Literal["app_push", "sms", "wechat", "habit"]
    fallback: Channel | None = None
    # Only to customers with no response event since their launch.
    if_no_response: bool = False

    @model_validator(mode="after")
    def _fallback(self) -> Step:
        if self.channel == HABIT and self.fallback is None:
            raise ValueError("a 'habit' step needs a fallback channel")
        if self.channel != HABIT and self.fallback is not None:
            raise ValueError("fallback is only for a 'habit' step")
        return self


class NonModel(Section):
    """The comparison list: the same strategy for customers picked by a plain rule."""

    include: str = Field(min_length=1, pattern=r"\S")



class _StrategyEntry(Section):
    name: str
    description: Description | str = ""
    audiences: tuple[str, ...] = Field(min_length=1)
    eligibility: str = Field("true", min_length=1, pattern=r"\S")
    goal: tuple[str, ...] = ()
    priority: int = Field(100, ge=1)
    control_share: float = Field(0.1, ge=0.0, le=0.5)
    cooldown_days: int = Field(30, ge=1, le=366)
    # Responses count only on this campaign_id of the events (default: any campaign).
    campaign_id: str | None = None
    steps: tuple[Step, ...] = Field(min_length=1)
    non_model: NonModel | None = None


class Policy(Section):
    """The contact policy across all strategies."""

    max_touches: int = Field(3, ge=1)
    per_days: int = Field(7, ge=1, le=366)
    # A table under the warehouse (e.g. ref/do_not_contact) with a customer_id column.
    do_not_contact: str | None = None
    response_events: tuple[str, ...] = Field(_DEFAULT_RESPONSES, min_length=1)
    # The day's touches to send, one file set per channel under exports/contact_plan_<channel>/.
    export: Literal["csv", "parquet"] | None = "csv"

    @model_validator(mode="after")
    def _known(self) -> Policy:
        bad = [e for e in self.response_events if e not in EVENT_TYPES]
        if bad:
            raise ValueError(f"unknown event type {bad[0]!r} in response_events")
        if self.do_not_contact is not None and not re.fullmatch(
            r"[A-Za-z0-9_][A-Za-z0-9_\-]*/[A-Za-z0-9_][A-Za-z0-9_\-]*", self.do_not_contact
        ):
            raise ValueError("do_not_contact must be a table name like ref/do_not_contact")
        return self


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    description_zh: str
    audiences: tuple[str, ...]
    eligibility: str
    goal: tuple[str, ...]
    priority: int
    control_share: float
    cooldown_days: int
    campaign_id: str | None
    steps: tuple[Step, ...]
    non_model: str | None  # the non-model rule's include expression


@dataclass(frozen=True)
class StrategyBook:
    """Validated strategies and the policy over them."""

    strategies: tuple[Strategy, ...]
    policy: Policy
    source: str

    @property
    def lookback_days(self) -> int:
        """How far back the plan of earlier days matters: cooldowns, sequences, the cap."""
        return max([self.policy.per_days, *(s.cooldown_days for s in self.strategies),
                    *(s.steps[-1].day + 1 for s in self.strategies)])


STRATEGY = EntryKind("strategy", "strategy", "strategies", "strategies file")
_err = STRATEGY.error


def _check_steps(source: str, name: str, steps: tuple[Step, ...], cooldown: int) -> None:
    first = steps[0]
    if first.day != 0 or first.if_no_response:
        raise _err(source, name, "the first step is on day 0 and unconditional")
    for before, after in itertools.pairwise(steps):
        if after.day < before.day:
            raise _err(source, name, "steps must be in order of day")
    if any(s.channel == HABIT for s in steps[1:]):
        raise _err(source, name, "only the first step may use the 'habit' channel")
    if steps[-1].day >= cooldown:
        raise _err(source, name, f"cooldown_days ({cooldown}) must exceed the last step's day")


def parse_strategy(entry: Any, source: str, index: int) -> Strategy:
    parsed = STRATEGY.parse_entry(entry, _StrategyEntry, source, index)
    if not _NAME.match(parsed.name):
        raise _err(source, parsed.name, "name may hold lower-case letters, digits and '_' only")
    _check_steps(source, parsed.name, parsed.steps, parsed.cooldown_days)
    desc = parsed.description
    en, zh = (desc, "") if isinstance(desc, str) else (desc.en, desc.zh)
    return Strategy(
        parsed.name, en, zh, parsed.audiences, parsed.eligibility, parsed.goal,
        parsed.priority, parsed.control_share, parsed.cooldown_days, parsed.campaign_id,
        parsed.steps, parsed.non_model.include if parsed.non_model else None,
    )


def read_strategies(path: Path) -> tuple[tuple[Strategy, ...], Policy]:
    """Parse a strategies file (structure and names; expressions are checked later)."""
    source = str(path)
    if not path.is_file():
        raise ConfigError(f"strategies file not found: {path}")
    data = parse_yaml(path.read_bytes(), source)
    if not isinstance(data, Mapping) or not isinstance(data.get("strategies"), list):
        raise ConfigError(f"{source}: expected a mapping with a 'strategies' list")
    unknown = sorted(set(data) - {"strategies", "policy"})
    if unknown:
        raise ConfigError(f"{source}: unknown key '{unknown[0]}' (only 'policy', 'strategies')")
    try:
        policy = Policy.model_validate(data.get("policy") or {})
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(f"{source}: policy: {problem} ({key or 'policy'})") from None
    strategies = tuple(parse_strategy(e, source, i) for i, e in enumerate(data["strategies"]))
    seen: set[str] = set()
    for s in strategies:
        if s.name in seen:
            raise _err(source, s.name, "duplicate strategy name")
        seen.add(s.name)
    return strategies, policy


def validate_strategies(
    spark: SparkSession,
    strategies: tuple[Strategy, ...],
    *,
    features: T.StructType,
    audiences: set[str],
    metrics: set[str],
    source: str,
) -> None:
    """Audiences and goals exist; every expression is allowed and boolean (no data read)."""
    for s in strategies:
        missing = [a for a in s.audiences if a not in audiences]
        if missing:
            raise _err(source, s.name, f"unknown audience '{missing[0]}'")
        bad_goal = [g for g in s.goal if g not in metrics]
        if bad_goal:
            raise _err(source, s.name, f"unknown goal metric '{bad_goal[0]}' "
                                       "(audiences.evaluation.metrics)")
    expressions = [(s.name, "eligibility", s.eligibility) for s in strategies]
    expressions += [(s.name, "non_model.include", s.non_model) for s in strategies
                    if s.non_model is not None]
    types = STRATEGY.expression_types(spark, features, source, expressions)
    for (name, key, _), dtype in zip(expressions, types, strict=True):
        if not isinstance(dtype, T.BooleanType):
            raise _err(source, name, f"{key} must be boolean, got {dtype.simpleString()}")


def load_book(spark: SparkSession, cfg: Config) -> StrategyBook:
    """The strategies of ``strategies.definitions``, checked against the audiences file,
    the evaluation metrics and the documented feature columns."""
    path = cfg.resolve(cfg.strategies.definitions)
    strategies, policy = read_strategies(path)
    audiences = {a.name for a in read_audiences(cfg.resolve(cfg.audiences.definitions))}
    metrics = {m.name for m in cfg.audiences.evaluation.metrics}
    validate_strategies(spark, strategies, features=known_feature_schema(cfg),
                        audiences=audiences, metrics=metrics, source=str(path))
    return StrategyBook(strategies, policy, str(path))
