"""The audiences stage on Delta tables: members, exports, dry run."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml
from chispa import assert_df_equality
from pyspark.sql import SparkSession

from sparkseg.audiences.stage import dry_run, run
from sparkseg.audiences.tables import AUDIENCE_MEMBERS, CAMPAIGN_EVALUATION
from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.segment.tables import SEGMENTS
from sparkseg.tags.tables import CUSTOMER_TAGS_WIDE
from tests.conftest import make_config

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

    csv_dir = Path(stage_cfg.warehouse) / "exports" / "payroll_active" / "as_of_20260630"
    lines = "".join(p.read_text() for p in sorted(csv_dir.glob("part-*.csv"))).splitlines()
    assert lines == ["one_id,audience,as_of_date", "a,payroll_active,2026-06-30"]
    parquet_dir = Path(stage_cfg.warehouse) / "exports" / "reactivation" / "as_of_20260630"
    exported = spark.read.parquet(str(parquet_dir))
    targets = sorted(r[1] for r in reactivation if r[2] == "target")
    assert sorted(r["one_id"] for r in exported.collect()) == targets
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
