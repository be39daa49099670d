"""``sparkseg retain``: old as-of partitions leave the gold tables and
silver/customer_features; nothing else is touched; vacuum then removes the files."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

import sparkseg
from sparkseg.cli import main
from sparkseg.config import config_from_mapping
from sparkseg.errors import ConfigError
from sparkseg.identity.tables import IDENTITY_EXPLODED, IDENTITY_MAP
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.vacuum import vacuum_warehouse
from sparkseg.pipeline import STAGES
from sparkseg.retention.stage import RETAINED, cutoff_of
from sparkseg.tables import OPS_QUARANTINE, OPS_RUNS, RAW_CUSTOMERS, SILVER_TABLES, TableSpec
from tests.support.cli import write_config
from tests.support.config import make_config

D = dt.date(2026, 11, 1)  # write_config's as_of
DAYS = [D - dt.timedelta(days=n) for n in (4, 3, 3, 2, 1, 0)]  # D-3 twice: 2 rows
UNTOUCHED: tuple[TableSpec, ...] = (
    RAW_CUSTOMERS, SILVER_TABLES["raw/customers"], IDENTITY_MAP, IDENTITY_EXPLODED,
    OPS_QUARANTINE,
)
MISSING = "gold/campaign_evaluation"


def _one_row_per_day(spark: SparkSession, spec: TableSpec) -> object:
    """Rows of nulls but for as_of_date (a null-only row for unpartitioned tables)."""
    data = [tuple(day if f.name == "as_of_date" else None for f in spec.schema.fields)
            for day in DAYS]
    return spark.createDataFrame(data, spec.schema).coalesce(1)  # one file per partition


def _parquet(root: Path, table: str) -> dict[str, int]:
    """Parquet files on disk per top folder of a table (partition folder or file)."""
    out: dict[str, int] = {}
    for f in (root / table).rglob("*.parquet"):
        top = f.relative_to(root / table).parts[0]
        out[top] = out.get(top, 0) + 1
    return out


def test_every_gold_table_and_customer_features_are_retained_and_nothing_else() -> None:
    specs = set()
    for mod in pkgutil.walk_packages(sparkseg.__path__, "sparkseg."):
        if mod.name.endswith(".tables"):
            module = importlib.import_module(mod.name)
            specs |= {v for v in vars(module).values() if isinstance(v, TableSpec)}
    gold = {s.name for s in specs if s.layer == "gold"}
    assert {s.name for s in RETAINED} == gold | {"silver/customer_features"}
    assert all(s.partition_by == ("as_of_date",) for s in RETAINED)


def test_retain_is_not_part_of_sparkseg_run() -> None:
    assert "retain" not in STAGES


def test_cutoff_keeps_keep_days_before_the_as_of() -> None:
    cfg = make_config(Path("/tmp/x"), retention={"keep_days": 14})
    assert cutoff_of(cfg, D) == dt.date(2026, 10, 18)


def test_retention_shorter_than_the_evaluation_window_is_refused() -> None:
    cfg = make_config(Path("/tmp/x"), retention={"keep_days": 13})
    with pytest.raises(ConfigError, match=r"shorter than audiences\.evaluation\.window_days 14"):
        cutoff_of(cfg, D)
    off = make_config(Path("/tmp/x"), retention={"keep_days": 2},
                      audiences={"evaluation": {"enabled": False}})
    assert cutoff_of(off, D) == dt.date(2026, 10, 30)


@pytest.mark.parametrize("bad", ["0", "-1", "two"])
def test_bad_keep_days_in_config_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"retention\.keep_days"):
        config_from_mapping({"warehouse": "/tmp/x"}, overrides=[f"retention.keep_days={bad}"])


@pytest.mark.parametrize("days", ["0", "-3"])
def test_keep_days_zero_or_negative_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    config = write_config(tmp_path / "c.yaml", tmp_path / "lake")
    code = main(["retain", "--config", str(config), "--keep-days", days])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2
    assert err == [f"sparkseg: error: {config}: key 'retention.keep_days': Input should be "
                   f"greater than or equal to 1 (got {days})"]
    assert not (tmp_path / "lake").exists()


def test_retain_without_keep_days_does_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.yaml", tmp_path / "lake")
    code = main(["retain", "--config", str(config)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == ["retain: retention.keep_days is not set and no --keep-days given: "
                   "nothing dropped"]
    assert not (tmp_path / "lake").exists()


def test_cli_retain_drops_old_partitions_only_and_vacuum_removes_their_files(
    spark_clean: SparkSession, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    cfg = make_config(root)
    lake = Lakehouse(spark_clean, cfg)
    for spec in (*RETAINED, *UNTOUCHED):
        if spec.name != MISSING:
            lake.write(_one_row_per_day(spark_clean, spec), spec, mode="append")
    (root / "models" / "m").mkdir(parents=True)
    (root / "models" / "m" / "metadata.json").write_text("{}")
    untouched = {s.name: (lake.version(s), _parquet(root, s.name)) for s in UNTOUCHED}

    # keep_days 2 in the file, the evaluation window shortened to match.
    config = write_config(tmp_path / "c.yaml", root, retention={"keep_days": 2},
                          audiences={"evaluation": {"window_days": 2}})
    proc = subprocess.run(
        [sys.executable, "-m", "sparkseg.cli", "retain", "--config", str(config)],
        capture_output=True, text=True, timeout=300, env={**os.environ},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1] == (
        "dropped as_of_date < 2026-10-30: 30 partition(s), 45 rows in 15 table(s); "
        "files are removed by `sparkseg vacuum` after its retention")
    names = {s.name for s in RETAINED}
    lines = [ln.split(" INFO ", 1)[1] for ln in proc.stderr.splitlines()
             if " INFO " in ln and ln.split(" INFO ", 1)[1].split(":")[0] in names]
    assert len(lines) == len(RETAINED)
    assert f"{MISSING}: no table, skipped" in lines
    assert ("gold/segments: dropped 2 partition(s) (2026-10-28..2026-10-29), 3 rows, v1"
            in lines)

    kept = [D - dt.timedelta(days=n) for n in (2, 1, 0)]
    for spec in RETAINED:
        if spec.name == MISSING:
            assert not lake.exists(spec)
            continue
        left = lake.read(spec).groupBy("as_of_date").count().orderBy("as_of_date").collect()
        assert [(r[0], r[1]) for r in left] == [(d, 1) for d in kept], spec.name
        assert lake.version(spec) == 1
    for spec in UNTOUCHED:
        assert lake.read(spec).count() == len(DAYS), spec.name
    runs = lake.read(OPS_RUNS).where(F.col("stage") == "retain").collect()
    assert [(r.status, r.as_of_date, r.row_counts["gold/segments"]) for r in runs] == [
        ("succeeded", D, 3)]
    assert runs[0].output_versions["silver/customer_features"] == 1
    assert runs[0].input_versions["silver/customer_features"] == 0  # the version to go back to

    # Files stay until vacuum; then the dropped partitions' files are gone, nothing else.
    assert _parquet(root, "gold/segments")["as_of_date=2026-10-28"] == 1
    removed = vacuum_warehouse(spark_clean, cfg, retention_hours=0, dry_run=False)
    assert len(removed) == (len(RETAINED) - 1) * 2  # one file per dropped partition (one append each)
    for spec in RETAINED:
        if spec.name != MISSING:
            assert set(_parquet(root, spec.name)) == {f"as_of_date={d}" for d in kept}
    assert {s.name: (lake.version(s), _parquet(root, s.name)) for s in UNTOUCHED} == untouched
    assert (root / "models" / "m" / "metadata.json").is_file()


def test_keep_days_flag_overrides_the_config(tmp_path: Path) -> None:
    from sparkseg.cli import _overrides, build_parser
    from sparkseg.config import load_config

    config = write_config(tmp_path / "c.yaml", tmp_path / "lake", retention={"keep_days": 30})
    args = build_parser().parse_args(["retain", "--config", str(config), "--keep-days", "20"])
    assert load_config(config, _overrides(args)).retention.keep_days == 20
    args = build_parser().parse_args(["retain", "--config", str(config)])
    assert load_config(config, _overrides(args)).retention.keep_days == 30


@pytest.mark.parametrize("engine", ["offline", "spark"])
def test_retain_stage_on_each_engine_records_its_run(
    spark_clean: SparkSession, tmp_path: Path, engine: str
) -> None:
    from sparkseg.pipeline import run_stage
    from sparkseg.retention.stage import run
    from sparkseg.segment.tables import SEGMENTS

    cfg = make_config(tmp_path / "lake", engine=engine, retention={"keep_days": 3},
                      audiences={"evaluation": {"enabled": False}})
    lake = Lakehouse(spark_clean, cfg)
    for spec in (SEGMENTS, IDENTITY_MAP):
        lake.write(_one_row_per_day(spark_clean, spec), spec, mode="append")
    led = run_stage(spark_clean, cfg, "retain", D, fn=run)
    # cutoff D-3: only D-4 (one row) goes, from gold/segments only.
    assert (led.inputs, led.outputs, led.rows) == (
        {"gold/segments": 0}, {"gold/segments": 1}, {"gold/segments": 1})
    assert [r[0] for r in lake.read(SEGMENTS).select("as_of_date").distinct()
            .orderBy("as_of_date").collect()] == [D - dt.timedelta(days=n) for n in (3, 2, 1, 0)]
    assert lake.read(IDENTITY_MAP).count() == len(DAYS) and lake.version(IDENTITY_MAP) == 0
    row = lake.read(OPS_RUNS).where(F.col("stage") == "retain").first()
    assert row is not None and row.engine == engine and row.status == "succeeded"
    assert row.message == ("dropped as_of_date < 2026-10-29: 1 partition(s), 1 rows in 1 "
                           "table(s); files are removed by `sparkseg vacuum` after its retention")


def test_retention_shorter_than_the_contact_plans_lookback_is_refused(
    spark_clean: SparkSession, tmp_path: Path
) -> None:
    from sparkseg.pipeline import run_stage
    from sparkseg.retention.stage import run
    from sparkseg.segment.tables import SEGMENTS
    from sparkseg.strategies.tables import CONTACT_PLAN

    # conf/strategies.yaml reads back 30 days of plans (its cooldown_days).
    cfg = make_config(tmp_path / "lake", retention={"keep_days": 14})
    lake = Lakehouse(spark_clean, cfg)
    lake.write(_one_row_per_day(spark_clean, SEGMENTS), SEGMENTS, mode="append")
    led = run_stage(spark_clean, cfg, "retain", D, fn=run)  # no contact plan yet: allowed
    assert led.message.startswith("dropped as_of_date < 2026-10-18: 0 partition(s)")
    lake.write(_one_row_per_day(spark_clean, CONTACT_PLAN), CONTACT_PLAN, mode="append")
    with pytest.raises(ConfigError, match=r"keep_days 14 is shorter than the 30 days of "
                                          r"gold/contact_plan"):
        run_stage(spark_clean, cfg, "retain", D, fn=run)
    assert (lake.version(SEGMENTS), lake.version(CONTACT_PLAN)) == (0, 0)  # nothing dropped
