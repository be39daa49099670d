"""Campaign post-evaluation (策略后评估): target against control after an audience's as-of.

For each audience of an as-of date and each configured response metric, a member
responded if they had at least one of the metric's events (via ``silver/identity_map``)
or transactions in the window ``[as_of, as_of + window_days)``. The result compares the
response rates of the target and control groups:

    diff = p_t - p_c,  se = sqrt(p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c)
    CI   = diff -/+ z * se,  z = the normal quantile of (1 + confidence) / 2

(normal approximation for the difference of two independent proportions, unpooled
standard error; adequate when each group has a handful of responders and
non-responders, otherwise read the interval with care). Rates are null for an empty
group, and diff and CI then too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from statistics import NormalDist

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.audiences.config import ResponseMetric
from sparkseg.audiences.tables import AUDIENCE_MEMBERS, CAMPAIGN_EVALUATION
from sparkseg.config import Config
from sparkseg.errors import DataQualityError, MissingTableError
from sparkseg.identity.tables import IDENTITY_MAP as IDENTITY_MAP_SPEC
from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import read_events
from sparkseg.tables import (
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    TableSpec,
    check_columns,
    schema,
    silver_of,
)

log = logging.getLogger(__name__)

EVENTS = silver_of(RAW_EVENTS)
TRANSACTIONS = silver_of(RAW_TRANSACTIONS)
IDENTITY_MAP = IDENTITY_MAP_SPEC.name
_IDENTITY_COLUMNS = schema(
    ("id_type", T.StringType()), ("id_value", T.StringType()), ("one_id", T.StringType())
)


def z_value(confidence: float) -> float:
    """Two-sided normal quantile: 1.959964 for 0.95."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _in_window(ts: str, start: dt.date, end: dt.date) -> Column:
    day = F.to_date(F.col(ts))
    return (day >= F.lit(start)) & (day < F.lit(end))


def _metric_names(matches: Sequence[tuple[str, Column]]) -> Column:
    """array<string> of the metrics whose condition holds for the row."""
    return F.filter(
        F.array(*(F.when(cond, F.lit(name)) for name, cond in matches)), lambda m: m.isNotNull()
    )


def _response_rows(
    df: DataFrame,
    metrics: Sequence[ResponseMetric],
    codes: Callable[[ResponseMetric], Sequence[str]],
    *,
    column: str,
    time: str,
    start: dt.date,
    end: dt.date,
) -> tuple[DataFrame, Column] | None:
    """The rows of ``df`` timed (``time``) in the window whose ``column`` is one of the
    ``codes`` of a metric, with the array<string> of the metrics each row counts for;
    None when no metric has codes."""
    used = [m for m in metrics if codes(m)]
    if not used:
        return None
    wanted = sorted({c for m in used for c in codes(m)})
    hits = df.where(_in_window(time, start, end) & F.col(column).isin(wanted))
    return hits, _metric_names([(m.name, F.col(column).isin(list(codes(m)))) for m in used])


