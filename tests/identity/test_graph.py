"""ONE_ID labelling: chains, cycles, the explosion guards, customers never merged.

One graph holds every scenario as a separate component (ids are unique per scenario),
so that labelling runs once for the module. Expectations are written by hand, one
scenario at least per branch: anonymous components linked to 0 customers (u-v-w), 1
(a1-b1-c1), 2..max (fam, x-y, m1-m3, h1-h4) and more than max (g1-g2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.identity.graph import (
    Checkpoints,
    IdentityGraph,
    build_graph,
    label_identities,
    one_ids,
)
from sparkseg.identity.stage import checkpointing
from sparkseg.identity.tables import IDENTITY_MAP
from sparkseg.tables import RAW_CUSTOMERS, RAW_EVENTS, RAW_IDENTITY_LINKS
from tests.support.ingest import AFTER_AS_OF, AS_OF, customer, event, link
from tests.support.rows import frame

CID, DEV, COOKIE, OPENID = "customer_id", "device_id", "web_cookie", "wechat_openid"


def anon(smallest: str) -> str:
    return "anon-" + hashlib.sha256(smallest.encode()).hexdigest()[:16]


LINKS = [
    # chain a1 - b1 - c1 - C1
    link(DEV, "a1", COOKIE, "b1"), link(COOKIE, "b1", OPENID, "c1"), link(OPENID, "c1", CID, "C1"),
    # cycle p - q - r - p hanging off C2
    link(DEV, "p", COOKIE, "q"), link(COOKIE, "q", OPENID, "r"), link(OPENID, "r", DEV, "p"),
    link(OPENID, "r", CID, "C2"),
    # anonymous cycle u - v - w - u
    link(DEV, "u", COOKIE, "v"), link(COOKIE, "v", DEV, "w"), link(DEV, "w", DEV, "u"),
    # tablet shared by three customers (max_customers_per_id=2 below): exploded
    link(CID, "C3", DEV, "tab"), link(CID, "C4", DEV, "tab"), link(CID, "C13", DEV, "tab"),
    # family device of two customers (within the limit): nearest customer, smallest id wins
    link(CID, "C15", DEV, "fam"), link(CID, "C14", DEV, "fam"), link(DEV, "fam", COOKIE, "ck"),
    # two customers joined by a chain of two non-customer nodes: C5 - x - y - C6
    link(CID, "C5", DEV, "x"), link(DEV, "x", COOKIE, "y"), link(COOKIE, "y", CID, "C6"),
    # m2 is two hops from C7 and from C8: the smaller customer_id wins the tie
    link(CID, "C7", DEV, "m1"), link(DEV, "m1", COOKIE, "m2"), link(COOKIE, "m2", DEV, "m3"),
    link(DEV, "m3", CID, "C8"),
    # a direct customer-to-customer link
    link(CID, "C9", CID, "C10"),
    # anonymous pair, and the same link twice plus a self-link
    link(COOKIE, "k1", DEV, "k2"), link(DEV, "k2", COOKIE, "k1"), link(DEV, "k2", DEV, "k2"),
    # learnt after the as-of: a node, but no merge
    link(CID, "C12", DEV, "late", ts=AFTER_AS_OF),
    # no identifier links more than 2 customers, but the component g1-g2 links 3:
    # attributed to nobody, reported as a component
    link(CID, "C20", DEV, "g1"), link(CID, "C21", DEV, "g1"), link(DEV, "g1", COOKIE, "g2"),
    link(COOKIE, "g2", CID, "C22"),
    # C18 - h1 - h2 - h3 - h4 - C17: h2 is nearer C18 (2 hops, 3 to C17)
    link(CID, "C18", DEV, "h1"), link(DEV, "h1", DEV, "h2"), link(DEV, "h2", DEV, "h3"),
    link(DEV, "h3", DEV, "h4"), link(DEV, "h4", CID, "C17"),
]
EVENTS = [event("e1", id_type=DEV, id_value="lonely"), event("e2", id_type=CID, id_value="C11"),
          event("e3", id_type=DEV, id_value="a1")]
CUSTOMERS = [customer("C1"), customer("C2"), customer("C12")]

EXPECTED = [
    (DEV, "a1", "C1", "C1"), (COOKIE, "b1", "C1", "C1"), (OPENID, "c1", "C1", "C1"),
    (CID, "C1", "C1", "C1"),
    (DEV, "p", "C2", "C2"), (COOKIE, "q", "C2", "C2"), (OPENID, "r", "C2", "C2"),
    (CID, "C2", "C2", "C2"),
    (DEV, "u", anon("device_id:u"), None), (COOKIE, "v", anon("device_id:u"), None),
    (DEV, "w", anon("device_id:u"), None),
    (CID, "C3", "C3", "C3"), (CID, "C4", "C4", "C4"), (CID, "C13", "C13", "C13"),
    (DEV, "tab", anon("device_id:tab"), None),
    (CID, "C14", "C14", "C14"), (CID, "C15", "C15", "C15"), (DEV, "fam", "C14", "C14"),
    (COOKIE, "ck", "C14", "C14"),
    (CID, "C5", "C5", "C5"), (DEV, "x", "C5", "C5"), (COOKIE, "y", "C6", "C6"),
    (CID, "C6", "C6", "C6"),
    (CID, "C7", "C7", "C7"), (DEV, "m1", "C7", "C7"), (COOKIE, "m2", "C7", "C7"),
    (DEV, "m3", "C8", "C8"), (CID, "C8", "C8", "C8"),
    (CID, "C9", "C9", "C9"), (CID, "C10", "C10", "C10"),
    (COOKIE, "k1", anon("device_id:k2"), None), (DEV, "k2", anon("device_id:k2"), None),
    (DEV, "lonely", anon("device_id:lonely"), None), (CID, "C11", "C11", "C11"),
    (CID, "C12", "C12", "C12"), (DEV, "late", anon("device_id:late"), None),
    (CID, "C20", "C20", "C20"), (CID, "C21", "C21", "C21"), (CID, "C22", "C22", "C22"),
    (DEV, "g1", anon("device_id:g1"), None), (COOKIE, "g2", anon("device_id:g1"), None),
    (CID, "C17", "C17", "C17"), (CID, "C18", "C18", "C18"),
    (DEV, "h1", "C18", "C18"), (DEV, "h2", "C18", "C18"), (DEV, "h3", "C17", "C17"),
    (DEV, "h4", "C17", "C17"),
]
MAP_SCHEMA = IDENTITY_MAP.schema[:4]


@dataclass
class Labelled:
    graph: IdentityGraph
    one_ids: DataFrame
    exploded: list[tuple[Any, ...]]
    components: list[tuple[Any, ...]]
    cc_rounds: int
    # Materialised RDDs and checkpoint files before labelling and after the release.
    persisted: tuple[int, int]
    files: tuple[set[str], set[str]]


def _persistent_rdds(spark: SparkSession) -> int:
    return int(spark.sparkContext._jsc.getPersistentRDDs().size())  # type: ignore[union-attr]


def _checkpoint_files(spark: SparkSession) -> set[str]:
    folder = spark.sparkContext.getCheckpointDir()
    assert folder is not None
    return {str(p) for p in Path(folder.removeprefix("file:")).rglob("rdd-*")}


def _graph(spark: SparkSession) -> IdentityGraph:
    return build_graph(
        links=frame(spark, RAW_IDENTITY_LINKS, LINKS),
        events=frame(spark, RAW_EVENTS, EVENTS),
        customers=frame(spark, RAW_CUSTOMERS, CUSTOMERS),
        max_customers=2,
        observed_before=F.lit(dt.datetime.combine(AS_OF, dt.time(), dt.UTC)),
    ).persist()


@pytest.fixture(scope="module")
def labelled(spark: SparkSession) -> Iterator[Labelled]:
    graph = _graph(spark)
    exploded = sorted(tuple(r) for r in graph.exploded.collect())
    before = _persistent_rdds(spark), _checkpoint_files(spark)
    # Reliable checkpoints (the test session has a checkpoint folder); the other tests use
    # local checkpoints.
    with checkpointing(spark, "reliable") as cp:
        assert cp.reliable
        labels = label_identities(graph, cp, max_customers=2, max_rounds=10)
        result = spark.createDataFrame(one_ids(labels.labels).collect(), MAP_SCHEMA)
        components = sorted(tuple(r) for r in labels.exploded_components.collect())
        cc_rounds = labels.cc_rounds
    after = _persistent_rdds(spark), _checkpoint_files(spark)
    yield Labelled(graph, result, exploded, components, cc_rounds,
                   (before[0], after[0]), (before[1], after[1]))
    graph.unpersist()


def _one_id(labelled: Labelled, id_type: str, id_value: str) -> str:
    row = labelled.one_ids.filter((F.col("id_type") == id_type) & (F.col("id_value") == id_value))
    return str(row.first()["one_id"])


def test_every_identifier_gets_the_hand_computed_one_id(
    spark: SparkSession, labelled: Labelled
) -> None:
    expected = spark.createDataFrame(EXPECTED, MAP_SCHEMA)
    assert_df_equality(labelled.one_ids, expected, ignore_row_order=True, ignore_nullable=True)


def test_chain_of_identifiers_reaches_its_customer(labelled: Labelled) -> None:
    ids = [(DEV, "a1"), (COOKIE, "b1"), (OPENID, "c1")]
    assert {_one_id(labelled, t, v) for t, v in ids} == {"C1"}


def test_cycle_converges_to_one_label(labelled: Labelled) -> None:
    ids = [(DEV, "u"), (COOKIE, "v"), (DEV, "w")]
    assert {_one_id(labelled, t, v) for t, v in ids} == {anon("device_id:u")}


def test_device_of_too_many_customers_is_reported_with_its_degree_and_merges_nobody(
    labelled: Labelled,
) -> None:
    assert labelled.exploded == [("device_id:tab", 3)]
    got = [_one_id(labelled, CID, c) for c in ("C3", "C4", "C13")]
    assert got == ["C3", "C4", "C13"]
    assert _one_id(labelled, DEV, "tab") == anon("device_id:tab")


def test_device_within_the_limit_goes_to_the_nearest_customer_smallest_id_first(
    labelled: Labelled,
) -> None:
    assert [_one_id(labelled, DEV, "fam"), _one_id(labelled, COOKIE, "ck")] == ["C14", "C14"]
    assert _one_id(labelled, CID, "C15") == "C15"


def test_customers_linked_through_two_identifiers_stay_apart(labelled: Labelled) -> None:
    assert [_one_id(labelled, DEV, "x"), _one_id(labelled, COOKIE, "y")] == ["C5", "C6"]
    assert _one_id(labelled, CID, "C6") == "C6"


def test_identifier_equidistant_from_two_customers_takes_the_smaller_id(
    labelled: Labelled,
) -> None:
    got = [_one_id(labelled, DEV, "m1"), _one_id(labelled, COOKIE, "m2"),
           _one_id(labelled, DEV, "m3")]
    assert got == ["C7", "C7", "C8"]


def test_no_one_id_holds_two_customers(labelled: Labelled) -> None:
    customers = labelled.one_ids.filter(F.col("id_type") == CID)
    assert customers.groupBy("one_id").count().filter("count > 1").count() == 0
    assert customers.filter(F.col("one_id") != F.col("id_value")).count() == 0


def test_link_observed_after_the_as_of_does_not_merge(labelled: Labelled) -> None:
    assert _one_id(labelled, DEV, "late") == anon("device_id:late")
    assert _one_id(labelled, CID, "C12") == "C12"


def test_component_linked_to_too_many_customers_is_anonymous_and_reported(
    labelled: Labelled,
) -> None:
    # g1 links 2 customers directly (within the limit), the component g1-g2 links 3.
    assert labelled.components == [("device_id:g1", 3)]
    assert [_one_id(labelled, DEV, "g1"), _one_id(labelled, COOKIE, "g2")] == [
        anon("device_id:g1"), anon("device_id:g1")]
    assert [_one_id(labelled, CID, c) for c in ("C20", "C21", "C22")] == ["C20", "C21", "C22"]


def test_nearest_customer_within_a_component_of_two(labelled: Labelled) -> None:
    got = [_one_id(labelled, DEV, f"h{i}") for i in (1, 2, 3, 4)]
    assert got == ["C18", "C18", "C17", "C17"]


def test_checkpoints_are_released_files_deleted(labelled: Labelled) -> None:
    assert labelled.persisted[1] == labelled.persisted[0]
    before, after = labelled.files
    assert after == before


def test_identifiers_beyond_the_rounds_take_the_smallest_customer_of_their_component(
    spark: SparkSession, labelled: Labelled,
) -> None:
    # One round: h1 and h4 (1 hop) get their neighbour; h2 and h3 are not reached and
    # take C17, the smallest customer_id of the component (h2 is nearer C18); m2 takes
    # C7. Local checkpoints, released too.
    before = _persistent_rdds(spark)
    with Checkpoints(spark, reliable=False) as cp:
        labels = label_identities(labelled.graph, cp, max_customers=2, max_rounds=1)
        got = {(r["id_type"], r["id_value"]): r["one_id"] for r in one_ids(labels.labels)
               .filter(F.col("id_value").isin("h1", "h2", "h3", "h4", "m1", "m2", "m3", "a1"))
               .collect()}
        assert labels.bfs_rounds == 1
    assert got == {(DEV, "h1"): "C18", (DEV, "h2"): "C17", (DEV, "h3"): "C17",
                   (DEV, "h4"): "C17", (DEV, "m1"): "C7", (COOKIE, "m2"): "C7",
                   (DEV, "m3"): "C8", (DEV, "a1"): "C1"}
    assert _persistent_rdds(spark) == before


def _reference_one_ids(
    links: list[tuple[str, str]], extra_nodes: list[str], max_customers: int, max_rounds: int
) -> dict[str, tuple[str, str | None]]:
    """node -> (one_id, customer_id) by plain Python: components of the anonymous nodes
    by depth-first search, then the customers linked to each decide (module docstring of
    sparkseg.identity.graph), BFS per customer inside a component of 2..max."""
    nodes = set(extra_nodes) | {n for e in links for n in e}
    adj: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in links:
        if a != b:
            adj[a].add(b)
            adj[b].add(a)

    def cust(n: str) -> bool:
        return n.startswith("customer_id:")

    exploded = {n for n in nodes if not cust(n) and sum(cust(m) for m in adj[n]) > max_customers}
    adj = {n: set() if n in exploded else {m for m in ms if m not in exploded}
           for n, ms in adj.items()}
    out: dict[str, tuple[str, str | None]] = {
        n: (n.split(":", 1)[1], n.split(":", 1)[1]) for n in nodes if cust(n)}
    seen: set[str] = set()
    for start in sorted(n for n in nodes if not cust(n)):
        if start in seen:
            continue
        comp, stack = {start}, [start]
        while stack:
            for m in adj[stack.pop()]:
                if m not in comp and not cust(m):
                    comp.add(m)
                    stack.append(m)
        seen |= comp
        linked = sorted({m for n in comp for m in adj[n] if cust(m)})
        ids = [c.split(":", 1)[1] for c in linked]
        if len(ids) == 1:
            out.update({n: (ids[0], ids[0]) for n in comp})
            continue
        if not ids or len(ids) > max_customers:
            out.update({n: (anon(min(comp)), None) for n in comp})
            continue
        best: dict[str, tuple[int, str]] = {}
        for c, cid in zip(linked, ids, strict=True):
            dist, frontier = {c: 0}, [c]
            for hops in range(1, max_rounds + 1):
                frontier = [m for n in frontier for m in adj[n] if not cust(m)]
                frontier = [m for m in dict.fromkeys(frontier) if m not in dist]
                dist.update({m: hops for m in frontier})
            for n, d in dist.items():
                if n != c:
                    best[n] = min(best.get(n, (d, cid)), (d, cid))
        out.update({n: (best[n][1], best[n][1]) if n in best else (min(ids), min(ids))
                    for n in comp})
    return out


def test_random_graph_matches_a_plain_python_reference(spark: SparkSession) -> None:
    import random

    rng = random.Random(7)
    customers = [f"C{i:02d}" for i in range(40)]
    others = [(rng.choice([DEV, COOKIE, OPENID]), f"i{i}") for i in range(260)]
    ends = [(CID, c) for c in customers] + others
    pairs = [(rng.choice(ends), rng.choice(ends)) for _ in range(330)]
    links = [link(a[0], a[1], b[0], b[1]) for a, b in pairs]
    graph = build_graph(
        links=frame(spark, RAW_IDENTITY_LINKS, links),
        events=frame(spark, RAW_EVENTS, []),
        customers=frame(spark, RAW_CUSTOMERS, [customer(c) for c in customers]),
        max_customers=2,
    ).persist()
    with Checkpoints(spark, reliable=False) as cp:
        # Two rounds: some identifiers are further from every customer of their component.
        labels = label_identities(graph, cp, max_customers=2, max_rounds=2)
        got = {f"{r['id_type']}:{r['id_value']}": (r["one_id"], r["customer_id"])
               for r in one_ids(labels.labels).collect()}
    graph.unpersist()
    as_nodes = [(f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}") for a, b in pairs]
    expected = _reference_one_ids(as_nodes, [f"customer_id:{c}" for c in customers], 2, 2)
    assert got == expected
    # The invariants that matter downstream, on a graph big enough to have chains.
    assert all(got[f"customer_id:{c}"] == (c, c) for c in customers)
