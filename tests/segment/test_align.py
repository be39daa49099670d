"""Stable segment ids (pure Python, no Spark; the assignment itself is scipy's)."""

from __future__ import annotations

import numpy as np
import pytest

from sparkseg.segment.align import assign_segment_ids, centroid_distances

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


def test_assignment_maximises_good_matches_rather_than_taking_the_nearest_first() -> None:
    # One feature of scale 1, so distances are plain differences. Nearest first would give
    # cluster 0 segment 1 (0.1) and leave cluster 1 unmatched (0.45 to segment 2 > 0.4).
    # Capped at 0.4, the optimum is 0 -> 2 (0.2) and 1 -> 1 (0.15): 0.35 < 0.1 + 0.4.
    prev = {1: {"aum": 0.0}, 2: {"aum": 0.3}}
    new = {0: {"aum": 0.1}, 1: {"aum": -0.15}}
    got = assign_segment_ids(new, {0: 1, 1: 1}, prev, {"aum": 1.0}, threshold=0.4, next_id=3)
    assert {c: (a.segment_id, a.matched) for c, a in got.items()} == {0: (2, True), 1: (1, True)}
    assert got[0].distance == pytest.approx(0.2) and got[1].distance == pytest.approx(0.15)


def test_more_clusters_than_previous_segments() -> None:
    new = {0: {"aum": 1000.0, "age": 30.0}, 1: {"aum": 100.0, "age": 70.0},
           2: {"aum": 100.0, "age": 30.0}, 3: {"aum": 3000.0, "age": 50.0}}
    prev = {1: PREV[1], 2: PREV[2]}
    got = assign_segment_ids(new, {0: 1, 1: 1, 2: 8, 3: 9}, prev, SCALE, threshold=0.5, next_id=3)
    assert {c: a.segment_id for c, a in got.items()} == {0: 1, 1: 2, 2: 4, 3: 3}
