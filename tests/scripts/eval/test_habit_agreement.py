"""scripts.eval.habit_agreement: tagged channel against planted preference."""

from __future__ import annotations

from pyspark.sql import SparkSession

from scripts.eval import habit_agreement as script


def test_agreement_counts_habit_lost_and_untagged_per_planted_channel(spark: SparkSession) -> None:
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
