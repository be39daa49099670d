"""Stage ``identity``: silver identifiers -> ``silver/identity_map`` (ONE_ID).

Reads all of ``silver/identity_links`` and ``silver/events`` dated before the as-of
(from ``ingest.earliest_event_date``: identifiers are stitched over the whole history;
links with no observed time too) and ``silver/customers`` as of the as-of (personal
identifiers are already keyed hashes), drops the edges of identifiers linked to too
many customers, labels every identifier (:mod:`sparkseg.identity.graph`: its anonymous
component's one customer, its nearest customer where the component links a few, or
the component's anonymous ONE_ID), and writes both tables for the as-of date.
``ops/identity_exploded`` lists the identifiers linked directly to more than
``identity.max_customers_per_id`` customers and the anonymous components linked to more
(named by their smallest identifier).
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.errors import ConfigError
from sparkseg.identity.config import CheckpointMode
from sparkseg.identity.graph import (
    Checkpoints,
    build_graph,
    label_identities,
    node_type,
    node_value,
    one_ids,
)
from sparkseg.identity.tables import IDENTITY_CHANGES, IDENTITY_EXPLODED, IDENTITY_MAP
from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import read_events, read_known_customers
from sparkseg.tables import (
    EVENT_MONTH,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    SILVER_TABLES,
)

log = logging.getLogger(__name__)

# How many of the most-linked exploded identifiers the log line names. It names them as
# stored: keyed hashes for every identity.pii_id_types (all channel identifiers by
# default), customer_id in clear (the bank's own key), never a raw personal value.
_LOG_TOP = 5


def checkpointing(spark: SparkSession, mode: CheckpointMode) -> Checkpoints:
    """How labelling materialises each round (see ``identity.checkpoint``).

    Raises :class:`ConfigError` for ``reliable`` without a checkpoint folder.
    """
    has_folder = spark.sparkContext.getCheckpointDir() is not None
    if mode == "reliable" and not has_folder:
        raise ConfigError(
            "identity.checkpoint is 'reliable' but Spark has no checkpoint folder: "
            "set spark.checkpoint_dir"
        )
    return Checkpoints(spark, reliable=mode != "local" and has_folder)


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """Write ``silver/identity_map``, ``ops/identity_exploded`` and
    ``ops/identity_changes`` for ``as_of``."""
    checkpoints = checkpointing(spark, cfg.identity.checkpoint)  # config errors first
    lake = Lakehouse(spark, cfg)
    part = {"as_of_date": as_of}
    customers = read_known_customers(lake, as_of)
    # Everything before the as-of (silver holds no row before earliest_event_date): the
    # map must label every identifier ever seen, not only those of a recent window.
    history = {"start": cfg.ingest.earliest_event_date, "end": as_of}
    events = read_events(lake, RAW_EVENTS, **history)
    links = read_events(lake, RAW_IDENTITY_LINKS, **history).unionByName(
        undated_links(lake))

    # Links the bank learnt on or after the as-of do not merge (a back-fill must not use
    # them); every identifier still gets a row in the map.
    graph = build_graph(
        links=links,
        events=events,
        customers=customers,
        max_customers=cfg.identity.max_customers_per_id,
        observed_before=F.lit(dt.datetime.combine(as_of, dt.time(), dt.UTC)),
    ).persist()
    max_customers = cfg.identity.max_customers_per_id
    try:
        _report_exploded(graph.exploded, max_customers, what="identifier(s) linked to")
        with checkpoints:  # every materialised round is released, even on failure
            labels = label_identities(graph, checkpoints, max_customers=max_customers,
                                      max_rounds=cfg.identity.max_rounds)
            _report_exploded(labels.exploded_components, max_customers,
                             what="anonymous component(s) linked to")
            lake.write(
                one_ids(labels.labels).withColumn("as_of_date", F.lit(as_of)),
                IDENTITY_MAP, mode="overwrite_partitions", replace=part,
            )
            lake.write(
                exploded_rows(graph.exploded.unionByName(labels.exploded_components),
                              as_of=as_of),
                IDENTITY_EXPLODED, mode="overwrite_partitions", replace=part,
            )
    finally:
        graph.unpersist()
    _record_changes(lake, as_of)


def _record_changes(lake: Lakehouse, as_of: dt.date) -> None:
    """``ops/identity_changes`` of ``as_of`` against the latest earlier map (none: an
    empty partition, so a rerun after a backfill leaves no stale rows)."""
    prev = lake.latest_as_of(IDENTITY_MAP, before=as_of)
    current = lake.read(IDENTITY_MAP, partitions={"as_of_date": as_of})
    if prev is None:
        changes = lake.spark.createDataFrame([], IDENTITY_CHANGES.schema)
    else:
        previous = lake.read(IDENTITY_MAP, partitions={"as_of_date": prev})
        changes = one_id_changes(previous, current, as_of=as_of, prev_as_of=prev)
    result = lake.write(changes, IDENTITY_CHANGES, mode="overwrite_partitions",
                        replace={"as_of_date": as_of})
    if result.rows:
        log.info("identity: %d identifier(s) changed ONE_ID since %s (ops/identity_changes)",
                 result.rows, prev)


def one_id_changes(previous: DataFrame, current: DataFrame, *, as_of: dt.date,
                   prev_as_of: dt.date) -> DataFrame:
    """Identifiers of both maps whose ``one_id`` differs, with the kind of change.

    Needs ``id_type, id_value, one_id, customer_id`` in both; returns the
    ``ops/identity_changes`` columns. ``change``:

    * ``merged``: an anonymous identifier joined a customer, or an anonymous component
      that already existed (two components met: the id of the one holding the smallest
      identifier survives);
    * ``relabelled``: an anonymous identifier's component took a new id without meeting
      another (an identifier seen for the first time is now its smallest);
    * ``moved``: from one customer to another (a nearer customer is now linked);
    * ``detached``: from a customer to anonymous (its component now reaches more
      customers than identity.max_customers_per_id, or a link now makes it a hub).
    """
    keys = ["id_type", "id_value"]
    old = previous.select(*keys, F.col("one_id").alias("from_one_id"),
                          F.col("customer_id").alias("_from_customer"))
    new = current.select(*keys, F.col("one_id").alias("to_one_id"),
                         F.col("customer_id").alias("_to_customer"))
    known_ids = previous.select(F.col("one_id").alias("_known")).distinct()
    from_customer = F.col("_from_customer").isNotNull()
    to_customer = F.col("_to_customer").isNotNull()
    change = (
        F.when(from_customer & to_customer, F.lit("moved"))
        .when(from_customer, F.lit("detached"))
        .when(to_customer | F.col("_known").isNotNull(), F.lit("merged"))
        .otherwise(F.lit("relabelled"))
    )
    return (
        old.join(new, keys)
        .where(F.col("from_one_id") != F.col("to_one_id"))
        .join(known_ids, F.col("to_one_id") == F.col("_known"), "left")
        .select(
            F.lit(as_of).cast("date").alias("as_of_date"),
            F.lit(prev_as_of).cast("date").alias("prev_as_of_date"),
            *keys, "from_one_id", "to_one_id", change.alias("change"),
        )
    )


def undated_links(lake: Lakehouse) -> DataFrame:
    """The links of silver/identity_links with no ``observed_ts`` (ingest accepts them).

    :func:`read_events` filters on the event time, so it never returns them; the graph
    treats a link with no time as known at every as-of. Their ``event_month`` is null:
    the filter on it prunes every dated partition.
    """
    spec = SILVER_TABLES[RAW_IDENTITY_LINKS.name]
    return (
        lake.read(spec)
        .where(F.col(EVENT_MONTH).isNull() & F.col("observed_ts").isNull())
        .drop(EVENT_MONTH)
    )


def exploded_rows(exploded: DataFrame, *, as_of: dt.date) -> DataFrame:
    """``ops/identity_exploded`` rows from ``node, customers`` (a component is named by
    its smallest identifier)."""
    return exploded.select(
        F.lit(as_of).alias("as_of_date"),
        node_type(F.col("node")).alias("id_type"),
        node_value(F.col("node")).alias("id_value"),
        F.col("customers").cast("long").alias("customers"),
    )


def _report_exploded(exploded: DataFrame, limit: int, *, what: str) -> None:
    top = exploded.orderBy(F.col("customers").desc(), "node").limit(_LOG_TOP).collect()
    if not top:
        return
    total = len(top) if len(top) < _LOG_TOP else exploded.count()
    named = ", ".join(f"{r['node']} ({r['customers']} customers)" for r in top)
    log.warning(
        "identity: %d %s more than %d customers were not used to merge "
        "(see ops/identity_exploded); most linked: %s", total, what, limit, named,
    )
