"""The identity graph and its ONE_ID labels, with DataFrame operations only.

A node is one identifier, written ``"<id_type>:<id_value>"`` (id types never hold ``:``,
ingest guarantees a known type), so that joins and comparisons work on one string.
Edges are the links of ``silver/identity_links``, both directions.

Labelling (:func:`label_identities`), in rounds whose count does not grow with the
graph's diameter:

1. every node gets a dense integer id (:func:`integer_ids`);
2. connected components of the *anonymous* subgraph (customer nodes removed) by
   alternating large-star / small-star (Kiveris et al., "Connected Components in
   MapReduce and Beyond", 2014), :func:`connected_components`: O(log n) rounds in
   practice (O(log^2 n) proven), whatever the diameter;
3. each anonymous component counts the distinct customers linked to it:

   * 0: one anonymous ONE_ID, ``anon-`` + 16 hex of SHA-256 of its smallest node;
   * 1: every node gets that customer's ONE_ID;
   * more than ``max_customers``: fan-out through anonymous ids; attributed to no
     customer (one anonymous ONE_ID as for 0) and reported with its customer count;
   * 2..max_customers: nearest customer (ties: smallest customer_id) by a breadth-first
     search restricted to these components, for at most ``max_rounds`` rounds; a node
     still unreached takes the smallest customer_id linked to its component.

Customer nodes keep their own customer_id; two customers are never merged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from sparkseg.errors import ConvergenceError
from sparkseg.lakehouse.hadoop_fs import HadoopFs
from sparkseg.spark_conf import conf_set

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
        # materialised by label_identities.
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


class Checkpoints:
    """Materialises DataFrames with their lineage cut, and really releases them.

    ``reliable``: ``checkpoint`` to the Spark checkpoint folder (survives a lost
    executor); :meth:`release` deletes its files. Otherwise ``localCheckpoint`` on the
    executors; :meth:`release` unpersists the checkpointed RDD itself (a DataFrame's
    ``unpersist()`` does not: a checkpoint is not in the cache manager, so its blocks
    stay until the session ends).

    The lineage must be cut every round, not every few: a round reads the previous
    result twice, so an uncut plan doubles with each round, and Spark renders it as
    text for every job (2^rounds; measured: six rounds on 300 nodes took a minute of
    CPU, most of it in QueryExecution.explainString).
    """

    def __init__(self, spark: SparkSession, *, reliable: bool) -> None:
        self.spark = spark
        self.reliable = reliable
        self._held: dict[int, DataFrame] = {}
        self.made = 0

    def __call__(self, df: DataFrame) -> DataFrame:
        if self.reliable:
            # Persisted first so that writing the files does not compute it twice.
            persisted = df.persist(StorageLevel.MEMORY_AND_DISK)
            try:
                out = persisted.checkpoint(eager=True)
            finally:
                persisted.unpersist()
        else:
            out = df.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)
        self._held[id(out)] = out
        self.made += 1
        return out

    @property
    def held(self) -> int:
        """How many materialised DataFrames are not released yet."""
        return len(self._held)

    def release(self, df: DataFrame) -> None:
        """Free what ``df`` (a DataFrame this object returned) holds; others are ignored."""
        if self._held.pop(id(df), None) is None:
            return
        rdd = df._jdf.queryExecution().logical().rdd()  # the LogicalRDD of the checkpoint
        rdd.unpersist(False)
        if self.reliable:
            path = rdd.getCheckpointFile()
            if path.isDefined():
                HadoopFs(self.spark, path.get()).delete(path.get())

    def release_all(self) -> None:
        for df in list(self._held.values()):
            self.release(df)

    def __enter__(self) -> Checkpoints:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_all()


@contextlib.contextmanager
def _co_partitioned_plans(spark: SparkSession) -> Iterator[None]:
    """Adaptive query execution off for the rounds, restored afterwards.

    With AQE on, a checkpointed DataFrame reports no partitioning (its plan may have
    coalesced partitions), so every round would shuffle all labels and all edges again.
    The rounds need none of AQE's rewrites: their partitioning is fixed on purpose.
    """
    with conf_set(spark, "spark.sql.adaptive.enabled", "false"):
        yield


def integer_ids(nodes: DataFrame, cp: Checkpoints) -> DataFrame:
    """``node, id``: dense ids 0..n-1, one per distinct node, no collisions (materialised).

    ``monotonically_increasing_id`` is unique (partition index << 33 + position) but
    not dense, and differs if recomputed: it is materialised once, then shifted by the
    row count of the partitions before it (a table of one row per partition).
    """
    mono = F.col("_mono")
    staged = cp(nodes.select("node").withColumn("_mono", F.monotonically_increasing_id()))
    part = F.shiftright(mono, 33).alias("_part")
    sizes = staged.groupBy(part).agg(F.count(F.lit(1)).alias("_n"))
    before = Window.orderBy("_part").rowsBetween(Window.unboundedPreceding, -1)
    offsets = sizes.select("_part", F.coalesce(F.sum("_n").over(before), F.lit(0)).alias("_off"))
    ids = cp(
        staged.select("node", mono, part)
        .join(F.broadcast(offsets), "_part")
        .select("node", (F.col("_off") + mono.bitwiseAND((1 << 33) - 1)).alias("id"))
    )
    cp.release(staged)
    return ids


@dataclass(frozen=True)
class Components:
    """``id, comp`` (materialised) of every node with an edge; comp = smallest id."""

    components: DataFrame
    rounds: int  # large-star + small-star iterations


def cc_round_limit(nodes: int) -> int:
    """Iterations after which connected components is a bug, not data: the proven bound
    of alternating large/small-star is O(log^2 n) (observed: about log2 n)."""
    bits = max(1, nodes.bit_length())
    return bits * bits + 20


def connected_components(edges: DataFrame, cp: Checkpoints, *, max_rounds: int) -> Components:
    """Connected components of ``edges`` (``hi, lo`` longs, hi > lo, one row per edge).

    Alternating large-star and small-star (Kiveris et al. 2014); each iteration is one
    large-star then one small-star, materialised. It stops when the edges form stars
    around each component's smallest id (every node has at most one smaller neighbour,
    and a node with one has no larger neighbour). Raises :class:`ConvergenceError`
    after ``max_rounds`` iterations (a bug guard: see :func:`cc_round_limit`).
    """
    u, v = F.col("u"), F.col("v")
    current = cp(edges.select("hi", "lo").distinct())
    rounds = 0
    while True:
        sym = current.select(F.col("hi").alias("u"), F.col("lo").alias("v")).unionByName(
            current.select(F.col("lo").alias("u"), F.col("hi").alias("v")))
        stats = cp(sym.groupBy("u").agg(
            F.least(u, F.min(v)).alias("m"),
            F.sum((v < u).cast("long")).alias("down"),
            F.max(v > u).alias("up"),
        ))
        not_star = stats.filter((F.col("down") > 1) | ((F.col("down") == 1) & F.col("up")))
        left = not_star.count()
        log.info("identity components: iteration %d, %d nodes not in a star", rounds, left)
        if left == 0:
            break
        if rounds >= max_rounds:
            cp.release(stats)
            cp.release(current)
            raise ConvergenceError(
                f"identity connected components did not converge in {max_rounds} "
                f"iterations ({left} nodes not in a star): a bug, the bound is O(log^2 n)"
            )
        rounds += 1
        # Large-star: every neighbour v > u of u links to m(u), the smallest of u and its
        # neighbours (v > u >= m(u)).
        large = (
            sym.filter(v > u).join(stats.select("u", "m"), "u")
            .select(v.alias("hi"), F.col("m").alias("lo")).distinct()
        )
        # Small-star: a node and its smaller neighbours all link to the smallest of them.
        smallest = large.groupBy("hi").agg(F.min("lo").alias("m"))
        small = (
            large.join(smallest, "hi")
            .select(F.col("lo").alias("hi"), F.col("m").alias("lo"))
            .filter(F.col("hi") != F.col("lo"))
            .unionByName(smallest.select("hi", F.col("m").alias("lo")))
            .distinct()
        )
        following = cp(small)
        cp.release(stats)
        cp.release(current)
        current = following
    comps = cp(
        current.select(F.col("hi").alias("id"), F.col("lo").alias("comp")).unionByName(
            current.select(F.col("lo").alias("id"), F.col("lo").alias("comp")).distinct())
    )
    cp.release(stats)
    cp.release(current)
    return Components(comps, rounds)


_LABEL = "struct<hops:int,key:string>"


def nearest_customers(
    seeds: DataFrame, nodes: DataFrame, edges: DataFrame, cp: Checkpoints, *, max_rounds: int
) -> tuple[DataFrame, int]:
    """Breadth-first search from every seed at once, at most ``max_rounds`` rounds.

    ``seeds``: ``id, customer_id`` (customers); ``nodes``: ``id`` (the others);
    ``edges``: ``src, dst`` (every edge a label may cross, in that direction). Returns
    ``node, label`` (materialised; ``label`` = ``hops, key``: the nearest seed, ties to
    the smallest customer_id, null where not reached) and the rounds run.
    """
    spark = nodes.sparkSession
    parts = int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    # Labels by node and edges by source, both hash-partitioned into the session's shuffle
    # partitions: the offers of a round are grouped by node into the same partitioning,
    # so Spark joins labels, offers and edges with one shuffle per round (the offers).
    edges = cp(edges.select("src", "dst").repartition(parts, "src").sortWithinPartitions("src"))
    start = seeds.select(
        F.col("id").alias("node"),
        F.struct(F.lit(0).alias("hops"), F.col("customer_id").alias("key")).alias("label"),
        F.lit(True).alias("changed"),
    ).unionByName(nodes.select(
        F.col("id").alias("node"), F.lit(None).cast(_LABEL).alias("label"),
        F.lit(False).alias("changed"),
    ))
    labels = cp(start.repartition(parts, "node"))
    rounds = 0
    for rounds in range(1, max_rounds + 1):
        sent = labels.filter("changed").select(F.col("node").alias("src"), "label")
        offered = F.struct((F.col("label.hops") + 1).alias("hops"), F.col("label.key").alias("key"))
        best = (
            sent.join(edges, "src")
            .groupBy(F.col("dst").alias("node"))
            .agg(F.min(offered).alias("offer"))
        )
        improves = F.when(F.col("label").isNull(), F.col("offer").isNotNull()).otherwise(
            F.coalesce(F.col("offer") < F.col("label"), F.lit(False)))
        following = cp(
            labels.select("node", "label").join(best, "node", "left")
            .select("node", F.least("label", "offer").alias("label"), improves.alias("changed"))
        )
        cp.release(labels)
        labels = following
        changed = labels.filter("changed").count()
        log.info("identity nearest customer: round %d, %d identifiers changed", rounds, changed)
        if changed == 0:
            break
    cp.release(edges)
    return labels.select("node", "label"), rounds


@dataclass(frozen=True)
class Labels:
    """The labelling of one graph. DataFrames stay valid until ``cp`` is released."""

    labels: DataFrame  # node, one_id, customer_id
    exploded_components: DataFrame  # node (smallest of the component), customers
    cc_rounds: int
    bfs_rounds: int


def _anon_one_id(smallest: Column) -> Column:
    return F.concat(F.lit("anon-"), F.substring(F.sha2(smallest, 256), 1, 16))


def label_identities(
    graph: IdentityGraph, cp: Checkpoints, *, max_customers: int, max_rounds: int
) -> Labels:
    """Every node's ONE_ID (rules in the module docstring).

    Runs with adaptive query execution off (restored afterwards): the rounds rely on
    the partitioning of checkpointed DataFrames, which AQE hides.
    """
    spark = graph.nodes.sparkSession
    with _co_partitioned_plans(spark):
        return _label(graph, cp, max_customers=max_customers, max_rounds=max_rounds)


def _label(graph: IdentityGraph, cp: Checkpoints, *, max_customers: int, max_rounds: int) -> Labels:
    cust = is_customer(F.col("node"))
    ids = integer_ids(graph.nodes, cp).select(
        "node", "id", F.when(cust, node_value(F.col("node"))).alias("customer_id"))
    n_nodes = ids.count()
    by_src = ids.select(F.col("node").alias("src"), F.col("id").alias("s"),
                        F.col("customer_id").alias("s_cust"))
    by_dst = ids.select(F.col("node").alias("dst"), F.col("id").alias("d"),
                        F.col("customer_id").alias("d_cust"))
    # Integer edges, both directions, with the customer_id of customer ends (no edge joins
    # two customers: build_graph drops those).
    edges = cp(graph.edges.join(by_src, "src").join(by_dst, "dst").select("s", "d", "s_cust", "d_cust"))
    anon_pair = F.col("s_cust").isNull() & F.col("d_cust").isNull()
    to_customer = F.col("s_cust").isNull() & F.col("d_cust").isNotNull()

    found = connected_components(
        edges.filter(anon_pair & (F.col("s") > F.col("d")))
        .select(F.col("s").alias("hi"), F.col("d").alias("lo")),
        cp, max_rounds=cc_round_limit(n_nodes),
    )
    log.info("identity: anonymous components in %d iterations (%d nodes)", found.rounds, n_nodes)
    # Every anonymous node with its component (a node with no anonymous edge: its own).
    anon = (
        ids.filter(F.col("customer_id").isNull())
        .join(found.components, "id", "left")
        .select("node", "id", F.coalesce(F.col("comp"), F.col("id")).alias("comp"))
    )
    anon = cp(anon)
    linked = (
        edges.filter(to_customer)
        .join(anon.select(F.col("id").alias("s"), "comp"), "s")
        .select("comp", F.col("d_cust").alias("customer_id"))
        .distinct()
        .groupBy("comp")
        .agg(F.count(F.lit(1)).alias("customers"), F.min("customer_id").alias("first_customer"))
    )
    summary = cp(
        anon.groupBy("comp").agg(F.min("node").alias("smallest"))
        .join(linked, "comp", "left")
        .select("comp", "smallest", F.coalesce(F.col("customers"), F.lit(0)).alias("customers"),
                "first_customer")
    )
    shared = F.col("customers").between(2, max_customers)
    mid = anon.join(summary.filter(shared).select("comp"), "comp").select("id")
    bfs_rounds = 0
    nearest: DataFrame | None = None
    if not summary.filter(shared).isEmpty():
        mid_ids = mid
        seeds = (
            edges.filter(to_customer).join(mid_ids.withColumnRenamed("id", "s"), "s")
            .select(F.col("d").alias("id"), F.col("d_cust").alias("customer_id")).distinct()
        )
        hop_edges = (
            edges.filter(anon_pair).join(mid_ids.withColumnRenamed("id", "s"), "s")
            .select(F.col("s").alias("src"), F.col("d").alias("dst"))
            .unionByName(
                edges.filter(to_customer).join(mid_ids.withColumnRenamed("id", "s"), "s")
                .select(F.col("d").alias("src"), F.col("s").alias("dst")))
        )
        nearest, bfs_rounds = nearest_customers(seeds, mid, hop_edges, cp, max_rounds=max_rounds)
        unreached = nearest.filter(F.col("label").isNull()).count()  # seeds have labels
        log.log(
            logging.WARNING if unreached else logging.INFO,
            "identity: nearest customer in %d rounds (identity.max_rounds=%d); %d identifiers "
            "further than that took the smallest customer_id of their component",
            bfs_rounds, max_rounds, unreached,
        )
    labelled = anon.join(summary, "comp")
    if nearest is not None:
        labelled = labelled.join(
            nearest.select(F.col("node").alias("id"), F.col("label.key").alias("nearest")),
            "id", "left")
    else:
        labelled = labelled.withColumn("nearest", F.lit(None).cast("string"))
    customers = F.col("customers")
    owner = (
        F.when(customers == 1, F.col("first_customer"))
        .when(shared, F.coalesce(F.col("nearest"), F.col("first_customer")))
    )
    anon_rows = labelled.select(
        "node", F.coalesce(owner, _anon_one_id(F.col("smallest"))).alias("one_id"),
        owner.alias("customer_id"))
    customer_rows = ids.filter(F.col("customer_id").isNotNull()).select(
        "node", F.col("customer_id").alias("one_id"), "customer_id")
    exploded = summary.filter(customers > max_customers).select(
        F.col("smallest").alias("node"), "customers")
    return Labels(anon_rows.unionByName(customer_rows), exploded, found.rounds, bfs_rounds)


def one_ids(labels: DataFrame) -> DataFrame:
    """``id_type, id_value, one_id, customer_id`` from ``node, one_id, customer_id``."""
    return labels.select(
        node_type(F.col("node")).alias("id_type"),
        node_value(F.col("node")).alias("id_value"),
        "one_id", "customer_id",
    )
