"""Read the gold and ops tables of one as-of into the small aggregates the report shows.

Nothing here recomputes a segment, tag or audience: every figure is a filter, count or
sum over what the stages wrote. Only aggregates are collected to the driver (one row
per segment, feature x segment, tag value, audience group, quarantine reason or stage
run), never a row per customer.

Every input may be missing or older than its contract (a stage not run yet, a table
from an earlier release): such a part becomes :class:`Missing` with the reason, and its
section of the report says "not available" instead of failing the whole report.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pyspark.sql import DataFrame, Row
from pyspark.sql import functions as F

from sparkseg.audiences import tables as audience_tables
from sparkseg.completions import pipeline_completion
from sparkseg.config import Config
from sparkseg.errors import MissingTableError, SparksegError
from sparkseg.lakehouse import Lakehouse
from sparkseg.pipeline import STAGES
from sparkseg.segment import tables as segment_tables
from sparkseg.segment.config import SegmentConfig
from sparkseg.segment.model_store import METADATA_FILE, ModelStore
from sparkseg.tables import OPS_COMPLETIONS, OPS_QUARANTINE, OPS_RUNS
from sparkseg.tags import tables as tag_tables

log = logging.getLogger(__name__)
R = TypeVar("R")

# Table names from the stages' specs. Read by name with the columns each part needs, not
# conformed to the full spec, so that the report keeps working when one stage's table is
# absent or has grown new columns.
SEGMENTS = segment_tables.SEGMENTS.name
PROFILES = segment_tables.SEGMENT_PROFILES.name
FEATURE_STATS = segment_tables.SEGMENT_FEATURE_STATS.name
MIGRATION = segment_tables.SEGMENT_MIGRATION.name
CUSTOMER_TAGS = tag_tables.CUSTOMER_TAGS.name
TAG_COUNTS = tag_tables.TAG_COUNTS.name
AUDIENCE_MEMBERS = audience_tables.AUDIENCE_MEMBERS.name
CAMPAIGN_EVALUATION = audience_tables.CAMPAIGN_EVALUATION.name

@dataclass(frozen=True)
class Missing:
    """A part of the report that could not be built, and why (shown to the reader)."""

    reason: str


@dataclass(frozen=True)
class Segment:
    segment_id: int
    name_en: str
    name_zh: str
    size: int
    share: float
    model_version: int | None


@dataclass(frozen=True)
class FeatureStat:
    segment_id: int
    feature: str
    mean: float | None
    median: float | None
    lift_z: float | None


@dataclass(frozen=True)
class SegmentTag:
    """How many customers of a segment carry one tag value, against the whole base."""

    segment_id: int
    tag: str
    value: str | None
    customers: int
    share: float  # of the segment
    base_share: float  # of every segmented customer
    lift: float  # share / base_share


@dataclass(frozen=True)
class KScore:
    algorithm: str
    k: int
    cost: float | None
    silhouette: float | None
    # Whether the candidate passed train's rules (e.g. minimum segment share); None: unknown.
    eligible: bool | None = None
    min_share: float | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: int | None
    path: str
    algorithm: str | None
    k: int | None
    scores: tuple[KScore, ...]


@dataclass(frozen=True)
class MigrationCell:
    prev_as_of: dt.date | None
    from_segment: int | None  # None: new customer
    to_segment: int | None  # None: gone
    customers: int


@dataclass(frozen=True)
class TagCount:
    tag: str
    value: str | None
    customers: int
    prev_customers: int | None
    change: int | None


@dataclass(frozen=True)
class AudienceSize:
    audience: str
    group: str
    customers: int


@dataclass(frozen=True)
class Evaluation:
    audience: str
    as_of: dt.date
    window_start: dt.date | None
    window_end: dt.date | None
    metric: str
    target_n: int | None
    target_rate: float | None
    control_n: int | None
    control_rate: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class StageRun:
    stage: str
    status: str
    started_at: dt.datetime | None
    seconds: float | None
    input_versions: Mapping[str, int]
    output_versions: Mapping[str, int]
    row_counts: Mapping[str, int]
    message: str
    attempts: int  # runs of this stage for the as-of, the shown one being the latest


@dataclass(frozen=True)
class QuarantineCount:
    source_table: str
    reason: str
    rows: int


@dataclass(frozen=True)
class Completeness:
    """Whether the as-of is complete (ops/completions) and at which versions tables were read."""

    complete: bool
    detail: str  # the pipeline run and time, or why the as-of is not complete
    versions: Mapping[str, int]  # tables read at a recorded version (empty: all latest)


INCOMPLETE_UNKNOWN = Completeness(False, "no pipeline completion record was looked up", {})


@dataclass(frozen=True)
class ReportData:
    as_of: dt.date
    warehouse: str
    segments: list[Segment] | Missing
    feature_stats: list[FeatureStat] | Missing
    segment_tags: list[SegmentTag] | Missing
    model: ModelInfo | Missing
    migration: list[MigrationCell] | Missing
    tag_counts: list[TagCount] | Missing
    audiences: list[AudienceSize] | Missing
    evaluation: list[Evaluation] | Missing
    runs: list[StageRun] | Missing
    quarantine: list[QuarantineCount] | Missing
    completeness: Completeness = INCOMPLETE_UNKNOWN


# --- reading ---------------------------------------------------------------------------


def _open(lake: Lakehouse, table: str, needed: Sequence[str],
          versions: Mapping[str, int] | None = None) -> DataFrame | Missing:
    """The table (at its version in ``versions``, else latest), or why it cannot be used
    (absent, unreadable, lacking columns)."""
    if not lake.exists(table):
        return Missing(f"{table} does not exist yet")
    try:
        df = lake.read(table, version=(versions or {}).get(table))
    except SparksegError as err:
        return Missing(f"{table} could not be read: {err}")
    lacking = [c for c in needed if c not in df.columns]
    if lacking:
        return Missing(f"{table} lacks column(s) {', '.join(lacking)}")
    return df


def _of_date(df: DataFrame, as_of: dt.date) -> DataFrame:
    # as_of_date is the partition column of every gold table: the filter prunes files.
    return df.where(F.col("as_of_date") == F.lit(as_of))


def _each_row(
    df: DataFrame | Missing,
    as_of: dt.date,
    columns: Sequence[str],
    make: Callable[[Row], R],
    *,
    missing: str,
) -> list[R] | Missing:
    """``make`` of each row of ``df``'s as-of (``columns`` only: a small table read to the
    driver), or ``Missing(missing)`` when the as-of has no row; ``df`` Missing passes on."""
    if isinstance(df, Missing):
        return df
    rows = _of_date(df, as_of).select(*columns).collect()
    if not rows:
        return Missing(missing)
    return [make(r) for r in rows]


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _float(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def segments_of(segments: DataFrame | Missing, profiles: DataFrame | Missing, as_of: dt.date
                ) -> list[Segment] | Missing:
    """Segments of the as-of: names and sizes from gold/segment_profiles, else counted
    from gold/segments (needs ``segment_id, segment_name, segment_name_zh, model_version``).
    """
    if not isinstance(profiles, Missing):
        rows = (
            _of_date(profiles, as_of)
            .select("segment_id", "name_en", "name_zh", "size", "share", "model_version")
            .orderBy("segment_id")
            .collect()
        )
        if rows:
            return [
                Segment(int(r.segment_id), r.name_en or "", r.name_zh or "", int(r.size or 0),
                        float(r.share or 0.0), _int(r.model_version))
                for r in rows
            ]
    if isinstance(segments, Missing):
        return segments if isinstance(profiles, Missing) else Missing(
            f"no rows for {as_of} in {PROFILES}, and {segments.reason}")
    counted = (
        _of_date(segments, as_of)
        .groupBy("segment_id")
        .agg(
            F.count(F.lit(1)).alias("size"),
            # A segment has one name per model version; max() picks it without a join.
            F.max("segment_name").alias("name_en"),
            F.max("segment_name_zh").alias("name_zh"),
            F.max("model_version").alias("model_version"),
        )
        .orderBy("segment_id")
        .collect()
    )
    if not counted:
        return Missing(f"no rows for {as_of} in {SEGMENTS}")
    total = sum(int(r["size"]) for r in counted)
    return [
        Segment(int(r.segment_id), r.name_en or "", r.name_zh or "", int(r["size"]),
                int(r["size"]) / total, _int(r.model_version))
        for r in counted
    ]


def feature_stats_of(stats: DataFrame | Missing, as_of: dt.date) -> list[FeatureStat] | Missing:
    """Per segment and feature: mean, median, lift_z (feature x segment rows)."""
    return _each_row(
        stats, as_of, ("segment_id", "feature", "mean", "median", "lift_z"),
        lambda r: FeatureStat(int(r.segment_id), str(r.feature), _float(r["mean"]),
                              _float(r["median"]), _float(r.lift_z)),
        missing=f"no rows for {as_of} in {FEATURE_STATS}",
    )


def segment_tag_counts(segments: DataFrame, tags: DataFrame) -> DataFrame:
    """Customers per segment and tag value.

    Needs ``segments``: ``one_id, segment_id`` and ``tags``: ``one_id, tag, value``, both
    of one as-of. Returns ``segment_id, tag, value, customers`` (one row per segment and
    tag value: small whatever the number of customers).
    """
    return (
        tags.select("one_id", "tag", "value")
        .join(segments.select("one_id", "segment_id"), "one_id")
        .groupBy("segment_id", "tag", "value")
        .agg(F.countDistinct("one_id").alias("customers"))
    )


def segment_tags_of(
    segments: DataFrame | Missing,
    tags: DataFrame | Missing,
    as_of: dt.date,
    sizes: list[Segment] | Missing,
) -> list[SegmentTag] | Missing:
    """Tag values per segment with their share of the segment and lift over the base.

    ``sizes`` are the segments of the as-of (:func:`segments_of`): their sizes are the
    denominators, so that untagged customers count too, without another pass.
    """
    if isinstance(segments, Missing):
        return segments
    if isinstance(tags, Missing):
        return tags
    if isinstance(sizes, Missing):
        return sizes
    seg = _of_date(segments, as_of)
    size_of = {s.segment_id: s.size for s in sizes}
    rows = segment_tag_counts(seg, _of_date(tags, as_of)).collect()
    if not rows:
        return Missing(f"no tagged customers for {as_of} in {CUSTOMER_TAGS}")
    base = sum(size_of.values())
    per_value: dict[tuple[str, str | None], int] = {}
    for r in rows:
        key = (str(r.tag), r.value)
        per_value[key] = per_value.get(key, 0) + int(r.customers)
    out = []
    for r in rows:
        size = size_of.get(int(r.segment_id), 0)
        if size == 0:
            continue
        share = int(r.customers) / size
        base_share = per_value[(str(r.tag), r.value)] / base
        out.append(SegmentTag(int(r.segment_id), str(r.tag), r.value, int(r.customers), share,
                              base_share, share / base_share if base_share else 0.0))
    return out


def migration_of(migration: DataFrame | Missing, as_of: dt.date) -> list[MigrationCell] | Missing:
    """Customers moved from each segment of the previous as-of to each segment now."""
    return _each_row(
        migration, as_of, ("prev_as_of_date", "from_segment_id", "to_segment_id", "customers"),
        lambda r: MigrationCell(r.prev_as_of_date, _int(r.from_segment_id),
                                _int(r.to_segment_id), int(r.customers or 0)),
        missing=f"no rows for {as_of} in {MIGRATION} (first as-of, or profile not run)",
    )


def tag_counts_of(counts: DataFrame | Missing, as_of: dt.date) -> list[TagCount] | Missing:
    """Customers per tag value now and at the previous as-of (one row per tag value)."""
    return _each_row(
        counts, as_of, ("tag", "value", "customers", "prev_customers", "change"),
        lambda r: TagCount(str(r.tag), r.value, int(r.customers or 0), _int(r.prev_customers),
                           _int(r.change)),
        missing=f"no rows for {as_of} in {TAG_COUNTS}",
    )


def audiences_of(members: DataFrame | Missing, as_of: dt.date) -> list[AudienceSize] | Missing:
    """Customers per audience and group (``target`` / ``control``)."""
    if isinstance(members, Missing):
        return members
    rows = (
        _of_date(members, as_of)
        .groupBy("audience", "group")
        .agg(F.count(F.lit(1)).alias("customers"))
        .orderBy("audience", "group")
        .collect()
    )
    if not rows:
        return Missing(f"no rows for {as_of} in {AUDIENCE_MEMBERS}")
    return [AudienceSize(str(r.audience), str(r.group), int(r.customers)) for r in rows]


def evaluation_of(evaluation: DataFrame | Missing, as_of: dt.date) -> list[Evaluation] | Missing:
    """Per audience and metric, the evaluation of its latest audience date whose response
    window ``[window_start, window_end)`` had closed by the as-of (``as_of_date`` of an
    evaluation row is the audience's date, not the date it was evaluated), so that the
    report of a date never shows what was only known later."""
    if isinstance(evaluation, Missing):
        return evaluation
    rows = (
        evaluation.where(
            (F.col("as_of_date") <= F.lit(as_of))
            & (F.col("window_end").isNull() | (F.col("window_end") <= F.lit(as_of)))
        )
        .select(
            "audience", "as_of_date", "window_start", "window_end", "metric", "target_n",
            "target_rate", "control_n", "control_rate", "diff", "ci_low", "ci_high",
        )
        .collect()
    )
    latest: dict[tuple[str, str], Any] = {}
    for r in rows:
        key = (str(r.audience), str(r.metric))
        if key not in latest or r.as_of_date > latest[key].as_of_date:
            latest[key] = r
    if not latest:
        return Missing(f"no campaign response window closed by {as_of} in {CAMPAIGN_EVALUATION}")
    return [
        Evaluation(str(r.audience), r.as_of_date, r.window_start, r.window_end, str(r.metric),
                   _int(r.target_n), _float(r.target_rate), _int(r.control_n),
                   _float(r.control_rate), _float(r.diff), _float(r.ci_low), _float(r.ci_high))
        for _, r in sorted(latest.items())
    ]


def runs_of(runs: DataFrame | Missing, as_of: dt.date) -> list[StageRun] | Missing:
    """The latest run of each stage for the as-of, in pipeline order where known."""
    if isinstance(runs, Missing):
        return runs
    rows = _of_date(runs, as_of).collect()  # one row per stage run: a handful
    if not rows:
        return Missing(f"no stage runs recorded for {as_of} in {OPS_RUNS.name}")
    by_stage: dict[str, list[Any]] = {}
    for r in rows:
        by_stage.setdefault(str(r.stage), []).append(r)
    order = {name: i for i, name in enumerate(["generate", *STAGES])}
    out = []
    for stage, runs_ in by_stage.items():
        last = max(runs_, key=lambda r: r.started_at or dt.datetime.min)
        out.append(StageRun(
            stage, str(last.status), last.started_at, _float(last.seconds),
            dict(last.input_versions or {}), dict(last.output_versions or {}),
            dict(last.row_counts or {}), str(last.message or ""), len(runs_),
        ))
    return sorted(out, key=lambda s: (order.get(s.stage, len(order)), s.stage))


def quarantine_of(quarantine: DataFrame | Missing, as_of: dt.date
                  ) -> list[QuarantineCount] | Missing:
    """Rows quarantined at the as-of, per source table and reason (empty: none)."""
    if isinstance(quarantine, Missing):
        return quarantine
    rows = (
        _of_date(quarantine, as_of)
        .groupBy("source_table", "reason")
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    )
    return sorted(
        (QuarantineCount(str(r.source_table), str(r.reason), int(r.n)) for r in rows),
        key=lambda q: (-q.rows, q.source_table, q.reason),
    )


# --- model metadata --------------------------------------------------------------------


def model_of(lake: Lakehouse, cfg: SegmentConfig, segments: list[Segment] | Missing
             ) -> ModelInfo | Missing:
    """The metadata of the model that scored the as-of (else the configured/latest one).

    Read through :class:`~sparkseg.segment.model_store.ModelStore`, as score and train
    read it: the version folders, ``metadata.json`` and its schema are the store's.
    """
    store = ModelStore(lake, cfg.model_name)
    version: int | None = None
    if not isinstance(segments, Missing):
        version = max((s.model_version for s in segments if s.model_version is not None),
                      default=None)
    if version is None:
        version = cfg.model_version
    if version is None:
        # The latest complete save: a folder without metadata.json is an interrupted one.
        version = store.latest()
        if version is None:
            return Missing(f"no saved model under {store.root}")
    path = f"{store.path(version)}/{METADATA_FILE}"
    try:
        meta = store.load_metadata(version)
    except MissingTableError:
        return Missing(f"no model metadata at {path}")
    except ValueError as err:  # pydantic's ValidationError (bad JSON or shape) is one
        return Missing(f"unreadable model metadata {path}: {str(err).splitlines()[0]}")
    scores = tuple(sorted(
        (KScore(s.algorithm, s.k, _float(s.cost), _float(s.silhouette), s.eligible,
                _float(s.min_share)) for s in meta.scores),
        key=lambda s: (s.algorithm, s.k),
    ))
    return ModelInfo(meta.model_name, meta.version, path, meta.algorithm, meta.k, scores)


# --- all together ----------------------------------------------------------------------


def completeness_of(lake: Lakehouse, as_of: dt.date) -> Completeness:
    """The as-of's newest ``pipeline`` completion (its table versions), or why none."""
    try:
        done = pipeline_completion(lake, as_of)
    except SparksegError as err:
        return Completeness(False, f"{OPS_COMPLETIONS.name} could not be read: {err}", {})
    if done is None:
        return Completeness(False, f"no pipeline completion record in {OPS_COMPLETIONS.name}",
                            {})
    # Spark hands timestamps back as naive local time; astimezone reads them as such.
    when = done.completed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return Completeness(True, f"pipeline run {done.run_id} completed {when} UTC",
                        dict(done.output_versions))


def load_report_data(lake: Lakehouse, cfg: Config, as_of: dt.date) -> ReportData:
    """Every part of the report for ``as_of``; parts that cannot be built are Missing.

    When the as-of is complete, every table its pipeline row lists is read at the
    version listed there (one consistent snapshot, even during a later rerun); tables it
    does not list (ops/runs, and any table no stage of that run wrote) are read latest.
    An incomplete as-of is read latest and says so (log warning, banner on the page).
    """
    done = completeness_of(lake, as_of)
    if not done.complete:
        log.warning("report %s: as-of %s is not complete (%s); reading the latest versions",
                    as_of, as_of, done.detail)
    v = done.versions

    def read(table: str, needed: Sequence[str]) -> DataFrame | Missing:
        return _open(lake, table, needed, v)

    segments_df = read(SEGMENTS, ["one_id", "segment_id", "segment_name",
                                   "segment_name_zh", "model_version", "as_of_date"])
    profiles_df = read(PROFILES, ["segment_id", "model_version", "size", "share",
                                   "name_en", "name_zh", "as_of_date"])
    segments = segments_of(segments_df, profiles_df, as_of)
    return ReportData(
        as_of=as_of,
        warehouse=lake.root,
        segments=segments,
        feature_stats=feature_stats_of(
            read(FEATURE_STATS,
                  ["segment_id", "feature", "mean", "median", "lift_z", "as_of_date"]),
            as_of),
        segment_tags=segment_tags_of(
            segments_df, read(CUSTOMER_TAGS, ["one_id", "tag", "value", "as_of_date"]),
            as_of, segments),
        model=model_of(lake, cfg.segment, segments),
        migration=migration_of(
            read(MIGRATION, ["prev_as_of_date", "from_segment_id", "to_segment_id",
                                    "customers", "as_of_date"]),
            as_of),
        tag_counts=tag_counts_of(
            read(TAG_COUNTS,
                  ["tag", "value", "customers", "prev_customers", "change", "as_of_date"]),
            as_of),
        audiences=audiences_of(
            read(AUDIENCE_MEMBERS, ["audience", "one_id", "group", "as_of_date"]), as_of),
        evaluation=evaluation_of(
            read(CAMPAIGN_EVALUATION,
                  ["audience", "as_of_date", "window_start", "window_end", "metric", "target_n",
                   "target_rate", "control_n", "control_rate", "diff", "ci_low", "ci_high"]),
            as_of),
        runs=runs_of(read(OPS_RUNS.name, OPS_RUNS.columns), as_of),
        quarantine=quarantine_of(read(OPS_QUARANTINE.name, OPS_QUARANTINE.columns), as_of),
        completeness=done,
    )
