"""The report in a real browser: headless Chromium loads it offline, runs its self-check,
and takes a screenshot. Skipped (with the reason) where Chromium is not installed; CI
installs Debian's ``chromium`` package."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.report.build import write_report
from tests.support.browser import check_page, chromium_path, screenshot
from tests.support.config import make_config
from tests.support.report import CHART_IDS, SampleReport, render_page, report_data
from tests.support.sample_gold import AS_OF

pytestmark = pytest.mark.slow

CHROMIUM = chromium_path()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (/usr/bin/chromium); "
    "CI installs it: apt-get install -y --no-install-recommends chromium fonts-noto-cjk",
)


@needs_chromium
def test_report_loads_without_errors_and_every_chart_is_drawn(
    sample_report: SampleReport,
) -> None:
    assert CHROMIUM is not None
    page = check_page(CHROMIUM, sample_report.path)
    assert page.selfcheck_done, "the page's self-check did not run"
    assert page.errors == []
    assert page.console == []
    assert page.charts == len(CHART_IDS)
    assert (page.charts_ok, page.charts_bad) == (len(CHART_IDS), "")
    assert page.page_height > 2000


@needs_chromium
def test_screenshot_of_the_report_is_a_non_blank_image(
    sample_report: SampleReport, tmp_path: Path,
) -> None:
    from PIL import Image  # installed with matplotlib

    assert CHROMIUM is not None
    png = screenshot(CHROMIUM, sample_report.path, tmp_path / "report.png", height=1600)
    with Image.open(png) as image:
        assert image.size == (1280, 1600)
        # A drawn page has many colours (header, text, bars); a blank or error page few.
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 200


@needs_chromium
def test_report_with_every_table_missing_still_loads_without_errors(
    spark_clean: SparkSession, tmp_path: Path,
) -> None:
    assert CHROMIUM is not None
    path = Path(write_report(spark_clean, make_config(tmp_path / "lake"), AS_OF))
    page = check_page(CHROMIUM, path)
    assert page.selfcheck_done
    assert (page.errors, page.console) == ([], [])
    assert (page.charts, page.charts_ok) == (0, 0)


@needs_chromium
def test_self_check_catches_script_errors_blocked_loads_and_empty_charts(tmp_path: Path) -> None:
    # The checks above are only worth something if a broken page fails them.
    broken = render_page(report_data()).replace(
        "</main>",
        '<figure class="chart" id="chart-empty"><svg width="10" height="10"></svg></figure>'
        '<img src="https://example.com/logo.png" alt="">'
        "<script>notDefined();</script></main>",
    )
    path = tmp_path / "broken.html"
    path.write_text(broken, encoding="utf-8")
    assert CHROMIUM is not None
    page = check_page(CHROMIUM, path)
    assert any("notDefined" in e for e in page.errors), page.errors
    assert any("blocked by policy: https://example.com/logo.png" in e for e in page.errors)
    assert (page.charts, page.charts_ok, page.charts_bad) == (1, 0, "chart-empty")
