"""Shared pieces of the exploded tables: activity days, hours of day, volume scaling."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from sparkseg.generate import personas as P
from sparkseg.generate.config import PERSONAS
from sparkseg.generate.customers import CHURN_TAIL_DAYS, DORMANT_QUIET_DAYS, by_persona
from sparkseg.generate.period import Period
from sparkseg.tables import MONEY

# 0.00 .. 0.99 as decimal literals (see money()); built per call, never at import.
_CENTS_SQL = "array(" + ", ".join(f"{c / 100:.2f}BD" for c in range(100)) + ")"
# Upper bound of generated rows of one kind per customer (keeps ids fixed-width).
MAX_PER_CUSTOMER = 20_000


def activity_day(u_tail: Column, u_day: Column, *, period: Period) -> Column:
    """An epoch day in the customer's activity window ``[act_start, act_end)``.

    Needs ``act_start, act_end, fade_level, active_days``. Uniform, except for customers
    with a ``fade_level`` (churning): over the last 90 days their activity density falls
    linearly from ``fade_level`` times the usual level to zero.
    """
    start, end, level = F.col("act_start"), F.col("act_end"), F.col("fade_level")
    cut = F.lit(period.end_day - CHURN_TAIL_DAYS)
    fading = level.isNotNull() & (start < cut)
    tail_mass = level * (CHURN_TAIL_DAYS / 2.0) / F.col("active_days")
    body = start + F.floor(u_day * (F.when(fading, cut).otherwise(end) - start))
    # Inverse CDF of the density 2(1 - x/90)/90 on [0, 90).
    tail = cut + F.floor(F.lit(float(CHURN_TAIL_DAYS)) * (1.0 - F.sqrt(1.0 - u_day)))
    return F.when(fading & (u_tail < tail_mass), tail).otherwise(body).cast("int")


def second_of_day(z: Column) -> Column:
    """Second of the day around the persona's usual hour (``p_idx``), from a normal ``z``."""
    mean = by_persona({p: P.ACTIVE_HOUR[p][0] for p in PERSONAS})
    spread = by_persona({p: P.ACTIVE_HOUR[p][1] for p in PERSONAS})
    return F.pmod(F.floor((mean + spread * z) * 3600.0), F.lit(86_400)).cast("long")


def timestamp(day: Column, second: Column) -> Column:
    """A UTC timestamp from an epoch day and a second of that day."""
    return F.timestamp_seconds(day.cast("long") * 86_400 + second)


def money(amount: Column) -> Column:
    """A non-negative double amount as decimal(18,2), truncated to the cent.

    A plain ``cast`` from double goes through ``Double.toString`` and ``BigDecimal`` for
    every row (the biggest single cost in a profile of the balances table); whole yuan
    cast from a long plus the cents looked up among 100 literals stay on Spark's compact
    decimal path. Values must stay below 10^14 yuan.
    """
    cents = F.floor(amount * 100.0).cast("long")
    yuan = F.floor(cents / 100).cast("long").cast("decimal(16,2)")
    fraction = F.element_at(F.expr(_CENTS_SQL), (F.pmod(cents, F.lit(100)) + 1).cast("int"))
    return (yuan + fraction.cast("decimal(3,2)")).cast(MONEY)


def expected_active_days(persona: str, period: Period) -> float:
    """Rough mean of a persona's active days in the period (to scale volumes)."""
    if persona == "dormant_saver":
        return max(0.0, period.days - DORMANT_QUIET_DAYS - 45.0)
    if persona == "new_customer":
        return min(float(period.days), 45.0)
    if persona == "churning" and period.days > CHURN_TAIL_DAYS:
        return period.days - CHURN_TAIL_DAYS + 0.45 * CHURN_TAIL_DAYS / 2
    return float(period.days)


def daily_rates(relative: dict[str, float], target: float, shares: dict[str, float],
                period: Period) -> dict[str, float]:
    """Per-persona rows per active day so that the mean over customers is ``target``."""
    per_customer = sum(shares[p] * relative[p] * expected_active_days(p, period) for p in PERSONAS)
    scale = target / per_customer if per_customer > 0 else 0.0
    return {p: scale * relative[p] for p in PERSONAS}


def row_count(rate_day: Column, mult: Column, u: Column) -> Column:
    """Rows of a customer: rate x active days x personal multiplier, randomly rounded.

    Needs ``active_days``.
    """
    n = F.floor(rate_day * F.col("active_days") * mult + u)
    return F.least(n, F.lit(MAX_PER_CUSTOMER)).cast("int")
