"""``sparkseg vacuum``: remove data files that no table version within the retention needs.

Covers the files an interrupted write leaves behind (written but never committed) and
files replaced by later commits. ``raw/`` is input owned by upstream systems and is
never vacuumed.

Audience exports (``exports/``) are file sets, not tables: the sets a rerun superseded
and the sets an interrupted run left without a manifest are removed once every file in
them is older than the retention; the current set of each audience and as-of is kept
(:mod:`sparkseg.audiences.exports`).
"""

from __future__ import annotations

import logging
import time

from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.hadoop_fs import HadoopFs

log = logging.getLogger(__name__)

VACUUM_LAYERS = ("silver", "gold", "ops")


def vacuum_warehouse(
    spark: SparkSession, cfg: Config, *, retention_hours: float, dry_run: bool
) -> list[str]:
    lake = Lakehouse(spark, cfg)
    fs = HadoopFs(spark, lake.root)
    removed: list[str] = []
    for layer in VACUUM_LAYERS:
        for child in fs.children(f"{lake.root}/{layer}"):
            name = child.path.rstrip("/").rsplit("/", 1)[-1]
            table = f"{layer}/{name}"
            try:
                uri = lake.uri(table)
            except Exception:  # a folder that is not a sparkseg table name
                continue
            if not lake.engine.exists(uri):
                continue
            files = lake.engine.vacuum(uri, retention_hours=retention_hours, dry_run=dry_run)
            if files:
                log.info("%s: %s %d file(s)", table, "would remove" if dry_run else "removed", len(files))
            removed.extend(f"{table}: {f}" for f in files)
    removed.extend(_vacuum_exports(fs, lake.root, retention_hours=retention_hours,
                                   dry_run=dry_run))
    return removed


def _vacuum_exports(fs: HadoopFs, root: str, *, retention_hours: float, dry_run: bool
                    ) -> list[str]:
    from sparkseg.audiences.exports import stale_sets

    now_ms = int(time.time() * 1000)
    stale = stale_sets(fs, f"{root}/exports", retention_hours=retention_hours, now_ms=now_ms)
    for folder in stale:
        log.info("exports: %s %s", "would remove" if dry_run else "removed", folder)
        if not dry_run:
            fs.delete(folder)
    return [f"exports: {folder[len(root) + 1:]}" for folder in stale]
