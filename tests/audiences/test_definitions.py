"""Audience validation: errors name the audience and the unknown tag or column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import SparkSession

from sparkseg.audiences.definitions import load_plan
from sparkseg.config import Config
from sparkseg.errors import ConfigError
from tests.support.config import make_config


def audiences_config(tmp_path: Path, audiences: list[dict[str, Any]]) -> Config:
    path = tmp_path / "audiences.yaml"
    path.write_text(yaml.safe_dump({"audiences": audiences}), encoding="utf-8")
    return make_config(tmp_path / "lake", audiences={"definitions": str(path)})


def test_repository_audiences_are_valid(spark: SparkSession, tmp_path: Path) -> None:
    plan = load_plan(spark, make_config(tmp_path / "lake"))
    assert "reactivation" in {a.name for a in plan.audiences}
    assert all(0 <= a.control_share <= 0.5 for a in plan.audiences)


@pytest.mark.parametrize(
    ("audience", "message"),
    [
        ({"name": "x", "include": "payroll AND NOT lsot"}, r"audience 'x': unknown column 'lsot'"),
        ({"name": "x", "include": "payroll AND"}, r"audience 'x': syntax error"),
        ({"name": "x", "include": "segment_id + 1"}, r"audience 'x': include must be boolean"),
        ({"name": "x", "include": "payroll", "control_share": 0.6}, r"audience 'x': key 'control_share'"),
        ({"name": "x", "include": "payroll", "export": "xlsx"}, r"audience 'x': key 'export'"),
        ({"name": "a/b", "include": "payroll"}, r"audience 'a/b': name may hold"),
        ({"name": "x", "include": "age > 60"}, r"audience 'x': unknown column 'age'"),
    ],
)
def test_bad_audience_is_a_config_error_naming_it(
    spark: SparkSession, tmp_path: Path, audience: dict[str, Any], message: str
) -> None:
    cfg = audiences_config(tmp_path, [audience])
    with pytest.raises(ConfigError, match=message):
        load_plan(spark, cfg)


def test_duplicate_audience_name_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = audiences_config(
        tmp_path, [{"name": "promo", "include": "payroll"}, {"name": "Promo", "include": "lost"}]
    )
    with pytest.raises(ConfigError, match=r"audience 'Promo': duplicate audience name"):
        load_plan(spark, cfg)
