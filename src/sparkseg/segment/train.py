"""Stage ``train``: fit the segmentation model on a sample of one as-of's features.

Reads ``silver/customer_features`` (the as-of partition), keeps a hash-chosen sample
(``sample_fraction`` with a ``sample_max_rows`` cap), fits the preprocessing pipeline,
fits every (algorithm, k) candidate, chooses one (:mod:`sparkseg.segment.selection`),
aligns its clusters with the previous model's segment ids (:mod:`sparkseg.segment.align`),
names the segments (:mod:`sparkseg.segment.naming`) and saves the next model version
(:mod:`sparkseg.segment.model_store`). Only per-cluster aggregates reach the driver.

Idempotent per as-of: if the latest version was trained for the same as-of on input
with the same content fingerprint and with the same segment settings, nothing is
fitted and that version stays the latest (``segment.retrain: true`` fits anyway).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pyspark
from pyspark.ml import PipelineModel
from pyspark.ml.feature import ImputerModel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.errors import DataQualityError, MissingTableError
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.segment import align, naming, preprocess, selection
from sparkseg.segment.config import ClusterFeature, SegmentConfig
from sparkseg.segment.model_store import (
    CandidateScore,
    ModelMetadata,
    ModelStore,
    SegmentInfo,
)
from sparkseg.segment.tables import CUSTOMER_FEATURES_NAME

log = logging.getLogger(__name__)

ID_COL = "one_id"
# Uniform [0, 1) per customer from a seeded hash: the sample (and the silhouette subset
# inside it) depends only on the customer id and the seed, not on file layout or
# partitioning, so a rerun trains on exactly the same customers.
SAMPLE_U_COL = "_seg_u"
_HASH_SPAN = 1 << 53


def sample_uniform(seed: int, id_col: str = ID_COL) -> Column:
    """A deterministic uniform [0, 1) value per id (seeded xxhash64)."""
    h = F.pmod(F.xxhash64(F.lit(seed), F.col(id_col)), F.lit(_HASH_SPAN))
    return h.cast("double") / float(_HASH_SPAN)


def sample_share(population: int, *, fraction: float, max_rows: int) -> float:
    """Share of customers to keep: ``fraction``, lowered so the cap holds.

    The sample is a Bernoulli draw (no global sort or limit, which would funnel the
    sample through one task), so the share aims at m rows with m + 4 sqrt(m) = cap:
    the cap is exceeded with probability below 1 in 30 000.
    """
    if population <= 0:
        return fraction
    target = (math.sqrt(4.0 + max_rows) - 2.0) ** 2
    return min(fraction, target / population) if population > max_rows else fraction


def keep_training_sample(df: DataFrame, *, share: float, seed: int) -> DataFrame:
    """Rows whose seeded hash falls below ``share``. Needs ``one_id``; adds ``_seg_u``."""
    return df.withColumn(SAMPLE_U_COL, sample_uniform(seed)).where(F.col(SAMPLE_U_COL) < share)


# Segment settings that do not change what train fits or publishes: the version score
# pins, the retrain switch itself, and the extra columns only profile describes.
_NOT_FIT_SETTINGS = frozenset(
    {"model_version", "retrain", "retrain_every_days", "profile_extra_features"}
)


def settings_fingerprint(seg: SegmentConfig) -> str:
    """Stable hash of every segment setting that affects the fitted and published model."""
    settings = seg.model_dump(mode="json", exclude=set(_NOT_FIT_SETTINGS))
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def count_and_fingerprint(df: DataFrame, columns: Sequence[str]) -> tuple[int, str]:
    """Row count and a content fingerprint of ``columns``, in one aggregation (one pass).

    The fingerprint is the count and the sum over rows of ``xxhash64`` of the columns
    (plus a null flag per column: xxhash64 skips nulls, so without the flags a value
    moved into a neighbouring null column would hash the same). Summing makes it
    independent of row order and partitioning; the hash is cast to decimal(38, 0)
    first so the sum cannot overflow (under ANSI mode a long sum would fail).
    Only one row reaches the driver.
    """
    parts: list[Column] = []
    for c in columns:
        parts += [F.col(c), F.col(c).isNull()]
    row = df.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.xxhash64(*parts).cast("decimal(38,0)")).alias("h"),
    ).first()
    assert row is not None
    n = int(row["n"])
    return n, f"rows={n};xxhash64_sum={row['h'] if row['h'] is not None else 0}"


@dataclass(frozen=True)
class Moments:
    """Per-cluster sizes and means, population mean and std, of the imputed raw features."""

    sizes: dict[int, int]
    means: dict[int, dict[str, float]]
    pop_mean: dict[str, float]
    pop_std: dict[str, float]

    def lifts(self) -> dict[int, dict[str, float | None]]:
        return {
            c: {
                f: (m[f] - self.pop_mean[f]) / self.pop_std[f] if self.pop_std[f] > 0 else None
                for f in m
            }
            for c, m in self.means.items()
        }


def cluster_moments(labelled: DataFrame, features: Sequence[str]) -> Moments:
    """Cluster sizes and means plus population mean/std, in one pass (a rollup).

    Needs ``_seg_cluster`` and ``_seg_imp_<feature>``; collects k + 1 rows.
    """
    aggs = [F.count(F.lit(1)).alias("n")]
    for i, f in enumerate(features):
        col = F.col(preprocess.imputed_col(f))
        aggs += [F.avg(col).alias(f"m{i}"), F.stddev_pop(col).alias(f"s{i}")]
    rows = (
        labelled.rollup(selection.CLUSTER_COL)
        .agg(*aggs, F.grouping(selection.CLUSTER_COL).alias("total"))
        .collect()
    )
    sizes, means = {}, {}
    pop_mean: dict[str, float] = {}
    pop_std: dict[str, float] = {}
    for r in rows:
        if r["total"]:
            pop_mean = {f: float(r[f"m{i}"]) for i, f in enumerate(features)}
            pop_std = {f: float(r[f"s{i}"] or 0.0) for i, f in enumerate(features)}
        else:
            c = int(r[selection.CLUSTER_COL])
            sizes[c] = int(r["n"])
            means[c] = {f: float(r[f"m{i}"]) for i, f in enumerate(features)}
    return Moments(sizes, means, pop_mean, pop_std)


def imputation_values(prep: PipelineModel, features: Sequence[ClusterFeature]) -> dict[str, float]:
    """The value each feature's nulls become (configured fills, learned medians/means)."""
    values = {
        f.name: 0.0 if f.impute == "zero" else float(f.fill)
        for f in features
        if f.impute in ("zero", "constant")
    }
    for stage in prep.stages:
        if isinstance(stage, ImputerModel):
            row = stage.surrogateDF.first()  # one row: the learned statistic per input column
            assert row is not None
            for col_in, col_out in zip(stage.getInputCols(), stage.getOutputCols(), strict=True):
                for f in features:
                    if preprocess.imputed_col(f.name) == col_out:
                        values[f.name] = float(row[col_in])
    return values


