"""The ``audiences`` stage: audience lists with control groups, exports, post-evaluation.

Reads ``gold/customer_tags_wide`` and ``gold/segments`` of one as-of date, evaluates every
audience of ``audiences.definitions`` in one pass, writes ``gold/audience_members``,
exports the target group of each audience that asks for it (a new file set per run
with its manifest written last: :mod:`sparkseg.audiences.exports`), and (when
``audiences.evaluation.enabled``) evaluates the latest earlier audience whose campaign
window has closed (:func:`sparkseg.audiences.evaluation.evaluate_due`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from pyspark.sql import DataFrame, SparkSession

from sparkseg.audiences.definitions import AudiencePlan, load_plan
from sparkseg.audiences.evaluation import evaluate_due
from sparkseg.audiences.exports import write_export_set
from sparkseg.audiences.membership import (
    audience_members,
    group_sizes,
    with_as_of,
    with_tag_columns_from_wide,
)
from sparkseg.audiences.tables import AUDIENCE_MEMBERS
from sparkseg.config import Config
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.segment.tables import read_segments
from sparkseg.tags.sandbox import without_sql_on_files
from sparkseg.tags.tables import CUSTOMER_TAGS_WIDE

log = logging.getLogger(__name__)


def audience_frame(lake: Lakehouse, plan: AudiencePlan, as_of: dt.date) -> DataFrame:
    """One row per tagged customer: a column per tag plus the segment columns."""
    wide = lake.read_as_of(CUSTOMER_TAGS_WIDE.name, as_of, hint="run `sparkseg tags` first")
    tags = wide.select("one_id", "tags").transform(with_tag_columns_from_wide, rules=plan.rules)
    return tags.join(read_segments(lake, as_of), "one_id", "left")


def _sizes(members: DataFrame, plan: AudiencePlan) -> dict[str, dict[str, int]]:
    sizes: dict[str, dict[str, int]] = {a.name: {"target": 0, "control": 0} for a in plan.audiences}
    for r in group_sizes(members).collect():
        sizes[r["audience"]][r["group"]] = int(r["customers"])
    return sizes


def _format_sizes(sizes: dict[str, dict[str, int]]) -> list[str]:
    width = max([8, *(len(n) for n in sizes)])
    lines = [f"{'audience':<{width}}  {'target':>10}  {'control':>10}  {'total':>10}"]
    for name, g in sizes.items():
        total = g["target"] + g["control"]
        lines.append(f"{name:<{width}}  {g['target']:>10}  {g['control']:>10}  {total:>10}")
    return lines


@without_sql_on_files
def dry_run(spark: SparkSession, cfg: Config, as_of: dt.date) -> dict[str, dict[str, int]]:
    """Print each audience's target and control sizes; write nothing.

    Returns ``{audience: {"target": n, "control": m}}``.
    """
    plan = load_plan(spark, cfg)
    lake = Lakehouse(spark, cfg)
    members = audience_members(audience_frame(lake, plan, as_of), audiences=plan.audiences)
    sizes = _sizes(members, plan)
    print(f"audiences of {as_of} (dry run, nothing written):")
    for line in _format_sizes(sizes):
        print(line)
    return sizes


@without_sql_on_files
def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    plan = load_plan(spark, cfg)
    lake = Lakehouse(spark, cfg)
    members = audience_members(audience_frame(lake, plan, as_of), audiences=plan.audiences)
    replace = {"as_of_date": as_of}
    lake.write(
        members.transform(with_as_of, as_of=as_of), AUDIENCE_MEMBERS,
        mode="overwrite_partitions", replace=replace,
    )
    # Exports and sizes come from the committed table, so they match it exactly.
    written = lake.read(AUDIENCE_MEMBERS, partitions=replace)
    led = ledger.current()
    run_id = led.run_id if led is not None else uuid.uuid4().hex[:16]
    for audience in plan.audiences:
        if audience.export is not None:
            # A new set folder per run, its manifest published last (audiences/exports.py).
            done = write_export_set(lake, written, audience, as_of, run_id=run_id,
                                    files=cfg.audiences.export_files)
            if led is not None:
                led.record_export(audience.name, done.folder[len(lake.root) + 1:])
            log.info("exported audience %s (%s, %s rows) to %s", audience.name,
                     audience.export, done.manifest["rows"], done.folder)
    for line in _format_sizes(_sizes(written, plan)):
        log.info("audiences %s: %s", as_of, line)
    if cfg.audiences.evaluation.enabled:
        evaluate_due(spark, cfg, as_of)
