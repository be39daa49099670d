"""Report test support: the sample report, its chart ids, pages from hand-made aggregates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sparkseg.config import Config
from sparkseg.report.config import ReportConfig
from sparkseg.report.data import Missing, ReportData
from sparkseg.report.html import render
from tests.support.sample_gold import AS_OF, Sample

GONE = Missing("gold/x does not exist yet")
CHART_IDS = (
    "chart-k-selection", "chart-segment-sizes", "chart-lift-heatmap", "chart-migration",
    "chart-tag-changes", "chart-audiences", "chart-evaluation", "chart-quarantine",
)


@dataclass(frozen=True)
class SampleReport:
    cfg: Config
    sample: Sample
    path: Path
    html: str


def report_data(**parts: object) -> ReportData:
    """Report data of AS_OF with every part missing but ``parts``."""
    fields: dict[str, object] = dict(
        segments=GONE, feature_stats=GONE, segment_tags=GONE, model=GONE, migration=GONE,
        tag_counts=GONE, audiences=GONE, evaluation=GONE, runs=GONE, quarantine=GONE,
    )
    fields.update(parts)
    return ReportData(as_of=AS_OF, warehouse="/lake", **fields)  # type: ignore[arg-type]


def render_page(data: ReportData, cfg: ReportConfig | None = None) -> str:
    return render(data, cfg or ReportConfig(), generated_at=dt.datetime(2026, 11, 2, 3, 4))
