"""Paths are built only from configured names: a name that could leave the warehouse is refused.

What "outside the warehouse" means here: everything the job *writes* lies under the
``warehouse`` root, at paths made of fixed layer names and configured names: tables
(names fixed in code: ``sparkseg.tables`` and each stage's ``tables.py``), models
(``segment.model_name``), audience exports (each audience's ``name``) and reports (fixed
file name). The files the config points at (``tags.rules``, ``audiences.definitions``,
``features.dictionary``) are read-only inputs and may live anywhere. So the configurable
names are the attack surface: each with a separator, ``..`` or an empty value must stop
with exit 2 before anything is written, inside or outside the warehouse. A model name is
refused when the config is loaded (before Spark starts); the stages check it again when
they build the path, which the tests reach with a config copied without validation.

Lakehouse-level name checks (``table_uri``, ``Lakehouse.path``) are unit-tested in
tests/lakehouse; these tests go through the stages and the report.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pyspark.sql import SparkSession

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.errors import ConfigError, InvalidNameError
from sparkseg.report.build import write_report
from tests.support.bank import AS_OF
from tests.support.config import make_config
from tests.support.warehouse import runs_rows, snapshot

pytestmark = pytest.mark.slow

ESCAPING_NAMES = ["../outside", "..", "models/../../outside", "a\\b", ""]


def _listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _unvalidated(root: Path, model_name: str) -> Config:
    """A config whose model name skipped validation (as code building one could)."""
    cfg = make_config(root)
    segment = cfg.segment.model_copy(update={"model_name": model_name})
    return cfg.model_copy(update={"segment": segment})


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_model_name_that_escapes_is_refused_when_the_config_loads(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ConfigError) as err:
        make_config(tmp_path, segment={"model_name": name})
    assert err.value.exit_code == 2 and "segment.model_name" in str(err.value)


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_model_name_that_escapes_is_refused_by_train(
    spark: SparkSession, lake_copy: Path, name: str
) -> None:
    cfg = _unvalidated(lake_copy, name)
    around = _listing(lake_copy.parent)
    audit = runs_rows(spark, lake_copy)
    with pytest.raises(InvalidNameError) as err:
        pipeline.run_stage(spark, cfg, "train", AS_OF)
    assert err.value.exit_code == 2 and repr(name) in str(err.value)
    # Refused before reading anything: no file anywhere, not even an audit row.
    assert _listing(lake_copy.parent) == around
    assert runs_rows(spark, lake_copy) == audit


@pytest.mark.parametrize("stage", ["score", "profile"])
def test_model_name_that_escapes_is_refused_by_the_stages_that_load_models(
    spark: SparkSession, lake_copy: Path, stage: str
) -> None:
    cfg = _unvalidated(lake_copy, "../customer_segments")
    before = snapshot(lake_copy)
    with pytest.raises(InvalidNameError) as err:
        pipeline.run_stage(spark, cfg, stage, AS_OF)
    assert err.value.exit_code == 2
    assert snapshot(lake_copy) == before


def test_report_refuses_a_model_name_that_escapes(spark: SparkSession, lake_copy: Path) -> None:
    # ../lake/models/customer_segments would even find the real model: refusing is the point.
    cfg = _unvalidated(lake_copy, "../lake/models/customer_segments")
    before = snapshot(lake_copy)
    with pytest.raises(InvalidNameError):
        write_report(spark, cfg, AS_OF)
    assert snapshot(lake_copy) == before


@pytest.mark.parametrize("name", ["../../outside", "a/b", "..", "-x/../y"])
def test_audience_name_that_escapes_is_refused_before_any_export(
    spark: SparkSession, lake_copy: Path, tmp_path: Path, name: str
) -> None:
    path = tmp_path / "audiences.yaml"
    path.write_text(yaml.safe_dump({"audiences": [
        {"name": name, "description": "everyone", "include": "segment_id > 0", "export": "csv"},
    ]}), encoding="utf-8")
    cfg = make_config(lake_copy, audiences={"definitions": str(path)})
    around = _listing(lake_copy.parent)
    with pytest.raises(ConfigError) as err:
        pipeline.run_stage(spark, cfg, "audiences", AS_OF)
    assert err.value.exit_code == 2
    assert "letters, digits" in str(err.value) and str(path) in str(err.value)
    assert _listing(lake_copy.parent) == around
