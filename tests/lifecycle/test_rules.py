"""Lifecycle stages: rule order, each default stage, the fallback, and bad rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from sparkseg.cli import main
from sparkseg.config import config_from_mapping
from sparkseg.errors import ConfigError
from sparkseg.lifecycle.config import LifecycleConfig
from sparkseg.lifecycle.stage import customer_lifecycle, load_stages
from tests.support.config import REPO, make_config
from tests.support.tags import mature_features

AS_OF = dt.date(2026, 6, 30)

def assert_stages(df: DataFrame, lifecycle: LifecycleConfig, expected: list[tuple[Any, ...]]) -> None:
    """``(one_id, stage, stage_zh, by_fallback)`` of every customer of ``df``, in any order."""
    stages = customer_lifecycle(df, None, lifecycle=lifecycle, as_of=AS_OF, prev_as_of=None)
    assert_df_equality(
        stages.select("one_id", "stage", "stage_zh", "by_fallback"),
        df.sparkSession.createDataFrame(
            expected, "one_id string, stage string, stage_zh string, by_fallback boolean"),
        ignore_row_order=True, ignore_nullable=True,
    )


def test_each_default_stage_in_rule_order(spark_clean: SparkSession) -> None:
    spark = spark_clean
    df = mature_features(spark, {
        # new (also in the honeymoon and never transacted: new comes first)
        "n1": {"tenure_days": 10, "in_honeymoon": 1, "is_new_customer": 1,
               "days_since_last_txn": None, "days_since_last_event": None, "aum": 0.0},
        # honeymoon (also a new customer, which growth would take: honeymoon comes first)
        "h1": {"tenure_days": 60, "in_honeymoon": 1, "is_new_customer": 1},
        # lost (also dormant: lost comes first)
        "l1": {"tenure_days": 900, "days_since_last_txn": 400, "days_since_last_event": None,
               "aum": 500.0, "aum_90d_ago": 500.0},
        # dormant: idle half a year, no event for 90 days
        "d1": {"tenure_days": 900, "days_since_last_txn": 200, "days_since_last_event": 100,
               "aum": 50000.0, "aum_90d_ago": 50000.0},
        # dormant, not lost: idle a year but 200,000 yuan still held
        "d2": {"days_since_last_txn": 400, "days_since_last_event": None,
               "aum": 200000.0, "aum_90d_ago": 200000.0},
        # declining: last month 2 transactions against 5 a month before (ratio 0.4)
        "c1": {"txn_count_30d": 2, "txn_trend_ratio": 0.4},
        # declining: AUM 50,000 -> 20,000 (-30,000 <= -max(10,000, 15,000))
        "c2": {"aum": 20000.0, "aum_90d_ago": 50000.0, "aum_change_90d": -30000.0},
        # declining: no transaction for 120 days (not yet dormant: event 5 days ago)
        "c3": {"days_since_last_txn": 120, "days_since_last_event": 5},
        # growth: 120 days a customer, past the honeymoon
        "g1": {"tenure_days": 120, "is_new_customer": 1},
        # growth: 9 transactions last month against 5 a month before (ratio 1.8)
        "g2": {"txn_count_30d": 9, "txn_trend_ratio": 1.8},
        # growth: AUM 25,000 -> 40,000 (+15,000 >= max(10,000, 5,000))
        "g3": {"aum": 40000.0, "aum_90d_ago": 25000.0, "aum_change_90d": 15000.0},
        # growth by trend but AUM halved: declining comes first
        "c4": {"txn_count_30d": 9, "txn_trend_ratio": 1.8, "aum": 20000.0,
               "aum_90d_ago": 40000.0, "aum_change_90d": -20000.0},
        "m1": {},
        # mature, not declining: ratio 0 but from 2 transactions in the 3 months before
        "m2": {"days_since_last_txn": 40, "txn_count_30d": 0, "txn_count_prev_30_120d": 2,
               "txn_trend_ratio": 0.0},
        # unknown open date, active: matches nothing (tenure_days conditions are null)
        "f1": {"tenure_days": None},
    })
    assert_stages(df, LifecycleConfig(), [
        ("n1", "new", "新客", False), ("h1", "honeymoon", "蜜月期", False),
        ("l1", "lost", "流失", False), ("d1", "dormant", "沉睡", False),
        ("d2", "dormant", "沉睡", False), ("c1", "declining", "衰退期", False),
        ("c2", "declining", "衰退期", False), ("c3", "declining", "衰退期", False),
        ("g1", "growth", "成长期", False), ("g2", "growth", "成长期", False),
        ("g3", "growth", "成长期", False), ("c4", "declining", "衰退期", False),
        ("m1", "mature", "成熟期", False), ("m2", "mature", "成熟期", False),
        ("f1", "mature", "成熟期", True),
    ])


def _lifecycle(stages: list[tuple[str, str, str]], fallback: str) -> LifecycleConfig:
    return LifecycleConfig.model_validate({
        "stages": [{"name": n, "name_zh": z, "when": w} for n, z, w in stages],
        "fallback": fallback,
    })


def test_first_matching_stage_wins_and_the_rest_get_the_fallback(
    spark_clean: SparkSession,
) -> None:
    spark = spark_clean
    df = mature_features(spark, {"a": {"aum": 5000.0}, "b": {"aum": 500.0}, "c": {"aum": 5.0},
                          "d": {"aum": None}})
    high_first = _lifecycle([("high", "高", "aum >= 1000"), ("low", "低", "aum >= 100"),
                             ("none", "无", "aum < 0")], fallback="none")
    low_first = _lifecycle([("low", "低", "aum >= 100"), ("high", "高", "aum >= 1000"),
                            ("none", "无", "aum < 0")], fallback="low")
    assert_stages(df, high_first, [("a", "high", "高", False), ("b", "low", "低", False),
                                   ("c", "none", "无", True), ("d", "none", "无", True)])
    assert_stages(df, low_first, [("a", "low", "低", False), ("b", "low", "低", False),
                                  ("c", "low", "低", True), ("d", "low", "低", True)])


def _stages_cfg(tmp_path: Path, when: str) -> Any:
    return make_config(tmp_path / "lake", lifecycle={
        "stages": [{"name": "active", "name_zh": "活跃", "when": "days_since_last_txn <= 30"},
                   {"name": "odd", "name_zh": "怪", "when": when}],
        "fallback": "active",
    })


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("no_such_feature > 1", "unknown column 'no_such_feature'"),
        ("rand() > 0.5", "function 'rand' is not allowed in lifecycle.stages (nondeterministic)"),
        ("reflect('java.lang.System', 'getenv', 'HOME') IS NOT NULL",
         "function 'reflect' is not allowed in lifecycle.stages (it calls Java methods)"),
        ("current_date() > as_of_date", "function 'current_date' is not allowed"),
        ("max(aum) > 0", "aggregate functions are not allowed"),
        ("aum + 1", "'when' must be boolean, got double"),
        ("aum >", "syntax error"),
    ],
)
def test_a_bad_condition_is_one_config_error_line_naming_the_stage(
    spark_clean: SparkSession, tmp_path: Path, when: str, problem: str
) -> None:
    cfg = _stages_cfg(tmp_path, when)
    with pytest.raises(ConfigError) as exc:
        load_stages(spark_clean, cfg)
    text = str(exc.value)
    assert exc.value.exit_code == 2
    assert len(text.splitlines()) == 1, text
    assert text.startswith("<test>: lifecycle stage 'odd': "), text
    assert problem in text, text


def test_the_default_stages_pass_validation(spark_clean: SparkSession, tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "lake")
    assert [s.name for s in load_stages(spark_clean, cfg).stages] == [
        "new", "honeymoon", "lost", "dormant", "declining", "growth", "mature",
    ]
    assert [s.name_zh for s in cfg.lifecycle.stages] == [
        "新客", "蜜月期", "流失", "沉睡", "衰退期", "成长期", "成熟期",
    ]
    assert cfg.lifecycle.fallback == "mature"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"fallback": "zombie"}, "key 'lifecycle.fallback': Value error, 'zombie' is not one of"),
        ({"stages": [{"name": "a", "name_zh": "甲", "when": "true"},
                     {"name": "a", "name_zh": "乙", "when": "false"}], "fallback": "a"},
         "duplicate stage name 'a'"),
        ({"stages": [{"name": "Bad Name", "name_zh": "甲", "when": "true"}], "fallback": "a"},
         "key 'lifecycle.stages.0.name'"),
        ({"stages": [{"name": "a", "name_zh": "甲", "when": " "}], "fallback": "a"},
         "key 'lifecycle.stages.0.when'"),
        ({"stages": [{"name": "a", "name_zh": "甲"}], "fallback": "a"},
         "missing required key 'lifecycle.stages.0.when'"),
        ({"stages": [], "fallback": "a"}, "at least one stage is needed"),
        ({"stage": []}, "unknown key 'lifecycle.stage'"),
    ],
)
def test_a_bad_lifecycle_section_fails_at_config_load(
    section: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        config_from_mapping({"warehouse": "/tmp/x", "lifecycle": section}, source="<t>")
    assert expected in str(exc.value) and len(str(exc.value).splitlines()) == 1, str(exc.value)


def test_the_cli_reports_a_bad_lifecycle_section_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("warehouse: ./lh\nlifecycle:\n  fallback: zombie\n", encoding="utf-8")
    code = main(["lifecycle", "--config", str(config)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("sparkseg: error: ") and "lifecycle.fallback" in err[0]
    assert (REPO / "jobs" / "lifecycle_job.py").is_file()
