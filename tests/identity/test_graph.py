"""ONE_ID labelling: chains, cycles, the explosion guard, customers never merged.

One graph holds every scenario as a separate component (ids are unique per scenario),
so that the propagation runs once for the module. Expectations are written by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.errors import ConvergenceError
from sparkseg.identity.graph import IdentityGraph, build_graph, one_ids
from sparkseg.identity.stage import checkpointing
from sparkseg.identity.tables import IDENTITY_MAP
from sparkseg.tables import RAW_CUSTOMERS, RAW_EVENTS, RAW_IDENTITY_LINKS
from tests.ingest.data import AFTER_AS_OF, AS_OF, customer, event, frame, link

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
]
MAP_SCHEMA = IDENTITY_MAP.schema[:4]


@dataclass
class Labelled:
    graph: IdentityGraph
    one_ids: DataFrame
    exploded: list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def labelled(spark: SparkSession) -> Iterator[Labelled]:
    graph = build_graph(
        links=frame(spark, RAW_IDENTITY_LINKS, LINKS),
        events=frame(spark, RAW_EVENTS, EVENTS),
        customers=frame(spark, RAW_CUSTOMERS, CUSTOMERS),
        max_customers=2,
        observed_before=F.lit(dt.datetime.combine(AS_OF, dt.time(), dt.UTC)),
    ).persist()
    # Reliable checkpoints (the test session has a checkpoint folder); the other tests use
    # the default local checkpoints.
    labels = propagate_labels(graph.nodes, graph.edges, max_rounds=10,
                              materialize=checkpointing(spark, "reliable"))
    result = one_ids(labels).localCheckpoint()
    exploded = sorted(tuple(r) for r in graph.exploded.collect())
    labels.unpersist()
    yield Labelled(graph, result, exploded)
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


def test_chain_longer_than_the_rounds_raises_convergence_error(labelled: Labelled) -> None:
    # a1 is three hops from C1: labels still change in round 1.
    with pytest.raises(ConvergenceError, match=r"identity\.max_rounds=1 rounds"):
        propagate_labels(labelled.graph.nodes, labelled.graph.edges, max_rounds=1)


def _reference_one_ids(
    links: list[tuple[str, str]], extra_nodes: list[str], max_customers: int
) -> dict[str, tuple[str, str | None]]:
    """node -> (one_id, customer_id) by plain Python: BFS per customer, union-find for the rest."""
    nodes = set(extra_nodes) | {n for e in links for n in e}
    adj: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in links:
        if a != b:
            adj[a].add(b)
            adj[b].add(a)

    def cust(n: str) -> bool:
        return n.startswith("customer_id:")

    exploded = {n for n in nodes if not cust(n) and sum(cust(m) for m in adj[n]) > max_customers}
    for n in nodes:
        adj[n] = set() if n in exploded else {m for m in adj[n] if m not in exploded}
        if cust(n):
            adj[n] = {m for m in adj[n] if not cust(m)}
    adj = {n: {m for m in ms if not (cust(n) and cust(m))} for n, ms in adj.items()}
    best: dict[str, tuple[int, str]] = {}
    for c in sorted(n for n in nodes if cust(n)):
        cid = c.split(":", 1)[1]
        dist, frontier = {c: 0}, [c]
        while frontier:
            nxt = []
            for n in frontier:
                for m in adj[n]:
                    if m not in dist and not cust(m):
                        dist[m] = dist[n] + 1
                        nxt.append(m)
            frontier = nxt
        for n, d in dist.items():
            best[n] = min(best.get(n, (d, cid)), (d, cid))
    out: dict[str, tuple[str, str | None]] = {n: (c, c) for n, (_, c) in best.items()}
    seen: set[str] = set()
    for start in sorted(nodes - set(best)):
        if start in seen:
            continue
        comp, stack = {start}, [start]
        while stack:
            for m in adj[stack.pop()]:
                if m not in comp:
                    comp.add(m)
                    stack.append(m)
        seen |= comp
        for n in comp:
            out[n] = (anon(min(comp)), None)
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
    labels = propagate_labels(graph.nodes, graph.edges, max_rounds=30)
    got = {f"{r['id_type']}:{r['id_value']}": (r["one_id"], r["customer_id"])
           for r in one_ids(labels).collect()}
    labels.unpersist()
    graph.unpersist()
    as_nodes = [(f"{a[0]}:{a[1]}", f"{b[0]}:{b[1]}") for a, b in pairs]
    expected = _reference_one_ids(as_nodes, [f"customer_id:{c}" for c in customers], 2)
    assert got == expected
    # The invariants that matter downstream, on a graph big enough to have chains.
    assert all(got[f"customer_id:{c}"] == (c, c) for c in customers)