@dataclass
class TrainedModel:
    pipeline: PipelineModel
    scores: list[CandidateScore]
    chosen: selection.Candidate
    rule_satisfied: bool
    moments: Moments
    training_rows: int
    impute_values: dict[str, float]


def fit_segmentation(sample: DataFrame, cfg: SegmentConfig, *, share: float = 1.0) -> TrainedModel:
    """Fit preprocessing and every candidate on ``sample``; keep the chosen one.

    ``sample`` needs ``_seg_u`` (from :func:`keep_training_sample` with ``share``) and
    the feature columns. Returns the full pipeline (preprocessing + clustering).
    """
    names = cfg.feature_names
    prep = preprocess.build_preprocessing(cfg.features).fit(sample)
    # Cache only the vector (and the hash, to pick the silhouette subset): every candidate
    # fit passes over it up to max_iter times, plus its cluster sizes and silhouette;
    # without the cache each pass would re-read and re-preprocess the Parquet files.
    vectors = prep.transform(sample).select(SAMPLE_U_COL, preprocess.VECTOR_COL).cache()
    try:
        n_rows = vectors.count()
        if n_rows < 2:
            raise DataQualityError(
                f"train: only {n_rows} customer(s) in the training sample; need at least 2"
            )
        # u is uniform below `share` in the sample, so a lower threshold picks a uniform
        # subset of about silhouette_sample_rows rows.
        sil_rows = vectors.where(
            F.col(SAMPLE_U_COL) < share * min(1.0, cfg.silhouette_sample_rows / n_rows)
        )
        candidates = selection.fit_candidates(vectors, sil_rows, cfg, n_rows=n_rows)
    finally:
        vectors.unpersist()
    if not candidates:
        raise DataQualityError(
            f"train: no candidate could be fitted (k {cfg.k_min}..{cfg.k_max}, {n_rows} rows)"
        )
    idx, satisfied = selection.choose(
        [c.score for c in candidates], rule=cfg.choice_rule, algorithms=cfg.algorithms,
        tolerance=cfg.silhouette_tolerance,
    )
    if not satisfied:
        log.warning(
            "train: no candidate has every cluster >= %.1f%% of the sample; choosing among all",
            100 * cfg.min_segment_share,
        )
    chosen = candidates[idx]
    scores = [
        c.score.model_copy(update={"chosen": i == idx}) for i, c in enumerate(candidates)
    ]
    full = PipelineModel(stages=[*prep.stages, chosen.model])
    moments = cluster_moments(full.transform(sample), names)
    return TrainedModel(
        pipeline=full, scores=scores, chosen=chosen, rule_satisfied=satisfied, moments=moments,
        training_rows=n_rows, impute_values=imputation_values(prep, cfg.features),
    )


