"""Event features: digital engagement, event channel mix, campaign response.

Events carry channel identifiers (device, openid, cookie, hashed phone); the identity
map turns them into bank customers. All features come from ONE ``groupBy`` over the
mapped events before as-of.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.features.windows import (
    as_of_start,
    count_distinct_small,
    count_if,
    days_ago,
    ratio,
    within,
)

# Touches the bank sends: they measure reach, not the customer's own engagement, so
# engagement counts, active days, recency and channel shares leave them out.
SENT_TYPES = ("push_sent", "sms_sent", "wechat_msg_sent")
ENGAGEMENT_CHANNELS = ("app", "wechat", "mini_program", "web")
# (column stem, sent event type, response event type, rate column)
CAMPAIGN_CHANNELS = (
    ("push", "push_sent", "push_opened", "push_opened_90d", "push_open_rate_90d"),
    ("sms", "sms_sent", "sms_clicked", "sms_clicked_90d", "sms_click_rate_90d"),
    ("wechat", "wechat_msg_sent", "wechat_msg_opened", "wechat_opened_90d",
     "wechat_open_rate_90d"),
)
COUNTED_90D = ("page_view", "product_view", "like", "comment", "share", "invite", "search")

# Columns of event_features that stay null for a customer with no event.
NULL_WHEN_ABSENT = frozenset(
    {"days_since_last_event", *(c[4] for c in CAMPAIGN_CHANNELS)}
)


def events_with_customer(events: DataFrame, identity_map: DataFrame) -> DataFrame:
    """Events of bank customers only, with their ``customer_id``.

    Needs ``id_type, id_value`` on ``events`` and ``id_type, id_value, customer_id`` on
    ``identity_map`` (one row per identifier). Adds ``customer_id``; events whose
    identifier is unknown or belongs to an anonymous component (null ``customer_id``)
    are dropped.
    """
    ids = identity_map.where(F.col("customer_id").isNotNull()).select(
        "id_type", "id_value", "customer_id"
    )
    return events.join(ids, on=["id_type", "id_value"], how="inner")


def event_features(events: DataFrame, *, as_of: dt.date) -> DataFrame:
    """One row per customer with an event before ``as_of``.

    Needs ``customer_id, event_ts, channel, event_type``. Returns ``customer_id`` plus the
    engagement, event channel mix and campaign columns of silver/customer_features.
    Engagement excludes the bank's own sends (push/SMS/WeChat messages sent); shares are
    of 90d engagement events (0.0 when none); response rates are responses / sends in
    90d, capped at 1 (a response may answer a send from before the window), and null
    when nothing was sent.
    """
    e = events.where(F.col("event_ts") < as_of_start(as_of)).select(
        "customer_id",
        "channel",
        "event_type",
        days_ago(F.col("event_ts"), as_of).alias("d"),
    )
    d, etype, channel = F.col("d"), F.col("event_type"), F.col("channel")
    engaged = ~etype.isin(*SENT_TYPES)

    def is_type(t: str) -> Column:
        return etype.eqNullSafe(t)

    aggs: list[Column] = []
    for n in (30, 90):
        aggs += [
            count_if(within(d, n) & engaged).alias(f"event_count_{n}d"),
            count_distinct_small(d - 1, n, within(d, n) & engaged).alias(
                f"event_active_days_{n}d"
            ),
            count_if(within(d, n) & is_type("login")).alias(f"login_count_{n}d"),
        ]
    aggs += [count_if(within(d, 90) & is_type(t)).alias(f"{t}_count_90d") for t in COUNTED_90D]
    aggs.append(F.min(F.when(engaged, d)).alias("days_since_last_event"))
    aggs += [
        count_if(within(d, 90) & engaged & channel.eqNullSafe(c)).alias(f"_n_{c}")
        for c in ENGAGEMENT_CHANNELS
    ]
    for stem, sent, response, response_col, _ in CAMPAIGN_CHANNELS:
        aggs += [
            count_if(within(d, 90) & is_type(sent)).alias(f"{stem}_sent_90d"),
            count_if(within(d, 90) & is_type(response)).alias(response_col),
        ]
    # A year of touches for channel habits: one campaign per quarter gives too few touches
    # in 90 days to tell a habit from chance.
    for stem, sent, response, response_col, _ in CAMPAIGN_CHANNELS:
        aggs += [
            count_if(within(d, 365) & is_type(sent)).alias(f"{stem}_sent_365d"),
            count_if(within(d, 365) & is_type(response)).alias(
                response_col.replace("_90d", "_365d")
            ),
        ]
    g = e.groupBy("customer_id").agg(*aggs)

    n90 = F.col("event_count_90d")
    zero = F.lit(0.0)
    return g.select(
        *(c for c in g.columns if not c.startswith("_")),
        *(ratio(F.col(f"_n_{c}"), n90, empty=zero).alias(f"share_evt_{c}_90d")
          for c in ENGAGEMENT_CHANNELS),
        # The cap goes on the numerator: F.least skips nulls, so capping the ratio itself
        # would turn "nothing sent" (null) into 1.0.
        *(ratio(F.least(F.col(response_col), F.col(f"{stem}_sent_90d")),
                F.col(f"{stem}_sent_90d")).alias(rate_col)
          for stem, _, _, response_col, rate_col in CAMPAIGN_CHANNELS),
    )
