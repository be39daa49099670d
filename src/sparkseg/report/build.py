"""``sparkseg report``: write the HTML report of one as-of under ``<warehouse>/reports/``.

The report reads only gold and ops tables and the model's metadata (see
:mod:`sparkseg.report.data`); it never recomputes a segment. A table that does not exist
yet turns its section into "not available", so the report of a partial run still renders.

Completeness (``ops/completions``): an as-of with a ``pipeline`` completion row is read
at the table versions that row lists, and the header says which pipeline run it shows;
an as-of without one is read at the latest versions and the page carries an "Incomplete
as-of" banner (and the log a warning). It renders rather than refusing so that an
operator can look at what a failed or half-run date holds; marketing systems follow
the completion record, not the report.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.lakehouse.hadoop_fs import HadoopFs
from sparkseg.report.data import load_report_data
from sparkseg.report.html import render

log = logging.getLogger(__name__)


def report_path(lake: Lakehouse, as_of: dt.date) -> str:
    """``<warehouse>/reports/segments_<YYYY-MM-DD>.html``: one file per as-of, rewritten
    by a rerun of the same date."""
    return f"{lake.path('reports')}/segments_{as_of.isoformat()}.html"


def build_report(lake: Lakehouse, as_of: dt.date, *, generated_at: dt.datetime | None = None
                 ) -> str:
    """The report page of ``as_of`` as an HTML string (nothing written)."""
    data = load_report_data(lake, lake.cfg, as_of)
    return render(data, lake.cfg.report, generated_at=generated_at or dt.datetime.now(dt.UTC))


def write_report(spark: SparkSession, cfg: Config, as_of: dt.date) -> str:
    """Write the report of ``as_of`` and return its path (the CLI prints it)."""
    lake = Lakehouse(spark, cfg)
    page = build_report(lake, as_of)
    path = report_path(lake, as_of)
    HadoopFs(spark, path).write_text(path, page)
    log.info("report %s: %d KiB", path, len(page.encode("utf-8")) // 1024)
    return path
