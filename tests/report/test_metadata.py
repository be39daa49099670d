"""Reading k-selection scores from a model's metadata.json (no Spark)."""

from __future__ import annotations

import json

import pytest

from sparkseg.report.data import KScore, parse_model_metadata
from tests.report.sample_gold import metadata_doc


def test_train_shape_gives_chosen_pair_and_scores_sorted_by_algorithm_and_k() -> None:
    algorithm, k, scores = parse_model_metadata(json.dumps(metadata_doc()))
    assert (algorithm, k) == ("kmeans", 4)
    assert len(scores) == 10
    assert scores[0] == KScore("bisecting_kmeans", 4, 9_600.0, 0.36, True, 0.1)
    assert [s.k for s in scores if s.algorithm == "kmeans"] == [4, 5, 6, 7, 8]


def test_chosen_pair_under_chosen_key_and_alternative_names_are_understood() -> None:
    doc = {
        "chosen": {"algorithm": "bisecting_kmeans", "k": 5},
        "candidates": [
            {"algorithm": "bisecting_kmeans", "k": 5, "wssse": 10.5, "silhouette": 0.3},
            {"algorithm": "bisecting_kmeans", "k": 4, "training_cost": 12.0},
        ],
    }
    algorithm, k, scores = parse_model_metadata(json.dumps(doc))
    assert (algorithm, k) == ("bisecting_kmeans", 5)
    assert scores == (
        KScore("bisecting_kmeans", 4, 12.0, None),
        KScore("bisecting_kmeans", 5, 10.5, 0.3),
    )


def test_chosen_flag_on_an_entry_stands_in_for_a_missing_top_level_pair() -> None:
    doc = {"scores": [{"algorithm": "kmeans", "k": 6, "cost": 1.0, "chosen": True},
                      {"algorithm": "kmeans", "k": 7, "cost": 0.9}]}
    algorithm, k, _ = parse_model_metadata(json.dumps(doc))
    assert (algorithm, k) == ("kmeans", 6)


def test_entries_without_k_or_with_non_numbers_are_skipped_and_nan_becomes_none() -> None:
    doc = {"algorithm": "kmeans", "k": 4, "scores": [
        {"algorithm": "kmeans", "cost": 3.0},
        {"algorithm": "kmeans", "k": "four", "cost": 3.0},
        "not an entry",
        {"k": 4, "cost": "NaN", "silhouette": 0.5},
    ]}
    _, _, scores = parse_model_metadata(json.dumps(doc))
    # An entry without an algorithm takes the chosen one.
    assert scores == (KScore("kmeans", 4, None, 0.5),)


def test_metadata_without_scores_gives_an_empty_list() -> None:
    assert parse_model_metadata('{"algorithm": "kmeans", "k": 3}') == ("kmeans", 3, ())


@pytest.mark.parametrize("text", ["[1, 2]", "{not json"])
def test_metadata_that_is_not_a_json_object_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_model_metadata(text)
