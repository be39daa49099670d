"""Pieces of ``generate --append-days``: calendar, day seeds, and the events builder on
customers with no event slot (the case one-day periods and ``campaigns=0`` create)."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.generate.append import (
    commit_metadata,
    day_index,
    day_seed,
    extended,
    first_new_number,
    is_month_end,
    is_rewrite_day,
    one_day,
)
from sparkseg.generate.config import GenerateConfig
from sparkseg.generate.customers import customer_base
from sparkseg.generate.events import build_events
from sparkseg.generate.period import Period, epoch_day

D = dt.date


def test_one_day_period_has_the_day_its_month_start_and_a_quarterly_interest_day() -> None:
    p = one_day(D(2026, 12, 21))
    assert (p.start, p.end, p.days) == (D(2026, 12, 21), D(2026, 12, 22), 1)
    assert p.month_starts == (epoch_day(D(2026, 12, 1)),)
    assert p.interest_days == (epoch_day(D(2026, 12, 21)),)
    assert one_day(D(2026, 11, 21)).interest_days == ()  # November is not a quarter end
    assert p.month_ends == () and p.campaigns == ()


def test_extended_period_adds_the_month_ends_up_to_the_day() -> None:
    base = Period.of(GenerateConfig(end_date=D(2026, 10, 30), months=2))
    assert base.month_ends == (epoch_day(D(2026, 8, 31)), epoch_day(D(2026, 9, 30)))
    longer = extended(base, D(2026, 12, 1))
    assert longer.month_ends[2:] == (epoch_day(D(2026, 10, 31)), epoch_day(D(2026, 11, 30)))
    assert longer.end == D(2026, 12, 2) and longer.start == base.start
    assert is_month_end(D(2028, 2, 29)) and not is_month_end(D(2028, 2, 28))


def test_day_index_new_customer_numbers_and_rewrite_days() -> None:
    gen = GenerateConfig(customers=200, end_date=D(2026, 10, 30), new_customers_per_day=3,
                         rewrite_customers_every=3)
    assert day_index(gen, D(2026, 10, 30)) == 0
    # Day i opens customers 200 + 3i + 1 .. 200 + 3i + 3.
    assert [first_new_number(gen, D(2026, 10, 30) + dt.timedelta(days=i)) for i in range(3)] \
        == [201, 204, 207]
    days = [D(2026, 10, 30) + dt.timedelta(days=i) for i in range(7)]
    assert [is_rewrite_day(gen, d) for d in days] == [False, False, True, False, False, True,
                                                       False]
    never = gen.model_copy(update={"rewrite_customers_every": 0})
    assert not any(is_rewrite_day(never, d) for d in days)


def test_day_seed_is_a_fixed_hash_of_seed_and_day() -> None:
    # Fixed values: the same on any machine and Python (SHA-256, not hash()).
    assert day_seed(42, D(2026, 11, 1)) == day_seed(42, D(2026, 11, 1))
    assert day_seed(42, D(2026, 11, 1)) != day_seed(42, D(2026, 11, 2))
    assert day_seed(42, D(2026, 11, 1)) != day_seed(43, D(2026, 11, 1))
    assert 0 <= day_seed(42, D(2026, 11, 1)) < 2**62


def test_commit_metadata_reads_both_engines_history_entries() -> None:
    offline = {"version": 3, "sparkseg.generate.day": "2026-11-01", "operation": "WRITE"}
    spark = {"version": 3, "userMetadata": '{"sparkseg.generate.day": "2026-11-01"}'}
    assert commit_metadata(offline) == commit_metadata(spark) == {
        "sparkseg.generate.day": "2026-11-01"}
    assert commit_metadata({"version": 0, "userMetadata": None}) == {}


def test_customers_without_any_event_slot_get_no_event(spark: SparkSession) -> None:
    # campaigns=0 and a tiny rate: most customers have no organic event and no touch.
    gen = GenerateConfig(customers=40, months=1, campaigns=0, events_per_customer=0.5, seed=3)
    period = Period.of(gen)
    base = customer_base(spark.range(0, 40, 1, 1), gen=gen, period=period)
    events = build_events(base, gen=gen, period=period)
    # Slots are numbered 0 .. n-1 (5 digits): no "-1" slot from sequence(0, -1).
    assert events.filter(F.col("event_id").contains("-")).count() == 0
    days = events.select(F.to_date("event_ts").alias("d")).distinct()
    assert days.filter((F.col("d") < period.start) | (F.col("d") >= period.end)).count() == 0