def _no_responses(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame([], "one_id string, metric string")


def event_responses(
    events: DataFrame,
    identity_map: DataFrame,
    *,
    metrics: Sequence[ResponseMetric],
    start: dt.date,
    end: dt.date,
) -> DataFrame:
    """``one_id, metric`` (distinct) of customers with a response event in the window.

    Needs events ``event_ts, event_type, id_type, id_value`` and the identity map's
    ``id_type, id_value, one_id``.
    """
    found = _response_rows(events, metrics, lambda m: m.event_types, column="event_type",
                           time="event_ts", start=start, end=end)
    if found is None:
        return _no_responses(events.sparkSession)
    hits, metric_names = found
    return (
        hits.join(identity_map.select("id_type", "id_value", "one_id"), ["id_type", "id_value"])
        .select("one_id", F.explode(metric_names).alias("metric"))
        .distinct()
    )


def transaction_responses(
    transactions: DataFrame,
    *,
    metrics: Sequence[ResponseMetric],
    start: dt.date,
    end: dt.date,
) -> DataFrame:
    """``one_id, metric`` (distinct) of customers with a response transaction in the window.

    Needs ``customer_id, txn_ts, category``; a bank customer's one_id is its customer_id.
    """
    found = _response_rows(transactions, metrics, lambda m: m.txn_categories,
                           column="category", time="txn_ts", start=start, end=end)
    if found is None:
        return _no_responses(transactions.sparkSession)
    hits, metric_names = found
    return hits.select(
        F.col("customer_id").alias("one_id"), F.explode(metric_names).alias("metric")
    ).distinct()


def response_counts(
    members: DataFrame, responses: DataFrame, *, metrics: Sequence[str]
) -> DataFrame:
    """Per audience and metric: ``target_n, target_responders, control_n, control_responders``.

    Needs members ``audience, one_id, group`` and responses ``one_id, metric`` (distinct).
    """
    per_metric = members.withColumn("metric", F.explode(F.array(*(F.lit(m) for m in metrics))))
    flagged = per_metric.join(
        responses.select("one_id", "metric").distinct().withColumn("responded", F.lit(1)),
        ["one_id", "metric"],
        "left",
    )
    is_target = F.col("group") == "target"
    is_control = F.col("group") == "control"
    responded = F.col("responded").isNotNull()

    def count_if(cond: Column) -> Column:
        return F.sum(F.when(cond, 1).otherwise(0)).cast("long")

    return flagged.groupBy("audience", "metric").agg(
        count_if(is_target).alias("target_n"),
        count_if(is_target & responded).alias("target_responders"),
        count_if(is_control).alias("control_n"),
        count_if(is_control & responded).alias("control_responders"),
    )


def with_rate_difference(counts: DataFrame, *, z: float) -> DataFrame:
    """Add ``target_rate, control_rate, diff, ci_low, ci_high`` (module docstring formulas).

    Needs ``target_n, target_responders, control_n, control_responders``.
    """
    tn, tr = F.col("target_n"), F.col("target_responders")
    cn, cr = F.col("control_n"), F.col("control_responders")
    # Guarded divisions: ANSI mode fails on division by zero.
    pt = F.when(tn > 0, tr.cast("double") / tn)
    pc = F.when(cn > 0, cr.cast("double") / cn)
    out = counts.withColumns({"target_rate": pt, "control_rate": pc})
    pt, pc = F.col("target_rate"), F.col("control_rate")
    var = F.when(
        (tn > 0) & (cn > 0), pt * (F.lit(1.0) - pt) / tn + pc * (F.lit(1.0) - pc) / cn
    )
    out = out.withColumns({"diff": pt - pc, "_se": F.sqrt(var)})
    return out.withColumns(
        {
            "ci_low": F.col("diff") - F.lit(z) * F.col("_se"),
            "ci_high": F.col("diff") + F.lit(z) * F.col("_se"),
        }
    ).drop("_se")


# How far past a window's end the coverage check looks: a later row shows that the data
# reached the window's last day even when that day itself has no response-type row.
COVERAGE_MARGIN_DAYS = 31


def latest_identity_map(lake: Lakehouse) -> DataFrame:
    """The latest partition of silver/identity_map: every identifier known at its run."""
    latest = lake.latest_as_of(IDENTITY_MAP)
    if latest is None:
        raise MissingTableError(
            IDENTITY_MAP, lake.uri(IDENTITY_MAP), "run `sparkseg identity` first"
        )
    return lake.read(IDENTITY_MAP, partitions={"as_of_date": latest})


def _source(lake: Lakehouse, raw: TableSpec, start: dt.date, end: dt.date) -> DataFrame:
    """Rows of a silver event table dated in ``[start, end + COVERAGE_MARGIN_DAYS)``.

    Only those months are read; the response functions keep ``[start, end)`` and
    :func:`_covered_until` uses the margin.
    """
    spec = silver_of(raw)
    if not lake.exists(spec):
        raise MissingTableError(spec.name, lake.uri(spec), "run `sparkseg ingest` first")
    margin = dt.timedelta(days=COVERAGE_MARGIN_DAYS)
    return read_events(lake, raw, start=start, end=end + margin)


def _covered_until(df: DataFrame, ts: str) -> dt.date | None:
    """The latest event date of ``df`` (None when empty)."""
    row = df.agg(F.max(F.to_date(F.col(ts)))).first()
    return row[0] if row is not None else None


def window_responses(
    lake: Lakehouse, metrics: Sequence[ResponseMetric], start: dt.date, end: dt.date
) -> tuple[DataFrame, str | None]:
    """``one_id, metric`` of every response in ``[start, end)`` (events through the latest
    ``silver/identity_map``, transactions by customer_id), and, when source tables' data
    ends before the window's last day, which tables end where (else None): rates over an
    unfinished window would be silently low."""
    parts: list[DataFrame] = []
    sources: list[tuple[str, DataFrame, str]] = []
    if any(m.event_types for m in metrics):
        events = _source(lake, RAW_EVENTS, start, end)
        identity = latest_identity_map(lake)
        check_columns(identity.schema, _IDENTITY_COLUMNS, IDENTITY_MAP, allow_extra=True)
        sources.append((EVENTS.name, events, "event_ts"))
        parts.append(
            event_responses(events, identity, metrics=metrics, start=start, end=end)
        )
    if any(m.txn_categories for m in metrics):
        txns = _source(lake, RAW_TRANSACTIONS, start, end)
        sources.append((TRANSACTIONS.name, txns, "txn_ts"))
        parts.append(transaction_responses(txns, metrics=metrics, start=start, end=end))
    last_day = end - dt.timedelta(days=1)
    gaps = []
    for table, df, ts in sources:
        until = _covered_until(df, ts)
        if until is None:
            gaps.append(f"{table} has no rows from {start} on")
        elif until < last_day:
            gaps.append(f"{table} ends at {until}")
    if gaps:
        return _no_responses(lake.spark), "; ".join(gaps)
    responses = parts[0]
    for part in parts[1:]:
        responses = responses.unionByName(part)
    return responses, None


def evaluate(
    spark: SparkSession, cfg: Config, as_of: dt.date, window_days: int | None = None
) -> int:
    """Evaluate the audiences of ``as_of`` over ``[as_of, as_of + window_days)``.

    Writes ``gold/campaign_evaluation`` (replacing the rows of ``as_of``) and returns the
    number of rows written. Raises :class:`DataQualityError` if the response data does
    not reach the end of the window yet.
    """
    written = _evaluate(spark, cfg, as_of, window_days, strict=True)
    assert written is not None
    return written


def _evaluate(
    spark: SparkSession,
    cfg: Config,
    as_of: dt.date,
    window_days: int | None,
    *,
    strict: bool,
) -> int | None:
    ecfg = cfg.audiences.evaluation
    days = window_days or ecfg.window_days
    start, end = as_of, as_of + dt.timedelta(days=days)
    lake = Lakehouse(spark, cfg)
    members = lake.read_as_of(
        AUDIENCE_MEMBERS.name, as_of, hint="run `sparkseg audiences` for that date"
    )
    metrics = ecfg.metrics
    responses, gap = window_responses(lake, metrics, start, end)
    if gap is not None:
        msg = f"{gap}: the campaign window [{start}, {end}) of the audiences of {as_of} is not complete yet"
        if strict:
            raise DataQualityError(msg)
        log.info("post-evaluation skipped: %s", msg)
        return None
    counts = response_counts(members, responses, metrics=[m.name for m in metrics])
    result = (
        with_rate_difference(counts, z=z_value(ecfg.confidence))
        .withColumns(
            {
                "as_of_date": F.lit(as_of),
                "window_start": F.lit(start),
                "window_end": F.lit(end),
            }
        )
    )
    res = lake.write(
        result, CAMPAIGN_EVALUATION, mode="overwrite_partitions", replace={"as_of_date": as_of}
    )
    _log_results(lake, as_of)
    return res.rows


def _log_results(lake: Lakehouse, as_of: dt.date) -> None:
    rows = (
        lake.read(CAMPAIGN_EVALUATION, partitions={"as_of_date": as_of})
        .orderBy("audience", "metric")
        .collect()
    )
    for r in rows:
        log.info(
            "post-evaluation %s %s/%s: target %s/%s, control %s/%s, diff %s CI [%s, %s]",
            as_of, r["audience"], r["metric"], r["target_responders"], r["target_n"],
            r["control_responders"], r["control_n"], _pct(r["diff"]), _pct(r["ci_low"]),
            _pct(r["ci_high"]),
        )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:+.2f}%"


def evaluate_due(spark: SparkSession, cfg: Config, as_of: dt.date) -> int | None:
    """The audiences stage's hook: evaluate the latest audience whose window has closed.

    That is the latest audience as-of date ``d`` with ``d + window_days <= as_of``. It is
    skipped (logged, no error) when there is none, a response table is missing, or the
    data does not cover its window.
    """
    lake = Lakehouse(spark, cfg)
    days = cfg.audiences.evaluation.window_days
    due = lake.latest_as_of(AUDIENCE_MEMBERS, on_or_before=as_of - dt.timedelta(days=days))
    if due is None:
        log.info("post-evaluation: no audience older than %d days", days)
        return None
    try:
        return _evaluate(spark, cfg, due, days, strict=False)
    except MissingTableError as err:
        # Post-evaluation is a by-product of the audiences run: it must not fail it.
        log.warning("post-evaluation of %s skipped: %s", due, err)
        return None
