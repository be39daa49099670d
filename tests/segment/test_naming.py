"""Segment names from profiles (pure Python)."""

from __future__ import annotations

from sparkseg.segment.naming import DEFAULT_NAME, name_segments, phrase

LIFTS = {
    1: {"aum": 2.1, "wealth_purchase_count_365d": 1.2, "share_txn_branch_90d": 0.8, "age": 0.1},
    2: {"days_since_last_txn": 1.9, "txn_count_90d": -1.5, "aum": 0.4},
    3: {"share_txn_mobile_app_90d": 1.4, "age": -1.1, "event_count_90d": 0.9},
}


def test_name_uses_the_strongest_lifts_in_both_languages() -> None:
    names = name_segments(LIFTS, max_phrases=3, min_lift=0.3)
    assert names[1].en == "High AUM · wealth investor · branch-preferring"
    assert names[1].zh == "高资产·理财投资·偏好网点"
    # txn_count_90d (-) says the same as days_since_last_txn (+): only the stronger is used.
    assert (names[2].en, names[2].zh) == ("Dormant · high AUM", "沉睡·高资产")
    assert names[3].en == "Mobile-app user · young · digitally engaged"


def test_names_are_deterministic_and_do_not_depend_on_segment_order() -> None:
    a = name_segments(LIFTS)
    b = name_segments(dict(reversed(list(LIFTS.items()))))
    assert a == b


def test_segments_with_equal_top_phrases_get_distinct_names() -> None:
    lifts = {
        5: {"aum": 2.0, "age": 1.0, "tenure_days": 0.5},
        6: {"aum": 2.0, "age": 1.0, "tenure_days": -0.5},
        7: {"aum": 0.1},
        8: {"age": 0.05},
    }
    names = name_segments(lifts, max_phrases=2)
    assert names[5].en == "High AUM · senior · long-tenured"
    assert names[6].en == "High AUM · senior · new customer"
    assert (names[7].en, names[8].en) == (f"{DEFAULT_NAME[0]} I", f"{DEFAULT_NAME[0]} II")
    assert len({n.en for n in names.values()}) == len({n.zh for n in names.values()}) == 4


def test_unknown_feature_gets_a_generic_phrase() -> None:
    assert phrase("foo_score", -0.7)[:2] == ("low foo_score", "foo_score低")


def test_same_phrases_in_another_order_count_as_the_same_name() -> None:
    lifts = {
        2: {"age": 1.5, "tenure_days": 1.2, "share_txn_branch_90d": 1.0, "aum": 0.6},
        8: {"share_txn_branch_90d": 1.6, "age": 1.4, "tenure_days": 1.1, "aum": -0.5},
    }
    names = name_segments(lifts, max_phrases=3)
    assert names[2].en == "Senior · long-tenured · branch-preferring · high AUM"
    assert names[8].en == "Branch-preferring · senior · long-tenured · low AUM"
