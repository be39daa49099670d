"""Moved to tests/support/cli.py and warehouse.py; kept one more step for tests/generate."""

from tests.support.cli import run_cli, write_config  # noqa: F401
from tests.support.warehouse import runs_rows  # noqa: F401
