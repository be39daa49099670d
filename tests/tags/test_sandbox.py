"""Rule and audience expressions stay inside the customer's row (issue 16).

Each way out (Java reflection, subqueries over files, randomness and the clock,
generators, windows, aggregates, unknown or qualified functions) is a ConfigError (exit 2)
naming the rule or audience and the construct, raised before any data is read. Ordinary
rules, every rule of conf/tags.yaml and every audience of conf/audiences.yaml still pass.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.audiences import stage as audiences_stage
from sparkseg.audiences.definitions import load_plan
from sparkseg.config import Config
from sparkseg.errors import ConfigError
from sparkseg.tags import sandbox
from sparkseg.tags import stage as tags_stage
from sparkseg.tags.stage import load_rules
from tests.support.config import REPO, make_config

REFLECT_GETENV = "length(reflect('java.lang.System', 'getenv', 'SPARKSEG_HASH_KEY')) > 0"


def rules_config(tmp_path: Path, rules: list[dict[str, Any]], **sections: Any) -> Config:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True), encoding="utf-8")
    return make_config(tmp_path / "lake", tags={"rules": str(path)}, **sections)


def flag(name: str, when: str) -> dict[str, Any]:
    return {"name": name, "category": "value", "description": {"en": name}, "when": when}


def audiences_config(tmp_path: Path, include: str) -> Config:
    path = tmp_path / "audiences.yaml"
    path.write_text(yaml.safe_dump({"audiences": [{"name": "x", "include": include}]}))
    return make_config(tmp_path / "lake", audiences={"definitions": str(path)})


# (when expression, what the message must say); columns are real feature columns.
ESCAPES = [
    (REFLECT_GETENV, r"function 'reflect' is not allowed in rules \(it calls Java methods\)"),
    ("reflect('java.lang.System', 'exit', 0) IS NULL", r"function 'reflect' is not allowed"),
    ("java_method('java.lang.System', 'exit', 0) IS NULL", r"function 'java_method' is not allowed"),
    ("try_reflect('java.lang.System', 'getenv', 'HOME') IS NULL", r"function 'try_reflect' is not allowed"),
    ("REFLECT('java.lang.Runtime', 'getRuntime') IS NULL", r"function 'reflect' is not allowed"),
    ("system.builtin.reflect('java.lang.System', 'getenv') IS NULL", r"function 'system.builtin.reflect' is not allowed"),
    ("identifier('reflect')('java.lang.System', 'getenv', 'HOME') IS NULL", r"IDENTIFIER\(...\) is not allowed"),
    ("(select count(*) from parquet.`/tmp`) > 0", r"subqueries are not allowed in rules"),
    ("(select count(*) from text.`/proc/self/environ`) > 0", r"subqueries are not allowed in rules"),
    ("exists(select 1 from range(1))", r"subqueries are not allowed in rules"),
    ("age in (select id from range(100))", r"subqueries are not allowed in rules"),
    ("read_files('/tmp') IS NULL", r"unknown function 'read_files'"),
    ("rand() < 0.5", r"function 'rand' is not allowed in rules \(nondeterministic\)"),
    ("randn() > 0", r"function 'randn' is not allowed"),
    ("uuid() > 'a'", r"function 'uuid' is not allowed in rules \(nondeterministic\)"),
    ("current_date > date '2024-01-01'", r"function 'current_date' is not allowed in rules \(it depends on when it runs"),
    ("datediff(current_date(), as_of_date) > 0", r"function 'current_date' is not allowed"),
    ("now() IS NOT NULL", r"function 'now' is not allowed"),
    ("explode(array(age)) > 1", r"generator function 'explode' is not allowed in rules"),
    ("sum(aum) over () > 1", r"window functions \(OVER\) are not allowed"),
    ("row_number() > 1", r"window functions \(OVER\) are not allowed"),
    ("aum > avg(aum)", r"aggregate functions are not allowed"),
    ("count(*) > 1", r"aggregate functions are not allowed"),
    ("frobnicate(age) > 1", r"unknown function 'frobnicate'"),
    ("age = :limit", r"parameter markers are not allowed"),
]


@pytest.mark.parametrize(("when", "message"), ESCAPES, ids=[w for w, _ in ESCAPES])
def test_escape_from_the_row_is_refused_naming_rule_and_construct(
    spark: SparkSession, tmp_path: Path, when: str, message: str
) -> None:
    cfg = rules_config(tmp_path, [flag("ok", "age > 1"), flag("x", when)])
    with pytest.raises(ConfigError, match=rf"tag rule 'x': {message}.* in when: ") as err:
        load_rules(spark, cfg)
    assert err.value.exit_code == 2
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("include", "message"),
    [
        (f"payroll AND {REFLECT_GETENV}", r"function 'reflect' is not allowed in audiences"),
        ("payroll AND (select count(*) from parquet.`/tmp`) > 0", r"subqueries are not allowed in audiences"),
        ("payroll AND rand() < 0.5", r"function 'rand' is not allowed in audiences"),
        ("payroll AND segment_id in (select 1)", r"subqueries are not allowed in audiences"),
        ("sum(segment_id) over () > 1", r"window functions \(OVER\) are not allowed"),
        ("count(*) > 1", r"aggregate functions are not allowed"),
    ],
)
def test_audience_escape_is_refused_naming_audience_and_construct(
    spark: SparkSession, tmp_path: Path, include: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"audience 'x': {message}.* in include: ") as err:
        load_plan(spark, audiences_config(tmp_path, include))
    assert err.value.exit_code == 2


def test_refused_rule_stops_the_stage_before_any_data_is_read(
    spark: SparkSession, tmp_path: Path
) -> None:
    # The warehouse is empty: reading data first would be a MissingTableError (exit 3).
    cfg = rules_config(tmp_path, [flag("leak", REFLECT_GETENV)])
    with pytest.raises(ConfigError, match=r"tag rule 'leak': function 'reflect'"):
        tags_stage.run(spark, cfg, dt.date(2024, 6, 30))


def test_refused_audience_stops_the_stage_before_any_data_is_read(
    spark: SparkSession, tmp_path: Path
) -> None:
    cfg = audiences_config(tmp_path, "payroll AND uuid() > 'a'")
    with pytest.raises(ConfigError, match=r"audience 'x': function 'uuid'"):
        audiences_stage.run(spark, cfg, dt.date(2024, 6, 30))


def test_a_column_named_like_a_clock_function_is_a_column(spark: SparkSession, tmp_path: Path) -> None:
    # Only the bare word with no such column becomes the clock; a tag named user is fine.
    cfg = rules_config(tmp_path, [flag("user", "age > 1"), flag("adult_user", "user AND age >= 18")])
    assert load_rules(spark, cfg).names == ("channel_habit", "lost", "user", "adult_user")


ORDINARY = [
    "coalesce(aum, 0) > 100",
    "coalesce(balance_wealth, 0) + coalesce(balance_fund, 0) >= 50000",
    "datediff(as_of_date, date '2024-01-01') > 30",
    "date_add(as_of_date, -days_since_last_txn) >= date '2024-01-01'",
    "months_between(as_of_date, date '2020-01-01') > 12",
    "year(as_of_date) = 2024 AND month(as_of_date) BETWEEN 1 AND 6",
    "case when age >= 60 then 'silver' when age <= 30 then 'young' else 'mid' end = 'mid'",
    "CASE gender WHEN 'F' THEN 1 ELSE 0 END = 1",
    "lower(occupation) like 'eng%'",
    "upper(income_band) NOT LIKE 'LOW%'",
    "occupation ILIKE '%teach%'",
    "abs(aum_change_90d) > 1000",
    "round(aum_cv_12m, 2) <= 0.10",
    "greatest(txn_count_30d, login_count_30d) >= 5",
    "least(push_open_rate_90d, sms_click_rate_90d) > 0.1",
    "array_contains(array(risk_level, income_band), 'R5')",
    "size(split(occupation, ' ')) > 1",
    "nvl(segment_id, -1) = 3",
    "nvl2(segment_name, 1, 0) = 1",
    "ifnull(days_since_last_event, 9999) > 90",
    "age between 25 and 40",
    "age not between 25 and 40",
    "city_tier in (1, 2)",
    "risk_level not in ('R4', 'R5')",
    "isnull(days_since_first_wealth_purchase)",
    "isnotnull(segment_id) AND segment_id IS NOT NULL",
    "cast(aum as int) > 1000",
    "try_cast(occupation as int) IS NULL",
    "aum::bigint > 1000",
    "concat(gender, '-', income_band) = 'F-high'",
    "gender || income_band = 'Fhigh'",
    "concat_ws('/', gender, occupation) <> ''",
    "occupation rlike '^(engineer|doctor)$'",
    "regexp_like(occupation, 'eng')",
    "regexp_extract(occupation, '^(\\\\w+)', 1) = 'senior'",
    "length(trim(occupation)) > 0",
    "substring(occupation, 1, 3) = 'eng'",
    "startswith(occupation, 'eng') OR endswith(occupation, 'er')",
    "trim(BOTH ' ' FROM occupation) = 'engineer'",
    "position('eng' IN occupation) > 0",
    "if(has_wealth = 1, balance_wealth, 0) > 10000",
    "nullif(txn_count_90d, 0) IS NULL",
    "txn_count_90d % 2 = 0 AND txn_count_90d div 2 > 3",
    "-net_flow_90d > 1000",
    "floor(aum / 10000) >= 5 AND ceil(aum) > 0",
    "sqrt(aum) > 100 AND ln(aum + 1) > 5 AND power(age, 2) > 100",
    "exists(array(push_sent_90d, sms_sent_90d), v -> v > 10)",
    "transform(array(push_sent_90d, sms_sent_90d), v -> v * 2)[0] > 10",
    "element_at(map('a', age), 'a') > 18",
    "named_struct('a', age).a > 18",
    "date_trunc('MONTH', as_of_date) < as_of_date",
    "extract(YEAR FROM as_of_date) = 2024",
    "to_date('2024-01-01') < as_of_date",
    "age IS DISTINCT FROM 30",
    "age <=> 30",
    "NOT (has_loan = 1) AND has_mortgage = 0 -- no debt\n",
]


@pytest.mark.parametrize("when", ORDINARY)
def test_ordinary_rule_passes(spark: SparkSession, tmp_path: Path, when: str) -> None:
    rules = load_rules(spark, rules_config(tmp_path, [flag("x", when)]))
    assert rules.get("x").when == when


def test_every_repository_rule_and_audience_passes(spark: SparkSession, tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "lake")
    rules = load_rules(spark, cfg)
    shipped = yaml.safe_load((REPO / "conf" / "tags.yaml").read_text(encoding="utf-8"))["rules"]
    assert {r["name"] for r in shipped} | {"channel_habit", "lost"} == set(rules.names)
    plan = load_plan(spark, cfg)
    shipped_audiences = yaml.safe_load((REPO / "conf" / "audiences.yaml").read_text(encoding="utf-8"))
    assert [a.name for a in plan.audiences] == [a["name"] for a in shipped_audiences["audiences"]]


@pytest.mark.parametrize("habit", [{"window": "90d"}, {"window": "365d", "lost_min_sent": 1}])
def test_built_in_habit_rules_pass_for_each_window(
    spark: SparkSession, tmp_path: Path, habit: dict[str, Any]
) -> None:
    cfg = make_config(tmp_path / "lake", tags={"channel_habit": habit})
    assert {"channel_habit", "lost"} <= set(load_rules(spark, cfg).names)


def test_every_allowed_function_is_a_built_in(spark: SparkSession) -> None:
    # A name Spark does not know would only ever give "unknown function": keep the list true.
    missing = [n for n in sorted(sandbox.ALLOWED_FUNCTIONS) if not spark.catalog.functionExists(n)]
    assert missing == []


def test_analysed_check_refuses_what_the_parse_check_never_sees(spark: SparkSession) -> None:
    # The backstop after analysis: a resolved tree with randomness or the clock is refused
    # even if its parse tree had passed (say, a builtin shadowed by a session function).
    frame = spark.range(0).withColumn("aum", F.lit(1.0))

    def analysed(col: Any) -> Any:
        project = frame.select(col.alias("c"))._jdf.queryExecution().analyzed().projectList()
        return project.apply(project.size() - 1).child()

    assert sandbox.analysed_problem(analysed(F.rand() < 0.5), "rules") == (
        "nondeterministic expressions are not allowed in rules"
    )
    assert sandbox.analysed_problem(analysed(F.current_date()), "rules") == (
        "construct 'CurrentDate' is not allowed in rules"
    )
    assert sandbox.analysed_problem(analysed(F.col("aum") > F.lit(2)), "rules") == ""


def test_sql_on_files_is_off_inside_the_stages_and_restored_after(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = tmp_path / "secret"
    spark.range(3).write.parquet(str(path))
    query = f"select count(*) from parquet.`{path}`"
    assert spark.sql(query).first()[0] == 3
    with sandbox.no_sql_on_files(spark):
        assert spark.conf.get(sandbox.SQL_ON_FILES) == "false"
        with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
            spark.sql(query)
    assert spark.sql(query).first()[0] == 3
