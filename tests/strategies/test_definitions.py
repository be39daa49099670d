"""Strategies files: the shipped one loads; each mistake is one line naming the strategy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pyspark.sql import SparkSession

from sparkseg.errors import ConfigError
from sparkseg.strategies.definitions import StrategyBook, load_book
from tests.support.config import REPO, make_config

GOOD = {
    "name": "first_loan",
    "audiences": ["first_loan_app_push"],
    "eligibility": "has_loan = 0",
    "steps": [{"day": 0, "channel": "habit", "fallback": "app_push"},
              {"day": 2, "channel": "sms", "if_no_response": True}],
}


def book_with(tmp_path: Path, spark: SparkSession, data: object) -> StrategyBook:
    path = tmp_path / "strategies.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    cfg = make_config(tmp_path / "lake", strategies={"definitions": str(path)},
                      audiences={"definitions": str(REPO / "conf" / "audiences.yaml")})
    return load_book(spark, cfg)


def test_the_shipped_strategies_file_loads(spark: SparkSession, tmp_path: Path) -> None:
    book = load_book(spark, make_config(tmp_path / "lake"))
    names = [s.name for s in book.strategies]
    assert names == ["first_loan", "reactivation"]
    first = book.strategies[0]
    assert [(s.day, s.channel, s.if_no_response) for s in first.steps] == [
        (0, "habit", False), (2, "app_push", True), (4, "sms", True), (4, "wechat", True)]
    assert (book.policy.max_touches, book.policy.per_days) == (3, 7)
    assert book.lookback_days == 30


def test_a_good_strategy_with_defaults(spark: SparkSession, tmp_path: Path) -> None:
    book = book_with(tmp_path, spark, {"strategies": [GOOD]})
    s = book.strategies[0]
    assert (s.priority, s.control_share, s.cooldown_days, s.non_model) == (100, 0.1, 30, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"steps": [{"day": 1, "channel": "sms"}]}, "the first step is on day 0 and unconditional"),
        ({"steps": [{"day": 0, "channel": "sms", "if_no_response": True}]},
         "the first step is on day 0 and unconditional"),
        ({"steps": [{"day": 0, "channel": "habit"}]}, "a 'habit' step needs a fallback channel"),
        ({"steps": [{"day": 0, "channel": "sms"}, {"day": 2, "channel": "habit",
                                                   "fallback": "sms"}]},
         "only the first step may use the 'habit' channel"),
        ({"steps": [{"day": 0, "channel": "sms"}, {"day": 3, "channel": "sms"},
                    {"day": 2, "channel": "sms"}]}, "steps must be in order of day"),
        ({"cooldown_days": 2}, "cooldown_days (2) must exceed the last step's day"),
        ({"steps": [{"day": 0, "channel": "fax"}]}, "key 'steps.0.channel'"),
        ({"audiences": ["no_such_audience"]}, "unknown audience 'no_such_audience'"),
        ({"goal": ["revenue"]}, "unknown goal metric 'revenue'"),
        ({"eligibility": "aum"}, "eligibility must be boolean, got double"),
        ({"eligibility": "no_such_column = 0"}, "no_such_column"),
        ({"non_model": {"include": "java_method('java.lang.System', 'exit', 0) = 1"}},
         "non_model.include"),
        ({"control_share": 0.9}, "key 'control_share'"),
        ({"name": "First Loan"}, "name may hold lower-case letters"),
        ({"channels": []}, "unknown key 'channels'"),
    ],
)
def test_each_mistake_is_one_line_naming_the_strategy(
    spark: SparkSession, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    entry = {**GOOD, **change}
    with pytest.raises(ConfigError) as err:
        book_with(tmp_path, spark, {"strategies": [entry]})
    text = str(err.value)
    assert "\n" not in text
    assert f"strategy '{entry['name']}'" in text
    assert message in text


def test_file_level_mistakes(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="duplicate strategy name"):
        book_with(tmp_path, spark, {"strategies": [GOOD, GOOD]})
    with pytest.raises(ConfigError, match="unknown key 'rules'"):
        book_with(tmp_path, spark, {"strategies": [GOOD], "rules": []})
    with pytest.raises(ConfigError, match=r"policy: .*response_events"):
        book_with(tmp_path, spark, {"strategies": [GOOD], "policy": {"response_events": ["x"]}})
    with pytest.raises(ConfigError, match=r"policy: .*max_touches"):
        book_with(tmp_path, spark, {"strategies": [GOOD], "policy": {"max_touches": 0}})
    with pytest.raises(ConfigError, match="expected a mapping with a 'strategies' list"):
        book_with(tmp_path, spark, ["not", "a", "mapping"])
    missing = make_config(tmp_path / "lake", strategies={"definitions": str(tmp_path / "none.yaml")})
    with pytest.raises(ConfigError, match="strategies file not found"):
        load_book(spark, missing)
