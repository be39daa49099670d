"""Agreement of the published segments with the planted personas of generated data.

For a warehouse where the pipeline ran on `sparkseg generate` data::

    python -m scripts.eval.segment_ari --set warehouse=/data/lake --as-of 2026-11-01

joins ``gold/segments`` (the as-of) with ``raw/_truth_personas`` on one_id = customer_id
(docs/contracts.md: a bank customer's one_id is its customer_id) and prints the
contingency table (segments x personas, counted in Spark; only the k x 8 counts reach
the driver) and the adjusted Rand index computed from it. Evaluation only: no stage
ever reads ``raw/_truth_personas``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from math import comb

from pyspark.sql import functions as F

from sparkseg.cli import common_parser, start_session
from sparkseg.config import load_config
from sparkseg.errors import SparksegError
from sparkseg.lakehouse import Lakehouse
from sparkseg.segment.tables import SEGMENTS
from sparkseg.tables import RAW_TRUTH_PERSONAS

Contingency = Mapping[tuple[int, str], int]


def adjusted_rand_index(table: Contingency) -> float:
    """Adjusted Rand index (Hubert & Arabie) from a (cluster, class) -> count table."""
    n = sum(table.values())
    rows: dict[int, int] = {}
    cols: dict[str, int] = {}
    for (r, c), v in table.items():
        rows[r] = rows.get(r, 0) + v
        cols[c] = cols.get(c, 0) + v
    index = sum(comb(v, 2) for v in table.values())
    sum_rows = sum(comb(v, 2) for v in rows.values())
    sum_cols = sum(comb(v, 2) for v in cols.values())
    total = comb(n, 2)
    expected = sum_rows * sum_cols / total if total else 0.0
    maximum = (sum_rows + sum_cols) / 2
    if maximum == expected:  # both partitions trivial (one group, or all singletons)
        return 1.0
    return (index - expected) / (maximum - expected)


def format_table(table: Contingency, names: Mapping[int, str]) -> str:
    segments = sorted({r for r, _ in table})
    personas = sorted({c for _, c in table})
    width = max(12, *(len(p) for p in personas))
    name_w = max([7, *(len(f"{s} {names.get(s, '')}") for s in segments)])
    lines = [f"{'segment':<{name_w}}" + "".join(f"{p:>{width + 1}}" for p in personas)]
    for s in segments:
        label = f"{s} {names.get(s, '')}".strip()
        lines.append(
            f"{label:<{name_w}}" + "".join(f"{table.get((s, p), 0):>{width + 1}}" for p in personas)
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.eval.segment_ari",
                                     parents=[common_parser()],
                                     description=__doc__.split("\n\n")[0],
                                     epilog="Without --as-of: the latest as_of_date in "
                                            "gold/segments (not the config's as_of).")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr)
    try:
        cfg = load_config(args.config, args.overrides)
    except SparksegError as err:
        print(f"segment_ari: {err}", file=sys.stderr)
        return err.exit_code
    spark = start_session(cfg)
    try:
        lake = Lakehouse(spark, cfg)
        as_of = args.as_of
        if as_of is None:
            row = lake.read(SEGMENTS).agg(F.max("as_of_date")).first()
            as_of = row[0] if row else None
        if as_of is None:
            print("segment_ari: gold/segments is empty; run the pipeline first", file=sys.stderr)
            return 3
        segments = lake.read(SEGMENTS, partitions={"as_of_date": as_of})
        truth = lake.read(RAW_TRUTH_PERSONAS).select(
            F.col("customer_id").alias("one_id"), "persona"
        )
        counts = (
            segments.join(truth, "one_id", "left")
            .groupBy("segment_id", "segment_name", "persona")
            .count()
            .collect()  # k x personas rows
        )
        table = {(r["segment_id"], r["persona"]): r["count"] for r in counts if r["persona"]}
        missing = sum(r["count"] for r in counts if not r["persona"])
        names = {r["segment_id"]: r["segment_name"] for r in counts}
        print(f"as-of {as_of}: {sum(table.values())} customers with a planted persona"
              + (f", {missing} without" if missing else ""))
        print(format_table(table, names))
        print(f"adjusted Rand index: {adjusted_rand_index(table):.4f}")
        return 0
    except SparksegError as err:
        print(f"segment_ari: {err}", file=sys.stderr)
        return err.exit_code
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