def segment_infos(
    m: Moments, n_clusters: int, previous: ModelMetadata | None, cfg: SegmentConfig
) -> tuple[list[SegmentInfo], int]:
    """Segment id, name and centroid of each cluster; and the lineage's highest id.

    A cluster with no training row (k-means keeps the centre of a cluster that lost all
    its points) still gets an id, so that scoring can map every cluster: it is never
    matched, and its centroid is the population mean.
    """
    next_id = (previous.max_segment_id + 1) if previous else 1
    ids = align.assign_segment_ids(
        m.means, m.sizes, previous.centroids_by_segment() if previous else None, m.pop_std,
        threshold=cfg.match_threshold, next_id=next_id,
    )
    lifts = m.lifts()
    means = dict(m.means)
    for c in range(n_clusters):
        if c not in means:
            free = max([next_id - 1, *(a.segment_id for a in ids.values())]) + 1
            ids[c] = align.Assignment(c, free, False, None)
            means[c] = dict(m.pop_mean)
            lifts[c] = dict.fromkeys(m.pop_mean, 0.0)
    names = naming.name_segments(
        {ids[c].segment_id: lifts[c] for c in means},
        max_phrases=cfg.name_max_phrases, min_lift=cfg.name_min_lift,
    )
    total = sum(m.sizes.values())
    infos = []
    for c in sorted(means):
        a = ids[c]
        size = m.sizes.get(c, 0)
        infos.append(
            SegmentInfo(
                cluster=c, segment_id=a.segment_id, size=size, share=size / total,
                centroid=means[c], lifts=lifts[c], name_en=names[a.segment_id].en,
                name_zh=names[a.segment_id].zh, matched=a.matched, match_distance=a.distance,
            )
        )
    max_id = max([next_id - 1, *(s.segment_id for s in infos)])
    return infos, max_id


def _same_training(
    store: ModelStore, as_of: dt.date, input_fp: str, settings_fp: str
) -> int | None:
    """The latest version if it was trained for ``as_of`` on this input and these settings."""
    latest = store.latest()
    if latest is None:
        return None
    meta = store.load_metadata(latest)
    same = (
        meta.as_of_date == as_of
        and meta.input_fingerprint == input_fp
        and meta.settings_fingerprint == settings_fp
    )
    return latest if same else None


