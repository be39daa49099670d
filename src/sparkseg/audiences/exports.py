"""Audience export sets that a reader never sees half of.

Layout, per audience and as-of::

    exports/<audience>/as_of_YYYYMMDD/<set>/part-*.csv | part-*.parquet
    exports/<audience>/as_of_YYYYMMDD/<set>/_manifest.json      written last

``<set>`` is ``<UTC time, to the microsecond>Z-<run id>``, so names sort by when the set
was started and never collide. Spark writes the data files into the fresh folder; then
the manifest (its files, their row counts, the total) is published in one rename. A set
is complete iff its ``_manifest.json`` exists, and the current set of an as-of is the
complete set with the greatest name (or the one that as-of's ``pipeline`` row in
``ops/completions`` names). A rerun writes a new set, so it replaces the current one at
the instant its manifest appears; the sets it superseded, and sets a crash left without
a manifest, are removed by ``sparkseg vacuum`` once older than its retention, so a
reader that already chose a set can finish reading it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkseg.audiences.definitions import Audience
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.hadoop_fs import HadoopFs

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
SUFFIX = {"csv": ".csv", "parquet": ".parquet"}


@dataclass(frozen=True)
class ExportSet:
    folder: str  # full path of the set folder
    manifest: dict[str, object]

    @property
    def files(self) -> list[str]:
        """Full paths of the data files the manifest names."""
        names = self.manifest["files"]
        assert isinstance(names, list)
        return [f"{self.folder}/{f['name']}" for f in names]


def as_of_folder(lake: Lakehouse, audience: str, as_of: dt.date) -> str:
    """``<warehouse>/exports/<audience>/as_of_YYYYMMDD``: holds that as-of's sets."""
    return lake.path("exports", audience, f"as_of_{as_of:%Y%m%d}")


def set_name(run_id: str, started: dt.datetime) -> str:
    return f"{started.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}Z-{run_id}"


def target_rows(members: DataFrame, audience: Audience) -> DataFrame:
    """The target group of one audience (``one_id, audience, as_of_date``).

    Needs gold/audience_members columns ``audience, one_id, group, as_of_date``. Only the
    target group is exported: the control group must not be contacted, and it stays in
    gold/audience_members for post-evaluation.
    """
    return (members.where((F.col("audience") == audience.name) & (F.col("group") == "target"))
            .select("one_id", "audience", "as_of_date"))


def write_export_set(
    lake: Lakehouse, members: DataFrame, audience: Audience, as_of: dt.date, *,
    run_id: str, files: int = 1, started: dt.datetime | None = None,
) -> ExportSet:
    """Write a new set of the audience's target group, then publish its manifest."""
    assert audience.export is not None
    return write_set(lake, target_rows(members, audience), audience.name, audience.export,
                     as_of, run_id=run_id, files=files, started=started,
                     labels={"audience": audience.name})


def write_set(
    lake: Lakehouse, rows: DataFrame, name: str, fmt: str, as_of: dt.date, *,
    run_id: str, files: int = 1, started: dt.datetime | None = None,
    labels: dict[str, object] | None = None,
) -> ExportSet:
    """Write ``rows`` as a new set under ``exports/<name>/as_of_YYYYMMDD/``, then publish
    its manifest (``labels`` are extra manifest keys)."""
    folder = f"{as_of_folder(lake, name, as_of)}/{set_name(run_id, started or dt.datetime.now(dt.UTC))}"
    writer = rows.coalesce(files).write.mode("errorifexists")
    if fmt == "csv":
        writer.option("header", True).csv(folder)
    else:
        writer.parquet(folder)
    fs = HadoopFs(lake.spark, folder)
    # Rows per file from the files themselves (one aggregate row per file reaches the driver).
    reader = lake.spark.read.option("header", True)
    written = reader.csv(folder) if fmt == "csv" else reader.parquet(folder)
    counts = {str(r["f"]): int(r["n"]) for r in written.groupBy(
        F.col("_metadata.file_name").alias("f")).agg(F.count(F.lit(1)).alias("n")).collect()}
    names = sorted(f.path for f in fs.list_files(folder, SUFFIX[fmt]))
    listed: list[dict[str, object]] = [{"name": n, "rows": counts.get(n, 0)} for n in names]
    manifest: dict[str, object] = {
        **(labels or {}), "as_of_date": as_of.isoformat(), "run_id": run_id,
        "format": fmt, "files": listed, "rows": sum(counts.get(n, 0) for n in names),
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    fs.write_text_atomic(f"{folder}/{MANIFEST}", json.dumps(manifest, indent=1, sort_keys=True))
    return ExportSet(folder, manifest)


def complete_sets(fs: HadoopFs, as_of_dir: str) -> list[str]:
    """Names of the complete sets under an as-of folder, newest first."""
    return sorted((d for d in fs.child_dirs(as_of_dir) if fs.exists(f"{as_of_dir}/{d}/{MANIFEST}")),
                  reverse=True)


def current_set(lake: Lakehouse, audience: str, as_of: dt.date) -> ExportSet | None:
    """The set a reader should use (the reader protocol, in code), or None."""
    as_of_dir = as_of_folder(lake, audience, as_of)
    fs = HadoopFs(lake.spark, as_of_dir)
    done = complete_sets(fs, as_of_dir)
    if not done:
        return None
    folder = f"{as_of_dir}/{done[0]}"
    return ExportSet(folder, json.loads(fs.read_text(f"{folder}/{MANIFEST}")))


def stale_sets(fs: HadoopFs, exports_root: str, *, retention_hours: float,
               now_ms: int) -> list[str]:
    """Set folders no reader should be using: superseded or never completed, and older
    than the retention (by the newest file in them, or the folder's own time: a set a
    writer has only just created is never taken). The current set is always kept."""
    cutoff = now_ms - int(retention_hours * 3600 * 1000)
    stale = []
    for audience in fs.child_dirs(exports_root):
        for as_of_name in fs.child_dirs(f"{exports_root}/{audience}"):
            as_of_dir = f"{exports_root}/{audience}/{as_of_name}"
            keep = set(complete_sets(fs, as_of_dir)[:1])
            for name in fs.child_dirs(as_of_dir):
                folder = f"{as_of_dir}/{name}"
                if name in keep:
                    continue
                if fs.newest_mtime_ms(folder) <= cutoff:
                    stale.append(folder)
    return stale
