"""Moved to tests/support/features.py; kept one more step for tests/scripts/test_bench.py."""

from tests.support.features import (  # noqa: F401
    AS_OF,
    bal,
    bals,
    cust,
    custs,
    days_before,
    evt,
    evts,
    ids,
    to_silver,
    txn,
    txns,
)
