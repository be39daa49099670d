"""raw/transactions exploded from the customer base.

Each customer row is exploded once into numbered slots; a slot's number decides its kind:
customer-initiated transactions first, then one slot per month (payroll credit), one per
quarterly interest posting and three for the large outflows of churning customers. Slots
that do not apply (no payroll, before the account opened, ...) are filtered out right away.
One explode keeps one pass over the data and the range's partitioning (no shuffle).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.generate import codes
from sparkseg.generate import personas as P
from sparkseg.generate.activity import (
    activity_day,
    daily_rates,
    money,
    row_count,
    second_of_day,
    timestamp,
)
from sparkseg.generate.config import PERSONAS, GenerateConfig
from sparkseg.generate.customers import by_persona, customer_id_of, persona_is
from sparkseg.generate.period import Period
from sparkseg.generate.rng import lookup, normal, pick_index_by, uniform
from sparkseg.tables import PRODUCT_TYPES, RAW_TRANSACTIONS, TXN_CATEGORIES, TXN_CHANNELS

_SALT = 200  # salts 200-299 belong to this module
MAX_OUTFLOWS = 3
REGULAR, SALARY, INTEREST, OUTFLOW = 0, 1, 2, 3
CREDIT_CATEGORIES = ("salary", "interest", "wealth_redemption", "loan_disbursement")
# Largest generated amount: keeps decimal(18,2) far from overflow.
MAX_AMOUNT = 500_000_000.0


def structured_per_customer(gen: GenerateConfig, period: Period) -> float:
    """Expected payroll, interest and outflow rows per customer (not scaled by the rate)."""
    shares = gen.personas.normalised()
    months = len(period.month_starts)
    total = 0.0
    for p in PERSONAS:
        salary_months = 1.5 if p == "new_customer" else months
        interest = 0.0 if p == "dormant_saver" else len(period.interest_days)
        if p == "new_customer":
            interest = min(interest, 0.5)
        outflow = 2.0 if p == "churning" else 0.0
        total += shares[p] * (P.SALARY_PROB[p] * salary_months + interest + outflow)
    return total


def channel_tables() -> list[dict[str, float]]:
    """Channel weights per (persona, category): the persona's mix on the category's channels.

    Index ``persona_index * len(TXN_CATEGORIES) + category_index``.
    """
    tables = []
    for p in PERSONAS:
        for cat in TXN_CATEGORIES:
            allowed = P.CATEGORY_CHANNELS[cat]
            mix = {c: P.TXN_CHANNEL[p].get(c, 0.0) for c in TXN_CHANNELS if c in allowed}
            if sum(mix.values()) <= 0:  # the persona never uses these channels: spread evenly
                mix = {c: 1.0 for c in allowed}
            tables.append(mix)
    return tables


def _u(seed: int, k: int) -> Column:
    return uniform(seed, _SALT + k, F.col("cust_num"), F.col("seq"))


def _z(seed: int, k: int) -> Column:
    return normal(seed, _SALT + k, F.col("cust_num"), F.col("seq"))


# Codes travel as ints (positions in these lists) until the final select: string columns
# would be copied by every projection in between.
CAT = {c: i for i, c in enumerate(TXN_CATEGORIES)}
PT = {p: i for i, p in enumerate(PRODUCT_TYPES)}
MCCS: tuple[str, ...] = tuple(sorted({m for w in P.MCC.values() for m in w} | set(P.CHILD_MCC)))
_BASE_COLUMNS = (
    "cust_num", "p_idx", "style_idx", "open_day", "act_start", "act_end", "fade_level",
    "active_days", "txn_mult", "has_credit_card", "has_loan", "has_mortgage", "has_wealth",
    "has_fund", "has_insurance", "aum", "deposit_base", "salary", "pay_day", "salary_end_day",
    "is_parent",
)


def build_transactions(base: DataFrame, *, gen: GenerateConfig, period: Period,
                       rates_period: Period | None = None) -> DataFrame:
    """Clean raw/transactions rows of the customers in ``base`` (see :func:`customer_base`).

    Needs the base's ``cust_num, p_idx, style_idx, open_day, act_start, act_end,
    fade_level, active_days, txn_mult, has_<product>, aum, deposit_base, salary,
    pay_day, salary_end_day, is_parent``. Returns exactly the raw/transactions columns.
    ``rates_period`` (default ``period``) is the period whose volume the daily rates are
    scaled to: an appended day (a one-day ``period``) keeps the rates of the original
    history instead of packing ``txn_per_customer`` into one day.
    """
    seed = gen.seed
    u = lambda k: _u(seed, k)  # noqa: E731 - short alias for the many draws
    shares = gen.personas.normalised()
    scaled_to = rates_period or period
    target = max(0.2 * gen.txn_per_customer,
                 gen.txn_per_customer - structured_per_customer(gen, scaled_to))
    rates = daily_rates(P.TXN_RATE, target, shares, scaled_to)
    n_months, n_interest = len(period.month_starts), len(period.interest_days)
    cust = F.col("cust_num")

    counted = base.select(
        *_BASE_COLUMNS,
        row_count(by_persona(rates), F.col("txn_mult"), uniform(seed, _SALT, cust)).alias("n_reg"),
        F.when(persona_is("churning"), 1 + F.floor(uniform(seed, _SALT + 1, cust) * MAX_OUTFLOWS))
        .otherwise(0).cast("int").alias("n_out"),
    )
    slots = F.col("n_reg") + F.lit(n_months + n_interest + MAX_OUTFLOWS)
    rows = counted.withColumn("seq", F.explode(F.sequence(F.lit(0), slots - 1)))

    # --- kind, day, and whether the slot applies ------------------------------------------
    seq, n_reg = F.col("seq"), F.col("n_reg")
    kind = (F.when(seq < n_reg, REGULAR).when(seq < n_reg + n_months, SALARY)
            .when(seq < n_reg + n_months + n_interest, INTEREST).otherwise(OUTFLOW))
    # Clamped so that the array lookups stay in bounds on rows of other kinds too.
    month = F.least(F.greatest(seq - n_reg, F.lit(0)), F.lit(n_months - 1))
    quarter = F.least(F.greatest(seq - n_reg - n_months, F.lit(0)), F.lit(max(0, n_interest - 1)))
    out_no = seq - n_reg - n_months - n_interest
    salary_day = lookup(month, list(period.month_starts)) + F.col("pay_day") - 1
    interest_day = lookup(quarter, list(period.interest_days)) if n_interest else F.lit(0)
    outflow_day = F.lit(period.end_day - 75) + F.floor(u(2) * 74)
    rows = rows.withColumn("kind", kind)
    k = F.col("kind")
    rows = rows.withColumn(
        "day",
        F.when(k == REGULAR, activity_day(u(3), u(4), period=period))
        .when(k == SALARY, salary_day).when(k == INTEREST, interest_day)
        .otherwise(outflow_day).cast("int"),
    )
    day = F.col("day")
    applies = (
        (k == REGULAR)
        | ((k == SALARY) & (F.col("salary") > 0) & (day >= F.col("open_day"))
           & (day >= period.start_day) & (day < F.col("salary_end_day")) & (day < period.end_day))
        | ((k == INTEREST) & ~persona_is("dormant_saver") & (day >= F.col("open_day")))
        | ((k == OUTFLOW) & (out_no < F.col("n_out")) & (day >= F.col("act_start")))
    )
    rows = rows.filter(applies)

    # --- category and product ---------------------------------------------------------------
    r = u(5)
    has = {p: F.col(f"has_{p}") for p in ("credit_card", "loan", "mortgage", "wealth", "fund",
                                          "insurance")}
    drawn = pick_index_by(u(6), F.col("p_idx"), [P.CATEGORY[p] for p in PERSONAS],
                          TXN_CATEGORIES)
    rows = rows.withColumn(
        "cat0",
        F.when(k == REGULAR, drawn).when(k == SALARY, CAT["salary"])
        .when(k == INTEREST, CAT["interest"]).otherwise(CAT["transfer"]),
    )
    cat0 = F.col("cat0")
    product = (
        F.when(cat0 == CAT["wealth_purchase"],
               F.when(has["wealth"] & (r < 0.55), PT["wealth"])
               .when(has["fund"] & (r < 0.9), PT["fund"])
               .when(has["insurance"], PT["insurance"]).when(has["wealth"], PT["wealth"])
               .when(has["fund"], PT["fund"]))
        .when(cat0 == CAT["wealth_redemption"],
              F.when(has["wealth"] & (r < 0.6), PT["wealth"]).when(has["fund"], PT["fund"])
              .when(has["wealth"], PT["wealth"]))
        .when(cat0 == CAT["loan_repayment"],
              F.when(has["mortgage"] & (r < 0.35), PT["mortgage"])
              .when(has["loan"] & (r < 0.65), PT["loan"])
              .when(has["credit_card"], PT["credit_card"]).when(has["mortgage"], PT["mortgage"])
              .when(has["loan"], PT["loan"]))
        .when(cat0 == CAT["loan_disbursement"],
              F.when(has["loan"], PT["loan"]).when(has["mortgage"], PT["mortgage"]))
        .when(cat0 == CAT["consumption"],
              F.when(has["credit_card"] & (r < 0.55), PT["credit_card"]).otherwise(PT["deposit"]))
        .when(cat0 == CAT["fee"],
              F.when(has["credit_card"] & (r < 0.2), PT["credit_card"]).otherwise(PT["deposit"]))
        .otherwise(PT["deposit"])
    )
    rows = rows.withColumn("product", product)
    # A customer without the product the draw needs makes an ordinary transfer instead.
    rows = rows.withColumns({
        "cat": F.when(F.col("product").isNull(), F.lit(CAT["transfer"])).otherwise(cat0),
        "product": F.coalesce(F.col("product"), F.lit(PT["deposit"])),
    })
    cat = F.col("cat")

    # --- direction, channel, merchant ----------------------------------------------------------
    child = pick_index_by(u(8), F.lit(0), [P.CHILD_MCC], MCCS)
    usual = pick_index_by(u(8), F.col("p_idx"), [P.MCC[p] for p in PERSONAS], MCCS)
    credit = [CAT[c] for c in CREDIT_CATEGORIES]
    rows = rows.withColumns({
        "is_debit": F.when(cat.isin(*credit), F.lit(False))
        .when((cat == CAT["transfer"]) & (k == OUTFLOW), F.lit(True))
        .when(cat == CAT["transfer"], u(9) < by_persona(P.TRANSFER_OUT))
        .when(cat == CAT["other"], u(9) < 0.7)
        .otherwise(F.lit(True)),
        "channel": pick_index_by(u(10), F.col("style_idx") * len(TXN_CATEGORIES) + cat,
                                 channel_tables(), TXN_CHANNELS),
        "mcc": F.when(cat == CAT["consumption"],
                      F.when(F.col("is_parent") & (u(7) < P.CHILD_MCC_SHARE), child)
                      .otherwise(usual)),
    })

    # --- amount and time ------------------------------------------------------------------------
    medians = [P.CATEGORY_MEDIAN.get(c, 1.0) for c in TXN_CATEGORIES]
    sigmas = [P.CATEGORY_SIGMA.get(c, 0.5) for c in TXN_CATEGORIES]
    level = F.coalesce(lookup(F.col("mcc"), [P.MCC_LEVEL.get(m, 1.0) for m in MCCS], nullable=True),
                       F.lit(1.0))
    drawn_amount = (lookup(cat, medians) * by_persona(P.SPEND_LEVEL) * level
                    * F.exp(_z(seed, 11) * lookup(cat, sigmas)))
    product_col = F.col("product")
    regular_amount = (
        F.when((cat == CAT["wealth_purchase"]) & (product_col == PT["wealth"]),
               F.greatest(F.lit(10_000.0), F.round(drawn_amount / 1000.0) * 1000.0))
        .when(cat.isin(CAT["other"], CAT["wealth_purchase"]),
              F.greatest(F.lit(100.0), F.round(drawn_amount / 100.0) * 100.0))
        .otherwise(drawn_amount)
    )
    in_january = F.month(F.date_from_unix_date(day)) == 1
    bonus = F.when(in_january & (u(12) < 0.5), 1.5 + 2.0 * u(13)).otherwise(1.0)
    amount = (
        F.when(k == REGULAR, regular_amount)
        .when(k == SALARY, F.col("salary") * (1.0 + 0.03 * _z(seed, 14)) * bonus)
        .when(k == INTEREST, F.col("deposit_base") * (0.0025 / 4) * (0.9 + 0.2 * u(15)))
        .otherwise(F.col("aum") * (0.25 + 0.5 * u(16)) / F.col("n_out"))
    )
    second = (
        F.when(k == REGULAR, second_of_day(_z(seed, 17)))
        .when(k == SALARY, 3600 + F.floor(u(18) * 4 * 3600))
        .when(k == INTEREST, 1800 + F.floor(u(18) * 600))
        .otherwise(9 * 3600 + F.floor(u(18) * 8 * 3600))
    ).cast("long")
    foreign = (
        F.when(persona_is("affluent_investor") & (u(19) < 0.04)
               & cat.isin(CAT["transfer"], CAT["wealth_purchase"], CAT["wealth_redemption"]),
               F.lit("USD"))
        .when((cat == CAT["consumption"]) & (u(19) < 0.005),
              lookup(F.floor(u(20) * 4).cast("int"), ["HKD", "USD", "JPY", "EUR"]))
    )
    pad = F.lpad(cust.cast("string"), 9, "0")
    # Wealth, fund and insurance purchases settle from the debit card.
    account = (
        F.when(product_col == PT["credit_card"],
               F.concat(F.lit(codes.ACCOUNT_PREFIX["credit_card"]), pad, F.lit("7")))
        .when(product_col == PT["loan"],
              F.concat(F.lit(codes.ACCOUNT_PREFIX["loan"]), pad, F.lit("1")))
        .when(product_col == PT["mortgage"],
              F.concat(F.lit(codes.ACCOUNT_PREFIX["mortgage"]), pad, F.lit("1")))
        .otherwise(F.concat(F.lit(codes.ACCOUNT_PREFIX["deposit"]), pad, F.lit("1")))
    )
    return rows.select(
        F.concat(F.lit("T"), pad, F.lpad(seq.cast("string"), 5, "0")).alias("txn_id"),
        customer_id_of(cust).alias("customer_id"),
        account.alias("account_id"),
        timestamp(day, second).alias("txn_ts"),
        money(F.least(F.greatest(amount, F.lit(0.01)), F.lit(MAX_AMOUNT))).alias("amount"),
        F.coalesce(foreign, F.lit("CNY")).alias("currency"),
        F.when(F.col("is_debit"), F.lit("debit")).otherwise(F.lit("credit")).alias("direction"),
        lookup(F.col("channel"), list(TXN_CHANNELS)).alias("channel"),
        lookup(cat, list(TXN_CATEGORIES)).alias("category"),
        lookup(product_col, list(PRODUCT_TYPES)).alias("product_type"),
        lookup(F.col("mcc"), list(MCCS), nullable=True).alias("mcc"),
    ).select(*RAW_TRANSACTIONS.columns)
