"""Stage ``profile``: describe each segment of an as-of against the population.

Writes ``gold/segment_profiles`` (size, share and the names the score stage published)
and ``gold/segment_feature_stats`` (per segment and feature: mean, median, lift_z).
Features are imputed with the model's own imputation values (metadata), so the stats
describe the same numbers the clusters and their names were built from: a segment
named "dormant" shows the high ``days_since_last_txn`` of its never-transacting
customers instead of hiding them as nulls. Extra profile features (config
``segment.profile_extra_features``) are described raw, nulls ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.errors import MissingTableError
from sparkseg.lakehouse import Lakehouse
from sparkseg.segment import preprocess
from sparkseg.segment.model_store import ModelStore
from sparkseg.segment.tables import (
    CUSTOMER_FEATURES_NAME,
    SEGMENT_FEATURE_STATS,
    SEGMENT_PROFILES,
    SEGMENTS,
)

# percentile_approx accuracy: relative rank error 1/accuracy (0.1 % of the segment).
MEDIAN_ACCURACY = 1000


def with_imputed(df: DataFrame, *, values: Mapping[str, float]) -> DataFrame:
    """Each column named in ``values`` as a double with nulls and NaN replaced by its value."""
    return df.withColumns(
        {
            c: F.nanvl(F.coalesce(F.col(c).cast("double"), F.lit(float(v))), F.lit(float(v)))
            for c, v in values.items()
        }
    )


def segment_feature_stats(
    df: DataFrame, features: Sequence[str], *, segment_col: str = "segment_id"
) -> DataFrame:
    """Long-form stats per segment and feature: ``segment_id, feature, mean, median, lift_z``.

    Needs ``segment_col`` and the numeric ``features``. ``lift_z`` = (segment mean -
    population mean) / population standard deviation (null for a constant feature).
    One pass: a rollup gives the k segment rows and the population row together.
    """
    aggs = []
    for i, f in enumerate(features):
        x = F.col(f).cast("double")
        aggs += [
            F.avg(x).alias(f"m{i}"),
            F.percentile_approx(x, 0.5, MEDIAN_ACCURACY).alias(f"q{i}"),
            F.stddev_pop(x).alias(f"s{i}"),
        ]
    rolled = df.rollup(segment_col).agg(*aggs, F.grouping(segment_col).alias("_total"))
    # k + 1 rows: a window over all of them puts the population row next to each
    # segment row without a second pass over the customers.
    everything = Window.partitionBy(F.lit(1))
    population = [
        F.max(F.when(F.col("_total") == 1, F.col(f"{kind}{i}"))).over(everything).alias(f"p{kind}{i}")
        for i in range(len(features))
        for kind in ("m", "s")
    ]
    structs = [
        F.struct(
            F.lit(f).alias("feature"),
            F.col(f"m{i}").alias("mean"),
            F.col(f"q{i}").cast("double").alias("median"),
            F.when(
                F.col(f"ps{i}") > 0, (F.col(f"m{i}") - F.col(f"pm{i}")) / F.col(f"ps{i}")
            ).alias("lift_z"),
        )
        for i, f in enumerate(features)
    ]
    return (
        rolled.select("*", *population)
        .where(F.col("_total") == 0)
        .select(F.col(segment_col).cast("int").alias("segment_id"), F.explode(F.array(*structs)).alias("s"))
        .select("segment_id", "s.*")
    )


def segment_profiles(segments: DataFrame) -> DataFrame:
    """Size, share, model version and names per segment.

    Needs ``segment_id, segment_name, segment_name_zh, model_version`` (gold/segments);
    adds nothing else: returns ``segment_id, model_version, size, share, name_en, name_zh``.
    """
    per = segments.groupBy("segment_id").agg(
        F.count(F.lit(1)).alias("size"),
        F.max("model_version").alias("model_version"),
        F.max("segment_name").alias("name_en"),
        F.max("segment_name_zh").alias("name_zh"),
    )
    total = F.sum("size").over(Window.partitionBy(F.lit(1)))  # k rows
    return per.select(
        F.col("segment_id").cast("int"),
        F.col("model_version").cast("int"),
        F.col("size").cast("long"),
        (F.col("size") / total).alias("share"),
        "name_en",
        "name_zh",
    )


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    seg = cfg.segment
    lake = Lakehouse(spark, cfg)
    segments = lake.read(SEGMENTS, partitions={"as_of_date": as_of})
    versions = sorted(r[0] for r in segments.select("model_version").distinct().collect())
    if not versions:
        raise MissingTableError(
            SEGMENTS.name, lake.uri(SEGMENTS),
            f"no rows for as_of_date {as_of}; run `sparkseg score` first",
        )
    # One score run writes one model version per as-of; the newest wins if mixed.
    meta = ModelStore(lake, seg.model_name).load_metadata(versions[-1])
    features = lake.read(CUSTOMER_FEATURES_NAME, partitions={"as_of_date": as_of})
    extras = [f for f in seg.profile_extra_features if f not in meta.features]
    names = [*meta.features, *extras]
    preprocess.check_feature_columns(features.schema, names, CUSTOMER_FEATURES_NAME)
    described = (
        features.select("one_id", *names)
        .transform(with_imputed, values={f: meta.impute_values[f] for f in meta.features})
        .join(segments.select("one_id", "segment_id"), "one_id")
    )
    day = F.lit(as_of).cast("date").alias("as_of_date")
    stats = segment_feature_stats(described, names).select(day, "*")
    profiles = segment_profiles(segments).select(day, "*")
    lake.write(profiles, SEGMENT_PROFILES, mode="overwrite_partitions", replace={"as_of_date": as_of})
    lake.write(stats, SEGMENT_FEATURE_STATS, mode="overwrite_partitions", replace={"as_of_date": as_of})
