"""Contact plans (触达计划): which customer gets which touch of which strategy, day by day.

``sparkseg plan`` for an as-of ``D`` writes the touches due on ``D`` to
``gold/contact_plan`` (its ``as_of_date`` partition):

* **Launches (step 1).** Every customer of a strategy's audiences (their target group
  in ``gold/audience_members`` of ``D``) who passes the strategy's ``eligibility``, is not
  on the do-not-contact list and was not launched into the strategy in the last
  ``cooldown_days``. A stable hash of ``strategy:<name>:<one_id>`` (the audiences'
  :func:`~sparkseg.audiences.membership.control_unit`) below ``control_share`` puts the
  customer in the ``control`` group: a row is written, nothing is sent. With a
  ``non_model`` rule, eligible customers it selects who are in none of the strategy's
  audiences form the ``non_model`` group, contacted like the target. A ``habit`` step
  goes to the customer's ``channel_habit`` tag (``gold/customer_tags_wide`` of ``D``),
  else to its ``fallback`` channel.
* **Follow-ups (step k > 1).** Target and non-model customers whose launch was sent
  ``day`` days before ``D``; an ``if_no_response`` step only when no response event
  (``policy.response_events``, on the strategy's ``campaign_id`` when set) of the
  customer is dated in ``[launch_date, D)``.
* **Contact policy.** Touches sent (not control, not suppressed) in the plans of the
  ``per_days - 1`` days before ``D`` count against ``max_touches``; the day's touches are
  ranked per customer by strategy ``priority``, strategy name and step, and those over
  the cap get ``suppressed_by = 'touch_cap'`` (kept, so nothing vanishes unexplained).

Only the plans of the last :attr:`~sparkseg.strategies.definitions.StrategyBook.lookback_days`
days are read. A rerun of ``D`` gives the same rows (its inputs are ``D``'s gold tables,
earlier days' plans and events before ``D``); a backfill of an earlier day does not
rewrite the later days' plans: rerun those in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from sparkseg.audiences.membership import control_unit
from sparkseg.strategies.definitions import HABIT, Policy, Step, Strategy
from sparkseg.strategies.tables import CONTACT_PLAN
from sparkseg.tags.expressions import user_expr
from sparkseg.tags.habit import CHANNELS, HABIT_TAG

CANDIDATES_SCHEMA = "one_id string, strategy string, group string, habit string"
RESPONSES_SCHEMA = "one_id string, campaign_id string, day date"
TOUCH_CAP = "touch_cap"


def _by_strategy(strategies: Sequence[Strategy], value: Callable[[Strategy], Column]) -> Column:
    """A column that is ``value(s)`` on the rows of strategy ``s`` (null for others)."""
    out: Column | None = None
    for s in strategies:
        cond = F.col("strategy") == F.lit(s.name)
        out = F.when(cond, value(s)) if out is None else out.when(cond, value(s))
    assert out is not None, "at least one strategy"
    return out


def channel_of(step: Step, habit: Column) -> Column:
    """The step's channel; for a ``habit`` step the known habit, else the fallback."""
    if step.channel != HABIT:
        return F.lit(step.channel)
    return F.when(habit.isin(*CHANNELS), habit).otherwise(F.lit(step.fallback))


def habit_of(tags_wide: DataFrame) -> DataFrame:
    """``one_id, habit`` from ``gold/customer_tags_wide`` (habit null when untagged)."""
    prefix = f"{HABIT_TAG}="
    values = F.transform(
        F.filter("tags", lambda t: t.startswith(prefix)), lambda t: F.split(t, "=", 2).getItem(1)
    )
    return tags_wide.select("one_id", F.try_element_at(values, F.lit(1)).alias("habit"))


def candidates(
    features: DataFrame,
    members: DataFrame,
    habits: DataFrame,
    do_not_contact: DataFrame | None,
    *,
    strategies: Sequence[Strategy],
) -> DataFrame:
    """``one_id, strategy, group, habit``: who may be launched into which strategy today.

    Needs ``one_id`` and the columns the expressions use in ``features``; ``audience,
    one_id, group`` in ``members``; ``one_id, habit`` in ``habits``; ``one_id`` in
    ``do_not_contact``. One pass evaluates every strategy's eligibility and non-model rule.
    """
    one_id = F.col("one_id")
    hits = [
        F.when(
            F.coalesce(user_expr(s.eligibility), F.lit(False)),
            F.struct(
                F.lit(s.name).alias("strategy"),
                (F.coalesce(user_expr(s.non_model), F.lit(False)) if s.non_model
                 else F.lit(False)).alias("non_model_hit"),
            ),
        )
        for s in strategies
    ]
    eligible = features.select(
        "one_id", F.explode(F.filter(F.array(*hits), lambda h: h.isNotNull())).alias("e")
    ).select("one_id", "e.strategy", "e.non_model_hit")
    in_strategy = [
        F.when(F.col("audience").isin(*s.audiences), F.lit(s.name)) for s in strategies
    ]
    audience = (
        members.select("one_id", "group",
                       F.explode(F.filter(F.array(*in_strategy), lambda x: x.isNotNull()))
                       .alias("strategy"))
        .groupBy("one_id", "strategy")
        .agg(F.max(F.col("group") == F.lit("target")).alias("in_target"))
    )
    held_out = _by_strategy(
        strategies, lambda s: control_unit(f"strategy:{s.name}", one_id) < F.lit(s.control_share)
    )
    group = (
        F.when(F.col("in_target") & held_out, F.lit("control"))
        .when(F.col("in_target"), F.lit("target"))
        .when(F.col("in_target").isNull() & F.col("non_model_hit"), F.lit("non_model"))
    )
    picked = (
        eligible.join(audience, ["one_id", "strategy"], "left")
        .withColumn("group", group)
        .where(F.col("group").isNotNull())
    )
    if do_not_contact is not None:
        picked = picked.join(do_not_contact.select("one_id").distinct(), "one_id", "left_anti")
    return picked.join(habits, "one_id", "left").select("one_id", "strategy", "group", "habit")


