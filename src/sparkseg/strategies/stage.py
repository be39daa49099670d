"""``sparkseg plan``: the contact plan of an as-of from the strategies file.

Reads ``silver/customer_features``, ``gold/audience_members`` and
``gold/customer_tags_wide`` of the as-of, the plans of the lookback days before it, the
response events of those days (``silver/events`` through ``silver/identity_map``) and
the optional do-not-contact table; writes the as-of's partition of
``gold/contact_plan`` (:mod:`sparkseg.strategies.plan`). It runs after ``sparkseg run``
(or the audiences stage) of the same as-of; it is not one of the stages of ``run``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.audiences.exports import write_set
from sparkseg.audiences.tables import AUDIENCE_MEMBERS
from sparkseg.config import Config
from sparkseg.errors import MissingTableError, SchemaMismatchError
from sparkseg.identity.tables import IDENTITY_MAP
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.silver import read_events
from sparkseg.strategies.definitions import StrategyBook, load_book, validate_strategies
from sparkseg.strategies.plan import RESPONSES_SCHEMA, candidates, contact_plan, habit_of
from sparkseg.strategies.tables import CONTACT_PLAN
from sparkseg.tables import RAW_EVENTS
from sparkseg.tags.inputs import FEATURES_TABLE
from sparkseg.tags.sandbox import without_sql_on_files
from sparkseg.tags.tables import CUSTOMER_TAGS_WIDE

log = logging.getLogger(__name__)


def _recent_plans(lake: Lakehouse, book: StrategyBook, as_of: dt.date) -> DataFrame:
    if not lake.exists(CONTACT_PLAN):
        return lake.spark.createDataFrame([], CONTACT_PLAN.schema)
    days = [as_of - dt.timedelta(days=n) for n in range(1, book.lookback_days + 1)]
    return lake.read(CONTACT_PLAN, partitions={"as_of_date": days})


def _responses(lake: Lakehouse, book: StrategyBook, as_of: dt.date) -> DataFrame:
    """``one_id, campaign_id, day`` of the response events in the lookback before as-of."""
    start = as_of - dt.timedelta(days=book.lookback_days)
    events = read_events(lake, RAW_EVENTS, start=start, end=as_of).where(
        F.col("event_type").isin(*book.policy.response_events))
    identity = lake.read_as_of(IDENTITY_MAP, as_of, hint="run `sparkseg identity` first")
    identity = identity.select("id_type", "id_value", "one_id")
    return events.join(identity, ["id_type", "id_value"]).select(
        "one_id", "campaign_id", F.to_date("event_ts").alias("day")
    ).distinct()


def _do_not_contact(lake: Lakehouse, book: StrategyBook, features: DataFrame) -> DataFrame | None:
    """``one_id`` of the customers on the do-not-contact table (by ``customer_id``)."""
    name = book.policy.do_not_contact
    if name is None:
        return None
    if not lake.exists(name):
        raise MissingTableError(name, lake.uri(name), f"policy.do_not_contact of {book.source}")
    listed = lake.read(name)
    if "customer_id" not in listed.columns:
        raise SchemaMismatchError(name, missing=["customer_id"])
    ids = listed.select(F.col("customer_id").cast("string").alias("customer_id")).distinct()
    return features.select("one_id", "customer_id").join(ids, "customer_id").select("one_id")


@without_sql_on_files
def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    book = load_book(spark, cfg)
    lake = Lakehouse(spark, cfg)
    features = lake.read_as_of(FEATURES_TABLE, as_of, hint="run `sparkseg features` first")
    # The real columns must carry the expressions too (schemas only, no job).
    validate_strategies(spark, book.strategies, features=features.schema,
                        audiences={a for s in book.strategies for a in s.audiences},
                        metrics={g for s in book.strategies for g in s.goal}, source=book.source)
    members = lake.read_as_of(AUDIENCE_MEMBERS, as_of, hint="run `sparkseg audiences` first")
    wide = lake.read_as_of(CUSTOMER_TAGS_WIDE.name, as_of, hint="run `sparkseg tags` first")
    fresh = candidates(features, members, habit_of(wide), _do_not_contact(lake, book, features),
                       strategies=book.strategies)
    recent = _recent_plans(lake, book, as_of)
    responses = (_responses(lake, book, as_of) if not recent.isEmpty()
                 else spark.createDataFrame([], RESPONSES_SCHEMA))
    rows = contact_plan(fresh, recent, responses, strategies=book.strategies,
                        policy=book.policy, as_of=as_of)
    replace = {"as_of_date": as_of}
    result = lake.write(rows, CONTACT_PLAN, mode="overwrite_partitions", replace=replace)
    log.info("plan %s: %d rows for %d strategies", as_of, result.rows, len(book.strategies))
    for line in plan_summary(lake, as_of):
        log.info("plan %s: %s", as_of, line)
    if book.policy.export is not None:
        export_channels(lake, cfg, book.policy.export, as_of)


def to_send(plan: DataFrame) -> DataFrame:
    """The touches a marketing system sends: neither control nor over the cap."""
    return plan.where((F.col("group") != "control") & F.col("suppressed_by").isNull())


def export_channels(lake: Lakehouse, cfg: Config, fmt: str, as_of: dt.date) -> None:
    """One file set per channel with touches on the as-of (``exports/contact_plan_<channel>``),
    each published by its manifest like the audience exports; a channel without a touch
    that day gets no set."""
    plan = to_send(lake.read(CONTACT_PLAN, partitions={"as_of_date": as_of}))
    channels = sorted(r["channel"] for r in plan.select("channel").distinct().collect())
    led = ledger.current()
    run_id = led.run_id if led is not None else uuid.uuid4().hex[:16]
    for channel in channels:
        name = f"contact_plan_{channel}"
        rows = plan.where(F.col("channel") == channel).select(
            "one_id", "strategy", "launch_date", "step", "channel", "planned_date", "group")
        done = write_set(lake, rows, name, fmt, as_of, run_id=run_id,
                         files=cfg.audiences.export_files,
                         labels={"table": CONTACT_PLAN.name, "channel": channel})
        if led is not None:
            led.record_export(name, done.folder[len(lake.root) + 1:])
        log.info("exported %s touches of %s (%s rows) to %s", channel, as_of,
                 done.manifest["rows"], done.folder)


def plan_summary(lake: Lakehouse, as_of: dt.date) -> list[str]:
    """One line per strategy, step, channel and group (a few rows, read back)."""
    rows = (
        lake.read(CONTACT_PLAN, partitions={"as_of_date": as_of})
        .groupBy("strategy", "step", "channel", "group")
        .agg(F.count(F.lit(1)).alias("n"),
             F.count(F.col("suppressed_by")).alias("suppressed"))
        .orderBy("strategy", "step", "channel", "group")
        .collect()  # strategies x steps x channels x 3 rows
    )
    return [f"{r['strategy']} step {r['step']} {r['channel']} {r['group']}: {r['n']} "
            f"({r['suppressed']} over the touch cap)" for r in rows]
