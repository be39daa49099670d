"""Stage ``score``: assign every customer of an as-of to a segment; write the migration.

Loads the pinned (or latest) model, applies its pipeline to the whole as-of partition
of ``silver/customer_features`` on the executors, maps cluster numbers to the model's
stable segment ids and names, and writes ``gold/segments``. Then compares with the
latest earlier as-of in ``gold/segments`` and writes ``gold/segment_migration``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging

from pyspark.ml import PipelineModel
from pyspark.ml.clustering import BisectingKMeansModel, KMeansModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse
from sparkseg.segment import preprocess
from sparkseg.segment.model_store import ModelMetadata, ModelStore
from sparkseg.segment.selection import CLUSTER_COL
from sparkseg.segment.tables import CUSTOMER_FEATURES_NAME, SEGMENT_MIGRATION, SEGMENTS
from sparkseg.transitions import moves_between

log = logging.getLogger(__name__)


def _lookup(mapping: dict[int, Column], key: Column) -> Column:
    """``mapping[key]`` as a literal map expression (k entries, evaluated on executors)."""
    return F.element_at(
        F.create_map(*itertools.chain.from_iterable((F.lit(k), v) for k, v in mapping.items())),
        key,
    )


def with_segments(
    df: DataFrame, *, model: PipelineModel, meta: ModelMetadata, as_of: dt.date
) -> DataFrame:
    """Score ``df`` with ``model``: one row per input row, in the SEGMENTS layout.

    Needs ``one_id`` and the model's feature columns. ``distance`` is the Euclidean
    distance to the assigned cluster's centre in the model's standardized, weighted
    space (the space the clusters were fitted in).
    """
    clustering = model.stages[-1]
    if not isinstance(clustering, KMeansModel | BisectingKMeansModel):
        raise ValueError(f"model {meta.model_name} v{meta.version}: last stage is not a clustering")
    centres = clustering.clusterCenters()
    by_cluster = meta.segment_of_cluster()
    missing = [c for c in range(len(centres)) if c not in by_cluster]
    if missing:
        raise ValueError(f"model {meta.model_name} v{meta.version}: no segment for clusters {missing}")
    cluster = F.col(CLUSTER_COL)
    centre = _lookup(
        {c: F.array(*(F.lit(float(x)) for x in centres[c])) for c in range(len(centres))}, cluster
    )
    squared = F.zip_with(
        vector_to_array(F.col(preprocess.VECTOR_COL)), centre, lambda a, b: (a - b) * (a - b)
    )
    distance = F.sqrt(F.aggregate(squared, F.lit(0.0), lambda acc, x: acc + x))
    info = {c: by_cluster[c] for c in range(len(centres))}
    return model.transform(df).select(
        F.col("one_id"),
        _lookup({c: F.lit(s.segment_id) for c, s in info.items()}, cluster).cast("int").alias("segment_id"),
        _lookup({c: F.lit(s.name_en) for c, s in info.items()}, cluster).alias("segment_name"),
        _lookup({c: F.lit(s.name_zh) for c, s in info.items()}, cluster).alias("segment_name_zh"),
        distance.alias("distance"),
        F.lit(meta.version).cast("int").alias("model_version"),
        F.lit(as_of).cast("date").alias("as_of_date"),
    )


def segment_migration(
    previous: DataFrame | None,
    current: DataFrame,
    *,
    as_of: dt.date,
    prev_as_of: dt.date | None,
) -> DataFrame:
    """Customers per (from segment, to segment) between two as-ofs (SEGMENT_MIGRATION).

    Needs ``one_id, segment_id`` in both. Full outer join on ``one_id``: a null
    ``from_segment_id`` is a customer new since ``prev_as_of`` (every customer when
    there is no earlier as-of), a null ``to_segment_id`` one who is gone.
    """
    return moves_between(previous, current, column="segment_id", kind="int", as_of=as_of,
                         prev_as_of=prev_as_of)


def previous_as_of(lake: Lakehouse, as_of: dt.date) -> dt.date | None:
    """The latest ``as_of_date`` before ``as_of`` in gold/segments (None if none)."""
    return lake.latest_as_of(SEGMENTS, before=as_of)


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    seg = cfg.segment
    lake = Lakehouse(spark, cfg)
    store = ModelStore(lake, seg.model_name)
    version = store.resolve(seg.model_version)
    meta = store.load_metadata(version)
    model = store.load_pipeline(version)
    # Empty is checked before writing: an empty result would wipe the date's segments.
    features = lake.read_as_of(
        CUSTOMER_FEATURES_NAME, as_of, hint="run `sparkseg features` first"
    )
    preprocess.check_feature_columns(features.schema, meta.features, CUSTOMER_FEATURES_NAME)
    segments = features.transform(with_segments, model=model, meta=meta, as_of=as_of)
    result = lake.write(
        segments, SEGMENTS, mode="overwrite_partitions", replace={"as_of_date": as_of}
    )
    log.info("score: %d customers scored with %s v%d", result.rows, seg.model_name, version)

    prev_date = previous_as_of(lake, as_of)
    current = lake.read(SEGMENTS, partitions={"as_of_date": as_of})
    previous = lake.read(SEGMENTS, partitions={"as_of_date": prev_date}) if prev_date else None
    migration = segment_migration(previous, current, as_of=as_of, prev_as_of=prev_date)
    lake.write(migration, SEGMENT_MIGRATION, mode="overwrite_partitions", replace={"as_of_date": as_of})
