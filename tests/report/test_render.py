"""The page and its charts from hand-made aggregates (no Spark)."""

from __future__ import annotations

import re
import warnings

import pytest

from sparkseg.report import charts
from sparkseg.report.config import ReportConfig
from sparkseg.report.data import (
    FeatureStat,
    Segment,
    SegmentTag,
    TagCount,
)
from sparkseg.report.html import top_tags
from tests.support.report import render_page, report_data

SEGS = [Segment(0, "Savers <50k> & co", "储蓄客群", 30, 0.75, 2),
        Segment(1, "Digital", "数字化客群", 10, 0.25, 2)]


def test_names_from_tables_are_escaped_in_text_and_charts() -> None:
    page = render_page(report_data(segments=SEGS))
    assert "Savers &lt;50k&gt; &amp; co" in page
    assert "<50k>" not in page


def test_missing_parts_say_why_and_the_rest_still_renders() -> None:
    page = render_page(report_data(segments=SEGS))
    assert "Feature lift heatmap: not available (gold/x does not exist yet)." in page
    assert 'id="chart-segment-sizes"' in page
    assert "储蓄客群" in page


def test_heatmap_rows_are_the_features_with_the_largest_absolute_lift() -> None:
    stats = [FeatureStat(0, "aum", 1.0, 1.0, 0.5), FeatureStat(1, "aum", 1.0, 1.0, -2.5),
             FeatureStat(0, "age", 1.0, 1.0, 1.0), FeatureStat(1, "age", 1.0, 1.0, None),
             FeatureStat(0, "txn", 1.0, 1.0, 0.2)]
    assert charts.top_lift_features(stats, 2) == ["aum", "age"]
    page = render_page(report_data(segments=SEGS, feature_stats=stats), ReportConfig(heatmap_features=2))
    heatmap = re.search(r'id="chart-lift-heatmap">(<svg.*?</svg>)', page, re.S)
    assert heatmap is not None
    assert "aum" in heatmap.group(1) and "age" in heatmap.group(1)
    assert ">txn<" not in heatmap.group(1)


def test_top_tags_rank_by_lift_among_tags_covering_the_minimum_share() -> None:
    tags = [SegmentTag(0, "payroll", "true", 24, 0.8, 0.6, 0.8 / 0.6),
            SegmentTag(0, "vip", "true", 1, 0.03, 0.01, 3.0),  # below min share 5%
            SegmentTag(0, "habit", "atm", 9, 0.3, 0.1, 3.0),
            SegmentTag(1, "habit", "atm", 1, 0.1, 0.1, 1.0)]
    got = top_tags(tags, 0, 5, 0.05)
    assert [(t.tag, t.value) for t in got] == [("habit", "atm"), ("payroll", "true")]
    page = render_page(report_data(segments=SEGS, segment_tags=tags))
    assert "<b>habit=atm</b> 30.0%" in page and "<b>payroll</b> 80.0%" in page


def test_tag_changes_chart_shows_the_largest_absolute_changes_only() -> None:
    counts = [TagCount("a", "true", 10, 4, 6), TagCount("b", "x", 3, 10, -7),
              TagCount("c", "true", 5, 4, 1), TagCount("d", "true", 5, 5, 0)]
    page = render_page(report_data(tag_counts=counts), ReportConfig(tag_changes=2))
    chart = re.search(r'id="chart-tag-changes">(<svg.*?</svg>)', page, re.S)
    assert chart is not None
    assert ">b=x<" in chart.group(1) and ">a<" in chart.group(1) and ">c<" not in chart.group(1)


def test_chart_svg_is_inline_ready_with_ids_unique_to_the_chart() -> None:
    chart = charts.segment_size_chart(SEGS)
    assert chart.svg.startswith("<svg") and "<?xml" not in chart.svg
    assert "<metadata>" not in chart.svg
    ids = re.findall(r'\bid="([^"]+)"', chart.svg)
    assert ids and all(i.startswith("chart-segment-sizes-") for i in ids)
    refs = re.findall(r"url\(#([^)]+)\)", chart.svg)
    assert set(refs) <= set(ids)
    # Text stays text (drawn by the viewer's fonts), Chinese included.
    assert "储蓄客群" in chart.svg and "<text" in chart.svg


def test_the_same_data_gives_the_same_chart() -> None:
    assert charts.segment_size_chart(SEGS).svg == charts.segment_size_chart(SEGS).svg


def test_without_a_cjk_font_charts_still_keep_chinese_as_text_and_warn_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(charts, "layout_fonts", lambda: ("DejaVu Sans",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chart = charts.segment_size_chart([Segment(0, "", "沉睡储蓄客群", 3, 1.0, 1)])
    assert "沉睡储蓄客群" in chart.svg
