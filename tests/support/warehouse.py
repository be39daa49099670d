"""What the tests observe of a warehouse: snapshots, table contents, leaks.

All of it reads the warehouse from outside the job (delta-rs for logs and file lists,
the test's Spark session for rows), the way an auditor or a downstream reader would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from deltalake import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from tests.support.config import make_config

LAYERS = ("raw", "silver", "gold", "ops")
OUTPUT_LAYERS = ("silver", "gold", "ops")
AUDIT_TABLE = "ops/runs"
# Tables that gain a row per run by design (the audit log and the completion records).
AUDIT_TABLES = (AUDIT_TABLE, "ops/completions")


def keyed_hash(value: str, key: str | None = None) -> str:
    """HMAC-SHA256 hex of ``value`` with the hash key the job reads from the environment."""
    secret = (key if key is not None else os.environ["SPARKSEG_HASH_KEY"]).encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


# --- warehouse layout -------------------------------------------------------------------


def delta_tables(root: str | Path, layers: Sequence[str] = LAYERS) -> list[str]:
    """``layer/name`` of every Delta table under the warehouse (folders with a log)."""
    found = []
    for layer in layers:
        folder = Path(root) / layer
        if folder.is_dir():
            found += [f"{layer}/{p.name}" for p in sorted(folder.iterdir())
                      if (p / "_delta_log").is_dir()]
    return found


def table_versions(root: str | Path) -> dict[str, int]:
    return {t: DeltaTable(f"{root}/{t}").version() for t in delta_tables(root)}


@dataclass(frozen=True)
class Snapshot:
    """Every Delta table's version and every file (size, mtime) under the warehouse."""

    versions: dict[str, int]
    files: dict[str, tuple[int, int]]


def snapshot(root: str | Path, *, skip: Sequence[str] = (AUDIT_TABLE,)) -> Snapshot:
    base = Path(root)
    files = {}
    if base.exists():
        for p in base.rglob("*"):
            rel = p.relative_to(base).as_posix()
            if p.is_file() and not any(rel == s or rel.startswith(s + "/") for s in skip):
                st = p.stat()
                files[rel] = (st.st_size, st.st_mtime_ns)
    versions = {t: v for t, v in table_versions(root).items() if t not in skip}
    return Snapshot(versions, files)


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    """Same tables at the same versions, no file added, removed or rewritten."""
    assert after.versions == before.versions
    added = sorted(set(after.files) - set(before.files))
    removed = sorted(set(before.files) - set(after.files))
    changed = sorted(f for f in before.files if f in after.files and before.files[f] != after.files[f])
    assert (added, removed, changed) == ([], [], [])


def runs_rows(spark: SparkSession, root: str | Path) -> list[Any]:
    uri = f"{root}/{AUDIT_TABLE}"
    if not DeltaTable.is_deltatable(uri):
        return []
    # The audit log in the order the runs started (file order is not commit order).
    return Lakehouse(spark, _cfg_for(root)).read(AUDIT_TABLE).orderBy("started_at").collect()


def _cfg_for(root: str | Path) -> Config:
    return make_config(Path(root))


# --- files on disk vs the Delta log -----------------------------------------------------


def _local(uri: str) -> str:
    return unquote(urlparse(uri).path) if "://" in uri else uri


def unreferenced_data_files(table_uri: str) -> list[str]:
    """Parquet files under a table folder that its latest version does not reference."""
    live = {os.path.normpath(_local(u)) for u in DeltaTable(table_uri).file_uris()}
    on_disk = {
        os.path.normpath(str(p)) for p in Path(table_uri).rglob("*.parquet")
        if "_delta_log" not in p.parts
    }
    return sorted(on_disk - live)


# --- table contents ---------------------------------------------------------------------


def read_table(spark: SparkSession, root: str | Path, table: str,
               partitions: Mapping[str, Any] | None = None) -> DataFrame:
    return Lakehouse(spark, _cfg_for(root)).read(table, partitions=partitions)


def rows_of(df: DataFrame, drop: Iterable[str] = ()) -> Counter[tuple[Any, ...]]:
    """The rows of a small table as a multiset (order-independent), floats rounded."""
    cols = [c for c in df.columns if c not in set(drop)]
    return Counter(tuple(_plain(r[c]) for c in cols) for r in df.select(*cols).collect())


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        # 12 significant digits: equal up to the summation order of doubles.
        return v if math.isnan(v) or v == 0 else float(f"{v:.12g}")
    if isinstance(v, list):
        return tuple(_plain(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _plain(x)) for k, x in v.items()))
    return v


def export_rows(spark: SparkSession, root: Path) -> dict[str, Any]:
    """Rows of the current export set of every audience and as-of, as a consumer reads
    them (newest set with a manifest, the files it names): CSV lines or Parquet rows."""
    out: dict[str, Any] = {}
    for folder in sorted(root.glob("exports/*/as_of_*")):
        sets = sorted((p for p in folder.iterdir() if (p / "_manifest.json").is_file()),
                      reverse=True)
        key = folder.relative_to(root).as_posix()
        if not sets:
            out[key] = None
            continue
        manifest = json.loads((sets[0] / "_manifest.json").read_text(encoding="utf-8"))
        files = [sets[0] / f["name"] for f in manifest["files"]]
        if manifest["format"] == "csv":
            out[key] = Counter(line for f in files for line in f.read_text().splitlines()[1:])
        else:
            out[key] = rows_of(spark.read.parquet(*map(str, files)))
    return out


def leaking_rows(df: DataFrame, needles: Sequence[str]) -> int:
    """Rows whose full text (every column, nested types as JSON) contains a needle."""
    if not needles or not df.columns:
        return 0
    text = F.to_json(F.struct(*[F.col(c).cast("string") if _simple(df, c) else F.col(c)
                                for c in df.columns]))
    pattern = "|".join(re.escape(n) for n in needles)
    return df.where(text.rlike(pattern)).count()


def _simple(df: DataFrame, column: str) -> bool:
    return df.schema[column].dataType.typeName() not in ("array", "map", "struct")


def files_containing(root: str | Path, needles: Sequence[str], *,
                     skip_layers: Sequence[str] = ("raw",), suffix_skip: Sequence[str] = (".parquet",)
                     ) -> list[str]:
    """Plain files (logs, JSON, CSV, HTML, metadata) under the warehouse holding a needle."""
    pattern = re.compile("|".join(re.escape(n) for n in needles).encode())
    base = Path(root)
    hits = []
    for p in base.rglob("*"):
        rel = p.relative_to(base)
        if not p.is_file() or rel.parts[0] in skip_layers or p.suffix in suffix_skip:
            continue
        if pattern.search(p.read_bytes()):
            hits.append(rel.as_posix())
    return hits


# Per-run columns by design: which run quarantined a row, and when. The audit tables
# (ops/runs, ops/completions) name runs, times and versions: compared by content.
RUN_COLUMNS = {"ops/quarantine": ("run_id", "quarantined_at")}


def output_tables(root: str | Path) -> list[str]:
    """Every output table of the warehouse but the audit tables (a row per run by design)."""
    return [t for t in delta_tables(root, OUTPUT_LAYERS) if t not in AUDIT_TABLES]


def output_rows(spark: SparkSession, root: str | Path, table: str) -> Counter[tuple[Any, ...]]:
    """An output table's rows as a multiset, without its per-run columns."""
    return rows_of(read_table(spark, root, table), RUN_COLUMNS.get(table, ()))
