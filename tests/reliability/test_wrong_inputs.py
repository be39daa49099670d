"""Wrong inputs of another kind: one line naming the cause, the documented exit code, no table changed.

Each test breaks one thing in a private copy of the e2e warehouse (or its config) and
runs the stage that meets it in-process (``pipeline.run_stage`` on the shared session;
the command line would stop the shared session). Afterwards every Delta table of the
warehouse has the version it had and no file was added, removed or rewritten, with the
one documented exception: ``ops/runs`` may gain the failed run's row when the failure
came after the stage had read its inputs (README, "Exit codes").

Already covered elsewhere: a bad or empty config file and bad ``--set`` overrides
(tests/test_cli.py, exit 2 before Spark starts); Delta-level schema and name checks
(tests/lakehouse); ingest's own missing table / column / key checks (tests/ingest).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from pyspark.sql import SparkSession

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.errors import ConfigError, MissingTableError, SchemaMismatchError, SparksegError
from sparkseg.tables import RAW_EVENTS, RAW_TRANSACTIONS
from tests.support.bank import AS_OF, write_raw_table
from tests.support.cli import run_cli, write_config
from tests.support.config import REPO, make_config
from tests.support.delta import arrow_schema
from tests.support.e2e import E2E
from tests.support.warehouse import runs_rows, snapshot

pytestmark = pytest.mark.slow


def _fails_cleanly(
    spark: SparkSession, root: Path, cfg: Config, stage: str, error: type[SparksegError],
    exit_code: int, *needles: str, prepare: Callable[[], None] | None = None,
) -> SparksegError:
    """Run ``stage``; it must raise ``error`` in one line naming ``needles``, changing nothing."""
    if prepare is not None:
        prepare()
    before = snapshot(root)
    audit_before = {r["run_id"] for r in runs_rows(spark, root)}
    with pytest.raises(error) as caught:
        pipeline.run_stage(spark, cfg, stage, AS_OF)
    err = caught.value
    message = str(err)
    assert err.exit_code == exit_code
    assert "\n" not in message.strip(), message
    for needle in needles:
        assert needle in message, message
    assert snapshot(root) == before
    new_audit = [r for r in runs_rows(spark, root) if r["run_id"] not in audit_before]
    assert [(r["stage"], r["status"], r["message"]) for r in new_audit] in (
        [], [(stage, "failed", message[:500])]
    )
    return err


def _rules_file(tmp_path: Path, extra_rule: dict[str, object]) -> Path:
    rules = yaml.safe_load((REPO / "conf/tags.yaml").read_text(encoding="utf-8"))
    rules["rules"].append(extra_rule)
    path = tmp_path / "tags.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    return path


UNKNOWN_COLUMN_RULE = {
    "name": "big_spender", "category": "value",
    "description": {"en": "Spends a lot.", "zh": "高消费"},
    "when": "debit_amount_90d > 10000 AND monthly_spend_avg > 5000",
}


def test_missing_raw_table_is_exit_3_naming_it(spark: SparkSession, lake_copy: Path) -> None:
    log = lake_copy / RAW_EVENTS.name / "_delta_log"
    _fails_cleanly(
        spark, lake_copy, make_config(lake_copy), "ingest", MissingTableError, 3,
        "missing table raw/events", prepare=lambda: log.rename(log.with_name("lost_log")),
    )


def test_raw_column_missing_or_retyped_is_exit_4_naming_it(
    spark: SparkSession, lake_copy: Path, e2e: E2E
) -> None:
    rows = e2e.data.tables[RAW_TRANSACTIONS.name]
    cfg = make_config(lake_copy)
    no_amount = pa.schema([f for f in arrow_schema(RAW_TRANSACTIONS) if f.name != "amount"])
    _fails_cleanly(
        spark, lake_copy, cfg, "ingest", SchemaMismatchError, 4,
        "raw/transactions", "missing column(s) amount",
        prepare=lambda: write_raw_table(lake_copy, RAW_TRANSACTIONS, rows, schema=no_amount),
    )
    as_text = pa.schema([pa.field("amount", pa.string()) if f.name == "amount" else f
                         for f in arrow_schema(RAW_TRANSACTIONS)])
    text_rows = [{**r, "amount": str(r["amount"])} for r in rows]
    _fails_cleanly(
        spark, lake_copy, cfg, "ingest", SchemaMismatchError, 4,
        "raw/transactions", "wrong type for amount (string, expected decimal(18,2))",
        prepare=lambda: write_raw_table(lake_copy, RAW_TRANSACTIONS, text_rows, schema=as_text),
    )


def test_missing_upstream_output_is_exit_3_naming_it(spark: SparkSession, lake_copy: Path) -> None:
    _fails_cleanly(
        spark, lake_copy, make_config(lake_copy), "tags", MissingTableError, 3,
        "gold/segments", prepare=lambda: shutil.rmtree(lake_copy / "gold/segments"),
    )


def test_tag_rule_on_an_unknown_column_is_exit_2_naming_rule_and_column(
    spark: SparkSession, lake_copy: Path, tmp_path: Path
) -> None:
    rules = _rules_file(tmp_path, UNKNOWN_COLUMN_RULE)
    cfg = make_config(lake_copy, tags={"rules": str(rules)})
    _fails_cleanly(spark, lake_copy, cfg, "tags", ConfigError, 2,
                   str(rules), "big_spender", "monthly_spend_avg")


def test_missing_rules_file_is_exit_2_naming_it(spark: SparkSession, lake_copy: Path,
                                                tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tags.yaml"
    cfg = make_config(lake_copy, tags={"rules": str(missing)})
    _fails_cleanly(spark, lake_copy, cfg, "tags", ConfigError, 2, str(missing))


def test_audience_on_an_unknown_column_is_exit_2_naming_audience_and_column(
    spark: SparkSession, lake_copy: Path, tmp_path: Path
) -> None:
    path = tmp_path / "audiences.yaml"
    path.write_text(yaml.safe_dump({"audiences": [
        {"name": "payroll_upsell", "description": "Payroll customers without wealth.",
         "include": "payroll AND NOT has_wealth_product", "export": "csv"},
    ]}), encoding="utf-8")
    cfg = make_config(lake_copy, audiences={"definitions": str(path)})
    _fails_cleanly(spark, lake_copy, cfg, "audiences", ConfigError, 2,
                   str(path), "payroll_upsell", "has_wealth_product")
    assert not (lake_copy / "exports" / "payroll_upsell").exists()


def test_command_line_prints_one_line_and_exit_2_for_a_bad_tag_rule(
    e2e: E2E, lake_copy: Path, tmp_path: Path
) -> None:
    rules = _rules_file(tmp_path, UNKNOWN_COLUMN_RULE)
    config = write_config(tmp_path / "bad.yaml", lake_copy, tags={"rules": str(rules)})
    before = snapshot(lake_copy)
    code, out, _ = run_cli(["tags", "--config", str(config), "--as-of", AS_OF.isoformat()],
                           log=tmp_path / "tags.log", cwd=tmp_path, env=e2e.env)
    errors = [line for line in out.splitlines() if line.startswith("sparkseg: error:")]
    assert code == 2, out[-2000:]
    assert len(errors) == 1 and "big_spender" in errors[0] and "monthly_spend_avg" in errors[0]
    assert "Traceback" not in out
    assert snapshot(lake_copy) == before
