"""Driver-side Hadoop file access: no .crc side files, publish-once atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.lakehouse.hadoop_fs import HadoopFs


def _names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_atomic_write_leaves_only_the_file(spark: SparkSession, tmp_path: Path) -> None:
    fs = HadoopFs(spark, str(tmp_path))
    target = tmp_path / "models" / "1" / "metadata.json"
    fs.write_text_atomic(str(target), '{"k": "甲"}')
    assert _names(tmp_path) == ["models", "models/1", "models/1/metadata.json"]  # no .crc, no .tmp
    assert fs.read_text(str(target)) == '{"k": "甲"}'


def test_atomic_write_never_replaces(spark: SparkSession, tmp_path: Path) -> None:
    fs = HadoopFs(spark, str(tmp_path))
    target = tmp_path / "metadata.json"
    fs.write_text_atomic(str(target), "first")
    with pytest.raises(OSError, match="could not publish"):
        fs.write_text_atomic(str(target), "second")
    assert target.read_text(encoding="utf-8") == "first"
    assert _names(tmp_path) == ["metadata.json"]  # the temporary file is gone


def test_write_text_replaces_and_creates_the_folder(spark: SparkSession, tmp_path: Path) -> None:
    fs = HadoopFs(spark, str(tmp_path))
    target = tmp_path / "reports" / "page.html"
    fs.write_text(str(target), "old")
    fs.write_text(str(target), "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert _names(tmp_path) == ["reports", "reports/page.html"]


def test_listing(spark: SparkSession, tmp_path: Path) -> None:
    fs = HadoopFs(spark, str(tmp_path))
    for rel in ("d=1/a.parquet", "d=2/b.parquet", "d=2/_SUCCESS", "d=2/.b.parquet.crc", "c.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    assert sorted(f.path for f in fs.list_files(str(tmp_path), ".parquet")) == [
        "d=1/a.parquet", "d=2/b.parquet"
    ]
    assert sorted(fs.child_dirs(str(tmp_path))) == ["d=1", "d=2"]
    assert sorted(Path(f.path.removeprefix("file:")).name for f in fs.children(str(tmp_path))) == [
        "c.txt", "d=1", "d=2"
    ]
    assert fs.child_dirs(str(tmp_path / "none")) == [] and fs.children(str(tmp_path / "none")) == []


def test_rename_and_delete(spark: SparkSession, tmp_path: Path) -> None:
    fs = HadoopFs(spark, str(tmp_path))
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "a.parquet").write_text("x", encoding="utf-8")
    fs.rename(str(tmp_path / "staging" / "a.parquet"), str(tmp_path / "table" / "d=1" / "a.parquet"))
    assert (tmp_path / "table" / "d=1" / "a.parquet").is_file()
    fs.delete(str(tmp_path / "staging"))
    assert not fs.exists(str(tmp_path / "staging"))
    assert _names(tmp_path) == ["table", "table/d=1", "table/d=1/a.parquet"]
