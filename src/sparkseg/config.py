"""Typed, frozen configuration, loaded once from YAML plus ``--set`` overrides.

The file is validated as a whole before anything starts: an unknown key, a value of
the wrong type or a missing required value raises :class:`ConfigError` naming the
key and the file. Stages receive the typed section they need, never a raw dict.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError

from sparkseg._model import Section
from sparkseg.audiences.config import AudiencesConfig
from sparkseg.errors import ConfigError
from sparkseg.features.config import FeaturesConfig
from sparkseg.generate.config import GenerateConfig
from sparkseg.identity.config import IdentityConfig
from sparkseg.ingest.config import IngestConfig
from sparkseg.lifecycle.config import LifecycleConfig
from sparkseg.report.config import ReportConfig
from sparkseg.retention.config import RetentionConfig
from sparkseg.segment.config import SegmentConfig
from sparkseg.strategies.config import StrategiesConfig
from sparkseg.tags.config import TagsConfig

Engine = Literal["auto", "spark", "offline"]


class SparkConfig(Section):
    # None: defer to spark-submit / SPARK_MASTER; "local[*]" etc. starts a local session.
    master: str | None = None
    app_name: str = "sparkseg"
    # Only applied when sparkseg starts the JVM itself (local mode).
    driver_memory: str | None = None
    shuffle_partitions: int | None = Field(None, ge=1)
    log_level: Literal["ERROR", "WARN", "INFO", "DEBUG"] = "WARN"
    timezone: str = "UTC"
    show_progress: bool = True
    checkpoint_dir: str | None = None
    conf: dict[str, str] = Field(default_factory=dict)


class LakehouseConfig(Section):
    # Passed to delta-rs for remote object stores (offline engine only).
    storage_options: dict[str, str] = Field(default_factory=dict)


class Config(Section):
    warehouse: str
    engine: Engine = "auto"
    # Default as-of date when --as-of is not given; None means today (UTC).
    as_of: dt.date | None = None
    spark: SparkConfig = SparkConfig()
    lakehouse: LakehouseConfig = LakehouseConfig()
    generate: GenerateConfig = GenerateConfig()
    ingest: IngestConfig = IngestConfig()
    identity: IdentityConfig = IdentityConfig()
    features: FeaturesConfig = FeaturesConfig()
    segment: SegmentConfig = SegmentConfig()
    tags: TagsConfig = TagsConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    audiences: AudiencesConfig = AudiencesConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    report: ReportConfig = ReportConfig()
    retention: RetentionConfig = RetentionConfig()

    _source: str = PrivateAttr(default="<defaults>")
    _config_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def source(self) -> str:
        """The file this config was loaded from (for error messages)."""
        return self._source

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder unless absolute."""
        p = Path(path)
        return p if p.is_absolute() else self._config_dir / p

    def hash(self) -> str:
        """Stable short hash of the effective configuration (recorded in ``ops/runs``)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _set_path(tree: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    keys = dotted.split(".")
    node = tree
    for k in keys[:-1]:
        child = node.setdefault(k, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: --set {dotted}: '{k}' is not a section")
        node = child
    node[keys[-1]] = value


def parse_override(item: str) -> tuple[str, Any]:
    """``key.path=value`` -> (``key.path``, YAML-parsed value)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected key.path=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _describe(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "<root>"
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown key '{key}'"
    if kind == "missing":
        return f"{source}: missing required key '{key}'"
    got = first.get("input")
    return f"{source}: key '{key}': {first['msg']} (got {got!r})"


def config_from_mapping(
    data: Mapping[str, Any] | None,
    *,
    source: str = "<mapping>",
    config_dir: Path | None = None,
    overrides: Sequence[str] = (),
) -> Config:
    """Validate a mapping (plus overrides) into a :class:`Config`."""
    if data is None:
        raise ConfigError(f"{source}: the config is empty")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the config must be a mapping of keys, not {type(data).__name__}")
    tree: dict[str, Any] = json.loads(json.dumps(dict(data), default=str))
    for item in overrides:
        key, value = parse_override(item)
        _set_path(tree, key, value, source)
    try:
        cfg = Config.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(_describe(err, source)) from None
    warehouse = cfg.warehouse
    if "://" not in warehouse:
        warehouse = str(Path(warehouse).expanduser().absolute())
        cfg = cfg.model_copy(update={"warehouse": warehouse})
    cfg._source = source
    cfg._config_dir = (config_dir or Path.cwd()).absolute()
    return cfg


def load_config(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Config:
    """Load and validate a YAML config file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    data = parse_yaml(p.read_text(encoding="utf-8"), str(p))
    return config_from_mapping(data, source=str(p), config_dir=p.parent, overrides=overrides)


def parse_yaml(content: str | bytes, source: str) -> Any:
    """A YAML document; :class:`ConfigError` naming ``source`` and the line if invalid."""
    try:
        return yaml.safe_load(content)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}:{where} invalid YAML") from None
