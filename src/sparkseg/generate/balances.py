"""raw/balances: one row per customer, product held and month end."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.generate import personas as P
from sparkseg.generate.activity import money
from sparkseg.generate.config import GenerateConfig
from sparkseg.generate.customers import (
    HOLDING_FLAGS,
    asset_share,
    by_persona,
    customer_id_of,
    persona_is,
)
from sparkseg.generate.period import Period
from sparkseg.generate.rng import lookup, normal, uniform
from sparkseg.tables import RAW_BALANCES

_SALT = 300  # salts 300-399 belong to this module
PRODUCTS: tuple[str, ...] = ("deposit", *HOLDING_FLAGS)
# Asset balances of churning customers at the last three month ends, relative to before.
CHURN_FADE: tuple[float, ...] = (0.7, 0.4, 0.15)


def _z(seed: int, k: int) -> Column:
    return normal(seed, _SALT + k, F.col("cust_num"), F.col("product_idx"), F.col("m"))


def _u_customer(seed: int, k: int) -> Column:
    return uniform(seed, _SALT + k, F.col("cust_num"), F.col("product_idx"))


def build_balances(base: DataFrame, *, gen: GenerateConfig, period: Period,
                   first_month: int = 0) -> DataFrame:
    """Clean raw/balances rows of the customers in ``base`` (see :func:`customer_base`).

    Needs ``cust_num, p_idx, open_day, aum, has_<product>``.
    Asset products (deposit, wealth, fund, insurance) split the customer's AUM; liabilities
    (credit card, loan, mortgage) are outstanding amounts. Month-end snapshots start at
    the first month end after the account opened. ``first_month`` skips the month ends
    before ``period.month_ends[first_month]`` (an appended month end builds only itself).
    """
    seed = gen.seed
    n_months = len(period.month_ends)
    if n_months == 0:
        return base.sparkSession.createDataFrame([], RAW_BALANCES.schema)
    held = F.array(*[
        F.when(F.lit(True) if p == "deposit" else F.col(HOLDING_FLAGS[p]), F.lit(i))
        for i, p in enumerate(PRODUCTS)
    ])
    needed = base.select("cust_num", "p_idx", "open_day", "aum", *HOLDING_FLAGS.values())
    rows = (
        needed.withColumn("product_idx", F.explode(F.filter(held, lambda x: x.isNotNull())))
        .withColumn("m", F.explode(F.sequence(F.lit(first_month), F.lit(n_months - 1))))
        .withColumn("snapshot_day", lookup(F.col("m"), list(period.month_ends)))
        .filter(F.col("snapshot_day") >= F.col("open_day"))
    )
    idx = F.col("product_idx")
    pt = {p: idx == i for i, p in enumerate(PRODUCTS)}
    months_before_end = F.lit(n_months - 1) - F.col("m")

    # Assets: the customer's share of AUM, drifting by month with persona-sized noise.
    share = (F.when(pt["deposit"], asset_share("deposit"))
             .when(pt["wealth"], asset_share("wealth"))
             .when(pt["fund"], asset_share("fund"))
             .otherwise(asset_share("insurance")))
    drift = F.exp(-by_persona(P.BALANCE_DRIFT) * months_before_end)
    noise = F.greatest(1.0 + by_persona(P.BALANCE_NOISE) * _z(seed, 1), F.lit(0.05))
    fade_index = F.col("m") - F.lit(n_months - len(CHURN_FADE))
    fade = F.when(
        persona_is("churning") & (fade_index >= 0),
        lookup(F.greatest(fade_index, F.lit(0)), list(CHURN_FADE)),
    ).otherwise(1.0)
    asset = F.col("aum") * share * drift * noise * fade
    asset = F.when(pt["wealth"], F.round(asset / 1000.0) * 1000.0).otherwise(asset)

    # Liabilities: card balances swing with spending; loans amortise month by month.
    level = by_persona(P.SPEND_LEVEL)
    card = (3_000.0 * level * F.exp(_z(seed, 2) * 0.6)
            * F.greatest(1.0 + 0.35 * _z(seed, 3), F.lit(0.0)))
    principal_loan = 120_000.0 * level * F.exp(normal(seed, _SALT + 4, F.col("cust_num")) * 0.6)
    principal_mortgage = 900_000.0 * F.exp(normal(seed, _SALT + 5, F.col("cust_num")) * 0.5)
    # Months of the loan already repaid at the first snapshot (0 .. 10 years).
    paid = F.floor(_u_customer(seed, 6) * 120)
    loan = principal_loan * F.greatest(1.0 - (paid + F.col("m")) / 60.0, F.lit(0.05))
    mortgage = principal_mortgage * F.greatest(1.0 - (paid + F.col("m")) / 300.0, F.lit(0.02))

    balance = (F.when(pt["credit_card"], card).when(pt["loan"], loan)
               .when(pt["mortgage"], mortgage).otherwise(asset))
    return rows.select(
        customer_id_of(F.col("cust_num")).alias("customer_id"),
        lookup(idx, list(PRODUCTS)).alias("product_type"),
        money(F.greatest(balance, F.lit(0.0))).alias("balance"),
        F.date_from_unix_date(F.col("snapshot_day")).alias("snapshot_date"),
    ).select(*RAW_BALANCES.columns)
