"""train -> score -> profile through the stages' run(), on tiny features tables.

One module-scoped warehouse: model v1 is trained on the first as-of and scores it; model
v2 is trained on the second as-of with another seed (so its cluster numbers differ) and
scores that one. Each test checks one aspect of the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.errors import MissingTableError
from sparkseg.lakehouse import Lakehouse
from sparkseg.pipeline import run_stage
from sparkseg.segment import profile, score, train
from sparkseg.segment.model_store import ModelMetadata, ModelStore
from sparkseg.segment.tables import (
    SEGMENT_FEATURE_STATS,
    SEGMENT_MIGRATION,
    SEGMENT_PROFILES,
    SEGMENTS,
)
from tests.support.config import make_config
from tests.support.segment import AS_OF, FEATURES_SPEC, GROUPS, SEGMENT_SECTION, blob_rows

D1, D2 = AS_OF, dt.date(2026, 2, 28)
GONE = {f"plain-{i:03d}" for i in range(5)}  # in D1 only
NEW = 3  # wealthy customers in D2 only


@dataclass
class Run:
    cfg: Config
    lake: Lakehouse
    store: ModelStore
    v1: ModelMetadata
    v2: ModelMetadata
    group_of: dict[str, str]


def _with_seed(cfg_dir: Path, seed: int) -> Config:
    return make_config(cfg_dir, segment={**SEGMENT_SECTION, "seed": seed})


@pytest.fixture(scope="module")
def run(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("segment-stages") / "lake"
    cfg1 = _with_seed(root, 1)
    lake = Lakehouse(spark, cfg1)
    rows1 = blob_rows(per_group=50)
    new_rows = [(f"wealthy-new-{i}", *r[1:]) for i, r in enumerate(blob_rows(per_group=NEW, seed=9)[:NEW])]
    rows2 = [(r[0], *r[1:4], D2, r[5]) for r in [*rows1, *new_rows] if r[0] not in GONE]
    features = spark.createDataFrame([r[:5] for r in rows1 + rows2], FEATURES_SPEC.schema)
    lake.write(features, FEATURES_SPEC, mode="overwrite")

    run_stage(spark, cfg1, "train", D1)  # through the registry: records input versions
    score.run(spark, cfg1, D1)
    profile.run(spark, cfg1, D1)
    cfg2 = _with_seed(root, 5)
    train.run(spark, cfg2, D2)
    score.run(spark, cfg2, D2)
    store = ModelStore(lake, cfg1.segment.model_name)
    yield Run(
        cfg1, lake, store, store.load_metadata(1), store.load_metadata(2),
        {r[0]: GROUPS[r[5]] for r in rows1 + new_rows},
    )
    spark.catalog.clearCache()


def segments_of(run: Run, day: dt.date) -> dict[str, tuple]:
    df = run.lake.read(SEGMENTS, partitions={"as_of_date": day})
    return {r["one_id"]: tuple(r) for r in df.collect()}


def test_every_customer_gets_one_segment_and_segments_are_the_planted_groups(run: Run) -> None:
    seg = segments_of(run, D1)
    assert len(seg) == 200
    ids_of_group: dict[str, set[int]] = {}
    for one_id, row in seg.items():
        ids_of_group.setdefault(run.group_of[one_id], set()).add(row[1])
    assert all(len(ids) == 1 for ids in ids_of_group.values())
    assert sorted(next(iter(i)) for i in ids_of_group.values()) == [1, 2, 3, 4]


def test_segments_carry_the_model_names_version_and_a_distance(run: Run) -> None:
    names = {s.segment_id: (s.name_en, s.name_zh) for s in run.v1.segments}
    for _, segment_id, name, name_zh, distance, version, day in segments_of(run, D1).values():
        assert (name, name_zh) == names[segment_id]
        assert version == 1 and day == D1
        assert 0.0 <= distance < 1.5  # blobs are tight in the standardized space
    wealthy = max(run.v1.segments, key=lambda s: s.lifts["aum"] or 0.0)
    assert wealthy.name_en.startswith("High AUM")


def test_retrained_model_keeps_segment_ids_although_cluster_numbers_changed(run: Run) -> None:
    c1 = {s.cluster: s.segment_id for s in run.v1.segments}
    c2 = {s.cluster: s.segment_id for s in run.v2.segments}
    assert c1 != c2, "precondition: the second seed numbers the clusters differently"
    assert all(s.matched for s in run.v2.segments)
    assert run.v2.previous_version == 1 and run.v2.max_segment_id == 4
    s1, s2 = segments_of(run, D1), segments_of(run, D2)
    assert all(s1[c][1] == s2[c][1] for c in s1.keys() & s2.keys())


def test_migration_counts_stayers_gone_and_new(run: Run) -> None:
    mig = run.lake.read(SEGMENT_MIGRATION, partitions={"as_of_date": D2})
    got = {(r["from_segment_id"], r["to_segment_id"]): r["customers"] for r in mig.collect()}
    s1 = segments_of(run, D1)
    plain = s1["plain-010"][1]
    wealthy = s1["wealthy-000"][1]
    expected: dict[tuple[int | None, int | None], int] = {(sid, sid): 50 for sid in range(1, 5)}
    expected[(plain, plain)] = 45
    expected[(plain, None)] = 5
    expected[(None, wealthy)] = NEW
    assert got == expected
    assert {r["prev_as_of_date"] for r in mig.collect()} == {D1}


def test_profiles_and_feature_stats_describe_each_segment(run: Run) -> None:
    prof = run.lake.read(SEGMENT_PROFILES, partitions={"as_of_date": D1}).collect()
    names = {s.segment_id: s.name_en for s in run.v1.segments}
    assert sorted((r["segment_id"], r["size"], r["share"], r["name_en"]) for r in prof) == [
        (sid, 50, 0.25, names[sid]) for sid in range(1, 5)
    ]
    stats = run.lake.read(SEGMENT_FEATURE_STATS, partitions={"as_of_date": D1}).collect()
    assert len(stats) == 4 * 3
    by = {(r["segment_id"], r["feature"]): r for r in stats}
    wealthy = segments_of(run, D1)["wealthy-000"][1]
    assert max(by, key=lambda k: by[k]["lift_z"] if k[1] == "aum" else -9)[0] == wealthy
    assert by[(wealthy, "aum")]["lift_z"] > 1.5


def test_metadata_records_scores_inputs_and_centroids(run: Run) -> None:
    meta = run.v1
    assert (meta.algorithm, meta.k, meta.version, meta.seed) == ("kmeans", 4, 1, 1)
    assert meta.input_versions == {"silver/customer_features": 0}
    assert set(meta.impute_values) == {"aum", "txn_count_90d", "age"}
    assert all(set(s.centroid) == {"aum", "txn_count_90d", "age"} for s in meta.segments)
    assert [(s.algorithm, s.k, s.chosen) for s in meta.scores] == [("kmeans", 4, True)]


def test_store_resolves_latest_and_pinned_versions(run: Run) -> None:
    assert run.store.versions() == [1, 2]
    assert run.store.resolve(None) == 2 and run.store.resolve(1) == 1
    with pytest.raises(MissingTableError, match="saved versions: 1, 2"):
        run.store.resolve(7)


def test_scoring_without_a_model_is_a_missing_table_error(
    spark_clean: SparkSession, tmp_path: Path
) -> None:
    cfg = make_config(tmp_path / "lake", segment=SEGMENT_SECTION)
    with pytest.raises(MissingTableError, match="models/customer_segments") as err:
        score.run(spark_clean, cfg, D1)
    assert err.value.exit_code == 3
