"""How well the channel-habit tags recover the planted campaign-channel preferences.

For a warehouse where generated data went through the pipeline up to ``tags``:

    python -m scripts.eval.habit_agreement --config conf/local.yaml --as-of 2026-11-01

Reads ``gold/customer_tags`` (``channel_habit`` and ``lost``) of the as-of and the
planted ``raw/_truth_personas.preferred_channel`` (``app_push``, ``sms``, ``wechat`` or
``none``: opens nothing), and prints, per planted channel, how the customers were tagged
(a habit tag, ``lost``, or nothing) and the agreement: the share tagged with the planted
channel (``lost`` for ``none``). Also the precision of each tag (share of its customers
with that planted channel). Evaluation only: no stage reads the truth table.
Only per-channel counts reach the driver.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkseg.cli import common_parser, resolve_as_of, start_session
from sparkseg.config import load_config
from sparkseg.errors import SparksegError
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_TRUTH_PERSONAS
from sparkseg.tags.habit import HABIT_TAG, LOST_TAG
from sparkseg.tags.tables import CUSTOMER_TAGS

UNTAGGED = "(untagged)"
# The planted "none" preference corresponds to the lost group.
TRUTH_OF = {"wechat": "wechat", "app_push": "app_push", "sms": "sms", LOST_TAG: "none"}


def predicted_channel(tags: DataFrame) -> DataFrame:
    """``one_id, predicted`` (habit value, or ``lost``) from long tag rows of one as-of."""
    return (
        tags.where(F.col("tag").isin(HABIT_TAG, LOST_TAG))
        .select(
            "one_id",
            F.when(F.col("tag") == HABIT_TAG, F.col("value")).otherwise(F.lit(LOST_TAG)).alias(
                "predicted"
            ),
        )
        # A customer cannot be both (lost means no response at all); keep one if so.
        .groupBy("one_id")
        .agg(F.min("predicted").alias("predicted"))
    )


def confusion(truth: DataFrame, predicted: DataFrame) -> dict[tuple[str, str], int]:
    """Counts per (planted channel, predicted tag) over every customer with a truth row."""
    rows = (
        truth.select(F.col("customer_id").alias("one_id"), "preferred_channel")
        .join(predicted, "one_id", "left")
        .fillna({"predicted": UNTAGGED})
        .groupBy("preferred_channel", "predicted")
        .count()
        .collect()
    )
    return {(str(r["preferred_channel"]), str(r["predicted"])): int(r["count"]) for r in rows}


def report(cells: dict[tuple[str, str], int]) -> list[str]:
    planted = sorted({t for t, _ in cells})
    tags = [*sorted(TRUTH_OF), UNTAGGED]
    width = max(12, *(len(t) for t in tags))
    lines = [
        f"{'planted':<10} {'customers':>10} "
        + " ".join(f"{t:>{width}}" for t in tags)
        + f" {'agreement':>10}"
    ]
    for p in planted:
        total = sum(n for (t, _), n in cells.items() if t == p)
        match = sum(n for (t, tag), n in cells.items() if t == p and TRUTH_OF.get(tag) == p)
        counts = " ".join(f"{cells.get((p, t), 0):>{width}}" for t in tags)
        lines.append(f"{p:<10} {total:>10} {counts} {match / total:>10.1%}")
    lines.append("")
    lines.append("precision per tag (share of its customers with the planted channel):")
    for tag, truth in sorted(TRUTH_OF.items()):
        tagged = sum(n for (_, t), n in cells.items() if t == tag)
        right = cells.get((truth, tag), 0)
        share = f"{right / tagged:.1%}" if tagged else "n/a"
        lines.append(f"  {tag:<10} {tagged:>8} tagged, {share} planted {truth}")
    total = sum(cells.values())
    agree = sum(n for (t, tag), n in cells.items() if TRUTH_OF.get(tag) == t)
    lines.append(f"overall agreement {agree / total:.1%} of {total} customers" if total else "")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.eval.habit_agreement",
                                     parents=[common_parser()],
                                     description=__doc__.split("\n\n")[0])
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
        as_of = resolve_as_of(args, cfg)
        spark = start_session(cfg)
        try:
            lake = Lakehouse(spark, cfg)
            tags = lake.read(CUSTOMER_TAGS, partitions={"as_of_date": as_of})
            cells = confusion(lake.read(RAW_TRUTH_PERSONAS), predicted_channel(tags))
        finally:
            spark.stop()
    except SparksegError as err:
        print(f"habit_agreement: error: {err}", file=sys.stderr)
        return err.exit_code
    if not cells:
        print(f"no customers with planted preferences for {as_of}", file=sys.stderr)
        return 3
    print(f"channel-habit tags of {as_of} against planted preferred_channel:")
    for line in report(cells):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
