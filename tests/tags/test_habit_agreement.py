"""scripts/habit_agreement.py: tagged channel against planted preference."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from pyspark.sql import SparkSession

from tests.support.config import REPO


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("habit_agreement", REPO / "scripts" / "habit_agreement.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["habit_agreement"] = module
    spec.loader.exec_module(module)
    return module


def test_agreement_counts_habit_lost_and_untagged_per_planted_channel(spark: SparkSession) -> None:
    script = load_script()
    truth = spark.createDataFrame(
        [("a", "p", "wechat"), ("b", "p", "wechat"), ("c", "p", "sms"), ("d", "p", "none"),
         ("e", "p", "none")],
        "customer_id string, persona string, preferred_channel string",
    )
    tags = spark.createDataFrame(
        [("a", "channel_habit", "wechat"), ("b", "channel_habit", "sms"), ("c", "payroll", "true"),
         ("d", "lost", "true")],
        "one_id string, tag string, value string",
    )
    cells = script.confusion(truth, script.predicted_channel(tags))
    assert cells == {
        ("wechat", "wechat"): 1, ("wechat", "sms"): 1, ("sms", "(untagged)"): 1,
        ("none", "lost"): 1, ("none", "(untagged)"): 1,
    }
    lines = script.report(cells)
    assert lines[1].split()[0] == "none" and lines[1].endswith("50.0%")
    assert lines[-1] == "overall agreement 40.0% of 5 customers"
