"""The audiences stage on Delta tables: members, exports, dry run."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from sparkseg.audiences.definitions import load_plan
from sparkseg.audiences.exports import MANIFEST, as_of_folder, current_set, target_rows
from sparkseg.audiences.stage import dry_run, run
from sparkseg.audiences.tables import AUDIENCE_MEMBERS, CAMPAIGN_EVALUATION
from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.vacuum import vacuum_warehouse
from sparkseg.segment.tables import SEGMENTS
from sparkseg.tags.tables import CUSTOMER_TAGS_WIDE
from tests.support.config import make_config

AS_OF = dt.date(2026, 6, 30)
AUDIENCES = {
    "audiences": [
        {"name": "payroll_active", "description": "payroll, not lost",
         "include": "payroll AND NOT lost", "export": "csv"},
        {"name": "reactivation", "description": "lost group", "include": "lost",
         "control_share": 0.5, "export": "parquet"},
        {"name": "seg3_hnw", "description": "segment 3 or hnw",
         "include": "segment_id = 3 OR aum_tier = 'hnw'"},
    ]
}
WIDE = [
    ("a", ["payroll", "aum_tier=hnw"]), ("b", ["payroll", "lost"]), ("c", ["lost"]),
    ("d", ["lost", "aum_tier=mass"]), ("e", []),
]
SEGMENT_OF = {"a": 1, "b": 3, "c": 2, "d": 2, "e": 3}


def group(audience: str, one_id: str, share: float) -> str:
    u = int(hashlib.sha256(f"{audience}:{one_id}".encode()).hexdigest()[:13], 16) / 16**13
    return "control" if u < share else "target"


@pytest.fixture
def stage_cfg(tmp_path: Path, spark_clean: SparkSession) -> Config:
    path = tmp_path / "audiences.yaml"
    path.write_text(yaml.safe_dump(AUDIENCES), encoding="utf-8")
    cfg = make_config(tmp_path / "lake", audiences={"definitions": str(path)})
    lake = Lakehouse(spark_clean, cfg)
    lake.write(
        spark_clean.createDataFrame([(i, t, AS_OF) for i, t in WIDE], CUSTOMER_TAGS_WIDE.schema),
        CUSTOMER_TAGS_WIDE, mode="append",
    )
    lake.write(
        spark_clean.createDataFrame(
            [(i, s, f"seg{s}", f"客群{s}", 0.5, 1, AS_OF) for i, s in SEGMENT_OF.items()],
            SEGMENTS.schema,
        ),
        SEGMENTS, mode="append",
    )
    return cfg


def test_audiences_stage_writes_members_with_control_groups_and_exports_targets(
    spark_clean: SparkSession, stage_cfg: Config
) -> None:
    spark = spark_clean
    run(spark, stage_cfg, AS_OF)
    lake = Lakehouse(spark, stage_cfg)
    reactivation = [("reactivation", i, group("reactivation", i, 0.5), AS_OF) for i in "bcd"]
    expected = spark.createDataFrame(
        [
            ("payroll_active", "a", "target", AS_OF),
            *reactivation,
            ("seg3_hnw", "a", "target", AS_OF), ("seg3_hnw", "b", "target", AS_OF),
            ("seg3_hnw", "e", "target", AS_OF),
        ],
        AUDIENCE_MEMBERS.schema,
    )
    assert_df_equality(
        lake.read(AUDIENCE_MEMBERS), expected, ignore_row_order=True, ignore_nullable=True
    )

    csv_set = current_set(lake, "payroll_active", AS_OF)
    assert csv_set is not None
    lines = "".join(Path(f).read_text() for f in csv_set.files).splitlines()
    assert lines == ["one_id,audience,as_of_date", "a,payroll_active,2026-06-30"]
    assert csv_set.manifest["rows"] == 1 and csv_set.manifest["format"] == "csv"
    parquet_set = current_set(lake, "reactivation", AS_OF)
    assert parquet_set is not None
    exported = spark.read.parquet(*parquet_set.files)
    targets = sorted(r[1] for r in reactivation if r[2] == "target")
    assert sorted(r["one_id"] for r in exported.collect()) == targets
    assert parquet_set.manifest["rows"] == len(targets)
    assert not (Path(stage_cfg.warehouse) / "exports" / "seg3_hnw").exists()
    # No audience is old enough for post-evaluation yet.
    assert not lake.exists(CAMPAIGN_EVALUATION)


def test_dry_run_prints_sizes_and_writes_nothing(
    spark_clean: SparkSession, stage_cfg: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = Lakehouse(spark_clean, stage_cfg)
    version = lake.version(CUSTOMER_TAGS_WIDE)
    sizes = dry_run(spark_clean, stage_cfg, AS_OF)

    control = sum(group("reactivation", i, 0.5) == "control" for i in "bcd")
    assert sizes == {
        "payroll_active": {"target": 1, "control": 0},
        "reactivation": {"target": 3 - control, "control": control},
        "seg3_hnw": {"target": 3, "control": 0},
    }
    out = capsys.readouterr().out
    assert "dry run" in out and "payroll_active" in out and "seg3_hnw" in out
    assert not lake.exists(AUDIENCE_MEMBERS)
    assert not (Path(stage_cfg.warehouse) / "exports").exists()
    assert lake.version(CUSTOMER_TAGS_WIDE) == version


@pytest.fixture
def ran_lake(spark_clean: SparkSession, stage_cfg: Config) -> Lakehouse:
    """The warehouse after one run of the audiences stage."""
    run(spark_clean, stage_cfg, AS_OF)
    return Lakehouse(spark_clean, stage_cfg)


def _set_folders(lake: Lakehouse, audience: str) -> list[str]:
    return sorted(p.name for p in Path(as_of_folder(lake, audience, AS_OF)).iterdir() if p.is_dir())


def test_export_rerun_publishes_a_new_complete_set_and_vacuum_leaves_exactly_that_one(
    spark_clean: SparkSession, stage_cfg: Config, ran_lake: Lakehouse
) -> None:
    lake = ran_lake
    first = current_set(lake, "payroll_active", AS_OF)
    run(spark_clean, stage_cfg, AS_OF)
    second = current_set(lake, "payroll_active", AS_OF)
    assert first is not None and second is not None
    # The rerun's set is the current one; the first one stays readable until vacuum.
    assert second.folder > first.folder
    assert _set_folders(lake, "payroll_active") == sorted(
        [Path(first.folder).name, Path(second.folder).name])
    assert vacuum_warehouse(spark_clean, stage_cfg, retention_hours=1, dry_run=False) == []

    superseded = {a: _set_folders(lake, a)[0] for a in ("payroll_active", "reactivation")}
    assert superseded["payroll_active"] == Path(first.folder).name
    removed = vacuum_warehouse(spark_clean, stage_cfg, retention_hours=0, dry_run=False)
    assert sorted(r for r in removed if r.startswith("exports: ")) == sorted(
        f"exports: exports/{a}/as_of_20260630/{name}" for a, name in superseded.items())
    assert _set_folders(lake, "payroll_active") == [Path(second.folder).name]
    # The manifest names exactly the data files on disk, with their row counts.
    on_disk = sorted(p.name for p in Path(second.folder).glob("part-*.csv"))
    assert [f["name"] for f in second.manifest["files"]] == on_disk  # type: ignore[attr-defined]
    assert [f["rows"] for f in second.manifest["files"]] == [1]  # type: ignore[attr-defined]
    assert second.manifest["run_id"] != first.manifest["run_id"]


def test_a_reader_following_the_protocol_ignores_a_set_a_crash_left_without_manifest(
    spark_clean: SparkSession, stage_cfg: Config, ran_lake: Lakehouse
) -> None:
    lake = ran_lake
    published = current_set(lake, "payroll_active", AS_OF)
    assert published is not None
    # A rerun that died after Spark wrote its data files, before the manifest's rename:
    # a newer set name, real (different) data files, and a half-written manifest.tmp.
    crashed = f"{as_of_folder(lake, 'payroll_active', AS_OF)}/29991231T000000000000Z-crashed"
    members = spark_clean.createDataFrame(
        [("payroll_active", "zz", "target", AS_OF)], AUDIENCE_MEMBERS.schema)
    aud = next(a for a in load_plan(spark_clean, stage_cfg).audiences
               if a.name == "payroll_active")
    target_rows(members, aud).write.option("header", True).csv(crashed)
    Path(crashed, MANIFEST + ".tmp").write_text('{"files": [', encoding="utf-8")

    seen = current_set(lake, "payroll_active", AS_OF)
    assert seen is not None and seen.folder == published.folder
    lines = "".join(Path(f).read_text() for f in seen.files).splitlines()
    assert lines == ["one_id,audience,as_of_date", "a,payroll_active,2026-06-30"]
    # Vacuum removes the crashed set (no manifest) and keeps the published one.
    vacuum_warehouse(spark_clean, stage_cfg, retention_hours=0, dry_run=False)
    assert _set_folders(lake, "payroll_active") == [Path(published.folder).name]


def test_vacuum_keeps_a_set_folder_a_writer_has_only_just_created(
    spark_clean: SparkSession, stage_cfg: Config, ran_lake: Lakehouse
) -> None:
    """A run killed between creating its set folder and writing a file into it leaves an
    empty folder: it is as new as its own time says, not as old as its (absent) files."""
    lake = ran_lake
    published = current_set(lake, "payroll_active", AS_OF)
    assert published is not None
    empty = Path(as_of_folder(lake, "payroll_active", AS_OF), "29991231T000000000000Z-empty")
    empty.mkdir()
    assert vacuum_warehouse(spark_clean, stage_cfg, retention_hours=1, dry_run=False) == []
    assert empty.is_dir()
    removed = vacuum_warehouse(spark_clean, stage_cfg, retention_hours=0, dry_run=False)
    assert f"exports: exports/payroll_active/as_of_20260630/{empty.name}" in removed
    assert _set_folders(lake, "payroll_active") == [Path(published.folder).name]
