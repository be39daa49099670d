"""Both algorithms recover clearly separated groups; k selection finds the planted k."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.segment.config import SegmentConfig
from sparkseg.segment.preprocess import VECTOR_COL, build_preprocessing
from sparkseg.segment.selection import CLUSTER_COL, choose, fit_candidates, make_estimator
from tests.support.segment import GROUPS, SEGMENT_SECTION, blob_features

CFG = SegmentConfig(**SEGMENT_SECTION)


@pytest.fixture(scope="module")
def vectors(spark: SparkSession, blobs: list[tuple]) -> Iterator[DataFrame]:
    groups = spark.createDataFrame([(r[0], r[5]) for r in blobs], "one_id string, grp int")
    df = blob_features(spark, blobs).join(groups, "one_id")
    out = build_preprocessing(CFG.features).fit(df).transform(df)
    cached = out.select("one_id", "grp", VECTOR_COL).cache()
    yield cached
    cached.unpersist()


def recovered(pairs: list[tuple[int, int]]) -> bool:
    """Every planted group lies in one cluster, and different groups in different clusters."""
    clusters_of = {g: {c for gg, c in pairs if gg == g} for g, _ in pairs}
    return all(len(c) == 1 for c in clusters_of.values()) and len(
        {next(iter(c)) for c in clusters_of.values()}
    ) == len(clusters_of)


@pytest.mark.parametrize("algorithm", ["kmeans", "bisecting_kmeans"])
def test_algorithm_recovers_planted_groups(vectors: DataFrame, algorithm: str) -> None:
    model = make_estimator(algorithm, len(GROUPS), CFG).fit(vectors)
    pairs = [(r[0], r[1]) for r in model.transform(vectors).select("grp", CLUSTER_COL).collect()]
    assert recovered(pairs)


def test_k_selection_picks_the_planted_k(vectors: DataFrame) -> None:
    cfg = CFG.model_copy(update={"k_min": 2, "k_max": 6})
    n = vectors.count()
    candidates = fit_candidates(vectors, vectors.where(F.rand(3) < 0.5), cfg, n_rows=n)
    assert [c.score.k for c in candidates] == [2, 3, 4, 5, 6]
    idx, satisfied = choose([c.score for c in candidates], rule="best_silhouette",
                            algorithms=cfg.algorithms, tolerance=cfg.silhouette_tolerance)
    assert satisfied and candidates[idx].score.k == len(GROUPS)
    idx, _ = choose([c.score for c in candidates], rule="elbow", algorithms=cfg.algorithms)
    assert candidates[idx].score.k == len(GROUPS)
