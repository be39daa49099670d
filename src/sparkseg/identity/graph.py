"""The identity graph and its ONE_ID labels, with DataFrame operations only.

A node is one identifier, written ``"<id_type>:<id_value>"`` (id types never hold ``:``,
ingest guarantees a known type), so that joins and comparisons work on one string.
Edges are the links of ``silver/identity_links``, both directions.

Labelling is a breadth-first search from every bank customer at once, run as rounds
of label propagation:

* a customer node is labelled ``(anchored=0, hops=0, key=customer_id)`` and never changes;
* any other node starts as ``(1, 0, its own node string)``;
* each round, every node whose label changed in the previous round offers its neighbours
  ``(0, hops + 1, customer_id)`` (anchored) or ``(1, 0, key)`` (anonymous), and a node
  keeps the smallest label it has seen (structs compare field by field).

When no label changes, every node reachable from a customer carries its nearest customer
(ties: the smallest customer_id), so no component holds two customers and each customer
is its own ONE_ID; the rest carry the smallest node of their (customer-free) component,
which is plain min-label connected components.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.errors import ConvergenceError

log = logging.getLogger(__name__)

CUSTOMER = "customer_id"
_CUSTOMER_PREFIX = f"{CUSTOMER}:"


def node_key(id_type: Column, id_value: Column) -> Column:
    """``"<id_type>:<id_value>"``: one identifier as one string."""
    return F.concat(id_type, F.lit(":"), id_value)


def is_customer(node: Column) -> Column:
    return node.startswith(_CUSTOMER_PREFIX)


def node_type(node: Column) -> Column:
    return F.substring_index(node, ":", 1)


def node_value(node: Column) -> Column:
    # Everything after the first ':' (values may contain ':', types never do).
    return F.substr(node, F.instr(node, F.lit(":")) + 1)


def identifier_nodes(*, links: DataFrame, events: DataFrame, customers: DataFrame) -> DataFrame:
    """Distinct ``node`` strings of every identifier seen.

    Needs ``links`` (id_type_a, id_value_a, id_type_b, id_value_b), ``events`` (id_type,
    id_value) and ``customers`` (customer_id); returns one column ``node``.
    """
    parts = [
        links.select(node_key(F.col("id_type_a"), F.col("id_value_a")).alias("node")),
        links.select(node_key(F.col("id_type_b"), F.col("id_value_b")).alias("node")),
        events.select(node_key(F.col("id_type"), F.col("id_value")).alias("node")),
        customers.select(node_key(F.lit(CUSTOMER), F.col("customer_id")).alias("node")),
    ]
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.filter(F.col("node").isNotNull()).distinct()


def link_edges(links: DataFrame, *, observed_before: Column | None = None) -> DataFrame:
    """Undirected edges ``src, dst`` (both directions, distinct, no self-loops).

    Needs the link columns and ``observed_ts``. With ``observed_before`` (a timestamp
    literal) only links observed before it (or with no time) are edges, so a back-fill
    does not merge on a link the bank learnt later.
    """
    if observed_before is not None:
        links = links.filter(F.col("observed_ts").isNull() | (F.col("observed_ts") < observed_before))
    a = node_key(F.col("id_type_a"), F.col("id_value_a"))
    b = node_key(F.col("id_type_b"), F.col("id_value_b"))
    pairs = links.select(a.alias("src"), b.alias("dst")).filter(F.col("src") != F.col("dst"))
    both = pairs.unionByName(pairs.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    return both.distinct()


def exploded_identifiers(edges: DataFrame, *, max_customers: int) -> DataFrame:
    """Non-customer nodes linked directly to more than ``max_customers`` customers.

    Needs ``src, dst`` (both directions); returns ``node, customers`` (long).
    """
    return (
        edges.filter(~is_customer(F.col("src")) & is_customer(F.col("dst")))
        .groupBy(F.col("src").alias("node"))
        .agg(F.count(F.lit(1)).alias("customers"))  # edges are distinct: one per customer
        .filter(F.col("customers") > max_customers)
    )


def without_nodes(edges: DataFrame, nodes: DataFrame) -> DataFrame:
    """Edges with neither end in ``nodes`` (column ``node``)."""
    drop = nodes.select("node")
    return (
        edges.join(drop.withColumnRenamed("node", "src"), "src", "left_anti")
        .join(drop.withColumnRenamed("node", "dst"), "dst", "left_anti")
        .select("src", "dst")
    )


def mergeable_edges(edges: DataFrame) -> DataFrame:
    """Drop customer-to-customer edges: they may never merge anything (customers keep
    their own label), so they would only cost work in every round."""
    return edges.filter(~(is_customer(F.col("src")) & is_customer(F.col("dst"))))


@dataclass(frozen=True)
class IdentityGraph:
    """What propagation needs: every node, the edges that may merge, the exploded ids."""

    nodes: DataFrame  # node
    edges: DataFrame  # src, dst (both directions)
    exploded: DataFrame  # node, customers

    def persist(self) -> IdentityGraph:
        # Exploded ids are read three times (edge filter, report, ops table); the edges are
        # persisted by propagate_labels in the partitioning the rounds need.
        return IdentityGraph(
            self.nodes, self.edges, self.exploded.persist(StorageLevel.MEMORY_AND_DISK)
        )

    def unpersist(self) -> None:
        self.exploded.unpersist()


def build_graph(
    *,
    links: DataFrame,
    events: DataFrame,
    customers: DataFrame,
    max_customers: int,
    observed_before: Column | None = None,
) -> IdentityGraph:
    """Nodes, mergeable edges and exploded identifiers of the silver inputs.

    An identifier linked to more than ``max_customers`` customers loses all its edges
    (it stays a node, so it gets its own anonymous ONE_ID).
    """
    all_edges = link_edges(links, observed_before=observed_before)
    exploded = exploded_identifiers(all_edges, max_customers=max_customers)
    edges = mergeable_edges(without_nodes(all_edges, exploded))
    nodes = identifier_nodes(links=links, events=events, customers=customers)
    return IdentityGraph(nodes, edges, exploded)


def _initial_labels(nodes: DataFrame) -> DataFrame:
    cust = is_customer(F.col("node"))
    label = F.struct(
        F.when(cust, 0).otherwise(1).alias("anon"),
        F.lit(0).alias("hops"),
        F.when(cust, node_value(F.col("node"))).otherwise(F.col("node")).alias("key"),
    )
    return nodes.select("node", label.alias("label"), F.lit(True).alias("changed"))


def _round(labels: DataFrame, edges: DataFrame) -> DataFrame:
    """One propagation round: only nodes changed last round send (their label is new)."""
    sent = labels.filter("changed").select(F.col("node").alias("src"), "label")
    offered = F.struct(
        F.col("label.anon").alias("anon"),
        F.when(F.col("label.anon") == 0, F.col("label.hops") + 1).otherwise(0).alias("hops"),
        F.col("label.key").alias("key"),
    )
    best = (
        sent.join(edges, "src")
        .groupBy(F.col("dst").alias("node"))
        .agg(F.min(offered).alias("offer"))
    )
    return (
        labels.select("node", "label")
        .join(best, "node", "left")
        .select(
            "node",
            F.least("label", "offer").alias("label"),
            F.coalesce(F.col("offer") < F.col("label"), F.lit(False)).alias("changed"),
        )
    )


Materialize = Callable[[DataFrame, int], DataFrame]


def local_checkpoint(df: DataFrame, round_no: int) -> DataFrame:
    """Default materialisation: compute the round and keep it on the executors.

    The lineage must be cut every round, not every few: a round reads the previous
    labels twice (offers and the join back), so an uncut plan doubles with each round,
    and Spark renders it as text for every job (2^rounds; measured: six rounds on 300
    nodes took a minute of CPU, most of it in QueryExecution.explainString).
    """
    return df.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)


@contextlib.contextmanager
def _co_partitioned_plans(spark: SparkSession) -> Iterator[None]:
    """Adaptive query execution off for the rounds, restored afterwards.

    With AQE on, a checkpointed DataFrame reports no partitioning (its plan may have
    coalesced partitions), so every round would shuffle all labels and all edges again.
    The rounds need none of AQE's rewrites: their partitioning is fixed on purpose.
    """
    key = "spark.sql.adaptive.enabled"
    before = spark.conf.get(key)
    spark.conf.set(key, "false")
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def propagate_labels(
    nodes: DataFrame,
    edges: DataFrame,
    *,
    max_rounds: int,
    materialize: Materialize = local_checkpoint,
) -> DataFrame:
    """Run rounds until no label changes; return ``node, label, changed`` (materialized:
    the caller unpersists it).

    Needs ``nodes`` (node) holding every edge end and ``edges`` (src, dst, both
    directions). ``materialize(df, round)`` must return an equivalent computed DataFrame
    whose plan does not include earlier rounds (a checkpoint): each round is counted and
    then read by the next one.
    Raises :class:`ConvergenceError` if labels still change after ``max_rounds`` rounds.
    """
    spark = nodes.sparkSession
    with _co_partitioned_plans(spark):
        # Labels by node and edges by source, both hash-partitioned into the session's
        # shuffle partitions and checkpointed with that partitioning: the offers of a round
        # are grouped by node into the same partitioning, so Spark joins labels, offers and
        # edges without moving labels or edges again: one shuffle per round (the offers)
        # instead of three, the edges being the largest.
        parts = int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
        edges = local_checkpoint(edges.repartition(parts, "src").sortWithinPartitions("src"), 0)
        labels = materialize(_initial_labels(nodes).repartition(parts, "node"), 0)
        for round_no in range(1, max_rounds + 1):
            previous = labels
            labels = materialize(_round(previous, edges), round_no)
            changed = labels.filter("changed").count()
            previous.unpersist()
            log.info("identity round %d: %d identifiers changed label", round_no, changed)
            if changed == 0:
                return labels
    labels.unpersist()
    raise ConvergenceError(
        f"identity graph did not converge in identity.max_rounds={max_rounds} rounds "
        f"({changed} identifiers still changing label): chains of linked identifiers are "
        "longer than the rounds allow; raise identity.max_rounds"
    )


def one_ids(labels: DataFrame) -> DataFrame:
    """``id_type, id_value, one_id, customer_id`` from converged ``node, label``.

    Anchored nodes take their customer's id; the others ``anon-`` + the first 16 hex of
    SHA-256 of their component's smallest node, which stays the same as long as that
    component does not change.
    """
    anchored = F.col("label.anon") == 0
    return labels.select(
        node_type(F.col("node")).alias("id_type"),
        node_value(F.col("node")).alias("id_value"),
        F.when(anchored, F.col("label.key"))
        .otherwise(F.concat(F.lit("anon-"), F.substring(F.sha2(F.col("label.key"), 256), 1, 16)))
        .alias("one_id"),
        F.when(anchored, F.col("label.key")).alias("customer_id"),
    )
