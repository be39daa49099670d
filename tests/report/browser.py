"""Moved to tests/support/browser.py; kept one more step for scripts/report_screenshot.py."""

from tests.support.browser import check_page, chromium_path, screenshot  # noqa: F401
