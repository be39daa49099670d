"""Campaign post-evaluation: response windows, target against control, the interval."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_approx_df_equality
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg.audiences.evaluation import evaluate, evaluate_due, with_rate_difference, z_value
from sparkseg.audiences.tables import AUDIENCE_MEMBERS, CAMPAIGN_EVALUATION
from sparkseg.errors import DataQualityError
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_EVENTS, RAW_TRANSACTIONS, TableSpec, schema, silver_of
from tests.support.config import make_config

S = T.StringType()
IDENTITY_MAP = TableSpec(
    "silver/identity_map",
    schema(("id_type", S), ("id_value", S), ("one_id", S), ("customer_id", S),
           ("as_of_date", T.DateType())),
    ("as_of_date",),
)
COUNTS = "audience string, metric string, target_n long, target_responders long, control_n long, control_responders long"
RESULT = COUNTS + ", target_rate double, control_rate double, diff double, ci_low double, ci_high double"


def test_rate_difference_and_interval_match_a_hand_computation(spark: SparkSession) -> None:
    counts = spark.createDataFrame(
        [("promo", "open", 100, 30, 50, 10), ("no_control", "open", 10, 5, 0, 0)], COUNTS
    )
    # p_t = 0.3, p_c = 0.2; se = sqrt(0.3*0.7/100 + 0.2*0.8/50) = sqrt(0.0053) = 0.072801
    se = math.sqrt(0.0053)
    expected = spark.createDataFrame(
        [
            ("promo", "open", 100, 30, 50, 10, 0.3, 0.2, 0.1, 0.1 - 1.959964 * se, 0.1 + 1.959964 * se),
            ("no_control", "open", 10, 5, 0, 0, 0.5, None, None, None, None),
        ],
        RESULT,
    )
    actual = with_rate_difference(counts, z=z_value(0.95))
    assert_approx_df_equality(actual, expected, 1e-6, ignore_row_order=True, ignore_nullable=True)
    assert 0.1 - 1.959964 * se == pytest.approx(-0.042688, abs=1e-6)


def ts(day: str, time: str = "12:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}")


def test_evaluation_counts_responses_in_the_window_for_target_and_control(
    spark_clean: SparkSession, tmp_path: Path
) -> None:
    spark = spark_clean
    cfg = make_config(tmp_path / "lake")
    lake = Lakehouse(spark, cfg)
    as_of, silver_as_of = dt.date(2026, 6, 30), dt.date(2026, 7, 20)
    members = spark.createDataFrame(
        [("promo", i, "target", as_of) for i in ("t1", "t2", "t3", "t4")]
        + [("promo", i, "control", as_of) for i in ("c1", "c2")],
        AUDIENCE_MEMBERS.schema,
    )
    lake.write(members, AUDIENCE_MEMBERS, mode="append")
    events = [
        ("e1", ts("2026-06-30", "00:00:00"), "app", "customer_id", "t1", "push_opened"),  # first day
        ("e2", ts("2026-07-01"), "app", "customer_id", "t1", "push_opened"),  # same customer again
        ("e3", ts("2026-07-13", "23:59:59"), "wechat", "wechat_openid", "w2", "wechat_msg_opened"),
        ("e4", ts("2026-07-14", "00:00:00"), "sms", "customer_id", "t3", "sms_clicked"),  # window end
        ("e5", ts("2026-06-29"), "app", "customer_id", "t4", "push_opened"),  # before as-of
        ("e6", ts("2026-07-02"), "app", "customer_id", "c1", "push_sent"),  # not a response
        ("e7", ts("2026-07-03"), "sms", "customer_id", "c2", "sms_clicked"),
        ("e8", ts("2026-07-19"), "app", "customer_id", "t4", "login"),
    ]
    ev_spec = silver_of(RAW_EVENTS)
    lake.write(
        spark.createDataFrame(
            [(*e, "cmp1", None, e[1].date().replace(day=1)) for e in events], ev_spec.schema
        ),
        ev_spec, mode="append",
    )
    identity = [("customer_id", c, c, c, silver_as_of) for c in ("t1", "t2", "t3", "t4", "c1", "c2")]
    identity.append(("wechat_openid", "w2", "t2", "t2", silver_as_of))
    lake.write(spark.createDataFrame(identity, IDENTITY_MAP.schema), IDENTITY_MAP, mode="append")
    tx_spec = silver_of(RAW_TRANSACTIONS)
    txns = [
        ("x1", "t3", ts("2026-07-05"), "loan_disbursement"),
        ("x2", "c1", ts("2026-07-05"), "consumption"),
        # Past the window, yet it shows the transactions reach its last day (07-13),
        # which itself has none.
        ("x3", "c2", ts("2026-07-18"), "salary"),
    ]
    lake.write(
        spark.createDataFrame(
            [(i, c, f"{c}-acc", t, Decimal("100.00"), "CNY", "credit", "branch", cat, None, None,
              t.date().replace(day=1)) for i, c, t, cat in txns],
            tx_spec.schema,
        ),
        tx_spec, mode="append",
    )

    # The audiences run of 2026-07-20 evaluates the latest audience whose 14 days are over.
    assert evaluate_due(spark, cfg, silver_as_of) == 2

    se_open = math.sqrt(0.25 / 4 + 0.25 / 2)
    se_loan = math.sqrt(0.25 * 0.75 / 4)
    z = 1.959964
    expected = spark.createDataFrame(
        [
            ("promo", "campaign_response", 4, 2, 2, 1, 0.5, 0.5, 0.0, -z * se_open, z * se_open),
            ("promo", "loan_disbursement", 4, 1, 2, 0, 0.25, 0.0, 0.25, 0.25 - z * se_loan,
             0.25 + z * se_loan),
        ],
        RESULT,
    )
    table = lake.read(CAMPAIGN_EVALUATION)
    assert {(r[0], r[1], r[2]) for r in table.select("as_of_date", "window_start", "window_end").collect()} == {
        (as_of, as_of, dt.date(2026, 7, 14))
    }
    assert_approx_df_equality(
        table.select(*expected.columns), expected, 1e-5, ignore_row_order=True, ignore_nullable=True
    )

    # A 30-day window would reach past the data: evaluating it now is refused.
    with pytest.raises(DataQualityError, match=r"silver/events ends at 2026-07-19"):
        evaluate(spark, cfg, as_of, window_days=30)
