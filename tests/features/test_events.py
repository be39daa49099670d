"""Event features: identity mapping, engagement, event channel mix, campaign response."""

from __future__ import annotations

import pytest
from pyspark.sql import Row, SparkSession

from sparkseg.features.events import event_features, events_with_customer
from tests.support.features import AS_OF, assert_columns, collected, days_before, evt, evts, ids

IDENTITIES = [
    ("customer_id", "e1", "e1", "e1"),
    ("device_id", "dev1", "e1", "e1"),
    ("wechat_openid", "wx1", "e1", "e1"),
    ("customer_id", "e2", "e2", "e2"),
    ("device_id", "devA", "anon-0123456789abcdef", None),  # no bank customer
]
EVENTS = [
    evt("dev1", days_before(0), "login", id_type="device_id"),  # at as-of: excluded
    evt("dev1", days_before(0.2), "login", id_type="device_id"),
    evt("dev1", days_before(0.5), "page_view", id_type="device_id"),  # same day as the login
    evt("e1", days_before(30), "product_view"),  # as-of - 30d midnight: in 30d
    evt("wx1", days_before(45), "like", "wechat", id_type="wechat_openid"),
    evt("e1", days_before(60), "comment", "web"),
    evt("e1", days_before(89), "share", "mini_program"),
    evt("e1", days_before(90), "search"),
    evt("e1", days_before(100), "invite"),  # outside 90d
    evt("e1", days_before(5), "push_sent", campaign_id="c1"),
    evt("e1", days_before(10), "push_sent", campaign_id="c2"),
    evt("e1", days_before(5), "push_opened", campaign_id="c1"),
    evt("e1", days_before(20), "sms_sent", "sms", campaign_id="c3"),
    # e2 opened a push sent before the window: sends 0, so no rate (null, not inf or 1).
    evt("e2", days_before(3), "push_opened", campaign_id="c0"),
    evt("e2", days_before(95), "push_sent", campaign_id="c0"),
    # Not bank customers: an anonymous device and an identifier the map has never seen.
    evt("devA", days_before(1), "login", id_type="device_id"),
    evt("ghost", days_before(1), "login", id_type="web_cookie"),
]


@pytest.fixture(scope="module")
def result(spark: SparkSession) -> list[Row]:
    mapped = events_with_customer(evts(spark, EVENTS), ids(spark, IDENTITIES))
    return collected(event_features(mapped, as_of=AS_OF))


def test_events_map_to_customers_and_anonymous_or_unknown_ids_are_dropped(
    spark_clean: SparkSession,
) -> None:
    mapped = events_with_customer(evts(spark_clean, EVENTS), ids(spark_clean, IDENTITIES))
    per_customer: dict[str, int] = {}
    for row in mapped.collect():
        per_customer[row.customer_id] = per_customer.get(row.customer_id, 0) + 1
    assert per_customer == {"e1": 13, "e2": 2}


@pytest.mark.parametrize(
    ("columns", "rows"),
    [
        pytest.param(
            ["event_count_30d", "event_count_90d", "event_active_days_30d",
             "event_active_days_90d", "login_count_30d", "login_count_90d",
             "days_since_last_event"],
            # 30d: login, page_view (day 1), push_opened (day 5), product_view (day 30)
            # 90d: + like 45, comment 60, share 89, search 90; invite (100) is outside
            [("e1", 4, 8, 3, 7, 1, 1, 1), ("e2", 1, 1, 1, 1, 0, 0, 3)],
            id="engagement_counts_exclude_sends_and_events_at_as_of",
        ),
        pytest.param(
            ["page_view_count_90d", "product_view_count_90d", "like_count_90d",
             "comment_count_90d", "share_count_90d", "invite_count_90d", "search_count_90d"],
            [("e1", 1, 1, 1, 1, 1, 0, 1), ("e2", 0, 0, 0, 0, 0, 0, 0)],
            id="interaction_counts_over_90_days",
        ),
        pytest.param(
            ["share_evt_app_90d", "share_evt_wechat_90d", "share_evt_mini_program_90d",
             "share_evt_web_90d"],
            [("e1", 5 / 8, 1 / 8, 1 / 8, 1 / 8), ("e2", 1.0, 0.0, 0.0, 0.0)],
            id="event_channel_shares_are_of_90_day_engagement",
        ),
        pytest.param(
            ["push_sent_90d", "push_opened_90d", "sms_sent_90d", "sms_clicked_90d",
             "wechat_sent_90d", "wechat_opened_90d", "push_open_rate_90d", "sms_click_rate_90d",
             "wechat_open_rate_90d"],
            [
                ("e1", 2, 1, 1, 0, 0, 0, 0.5, 0.0, None),
                ("e2", 0, 1, 0, 0, 0, 0, None, None, None),
            ],
            id="campaign_response_rates_are_null_when_nothing_was_sent",
        ),
    ],
)
def test_event_features_of_each_customer(
    result: list[Row], columns: list[str], rows: list[tuple[object, ...]]
) -> None:
    assert_columns(result, columns, rows)
