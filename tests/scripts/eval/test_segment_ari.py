"""The adjusted Rand index of scripts.eval.segment_ari, against published reference values."""

from __future__ import annotations

from collections import Counter

import pytest

from scripts.eval.segment_ari import adjusted_rand_index as ari


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