def launches(
    fresh: DataFrame, recent: DataFrame, *, strategies: Sequence[Strategy], as_of: dt.date
) -> DataFrame:
    """Step-1 rows of the candidates not launched into the strategy within its cooldown."""
    since = F.datediff(F.lit(as_of), F.col("launch_date"))
    blocked = (
        recent.where((F.col("step") == 1) & F.col("suppressed_by").isNull())
        .where(since < _by_strategy(strategies, lambda s: F.lit(s.cooldown_days)))
        .select("one_id", "strategy").distinct()
    )
    channel = _by_strategy(strategies, lambda s: channel_of(s.steps[0], F.col("habit")))
    return fresh.join(blocked, ["one_id", "strategy"], "left_anti").select(
        "one_id", "strategy", F.lit(as_of).alias("launch_date"), F.lit(1).alias("step"),
        channel.alias("channel"), "group",
    )


def follow_ups(
    recent: DataFrame, responses: DataFrame, *, strategies: Sequence[Strategy], as_of: dt.date
) -> DataFrame:
    """Steps after the first that are due on ``as_of`` for the launches sent before it."""
    sent = recent.where(
        (F.col("step") == 1) & F.col("suppressed_by").isNull() & (F.col("group") != "control")
    ).select("one_id", "strategy", "launch_date", "group")
    parts: list[DataFrame] = []
    for s in strategies:
        for number, step in enumerate(s.steps[1:], start=2):
            launch = as_of - dt.timedelta(days=step.day)
            due = sent.where((F.col("strategy") == s.name) & (F.col("launch_date") == F.lit(launch)))
            if step.if_no_response:
                answered = responses.where((F.col("day") >= F.lit(launch))
                                           & (F.col("day") < F.lit(as_of)))
                if s.campaign_id is not None:
                    answered = answered.where(F.col("campaign_id") == F.lit(s.campaign_id))
                due = due.join(answered.select("one_id").distinct(), "one_id", "left_anti")
            parts.append(due.select(
                "one_id", "strategy", "launch_date", F.lit(number).alias("step"),
                F.lit(step.channel).alias("channel"), "group",
            ))
    if not parts:
        return sent.select("one_id", "strategy", "launch_date", F.lit(1).alias("step"),
                           F.lit(None).cast("string").alias("channel"), "group").limit(0)
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def with_touch_cap(
    today: DataFrame,
    recent: DataFrame,
    *,
    strategies: Sequence[Strategy],
    policy: Policy,
    as_of: dt.date,
) -> DataFrame:
    """``today`` plus ``suppressed_by``: touches beyond ``policy.max_touches`` in
    ``policy.per_days`` days (today included) are ``'touch_cap'``; control rows are
    never touches and never suppressed."""
    ago = F.datediff(F.lit(as_of), F.col("as_of_date"))
    earlier = (
        recent.where((F.col("group") != "control") & F.col("suppressed_by").isNull()
                     & (ago > 0) & (ago < policy.per_days))
        .groupBy("one_id").agg(F.count(F.lit(1)).alias("_earlier"))
    )
    touches = today.where(F.col("group") != "control")
    order = Window.partitionBy("one_id").orderBy(
        _by_strategy(strategies, lambda s: F.lit(s.priority)), "strategy", "step")
    ranked = (
        touches.join(earlier, "one_id", "left")
        .withColumn("_n", F.coalesce(F.col("_earlier"), F.lit(0)) + F.row_number().over(order))
        .withColumn("suppressed_by", F.when(F.col("_n") > policy.max_touches, F.lit(TOUCH_CAP)))
        .drop("_earlier", "_n")
    )
    held = today.where(F.col("group") == "control").withColumn(
        "suppressed_by", F.lit(None).cast("string"))
    return ranked.unionByName(held)


def contact_plan(
    fresh: DataFrame,
    recent: DataFrame,
    responses: DataFrame,
    *,
    strategies: Sequence[Strategy],
    policy: Policy,
    as_of: dt.date,
) -> DataFrame:
    """``gold/contact_plan`` rows of ``as_of`` (columns in the table's order).

    ``fresh``: :func:`candidates`; ``recent``: the table's rows of earlier as-ofs (at
    least the lookback); ``responses``: ``one_id, campaign_id, day`` of response events.
    """
    today = launches(fresh, recent, strategies=strategies, as_of=as_of).unionByName(
        follow_ups(recent, responses, strategies=strategies, as_of=as_of))
    capped = with_touch_cap(today, recent, strategies=strategies, policy=policy, as_of=as_of)
    day = F.lit(as_of).cast("date")
    return capped.withColumns({"planned_date": day, "as_of_date": day}).select(
        *CONTACT_PLAN.columns)
