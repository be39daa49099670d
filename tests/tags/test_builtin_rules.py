"""Every rule of conf/tags.yaml on hand-built rows: who gets the tag, with which value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.tags import engine
from sparkseg.tags.rules import RuleSet
from sparkseg.tags.stage import load_rules
from tests.support.config import REPO, make_config
from tests.support.tags import AS_OF, input_frame, input_row

R = input_row
# Rows are named <rule>__<case>; each test looks only at its own rule's rows.
ROWS = [
    R("silver_haired__60", age=60), R("silver_haired__59", age=59),
    R("silver_haired__unknown_age", age=None),
    R("young__30", age=30), R("young__31", age=31),
    R("payroll__3_months", salary_months_12m=3), R("payroll__2_months", salary_months_12m=2),
    R("parent_child__1000", child_related_spend_365d=1000.0),
    R("parent_child__999", child_related_spend_365d=999.99),
    R("high_frequency_transactor__60", txn_count_90d=60),
    R("high_frequency_transactor__59", txn_count_90d=59),
    R("aum_tier__below_50k", aum=49999.99), R("aum_tier__50k", aum=50000.0),
    R("aum_tier__500k", aum=500000.0), R("aum_tier__unknown", aum=None),
    R("high_value_potential__yes", aum=100000.0, credit_amount_365d=200000.0, aum_change_90d=1.0),
    R("high_value_potential__already_hnw", aum=600000.0, credit_amount_365d=900000.0,
      aum_change_90d=1.0),
    R("high_value_potential__no_growth", aum=100000.0, credit_amount_365d=200000.0,
      aum_change_90d=0.0),
    R("high_value_potential__small_inflow", aum=100000.0, credit_amount_365d=199999.0,
      aum_change_90d=5.0),
    R("high_stability_dormant__yes", aum_cv_12m=0.1, aum=1000.0, txn_count_90d=0,
      event_count_90d=0),
    R("high_stability_dormant__app_login", aum_cv_12m=0.05, aum=1000.0, txn_count_90d=0,
      event_count_90d=1),
    R("high_stability_dormant__volatile", aum_cv_12m=0.11, aum=1000.0, txn_count_90d=0,
      event_count_90d=0),
    R("high_stability_dormant__no_history", aum=1000.0, txn_count_90d=0, event_count_90d=0),
    R("high_stability_dormant__empty", aum_cv_12m=0.0, aum=0.0, txn_count_90d=0,
      event_count_90d=0),
    R("high_churn_risk__yes", txn_trend_ratio=0.5, txn_count_prev_30_120d=3, net_flow_90d=-1.0),
    R("high_churn_risk__inflow", txn_trend_ratio=0.2, txn_count_prev_30_120d=30,
      net_flow_90d=0.0),
    R("high_churn_risk__was_inactive", txn_trend_ratio=0.0, txn_count_prev_30_120d=2,
      net_flow_90d=-500.0),
    R("high_churn_risk__steady", txn_trend_ratio=0.9, txn_count_prev_30_120d=30,
      net_flow_90d=-500.0),
    R("honeymoon_new__yes", in_honeymoon=1), R("honeymoon_new__no", in_honeymoon=0),
    R("first_purchase__30_days", days_since_first_wealth_purchase=30),
    R("first_purchase__31_days", days_since_first_wealth_purchase=31),
    R("first_purchase__never"),
    R("repeat_buyer__2", wealth_purchase_count_365d=2),
    R("repeat_buyer__1", wealth_purchase_count_365d=1),
    R("segment__3", segment_id=3), R("segment__unsegmented", segment_id=None, segment_name=None),
]

EXPECTED: dict[str, list[tuple[str, str]]] = {
    "silver_haired": [("silver_haired__60", "true")],
    "young": [("young__30", "true")],
    "payroll": [("payroll__3_months", "true")],
    "parent_child": [("parent_child__1000", "true")],
    "high_frequency_transactor": [("high_frequency_transactor__60", "true")],
    "aum_tier": [
        ("aum_tier__below_50k", "mass"), ("aum_tier__50k", "affluent"),
        ("aum_tier__500k", "hnw"),
    ],
    "high_value_potential": [("high_value_potential__yes", "true")],
    "high_stability_dormant": [("high_stability_dormant__yes", "true")],
    "high_churn_risk": [("high_churn_risk__yes", "true")],
    "honeymoon_new": [("honeymoon_new__yes", "true")],
    "first_purchase": [("first_purchase__30_days", "true")],
    "repeat_buyer": [("repeat_buyer__2", "true")],
    "segment": [("segment__3", "3")],
}


@pytest.fixture(scope="module")
def repo_cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return make_config(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def rules(spark: SparkSession, repo_cfg: Config) -> RuleSet:
    return load_rules(spark, repo_cfg)


@pytest.fixture(scope="module")
def long_tags(spark: SparkSession, rules: RuleSet) -> Iterator[DataFrame]:
    entries = engine.evaluate_tags(input_frame(spark, ROWS), rules=rules)
    long = engine.to_long(entries, as_of=AS_OF, rule_version=rules.version).cache()
    yield long
    long.unpersist()


@pytest.fixture(scope="module")
def own_rows(long_tags: DataFrame) -> DataFrame:
    """Tags of each rule on its own test rows only."""
    return long_tags.where(F.col("one_id").startswith(F.concat(F.col("tag"), F.lit("__"))))


@pytest.fixture(scope="module")
def own_rows_by_tag(own_rows: DataFrame) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for r in own_rows.collect():  # a few dozen test rows
        out.setdefault(r["tag"], set()).add((r["one_id"], r["value"]))
    return out


def test_built_in_rules_file_is_the_repository_default(repo_cfg: Config) -> None:
    assert repo_cfg.resolve(repo_cfg.tags.rules) == REPO / "conf" / "tags.yaml"


def test_built_in_rules_tag_exactly_the_expected_rows(
    spark: SparkSession, own_rows: DataFrame
) -> None:
    expected = spark.createDataFrame(
        [(one_id, tag, value) for tag, rows in EXPECTED.items() for one_id, value in rows],
        "one_id string, tag string, value string",
    )
    assert_df_equality(
        own_rows.select("one_id", "tag", "value"), expected,
        ignore_row_order=True, ignore_nullable=True,
    )


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_built_in_rule_on_its_boundary_rows(
    own_rows_by_tag: dict[str, set[tuple[str, str]]], tag: str
) -> None:
    assert own_rows_by_tag.get(tag, set()) == set(EXPECTED[tag])


def test_every_file_rule_has_a_test(rules: RuleSet) -> None:
    file_rules = {r.name for r in rules.rules if not r.builtin}
    assert file_rules == set(EXPECTED)


def test_every_rule_has_a_category_and_english_and_chinese_description(rules: RuleSet) -> None:
    assert {r.category for r in rules.rules} == {
        "basic_attributes", "relationships", "interests_preferences", "value", "risk",
        "marketing",
    }
    assert all(r.description_en and r.description_zh for r in rules.rules)


def test_neutral_customer_gets_only_value_tags(long_tags: DataFrame) -> None:
    # The neutral row of the builders (seen through a row of another rule's test).
    tags = {
        (r["tag"], r["value"])
        for r in long_tags.where(F.col("one_id") == "honeymoon_new__no").collect()
    }
    assert tags == {("aum_tier", "mass"), ("segment", "2")}
