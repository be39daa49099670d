"""Segmentation fixtures: the planted customer groups of tests/support/segment.py."""

from __future__ import annotations

import pytest

from tests.support.segment import blob_rows


@pytest.fixture(scope="module")
def blobs() -> list[tuple]:
    return blob_rows()
