"""Graph shapes that stopped the breadth-first labelling: long chains, a big star, a
customer with many anonymous neighbours. All in one graph (one labelling run):

* chain 1: customer A - a1 - ... - a5000 (one customer at one end);
* chain 2: customer B - b1 - ... - b5000 - customer C (customers at both ends);
* star: anonymous device ``hub`` linked to 20,000 cookies, customer S on cookie 1;
* fan-out: customer F linked to 100,000 devices.

The 1M-node star is in ``python -m scripts.bench identity``.
"""

from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.identity.graph import Checkpoints, build_graph, label_identities

CHAIN, STAR, FANOUT = 5000, 20_000, 100_000
ROUNDS = 3  # identity.max_rounds here: chain 2's middle is far beyond it


def _value(prefix: str, col: Column) -> Column:
    return F.concat(F.lit(prefix), F.lpad(col.cast("string"), 8, "0"))


def _links(df: DataFrame, ta: str, va: Column, tb: str, vb: Column) -> DataFrame:
    return df.select(F.lit(ta).alias("id_type_a"), va.alias("id_value_a"),
                     F.lit(tb).alias("id_type_b"), vb.alias("id_value_b"))


def _shapes(spark: SparkSession) -> DataFrame:
    i = F.col("id")
    chains = [
        _links(spark.range(1, CHAIN), "device_id", _value(p, i), "device_id", _value(p, i + 1))
        for p in ("a", "b")
    ]
    star = _links(spark.range(1, STAR + 1), "device_id", F.lit("hub"), "web_cookie", _value("s", i))
    fan = _links(spark.range(1, FANOUT + 1), "customer_id", F.lit("F"), "device_id", _value("f", i))
    ends = spark.createDataFrame([
        ("customer_id", "A", "device_id", "a00000001"),
        ("customer_id", "B", "device_id", "b00000001"),
        ("device_id", f"b{CHAIN:08d}", "customer_id", "C"),
        ("customer_id", "S", "web_cookie", "s00000001"),
    ], chains[0].schema)
    out = ends
    for part in (*chains, star, fan):
        out = out.unionByName(part)
    return out


def test_long_chains_big_star_and_fan_out_converge(spark: SparkSession) -> None:
    customers = spark.createDataFrame([(c,) for c in "ABCSF"], "customer_id string")
    graph = build_graph(
        links=_shapes(spark), events=spark.createDataFrame([], "id_type string, id_value string"),
        customers=customers, max_customers=3,
    ).persist()
    before = int(spark.sparkContext._jsc.getPersistentRDDs().size())  # type: ignore[union-attr]
    with Checkpoints(spark, reliable=False) as cp:
        labels = label_identities(graph, cp, max_customers=3, max_rounds=ROUNDS)
        per = {r["one_id"]: r["n"] for r in
               labels.labels.groupBy("one_id").agg(F.count(F.lit(1)).alias("n")).collect()}
        # Chain 2 beyond ROUNDS hops of both ends: the smaller customer, B.
        near_c = sorted(r["node"] for r in labels.labels.filter(F.col("one_id") == "C").collect())
        assert labels.exploded_components.isEmpty()
        cc_rounds, bfs_rounds = labels.cc_rounds, labels.bfs_rounds
    graph.unpersist()
    assert per == {
        "A": CHAIN + 1,
        "B": CHAIN - ROUNDS + 1,
        "C": ROUNDS + 1,
        "S": STAR + 2,
        "F": FANOUT + 1,
    }
    assert near_c == ["customer_id:C"] + [f"device_id:b{CHAIN - k:08d}" for k in (2, 1, 0)]
    # Rounds do not grow with the diameter (5,000): a small multiple of log2 of the chain.
    assert 1 <= cc_rounds <= 2 * math.ceil(math.log2(CHAIN))
    assert bfs_rounds == ROUNDS
    assert int(spark.sparkContext._jsc.getPersistentRDDs().size()) == before  # type: ignore[union-attr]
