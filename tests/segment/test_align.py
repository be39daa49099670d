"""Optimal assignment and stable segment ids (pure Python, no Spark)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparkseg.segment.align import (
    assign_segment_ids,
    brute_force_assignment,
    centroid_distances,
    linear_assignment,
)


def total(cost: np.ndarray, pairs: list[tuple[int, int]]) -> float:
    return float(sum(cost[i, j] for i, j in pairs))


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 6),
    m=st.integers(1, 6),
    seed=st.integers(0, 10_000),
    integer=st.booleans(),
)
def test_hungarian_matches_brute_force_on_random_matrices(
    n: int, m: int, seed: int, integer: bool
) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 5, (n, m)).astype(float) if integer else rng.random((n, m)) * 10
    pairs = linear_assignment(cost)
    assert len(pairs) == min(n, m)
    assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
    assert total(cost, pairs) == pytest.approx(brute_force_assignment(cost))


def test_hungarian_solves_a_known_3x3() -> None:
    cost = np.array([[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]])
    # Optimum 5: row 0 -> col 1, row 1 -> col 0, row 2 -> col 2.
    assert linear_assignment(cost) == [(0, 1), (1, 0), (2, 2)]


def test_hungarian_rejects_non_finite_cost() -> None:
    with pytest.raises(ValueError, match="finite"):
        linear_assignment(np.array([[1.0, np.inf]]))


SCALE = {"aum": 100.0, "age": 10.0}
PREV = {1: {"aum": 1000.0, "age": 30.0}, 2: {"aum": 100.0, "age": 70.0}, 3: {"aum": 100.0, "age": 30.0}}


def test_distance_is_rms_of_standardized_differences() -> None:
    new = {0: {"aum": 1100.0, "age": 30.0}}
    _, _, d = centroid_distances(new, {1: PREV[1]}, SCALE)
    # aum differs by 1 std, age by 0: sqrt((1 + 0) / 2).
    assert d[0, 0] == pytest.approx(np.sqrt(0.5))


def test_reclustered_same_groups_keep_their_ids_whatever_the_cluster_numbers() -> None:
    # The same three groups, numbered differently and slightly moved.
    new = {
        0: {"aum": 101.0, "age": 30.5},  # was segment 3
        1: {"aum": 1003.0, "age": 30.0},  # was segment 1
        2: {"aum": 99.0, "age": 69.0},  # was segment 2
    }
    got = assign_segment_ids(new, {0: 10, 1: 10, 2: 10}, PREV, SCALE, threshold=0.5, next_id=4)
    assert {c: a.segment_id for c, a in got.items()} == {0: 3, 1: 1, 2: 2}
    assert all(a.matched for a in got.values())


def test_cluster_without_a_close_previous_segment_gets_the_next_new_id() -> None:
    new = {
        0: {"aum": 1000.0, "age": 30.0},  # segment 1
        1: {"aum": 100.0, "age": 30.0},  # segment 3
        2: {"aum": 5000.0, "age": 50.0},  # far from everything
    }
    got = assign_segment_ids(new, {0: 5, 1: 5, 2: 5}, PREV, SCALE, threshold=0.5, next_id=7)
    assert (got[0].segment_id, got[1].segment_id, got[2].segment_id) == (1, 3, 7)
    assert not got[2].matched and got[2].distance is None


def test_two_clusters_cannot_both_keep_one_previous_id() -> None:
    new = {0: {"aum": 1000.0, "age": 30.0}, 1: {"aum": 1010.0, "age": 30.0}}
    got = assign_segment_ids(new, {0: 9, 1: 1}, {1: PREV[1]}, SCALE, threshold=0.5, next_id=4)
    assert sorted(a.segment_id for a in got.values()) == [1, 4]
    assert got[0].segment_id == 1  # the closer one keeps it


def test_first_model_numbers_segments_by_decreasing_size() -> None:
    new = {0: {"aum": 1.0}, 1: {"aum": 2.0}, 2: {"aum": 3.0}}
    got = assign_segment_ids(new, {0: 5, 1: 50, 2: 20}, None, {"aum": 1.0}, threshold=0.5, next_id=1)
    assert {c: a.segment_id for c, a in got.items()} == {1: 1, 2: 2, 0: 3}
