"""The report reads a model's metadata through the model store, as train writes it."""

from __future__ import annotations

from pathlib import Path

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.report.data import KScore, Missing, ModelInfo, Segment, model_of
from sparkseg.segment.model_store import ModelStore
from tests.support.sample_gold import metadata, write_metadata

NO_SEGMENTS = Missing("no segments")


def test_sample_metadata_is_what_the_model_store_reads_back(lake: Lakehouse, cfg: Config) -> None:
    write_metadata(lake)
    store = ModelStore(lake, cfg.segment.model_name)
    assert store.versions() == [1]
    assert store.load_metadata(1) == metadata()


def test_model_info_has_the_chosen_pair_and_scores_sorted_by_algorithm_and_k(
    lake: Lakehouse, cfg: Config
) -> None:
    path = write_metadata(lake)
    got = model_of(lake, cfg.segment, NO_SEGMENTS)
    assert isinstance(got, ModelInfo)
    assert (got.name, got.version, got.algorithm, got.k) == ("customer_segments", 1, "kmeans", 4)
    assert Path(got.path) == path
    assert len(got.scores) == 10
    assert got.scores[0] == KScore("bisecting_kmeans", 4, 9_600.0, 0.36, True, 0.1)
    assert [s.k for s in got.scores if s.algorithm == "kmeans"] == [4, 5, 6, 7, 8]


def test_model_is_the_version_that_scored_the_as_of(lake: Lakehouse, cfg: Config) -> None:
    write_metadata(lake, metadata(1, k=4))
    write_metadata(lake, metadata(2, k=6))
    got = model_of(lake, cfg.segment, [Segment(1, "a", "甲", 1, 1.0, 1)])
    assert isinstance(got, ModelInfo) and (got.version, got.k) == (1, 4)


def test_without_segments_the_model_is_the_latest_complete_save(
    lake: Lakehouse, cfg: Config
) -> None:
    write_metadata(lake, metadata(1, k=4))
    write_metadata(lake, metadata(2, k=6))
    interrupted = Path(ModelStore(lake, cfg.segment.model_name).path(3))
    interrupted.mkdir(parents=True)  # a save that never published its metadata.json
    got = model_of(lake, cfg.segment, NO_SEGMENTS)
    assert isinstance(got, ModelInfo) and (got.version, got.k) == (2, 6)


def test_no_saved_model_is_missing(lake: Lakehouse, cfg: Config) -> None:
    got = model_of(lake, cfg.segment, NO_SEGMENTS)
    assert isinstance(got, Missing) and got.reason.startswith("no saved model under ")


def test_version_of_the_segments_without_metadata_is_missing(
    lake: Lakehouse, cfg: Config
) -> None:
    write_metadata(lake, metadata(1))
    got = model_of(lake, cfg.segment, [Segment(1, "a", "甲", 1, 1.0, 2)])
    assert isinstance(got, Missing)
    folder = ModelStore(lake, cfg.segment.model_name).path(2)
    assert got.reason == f"no model metadata at {folder}/metadata.json"


def test_metadata_train_never_writes_is_unreadable_not_guessed(
    lake: Lakehouse, cfg: Config
) -> None:
    # The shapes the report used to accept (a "chosen" pair, a "candidates" list with
    # "wssse" costs) are not train's: the page says the metadata is unreadable.
    path = write_metadata(lake)
    path.write_text('{"chosen": {"algorithm": "kmeans", "k": 5}, "candidates": '
                    '[{"algorithm": "kmeans", "k": 5, "wssse": 10.5}]}', encoding="utf-8")
    got = model_of(lake, cfg.segment, NO_SEGMENTS)
    assert isinstance(got, Missing)
    assert got.reason.startswith(f"unreadable model metadata {path}: ")
    path.write_text("{not json", encoding="utf-8")
    got = model_of(lake, cfg.segment, NO_SEGMENTS)
    assert isinstance(got, Missing) and got.reason.startswith("unreadable model metadata")
