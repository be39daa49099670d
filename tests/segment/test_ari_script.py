"""The adjusted Rand index of scripts/segment_ari.py, against published reference values."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "segment_ari.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("segment_ari", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ari = load_script().adjusted_rand_index


def table(pred: list[int], true: list[str]) -> Counter[tuple[int, str]]:
    return Counter(zip(pred, true, strict=True))


@pytest.mark.parametrize(
    ("pred", "true", "expected"),
    [
        ([0, 0, 1, 1], list("aabb"), 1.0),
        ([1, 1, 0, 0], list("aabb"), 1.0),  # labels are arbitrary
        ([0, 0, 1, 2], list("aabb"), 0.5714285714285714),  # scikit-learn's documented value
        ([0, 1, 0, 1], list("aabb"), -0.5),
        ([0, 1, 2, 3], list("aaaa"), 0.0),
    ],
)
def test_adjusted_rand_index_matches_reference_values(
    pred: list[int], true: list[str], expected: float
) -> None:
    assert ari(table(pred, true)) == pytest.approx(expected)
