"""``sparkseg evaluate``: the funnel and the uplift of the strategies launched on a day.

For launch date ``L`` (the ``--as-of``) and the window ``[L, L + window_days)``
(``audiences.evaluation.window_days``):

* ``gold/strategy_funnel``: per strategy, step, channel and group, the rows ``planned``
  in ``gold/contact_plan`` for launch ``L``, those ``sent`` (not control, not over the
  cap), those ``opened`` (a response event on the step's channel, ``push_opened`` for
  app push, ``sms_clicked``, ``wechat_msg_opened``, dated from the step's planned day to
  the window's end) and those ``converted`` (a goal metric of the strategy in the
  window, for the step's customer).
* ``gold/strategy_responses``: per customer with a sent touch, the step and channel they
  first opened on (their habit channel for this strategy), or nulls: the lost group.
* ``gold/strategy_evaluation``: per strategy and goal metric, the target group's
  response rate against the ``control`` group (the offer's uplift) and against the
  ``non_model`` group (the model's lift over a plain rule), with the interval of
  :mod:`sparkseg.audiences.evaluation`. Groups are as launched (step 1), whether or not a
  touch was later capped: intention to treat.

The window must be covered by the event (and transaction) data, as for the audience
evaluation, or the command stops (exit 5) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sparkseg.audiences.config import ResponseMetric
from sparkseg.audiences.evaluation import (
    latest_identity_map,
    window_responses,
    with_rate_difference,
    z_value,
)
from sparkseg.config import Config
from sparkseg.errors import DataQualityError, MissingTableError
from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import read_events
from sparkseg.strategies.definitions import Strategy, load_book
from sparkseg.strategies.tables import (
    CONTACT_PLAN,
    STRATEGY_EVALUATION,
    STRATEGY_FUNNEL,
    STRATEGY_RESPONSES,
)
from sparkseg.tables import RAW_EVENTS
from sparkseg.tags.sandbox import without_sql_on_files

log = logging.getLogger(__name__)

# The event that counts as an open of a touch on each channel.
OPEN_EVENT = {"app_push": "push_opened", "sms": "sms_clicked", "wechat": "wechat_msg_opened"}
OPENS_SCHEMA = "one_id string, channel string, day date"
GOALS_SCHEMA = "one_id string, metric string"


def funnel(
    plan: DataFrame, opens: DataFrame, goals: DataFrame, *, strategies: Sequence[Strategy],
    end: dt.date,
) -> DataFrame:
    """``strategy, launch_date, step, channel, group, planned, sent, opened, converted``.

    Needs ``gold/contact_plan`` rows of one launch date, ``opens`` (``one_id, channel,
    day``) and ``goals`` (``one_id, metric``: the goal metrics reached in the window).
    """
    goal_of = F.lit(None).cast("array<string>")
    for s in strategies:
        goal_of = F.when(F.col("strategy") == s.name,
                         F.array(*(F.lit(g) for g in s.goal)).cast("array<string>")
                         ).otherwise(goal_of)
    sent = (F.col("group") != "control") & F.col("suppressed_by").isNull()
    opened = (
        plan.join(opens, ["one_id", "channel"])
        .where((F.col("day") >= F.col("planned_date")) & (F.col("day") < F.lit(end)))
        .select("one_id", "strategy", "step").distinct().withColumn("_opened", F.lit(True))
    )
    reached = goals.groupBy("one_id").agg(F.collect_set("metric").alias("_metrics"))
    rows = (
        plan.join(opened, ["one_id", "strategy", "step"], "left")
        .join(reached, "one_id", "left")
        .withColumn("_converted", F.size(F.array_intersect(
            F.coalesce("_metrics", F.array().cast("array<string>")), goal_of)) > 0)
    )

    def count_if(cond: Column) -> Column:
        return F.sum(F.when(cond, 1).otherwise(0)).cast("long")

    return rows.groupBy("strategy", "launch_date", "step", "channel", "group").agg(
        F.count(F.lit(1)).alias("planned"),
        count_if(sent).alias("sent"),
        count_if(sent & F.coalesce(F.col("_opened"), F.lit(False))).alias("opened"),
        count_if(F.col("_converted")).alias("converted"),
    )


def first_responses(plan: DataFrame, opens: DataFrame, *, end: dt.date) -> DataFrame:
    """``one_id, strategy, group, touches, responded_step, responded_channel, responded_on``
    per customer with a sent touch: the step whose channel the customer first opened on
    (the earliest open on a sent step's channel from that step's planned day; a tie goes
    to the lower step), null for a customer who opened none of them (the lost group)."""
    sent = plan.where((F.col("group") != "control") & F.col("suppressed_by").isNull())
    hits = (
        sent.join(opens, ["one_id", "channel"])
        .where((F.col("day") >= F.col("planned_date")) & (F.col("day") < F.lit(end)))
        .groupBy("one_id", "strategy", "step", "channel").agg(F.min("day").alias("first_day"))
    )
    first = Window.partitionBy("one_id", "strategy").orderBy("first_day", "step")
    earliest = hits.withColumn("_n", F.row_number().over(first)).where(F.col("_n") == 1).select(
        "one_id", "strategy", F.col("step").alias("responded_step"),
        F.col("channel").alias("responded_channel"), F.col("first_day").alias("responded_on"))
    touched = sent.groupBy("one_id", "strategy", "group").agg(
        F.count(F.lit(1)).alias("touches"))
    return touched.join(earliest, ["one_id", "strategy"], "left")


def uplift(launched: DataFrame, goals: DataFrame, *, strategies: Sequence[Strategy],
           z: float) -> DataFrame:
    """Per strategy, goal metric and comparison group (``control``, ``non_model``): the
    target's responders against that group's, with the rate difference and interval.

    Needs step-1 rows ``one_id, strategy, group`` and ``goals`` (``one_id, metric``).
    """
    pairs = [(s.name, g) for s in strategies for g in s.goal]
    if not pairs:
        return launched.sparkSession.createDataFrame([], STRATEGY_EVALUATION.schema).drop(
            "as_of_date", "window_start", "window_end")
    wanted = launched.sparkSession.createDataFrame(pairs, "strategy string, metric string")
    flagged = (
        launched.join(F.broadcast(wanted), "strategy")
        .join(goals.distinct().withColumn("_hit", F.lit(1)), ["one_id", "metric"], "left")
    )
    hit = F.col("_hit").isNotNull()

    def count_if(cond: Column) -> Column:
        return F.sum(F.when(cond, 1).otherwise(0)).cast("long")

    parts = []
    for other in ("control", "non_model"):
        is_target, is_other = F.col("group") == "target", F.col("group") == other
        counts = flagged.groupBy("strategy", "metric").agg(
            count_if(is_target).alias("target_n"),
            count_if(is_target & hit).alias("target_responders"),
            count_if(is_other).alias("control_n"),
            count_if(is_other & hit).alias("control_responders"),
        ).withColumn("comparison", F.lit(other))
        parts.append(with_rate_difference(counts, z=z))
    out = parts[0].unionByName(parts[1])
    return out.withColumnsRenamed({"control_n": "comparison_n",
                                   "control_responders": "comparison_responders",
                                   "control_rate": "comparison_rate"})


def opens_in(lake: Lakehouse, start: dt.date, end: dt.date) -> DataFrame:
    """``one_id, channel, day`` of the opens (:data:`OPEN_EVENT`) in ``[start, end)``."""
    channel = F.lit(None).cast("string")
    for name, event in OPEN_EVENT.items():
        channel = F.when(F.col("event_type") == event, F.lit(name)).otherwise(channel)
    events = read_events(lake, RAW_EVENTS, start=start, end=end).where(
        F.col("event_type").isin(*OPEN_EVENT.values()))
    identity = latest_identity_map(lake).select("id_type", "id_value", "one_id")
    return events.join(identity, ["id_type", "id_value"]).select(
        "one_id", channel.alias("channel"), F.to_date("event_ts").alias("day")).distinct()


@without_sql_on_files
def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """Evaluate the launches of ``as_of`` (strict: the window must be covered)."""
    book = load_book(spark, cfg)
    lake = Lakehouse(spark, cfg)
    days = cfg.audiences.evaluation.window_days
    start, end = as_of, as_of + dt.timedelta(days=days)
    if not lake.exists(CONTACT_PLAN):
        raise MissingTableError(CONTACT_PLAN.name, lake.uri(CONTACT_PLAN), "run `sparkseg plan` first")
    last = max(s.steps[-1].day for s in book.strategies)
    plan_days = [as_of + dt.timedelta(days=n) for n in range(last + 1)]
    plan = lake.read(CONTACT_PLAN, partitions={"as_of_date": plan_days}).where(
        F.col("launch_date") == F.lit(as_of))
    opens_metric = ResponseMetric(name="opened", event_types=tuple(OPEN_EVENT.values()))
    goal_names = {g for s in book.strategies for g in s.goal}
    metrics = [opens_metric, *(m for m in cfg.audiences.evaluation.metrics if m.name in goal_names)]
    responses, gap = window_responses(lake, metrics, start, end)
    if gap is not None:
        raise DataQualityError(f"{gap}: the evaluation window [{start}, {end}) of the "
                               f"strategies launched on {as_of} is not complete yet")
    goals = responses.where(F.col("metric").isin(*goal_names))
    opens = opens_in(lake, start, end)
    day = {"as_of_date": F.lit(as_of)}
    rows = funnel(plan, opens, goals, strategies=book.strategies, end=end).withColumns(day)
    replace = {"as_of_date": as_of}
    lake.write(rows, STRATEGY_FUNNEL, mode="overwrite_partitions", replace=replace)
    answered = first_responses(plan, opens, end=end).withColumns(day)
    lake.write(answered, STRATEGY_RESPONSES, mode="overwrite_partitions", replace=replace)
    launched = plan.where(F.col("step") == 1).select("one_id", "strategy", "group")
    result = uplift(launched, goals, strategies=book.strategies,
                    z=z_value(cfg.audiences.evaluation.confidence)).withColumns(
        {**day, "window_start": F.lit(start), "window_end": F.lit(end)})
    lake.write(result, STRATEGY_EVALUATION, mode="overwrite_partitions", replace=replace)
    for r in lake.read(STRATEGY_EVALUATION, partitions=replace).orderBy(
            "strategy", "metric", "comparison").collect():  # strategies x goals x 2 rows
        log.info("evaluate %s %s/%s vs %s: %s/%s against %s/%s, diff %s CI [%s, %s]", as_of,
                 r["strategy"], r["metric"], r["comparison"], r["target_responders"],
                 r["target_n"], r["comparison_responders"], r["comparison_n"], r["diff"],
                 r["ci_low"], r["ci_high"])
