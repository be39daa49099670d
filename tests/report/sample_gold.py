"""Moved to tests/support/sample_gold.py; kept one more step for scripts/report_screenshot.py."""

from tests.support.sample_gold import AS_OF, write_sample  # noqa: F401
