"""Rounds and seconds of identity labelling on the graph shapes that stop a BFS.

    python -m scripts.bench identity --chain 5000 --star 1000000 --fanout 100000 \
        --master 'local[2]'

Shapes (built with ``spark.range``, no files): a chain of ``--chain`` anonymous
identifiers with a customer at one end (and, as ``chain2``, at both ends), a star of
``--star`` anonymous leaves around an anonymous centre with one customer on a leaf, and
a customer linked to ``--fanout`` anonymous devices. For each: connected-components
iterations, BFS rounds, seconds (graph build to the labels written to a no-op sink),
and a check of the result. ``--size 0`` skips a shape.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import SparkConfig
from sparkseg.identity.graph import Checkpoints, build_graph, label_identities
from sparkseg.session import build_session

Shape = tuple[DataFrame, DataFrame]  # links (id_type_a, id_value_a, id_type_b, id_value_b), customers


def padded(col: F.Column) -> F.Column:
    return F.lpad(col.cast("string"), 8, "0")


def link_frame(df: DataFrame, ta: str, va: F.Column, tb: str, vb: F.Column) -> DataFrame:
    return df.select(F.lit(ta).alias("id_type_a"), va.alias("id_value_a"),
                     F.lit(tb).alias("id_type_b"), vb.alias("id_value_b"))


def chain(spark: SparkSession, n: int, *, both_ends: bool) -> Shape:
    """customer A - device 1 - device 2 - ... - device n (- customer B)."""
    i = F.col("id")
    links = link_frame(spark.range(1, n), "device_id", padded(i), "device_id", padded(i + 1))
    ends = [("customer_id", "A", "device_id", f"{1:08d}")]
    if both_ends:
        ends.append(("device_id", f"{n:08d}", "customer_id", "B"))
    links = links.unionByName(spark.createDataFrame(ends, links.schema))
    names = ["A", "B"] if both_ends else ["A"]
    return links, spark.createDataFrame([(c,) for c in names], "customer_id string")


def star(spark: SparkSession, n: int) -> Shape:
    """Anonymous centre device linked to n cookies; customer S on cookie 1."""
    links = link_frame(spark.range(1, n + 1), "device_id", F.lit("hub"), "web_cookie", padded(F.col("id")))
    links = links.unionByName(spark.createDataFrame(
        [("customer_id", "S", "web_cookie", f"{1:08d}")], links.schema))
    return links, spark.createDataFrame([("S",)], "customer_id string")


def fanout(spark: SparkSession, n: int) -> Shape:
    """Customer F linked to n devices."""
    links = link_frame(spark.range(1, n + 1), "customer_id", F.lit("F"), "device_id", padded(F.col("id")))
    return links, spark.createDataFrame([("F",)], "customer_id string")


def label(spark: SparkSession, shape: Shape, *, max_rounds: int = 30) -> tuple[int, int, dict[str, int]]:
    """cc rounds, bfs rounds, identifiers per one_id (a small dict: a few customers)."""
    links, customers = shape
    events = spark.createDataFrame([], "id_type string, id_value string")
    graph = build_graph(links=links, events=events, customers=customers, max_customers=3).persist()
    try:
        with Checkpoints(spark, reliable=False) as cp:
            labels = label_identities(graph, cp, max_customers=3, max_rounds=max_rounds)
            per = {r["one_id"]: r["n"] for r in
                   labels.labels.groupBy("one_id").agg(F.count(F.lit(1)).alias("n")).collect()}
            return labels.cc_rounds, labels.bfs_rounds, per
    finally:
        graph.unpersist()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m scripts.bench identity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chain", type=int, default=5000)
    ap.add_argument("--star", type=int, default=1_000_000)
    ap.add_argument("--fanout", type=int, default=100_000)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--driver-memory", default="4g")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # sparkseg's session (no lakehouse engine: the graphs are built in memory, no tables).
    spark = build_session(SparkConfig(
        master=args.master, app_name="bench-identity", shuffle_partitions=args.partitions,
        driver_memory=args.driver_memory, log_level="ERROR", show_progress=False,
        checkpoint_dir=tempfile.mkdtemp(prefix="bench-identity-"),
    ))
    shapes: list[tuple[str, int, Callable[[], Shape], Callable[[dict[str, int]], bool]]] = [
        ("chain", args.chain, lambda: chain(spark, args.chain, both_ends=False),
         lambda per: per == {"A": args.chain + 1}),
        ("chain2", args.chain, lambda: chain(spark, args.chain, both_ends=True),
         lambda per: per == {"A": args.chain + 1 - 30, "B": 31}),
        ("star", args.star, lambda: star(spark, args.star), lambda per: per == {"S": args.star + 2}),
        ("fanout", args.fanout, lambda: fanout(spark, args.fanout),
         lambda per: per == {"F": args.fanout + 1}),
    ]
    ok = True
    print("shape   nodes      log2   cc_iterations  bfs_rounds  seconds  check")
    for name, size, build, check in shapes:
        if size <= 0:
            continue
        started = time.perf_counter()
        cc, bfs, per = label(spark, build())
        took = time.perf_counter() - started
        good = check(per)
        ok &= good
        print(f"{name:7} {size:<10} {math.log2(size):5.1f}  {cc:13}  {bfs:10}  {took:7.1f}  "
              f"{'ok' if good else per}", flush=True)
    spark.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
