"""Rule validation: every error names the rule and the problem, before data is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.errors import ConfigError
from sparkseg.tags.expressions import identifiers
from sparkseg.tags.inputs import CONTRACT_FEATURES, feature_columns
from sparkseg.tags.stage import load_rules
from tests.support.config import make_config


def rules_config(tmp_path: Path, rules: list[dict[str, Any]], **tags: Any) -> Config:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True), encoding="utf-8")
    return make_config(tmp_path / "lake", tags={"rules": str(path), **tags})


def rule(name: str, category: str = "basic_attributes", **body: Any) -> dict[str, Any]:
    return {"name": name, "category": category, "description": {"en": name, "zh": name}, **body}


def test_syntax_error_names_rule(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("ok", when="age > 1"), rule("broken", when="age >= ")])
    with pytest.raises(ConfigError, match=r"tag rule 'broken': syntax error .* in when: age >="):
        load_rules(spark, cfg)


def test_trailing_word_is_a_syntax_error_not_an_alias(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("half", when="age >= 60 AND")])
    with pytest.raises(ConfigError, match=r"tag rule 'half': syntax error"):
        load_rules(spark, cfg)


def test_unknown_column_names_rule_and_column(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("old", when="agee >= 60")])
    with pytest.raises(ConfigError, match=r"tag rule 'old': unknown column 'agee'"):
        load_rules(spark, cfg)


def test_unknown_function_is_reported(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("odd", when="frobnicate(age) > 1")])
    with pytest.raises(ConfigError, match=r"tag rule 'odd': unknown function 'frobnicate'"):
        load_rules(spark, cfg)


def test_duplicate_name_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("dup", when="age > 1"), rule("dup", when="age > 2")])
    with pytest.raises(ConfigError, match=r"tag rule 'dup': duplicate name"):
        load_rules(spark, cfg)


def test_file_rule_may_not_reuse_a_built_in_tag_name(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("lost", "marketing", when="age > 1")])
    with pytest.raises(ConfigError, match=r"tag rule 'lost': duplicate name \(already used by a built-in tag\)"):
        load_rules(spark, cfg)


def test_cycle_between_derived_tags_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(
        tmp_path,
        [rule("a", when="b AND age > 1"), rule("b", when="c"), rule("c", when="a OR aum > 0")],
    )
    with pytest.raises(ConfigError, match=r"cycle between derived tags: a -> b -> c -> a"):
        load_rules(spark, cfg)


def test_rule_referring_to_itself_is_a_cycle(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("selfish", when="selfish AND age > 1")])
    with pytest.raises(ConfigError, match=r"tag rule 'selfish': cycle .*selfish -> selfish"):
        load_rules(spark, cfg)


def test_unknown_category_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("x", "hobbies", when="age > 1")])
    with pytest.raises(ConfigError, match=r"tag rule 'x': unknown category 'hobbies'"):
        load_rules(spark, cfg)


def test_when_must_be_boolean(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("n", when="age + 1")])
    with pytest.raises(ConfigError, match=r"tag rule 'n': 'when' must be boolean, got int"):
        load_rules(spark, cfg)


def test_aggregate_in_rule_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("rich", when="aum > avg(aum)")])
    with pytest.raises(ConfigError, match=r"tag rule 'rich': aggregate functions are not allowed"):
        load_rules(spark, cfg)


@pytest.mark.parametrize(
    ("buckets", "problem"),
    [
        ([{"label": "lo", "below": 10}, {"label": "hi", "below": 20}], "last bucket"),
        ([{"label": "lo"}, {"label": "hi"}], "needs 'below'"),
        ([{"label": "lo", "below": 10}, {"label": "mid", "below": 10}, {"label": "hi"}], "increase"),
        ([{"label": "lo", "below": 10}, {"label": "lo"}], "unique"),
    ],
)
def test_bad_buckets_are_rejected(
    spark: SparkSession, tmp_path: Path, buckets: list[dict[str, Any]], problem: str
) -> None:
    cfg = rules_config(tmp_path, [rule("tier", "value", value="aum", buckets=buckets)])
    with pytest.raises(ConfigError, match=rf"tag rule 'tier': .*{problem}"):
        load_rules(spark, cfg)


def test_rule_needs_exactly_one_of_when_and_value(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("both", when="age > 1", value="age")])
    with pytest.raises(ConfigError, match=r"tag rule 'both': give exactly one of"):
        load_rules(spark, cfg)


def test_unknown_key_in_rule_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("typo", whn="age > 1")])
    with pytest.raises(ConfigError, match=r"tag rule 'typo': unknown key 'whn'"):
        load_rules(spark, cfg)


def test_tag_name_clashing_with_a_feature_is_rejected(spark: SparkSession, tmp_path: Path) -> None:
    cfg = rules_config(tmp_path, [rule("aum", "value", value="aum")])
    with pytest.raises(ConfigError, match=r"tag rule 'aum': name clashes with an input column"):
        load_rules(spark, cfg)


def test_missing_rules_file_is_a_config_error(tmp_path: Path, spark: SparkSession) -> None:
    cfg = make_config(tmp_path / "lake", tags={"rules": str(tmp_path / "nope.yaml")})
    with pytest.raises(ConfigError, match="tag rules file not found"):
        load_rules(spark, cfg)


def test_derived_rules_are_ordered_after_their_dependencies(
    spark: SparkSession, tmp_path: Path
) -> None:
    cfg = rules_config(
        tmp_path,
        [
            rule("vip_senior", when="senior AND tier = 'hi'"),
            rule("senior", when="age >= 60"),
            rule("tier", "value", value="aum", buckets=[{"label": "lo", "below": 10}, {"label": "hi"}]),
        ],
        channel_habit={"enabled": False},
    )
    rules = load_rules(spark, cfg)
    assert rules.names == ("senior", "tier", "vip_senior")
    assert [[r.name for r in level] for level in rules.levels] == [["senior", "tier"], ["vip_senior"]]


def test_rule_version_changes_with_file_content(spark: SparkSession, tmp_path: Path) -> None:
    first = load_rules(spark, rules_config(tmp_path, [rule("a", when="age > 1")])).version
    second = load_rules(spark, rules_config(tmp_path, [rule("a", when="age > 2")])).version
    assert first != second and len(first) == 12


def test_identifiers_skip_string_literals_and_keep_backticked_names() -> None:
    assert identifiers("`Payroll` AND segment_name = 'lost young'") == {"payroll", "and", "segment_name"}


def test_feature_dictionary_names_the_columns_rules_may_use(tmp_path: Path) -> None:
    def doc(name: str, type_: str) -> dict[str, str]:
        return {"name": name, "type": type_, "unit": "count", "window": "none", "description": name}

    (tmp_path / "features.yaml").write_text(
        yaml.safe_dump(
            {"table": "silver/customer_features",
             "features": [doc("one_id", "string"), doc("aum", "double"), doc("new_score", "long")]}
        ),
        encoding="utf-8",
    )
    cfg = make_config(tmp_path / "lake", features={"dictionary": str(tmp_path / "features.yaml")})
    assert [(n, t.simpleString()) for n, t in feature_columns(cfg)] == [
        ("one_id", "string"), ("aum", "double"), ("new_score", "bigint"),
    ]


def test_without_dictionary_the_contract_columns_are_used(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "lake", features={"dictionary": str(tmp_path / "absent.yaml")})
    assert feature_columns(cfg) == CONTRACT_FEATURES
