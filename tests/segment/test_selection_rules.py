"""The k-selection rules and the sample size arithmetic (pure Python)."""

from __future__ import annotations

import pytest

from sparkseg.config import config_from_mapping
from sparkseg.errors import ConfigError
from sparkseg.segment.model_store import CandidateScore
from sparkseg.segment.selection import choose
from sparkseg.segment.train import sample_share


def score(alg: str, k: int, cost: float, sil: float | None, min_share: float = 0.1) -> CandidateScore:
    return CandidateScore(
        algorithm=alg, k=k, cost=cost, silhouette=sil, min_share=min_share, sizes=[],
        fit_seconds=0.0, eligible=min_share >= 0.05 and sil is not None,
    )


def test_best_silhouette_skips_candidates_with_a_tiny_cluster() -> None:
    scores = [score("kmeans", 3, 30, 0.6), score("kmeans", 4, 20, 0.9, min_share=0.01),
              score("kmeans", 5, 15, 0.7)]
    assert choose(scores, rule="best_silhouette", algorithms=["kmeans"]) == (2, True)


def test_best_silhouette_ties_go_to_smaller_k_then_first_algorithm() -> None:
    scores = [score("bisecting_kmeans", 4, 20, 0.8), score("kmeans", 5, 10, 0.8),
              score("kmeans", 4, 20, 0.8)]
    idx, _ = choose(scores, rule="best_silhouette", algorithms=["kmeans", "bisecting_kmeans"])
    assert (scores[idx].algorithm, scores[idx].k) == ("kmeans", 4)


def test_silhouettes_within_the_tolerance_are_ties_won_by_more_segments() -> None:
    scores = [score("kmeans", 4, 30, 0.407), score("kmeans", 7, 20, 0.403),
              score("kmeans", 8, 18, 0.396), score("kmeans", 9, 17, 0.2)]
    idx, _ = choose(scores, rule="best_silhouette", algorithms=["kmeans"], tolerance=0.01)
    assert scores[idx].k == 7
    idx, _ = choose(scores, rule="best_silhouette", algorithms=["kmeans"], tolerance=0.0)
    assert scores[idx].k == 4


def test_without_eligible_candidates_the_rule_runs_over_all_and_says_so() -> None:
    scores = [score("kmeans", 3, 30, 0.6, 0.01), score("kmeans", 4, 20, 0.7, 0.01)]
    assert choose(scores, rule="best_silhouette", algorithms=["kmeans"]) == (1, False)


def test_elbow_picks_the_knee_of_the_cost_curve() -> None:
    costs = {2: 1000.0, 3: 600.0, 4: 150.0, 5: 130.0, 6: 120.0, 7: 112.0}
    scores = [score("kmeans", k, c, 0.5) for k, c in costs.items()]
    idx, _ = choose(scores, rule="elbow", algorithms=["kmeans"])
    assert scores[idx].k == 4


def test_sample_share_respects_fraction_and_cap() -> None:
    assert sample_share(1_000, fraction=0.5, max_rows=200_000) == 0.5
    share = sample_share(1_000_000, fraction=1.0, max_rows=200_000)
    expected = share * 1_000_000
    # Expected rows plus four standard deviations stay under the cap.
    assert expected + 4 * expected**0.5 == pytest.approx(200_000)


def test_config_rejects_inverted_k_range_and_duplicate_features() -> None:
    with pytest.raises(ConfigError, match="k_max"):
        config_from_mapping({"warehouse": "/tmp/x", "segment": {"k_min": 5, "k_max": 4}})
    with pytest.raises(ConfigError, match="listed twice"):
        config_from_mapping(
            {"warehouse": "/tmp/x", "segment": {"features": [{"name": "aum"}, {"name": "aum"}]}}
        )
    with pytest.raises(ConfigError, match=r"segment\.algorithms"):
        config_from_mapping({"warehouse": "/tmp/x", "segment": {"algorithms": ["dbscan"]}})
