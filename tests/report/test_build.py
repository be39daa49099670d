"""write_report over real Delta tables: where it writes, what the page holds, what it never needs."""

from __future__ import annotations

import html
import re
from pathlib import Path

from pyspark.sql import SparkSession

from sparkseg.report.build import write_report
from tests.support.config import make_config
from tests.support.report import CHART_IDS, SampleReport
from tests.support.sample_gold import AS_OF, NAMES

# The only URLs a page may carry: XML namespaces of the inline SVG (never fetched).
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_report_is_one_file_per_as_of_under_warehouse_reports(sample_report: SampleReport) -> None:
    expected = Path(sample_report.cfg.warehouse) / "reports" / "segments_2026-11-01.html"
    assert sample_report.path == expected
    # No checksum side file or temporary file next to it.
    assert [p.name for p in expected.parent.iterdir()] == ["segments_2026-11-01.html"]


def test_page_loads_nothing_from_outside(sample_report: SampleReport) -> None:
    page = sample_report.html
    assert "<link" not in page and "@import" not in page
    assert not re.search(r"\ssrc=", page)
    # Links within the page, and the heatmaps' pixels as inline data (imshow).
    assert all(h.startswith(("#", "data:image/png;base64,"))
               for h in re.findall(r'href="([^"]*)"', page))
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= NAMESPACES
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert csp is not None and "default-src 'none'" in html.unescape(csp.group(1))


def test_every_section_has_its_charts_and_none_is_unavailable(sample_report: SampleReport) -> None:
    page = sample_report.html
    for title in ("Overview", "k selection", "Segments", "Change", "Audiences", "Data quality"):
        assert f"<h2>{title}</h2>" in page
    assert "not available" not in page
    for chart_id in CHART_IDS:
        figure = re.search(rf'<figure class="chart" id="{chart_id}"><svg.*?</svg>', page, re.S)
        assert figure is not None, chart_id
        assert "<text" in figure.group(0) or "<path" in figure.group(0)
    assert len(re.findall(r'<figure class="chart"', page)) == len(CHART_IDS)


def test_sample_gold_without_a_pipeline_row_is_rendered_but_marked_incomplete(
    sample_report: SampleReport,
) -> None:
    # The sample writes gold and ops tables directly, never through `sparkseg run`.
    assert "<strong>Incomplete as-of</strong>: no pipeline completion record" in sample_report.html
    assert "Complete as-of" not in sample_report.html


def test_chinese_segment_names_are_text_in_the_page_and_in_the_charts(
    sample_report: SampleReport,
) -> None:
    page = sample_report.html
    sizes_chart = re.search(r'id="chart-segment-sizes">(<svg.*?</svg>)', page, re.S)
    assert sizes_chart is not None
    for name_en, name_zh in NAMES.values():
        assert f'<div class="zh" lang="zh-CN">{name_zh}</div>' in page
        assert name_zh in sizes_chart.group(1)  # svg.fonttype none: glyphs stay characters
        assert name_en in page


def test_overview_figures_come_from_the_gold_and_ops_tables(sample_report: SampleReport) -> None:
    page = sample_report.html
    assert '<div class="k">Customers</div><div class="v">40</div>' in page
    assert '<div class="k">Segments</div><div class="v">4</div>' in page
    assert '<div class="k">Audiences</div><div class="v">3</div>' in page
    assert '<div class="k">Model version</div><div class="v">v1</div>' in page
    assert '<div class="k">Rows quarantined</div><div class="v">12</div>' in page
    assert "<code>raw/transactions</code> v0" in page  # input version of the ingest run
    assert "<b>k = 4</b>" in page and '<tr class="chosen">' in page


def test_change_summary_counts_stayers_new_and_gone_customers(sample_report: SampleReport) -> None:
    # 38 customers at the previous as-of: 29 kept their segment, 7 moved, 2 left; 4 joined.
    assert ("Against the previous as-of 2026-10-01: 76.3% of the customers stayed in their "
            "segment; 4 are new and 2 are gone.") in sample_report.html


def test_quarantined_share_is_of_rows_kept_plus_rows_quarantined(
    sample_report: SampleReport,
) -> None:
    # silver/transactions kept 1,840 rows; 5 + 4 were quarantined: 9 / 1,849 = 0.5%.
    row = re.search(r"<td>silver/transactions</td>(.*?)</tr>", sample_report.html)
    assert row is not None
    assert re.findall(r'<td class="n">([^<]*)</td>', row.group(1)) == ["1,840", "9", "0.5%"]


def test_report_of_an_empty_warehouse_renders_with_every_section_unavailable(
    spark_clean: SparkSession, tmp_path: Path,
) -> None:
    cfg = make_config(tmp_path / "lake")
    path = Path(write_report(spark_clean, cfg, AS_OF))
    page = path.read_text(encoding="utf-8")
    assert path.name == "segments_2026-11-01.html"
    assert "<figure" not in page
    for what in ("Segments", "k selection", "Migration matrix", "Tag count changes", "Audiences",
                 "Evaluation", "Stage runs", "Row counts", "Quarantine"):
        assert f"{what}: not available (" in page
    assert "gold/segments does not exist yet" in page
    # No stage ran, so nothing published the as-of: the header says so.
    assert ('<div class="incomplete" role="alert"><strong>Incomplete as-of</strong>: '
            "no pipeline completion record in ops/completions.") in page
    assert page.rstrip().endswith("</html>")
    # A rerun of the date rewrites the same file.
    assert Path(write_report(spark_clean, cfg, AS_OF)) == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]