def _recent_model(
    store: ModelStore, as_of: dt.date, settings_fp: str, every_days: int
) -> tuple[int, dt.date] | None:
    """The latest version and its as-of if it was trained for an as-of less than
    ``every_days`` before ``as_of`` (strictly earlier) with these settings."""
    latest = store.latest()
    if latest is None or every_days == 0:
        return None
    meta = store.load_metadata(latest)
    age = (as_of - meta.as_of_date).days
    if 0 < age < every_days and meta.settings_fingerprint == settings_fp:
        return latest, meta.as_of_date
    return None


def _note_reuse(note: str) -> None:
    log.info("%s", note)
    led = ledger.current()
    if led is not None:
        led.message = note


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    seg = cfg.segment
    lake = Lakehouse(spark, cfg)
    store = ModelStore(lake, seg.model_name)
    features = lake.read(CUSTOMER_FEATURES_NAME, partitions={"as_of_date": as_of})
    preprocess.check_feature_columns(
        features.schema, [*seg.feature_names], CUSTOMER_FEATURES_NAME
    )
    settings_fp = settings_fingerprint(seg)
    recent = None if seg.retrain else _recent_model(
        store, as_of, settings_fp, seg.retrain_every_days
    )
    if recent is not None:
        # Checked before the fingerprint pass: the input is not read at all.
        version, trained_for = recent
        _note_reuse(
            f"train: model {seg.model_name} v{version} trained for {trained_for} is less than "
            f"segment.retrain_every_days={seg.retrain_every_days} days old; reusing it"
        )
        return
    columns = [ID_COL, *seg.feature_names]
    population, input_fp = count_and_fingerprint(features, columns)
    if population == 0:
        raise MissingTableError(
            CUSTOMER_FEATURES_NAME, lake.uri(CUSTOMER_FEATURES_NAME),
            f"no rows for as_of_date {as_of}; run `sparkseg features` first",
        )
    led = ledger.current()
    reused = None if seg.retrain else _same_training(store, as_of, input_fp, settings_fp)
    if reused is not None:
        _note_reuse(
            f"train: model {seg.model_name} v{reused} was already trained for {as_of} "
            "on identical input and settings; reusing it"
        )
        return
    share = sample_share(population, fraction=seg.sample_fraction, max_rows=seg.sample_max_rows)
    sample = features.select(*columns).transform(
        keep_training_sample, share=share, seed=seg.seed
    )
    log.info("train: %d customers, sampling %.4f of them", population, share)
    trained = fit_segmentation(sample, seg, share=share)

    previous_version = store.latest()
    previous = store.load_metadata(previous_version) if previous_version is not None else None
    infos, max_id = segment_infos(
        trained.moments, len(trained.chosen.model.clusterCenters()), previous, seg
    )
    chosen = trained.chosen.score
    meta = ModelMetadata(
        model_name=seg.model_name,
        version=store.next_version(),
        created_at=dt.datetime.now(dt.UTC),
        as_of_date=as_of,
        algorithm=chosen.algorithm,
        k=len(infos),
        seed=seg.seed,
        max_iter=seg.max_iter,
        kmeans_solver=seg.kmeans_solver,
        features=seg.feature_names,
        preprocessing=preprocess.describe(seg.features),
        impute_values=trained.impute_values,
        choice_rule=seg.choice_rule,
        min_segment_share=seg.min_segment_share,
        rule_satisfied=trained.rule_satisfied,
        scores=trained.scores,
        input_versions=dict(led.inputs) if led else {},
        training_rows=trained.training_rows,
        population={
            f: {"mean": trained.moments.pop_mean[f], "std": trained.moments.pop_std[f]}
            for f in seg.feature_names
        },
        segments=infos,
        previous_version=previous_version,
        match_threshold=seg.match_threshold,
        max_segment_id=max_id,
        spark_version=pyspark.__version__,
        input_fingerprint=input_fp,
        settings_fingerprint=settings_fp,
    )
    path = store.save(trained.pipeline, meta)
    log.info(
        "train: saved %s v%d (%s, k=%d, %d training rows) at %s; segments: %s",
        seg.model_name, meta.version, meta.algorithm, meta.k, meta.training_rows, path,
        "; ".join(f"{s.segment_id}={s.name_en}" for s in infos),
    )
