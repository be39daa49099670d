"""k selection: fit every (algorithm, k) candidate, score it, pick one by a rule.

Scores per candidate, all on the (cached) training sample: the training cost (within-
cluster sum of squared distances, for the elbow), the silhouette (MLlib
ClusteringEvaluator, squared Euclidean) on a fixed hash-chosen subset, and the share
of the smallest cluster. Rules:

- ``best_silhouette``: among candidates whose smallest cluster holds at least
  ``min_segment_share``, those within ``silhouette_tolerance`` of the best silhouette
  count as equally well separated, and the one with the most segments wins (then the
  higher silhouette, then the algorithm listed first). Silhouette drifts down as k
  grows on overlapping customer groups, and differences of a few thousandths are
  within what another seed changes; without the tolerance it keeps choosing the
  coarsest split (tolerance 0: strictly the best silhouette, ties to the smaller k).
- ``elbow``: per algorithm, the knee of the normalised cost curve (the k farthest below
  the chord from k_min to k_max) among eligible candidates; between algorithms, the
  knee with the higher silhouette.

When no candidate is eligible the rule runs over all candidates and the metadata says
``rule_satisfied: false`` (logged as a warning) rather than failing the monthly run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException, IllegalArgumentException
from pyspark.ml.clustering import BisectingKMeans, BisectingKMeansModel, KMeans, KMeansModel
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.sql import DataFrame

from sparkseg.segment.config import SegmentConfig
from sparkseg.segment.model_store import CandidateScore
from sparkseg.segment.preprocess import VECTOR_COL

log = logging.getLogger(__name__)

CLUSTER_COL = "_seg_cluster"
ClusterModel = KMeansModel | BisectingKMeansModel


@dataclass
class Candidate:
    score: CandidateScore
    model: ClusterModel


def make_estimator(algorithm: str, k: int, cfg: SegmentConfig) -> KMeans | BisectingKMeans:
    """An unfitted MLlib estimator reading :data:`VECTOR_COL`, predicting :data:`CLUSTER_COL`."""
    if algorithm == "kmeans":
        return KMeans(
            featuresCol=VECTOR_COL, predictionCol=CLUSTER_COL, k=k, seed=cfg.seed,
            maxIter=cfg.max_iter, tol=cfg.tol, solver=cfg.kmeans_solver,
        )
    if algorithm == "bisecting_kmeans":
        return BisectingKMeans(
            featuresCol=VECTOR_COL, predictionCol=CLUSTER_COL, k=k, seed=cfg.seed,
            maxIter=cfg.max_iter,
        )
    raise ValueError(f"unknown algorithm {algorithm!r}")


def silhouette(model: ClusterModel, rows: DataFrame) -> float | None:
    """Silhouette of ``model`` on ``rows`` (None when fewer than 2 clusters occur there)."""
    evaluator = ClusteringEvaluator(
        featuresCol=VECTOR_COL, predictionCol=CLUSTER_COL, metricName="silhouette",
        distanceMeasure="squaredEuclidean",
    )
    if len(model.clusterCenters()) < 2:
        return None
    try:
        return float(evaluator.evaluate(model.transform(rows)))
    except (AnalysisException, IllegalArgumentException, Py4JJavaError) as err:
        log.warning("silhouette not measurable: %s", str(err).splitlines()[0])
        return None


def fit_candidates(
    vectors: DataFrame,
    silhouette_rows: DataFrame,
    cfg: SegmentConfig,
    *,
    n_rows: int,
) -> list[Candidate]:
    """Fit every configured (algorithm, k) on ``vectors`` (which must hold :data:`VECTOR_COL`).

    ``vectors`` should be cached by the caller: each fit passes over it up to
    ``max_iter`` times. k larger than the number of rows is skipped.
    """
    out = []
    for algorithm in cfg.algorithms:
        for k in range(cfg.k_min, cfg.k_max + 1):
            if k > n_rows:
                log.warning("k=%d skipped: only %d training rows", k, n_rows)
                continue
            t0 = time.perf_counter()
            model = make_estimator(algorithm, k, cfg).fit(vectors)
            seconds = time.perf_counter() - t0
            summary = model.summary
            sizes = [int(s) for s in summary.clusterSizes]
            min_share = min(sizes) / n_rows if sizes else 0.0
            sil = silhouette(model, silhouette_rows)
            score = CandidateScore(
                algorithm=algorithm, k=k, cost=float(summary.trainingCost), silhouette=sil,
                min_share=min_share, sizes=sizes, fit_seconds=round(seconds, 3),
                eligible=min_share >= cfg.min_segment_share and sil is not None,
            )
            log.info(
                "%s k=%d: cost %.4g, silhouette %s, smallest cluster %.2f%%, %.1fs",
                algorithm, k, score.cost, "n/a" if sil is None else f"{sil:.4f}",
                100 * min_share, seconds,
            )
            out.append(Candidate(score, model))
    return out


def _knee(scores: Sequence[CandidateScore]) -> CandidateScore:
    """The candidate farthest below the chord of the normalised cost-vs-k curve."""
    pts = sorted(scores, key=lambda s: s.k)
    if len(pts) < 3:
        return pts[0]
    k0, k1 = pts[0].k, pts[-1].k
    lo, hi = min(s.cost for s in pts), max(s.cost for s in pts)
    span = (hi - lo) or 1.0

    def gap(s: CandidateScore) -> float:
        x = (s.k - k0) / (k1 - k0)
        y = (s.cost - lo) / span
        return (1.0 - x) - y  # chord from (0, 1) to (1, 0), minus the curve

    return max(pts, key=lambda s: (round(gap(s), 12), -s.k))


def choose(
    scores: Sequence[CandidateScore],
    *,
    rule: str,
    algorithms: Sequence[str],
    tolerance: float = 0.0,
) -> tuple[int, bool]:
    """Index of the chosen candidate in ``scores``, and whether an eligible one existed."""
    if not scores:
        raise ValueError("no candidates to choose from")
    eligible = [s for s in scores if s.eligible]
    satisfied = bool(eligible)
    pool = eligible or list(scores)
    order = {a: i for i, a in enumerate(algorithms)}

    def sil(s: CandidateScore) -> float:
        return s.silhouette if s.silhouette is not None else float("-inf")

    if rule == "best_silhouette":
        top = max(sil(s) for s in pool)
        if tolerance > 0 and top > float("-inf"):
            near = [s for s in pool if sil(s) >= top - tolerance]
            best = max(near, key=lambda s: (s.k, sil(s), -order.get(s.algorithm, 99)))
        else:
            best = max(pool, key=lambda s: (sil(s), -s.k, -order.get(s.algorithm, 99)))
    elif rule == "elbow":
        knees = [
            _knee([s for s in pool if s.algorithm == a])
            for a in algorithms
            if any(s.algorithm == a for s in pool)
        ]
        best = max(knees, key=lambda s: (sil(s), -s.k, -order.get(s.algorithm, 99)))
    else:
        raise ValueError(f"unknown choice rule {rule!r}")
    return list(scores).index(best), satisfied
