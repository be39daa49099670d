"""Tables written by the ``features`` stage (contract: docs/contracts.md)."""

from __future__ import annotations

from sparkseg.tables import DB, INT, D, L, S, TableSpec, schema

# Money is double (yuan), counts long, rates/shares double in [0, 1], flags int 0/1,
# durations (days, years) int. conf/features.yaml documents every column.
CUSTOMER_FEATURES = TableSpec(
    "silver/customer_features",
    schema(
        # keys
        ("one_id", S), ("customer_id", S), ("as_of_date", D),
        # core (docs/contracts.md)
        ("days_since_last_txn", INT), ("days_since_first_txn", INT), ("tenure_days", INT),
        ("txn_count_30d", L), ("txn_count_90d", L), ("txn_count_365d", L),
        ("debit_amount_30d", DB), ("debit_amount_90d", DB), ("debit_amount_365d", DB),
        ("credit_amount_30d", DB), ("credit_amount_90d", DB), ("credit_amount_365d", DB),
        ("active_days_90d", L), ("total_balance", DB), ("age", INT),
        # demographics
        ("gender", S), ("city_tier", INT), ("income_band", S), ("occupation", S),
        ("risk_level", S),
        # balances (latest month-end snapshot before as-of)
        ("balance_deposit", DB), ("balance_wealth", DB), ("balance_fund", DB),
        ("balance_insurance", DB), ("balance_credit_card", DB), ("balance_loan", DB),
        ("balance_mortgage", DB), ("aum", DB), ("aum_90d_ago", DB), ("aum_change_90d", DB),
        ("balance_months_12m", L), ("aum_cv_12m", DB),
        # products
        ("product_count", L), ("has_credit_card", INT), ("has_loan", INT),
        ("has_mortgage", INT), ("has_wealth", INT), ("has_fund", INT), ("has_insurance", INT),
        # payroll
        ("salary_count_365d", L), ("salary_months_12m", L), ("salary_amount_90d", DB),
        # spending mix
        ("consumption_amount_90d", DB), ("consumption_count_90d", L),
        ("transfer_out_amount_90d", DB), ("consumption_share_90d", DB),
        ("child_related_spend_365d", DB),
        # wealth purchases
        ("wealth_purchase_count_30d", L), ("wealth_purchase_count_365d", L),
        ("wealth_purchase_amount_365d", DB), ("days_since_first_wealth_purchase", INT),
        # transaction channel mix
        ("share_txn_branch_90d", DB), ("share_txn_atm_90d", DB),
        ("share_txn_mobile_app_90d", DB), ("share_txn_online_banking_90d", DB),
        ("share_txn_wechat_90d", DB), ("share_txn_mini_program_90d", DB),
        ("share_txn_pos_90d", DB), ("share_txn_third_party_90d", DB),
        # digital engagement
        ("event_count_30d", L), ("event_count_90d", L), ("event_active_days_30d", L),
        ("event_active_days_90d", L), ("login_count_30d", L), ("login_count_90d", L),
        ("page_view_count_90d", L), ("product_view_count_90d", L), ("like_count_90d", L),
        ("comment_count_90d", L), ("share_count_90d", L), ("invite_count_90d", L),
        ("search_count_90d", L), ("days_since_last_event", INT),
        # event channel mix
        ("share_evt_app_90d", DB), ("share_evt_wechat_90d", DB),
        ("share_evt_mini_program_90d", DB), ("share_evt_web_90d", DB),
        # campaign response
        ("push_sent_90d", L), ("push_opened_90d", L), ("sms_sent_90d", L),
        ("sms_clicked_90d", L), ("wechat_sent_90d", L), ("wechat_opened_90d", L),
        ("push_open_rate_90d", DB), ("sms_click_rate_90d", DB), ("wechat_open_rate_90d", DB),
        ("push_sent_365d", L), ("push_opened_365d", L), ("sms_sent_365d", L),
        ("sms_clicked_365d", L), ("wechat_sent_365d", L), ("wechat_opened_365d", L),
        # lifecycle
        ("is_new_customer", INT), ("in_honeymoon", INT),
        # trends
        ("txn_count_prev_30_120d", L), ("txn_trend_ratio", DB), ("debit_trend_ratio", DB),
        ("net_flow_90d", DB),
    ),
    ("as_of_date",),
)
