"""Segment ids, names and centroids of a trained model's clusters (pure Python)."""

from __future__ import annotations

import datetime as dt

from sparkseg.segment.config import SegmentConfig
from sparkseg.segment.model_store import ModelMetadata, SegmentInfo
from sparkseg.segment.train import Moments, segment_infos

MOMENTS = Moments(
    sizes={0: 70, 1: 30},
    means={0: {"aum": 10.0, "age": 30.0}, 1: {"aum": 1000.0, "age": 60.0}},
    pop_mean={"aum": 307.0, "age": 39.0},
    pop_std={"aum": 450.0, "age": 13.0},
)


def previous(max_id: int) -> ModelMetadata:
    seg = SegmentInfo(cluster=0, segment_id=3, size=10, share=1.0,
                      centroid={"aum": 1001.0, "age": 60.0}, lifts={}, name_en="x",
                      name_zh="x", matched=False, match_distance=None)
    return ModelMetadata(
        model_name="m", version=1, created_at=dt.datetime(2026, 1, 1), as_of_date=dt.date(2026, 1, 1),
        algorithm="kmeans", k=1, seed=1, max_iter=1, kmeans_solver="auto", features=["aum", "age"],
        preprocessing=[], impute_values={}, choice_rule="best_silhouette", min_segment_share=0.0,
        rule_satisfied=True, scores=[], input_versions={}, training_rows=10, population={},
        segments=[seg], previous_version=None, match_threshold=0.5, max_segment_id=max_id,
        spark_version="4",
    )


def test_cluster_with_no_training_row_still_gets_an_id_and_a_name() -> None:
    infos, max_id = segment_infos(MOMENTS, 3, None, SegmentConfig())
    by_cluster = {s.cluster: s for s in infos}
    assert [by_cluster[c].segment_id for c in (0, 1, 2)] == [1, 2, 3]
    assert by_cluster[2].size == 0 and by_cluster[2].centroid == MOMENTS.pop_mean
    assert by_cluster[2].name_en == "Mainstream"
    assert max_id == 3


def test_matched_cluster_keeps_its_id_and_new_ones_continue_after_retired_ids() -> None:
    infos, max_id = segment_infos(MOMENTS, 2, previous(max_id=5), SegmentConfig())
    by_cluster = {s.cluster: s for s in infos}
    assert (by_cluster[1].segment_id, by_cluster[1].matched) == (3, True)
    assert (by_cluster[0].segment_id, by_cluster[0].matched) == (6, False)
    assert max_id == 6
