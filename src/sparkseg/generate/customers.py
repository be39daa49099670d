"""The customer base: one row per customer with everything the other builders draw on.

``customer_base`` turns ``spark.range(customers)`` into persona, demographics, holdings,
balances level, salary, activity window and digital identifiers, all hashed from
``(seed, customer number)``. Every raw table is then exploded from this base, so the
tables agree with each other (a customer's transactions fall inside its activity
window, its events use its identifiers, its balances match its holdings).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.generate import codes
from sparkseg.generate import personas as P
from sparkseg.generate.config import PERSONAS, GenerateConfig
from sparkseg.generate.period import Period, epoch_day
from sparkseg.generate.rng import int_between, lookup, normal, pick, pick_by, uniform

HOLDING_FLAGS: dict[str, str] = {
    "credit_card": "has_credit_card",
    "loan": "has_loan",
    "mortgage": "has_mortgage",
    "wealth": "has_wealth",
    "fund": "has_fund",
    "insurance": "has_insurance",
}
# Days before the end of the data that the churning persona starts to fade out.
CHURN_TAIL_DAYS = 90
# Dormant savers' last activity is at least this many days before the end.
DORMANT_QUIET_DAYS = 180
# A phone number's 9 variable digits come from a bijection of the customer number, so two
# customers never share a number by accident (shared identifiers are planted on purpose).
_PHONE_SPACE = len(codes.PHONE_PREFIXES) * 100_000_000
_PHONE_MULT = 1_234_567_891  # coprime with _PHONE_SPACE (3 * 10^9): a bijection

# The bank's oldest accounts in the synthetic data (core-banking migration date).
_FIRST_OPEN = dt.date(1992, 1, 1)
_SALT = 100  # salts 100-199 belong to this module


def customer_id_of(cust_num: Column) -> Column:
    """``C`` + the customer number in 9 digits (builders rebuild it from the number at
    the end instead of carrying the string through every projection)."""
    return F.concat(F.lit("C"), F.lpad(cust_num.cast("string"), 9, "0"))


def persona_is(name: str) -> Column:
    """``p_idx`` is persona ``name`` (an int comparison, cheaper than on the name)."""
    return F.col("p_idx") == PERSONAS.index(name)


def by_persona(values: dict[str, float]) -> Column:
    """A per-persona parameter for the row's ``p_idx``."""
    return lookup(F.col("p_idx"), [values[p] for p in PERSONAS])


def _u(seed: int, k: int) -> Column:
    return uniform(seed, _SALT + k, F.col("cust_num"))


def _hex_id(seed: int, kind: str, *keys: Column) -> Column:
    return F.md5(F.concat_ws(":", F.lit(str(seed)), F.lit(kind), *[k.cast("string") for k in keys]))


def _device_id(seed: int, kind: str, ios: Column, *keys: Column) -> Column:
    """iOS vendor ids look like upper-case UUIDs, Android ids like 16 hex digits."""
    h = _hex_id(seed, kind, *keys)
    uuid = F.upper(F.concat_ws("-", F.substring(h, 1, 8), F.substring(h, 9, 4),
                               F.substring(h, 13, 4), F.substring(h, 17, 4),
                               F.substring(h, 21, 12)))
    return F.when(ios, uuid).otherwise(F.substring(h, 1, 16))


def openid(seed: int, app_prefix: str, key: Column) -> Column:
    """WeChat openids: 28 characters, a per-app 5-character prefix plus URL-safe base64."""
    digest = F.base64(F.unhex(F.sha2(F.concat_ws(":", F.lit(str(seed)), F.lit(app_prefix),
                                                  key.cast("string")), 256)))
    return F.concat(F.lit(app_prefix), F.substring(F.translate(digest, "+/=", "-_"), 1, 23))


def customer_base(ids: DataFrame, *, gen: GenerateConfig, period: Period) -> DataFrame:
    """One row per customer from ``ids`` (column ``id``: 0 .. customers-1).

    Adds the contract columns of raw/customers plus the hidden columns the other
    builders need: ``cust_num, p_idx, persona, style_idx, age, birth_day, open_day,
    has_<product>, aum, deposit_base, salary, pay_day, salary_end_day,
    is_parent, act_start, act_end, fade_level, active_days, txn_mult, evt_mult, phone, n_dev, dev1,
    dev2, oa_openid, mp_openid, n_cookie, cookie1, cookie2, preferred_channel, is_chain,
    tablet_id, shop_device_id``. Days are epoch days (int).
    """
    seed = gen.seed
    u = lambda k: _u(seed, k)  # noqa: E731 - a short local alias keeps the draws readable
    end_day = period.end_day
    # Columns are added in a few batches (one projection each): a withColumn per column
    # would re-analyse the growing plan sixty times.
    df = ids.select((F.col("id") + 1).alias("cust_num"), F.col("id"))
    df = df.withColumn(
        "p_idx", pick(u(0), {str(i): s for i, s in enumerate(gen.personas.normalised().values())})
        .cast("int"),
    )
    by_p = {p: P.TENURE_YEARS[p] for p in PERSONAS}
    t_lo, t_hi = by_persona({p: v[0] for p, v in by_p.items()}), by_persona({p: v[1] for p, v in by_p.items()})
    age_lo = by_persona({p: P.AGE[p][0] for p in PERSONAS})
    age_hi = by_persona({p: P.AGE[p][1] for p in PERSONAS})
    df = df.withColumns({
        "persona": lookup(F.col("p_idx"), list(PERSONAS)),
        "customer_id": customer_id_of(F.col("cust_num")),
        # A minority behave like another persona in channel and event habits (overlap).
        "style_idx": F.when(u(1) < P.STYLE_NOISE, F.floor(u(2) * len(PERSONAS)).cast("int"))
        .otherwise(F.col("p_idx")),
        "age": age_lo + (age_hi - age_lo) * (u(3) + u(4)) / 2.0,
        "gender": F.when(u(5) < by_persona(P.GENDER_FEMALE), F.lit("F")).otherwise(F.lit("M")),
        "city_tier": pick_by(u(6), F.col("p_idx"), [P.CITY_TIER[p] for p in PERSONAS]).cast("int"),
        "occupation": pick_by(u(9), F.col("p_idx"), [P.OCCUPATION[p] for p in PERSONAS]),
        "income_band": pick_by(u(10), F.col("p_idx"), [P.INCOME[p] for p in PERSONAS]),
        "risk_level": pick_by(u(11), F.col("p_idx"), [P.RISK[p] for p in PERSONAS]),
        "tenure_days": F.floor((t_lo + (t_hi - t_lo) * u(12)) * 365.25),
        **{flag: u(20 + k) < by_persona({p: P.HOLDS[p][product] for p in PERSONAS})
           for k, (product, flag) in enumerate(HOLDING_FLAGS.items())},
        "aum": by_persona(P.AUM_MEDIAN)
        * F.exp(normal(seed, _SALT + 30, F.col("cust_num")) * by_persona(P.AUM_SIGMA)),
        "pay_day": lookup(F.floor(u(33) * 6).cast("int"), [5, 8, 10, 15, 20, 25]),
        # Activity level per customer: lognormal with mean 1.
        "txn_mult": F.exp(normal(seed, _SALT + 42, F.col("cust_num")) * 0.5 - 0.125),
        "evt_mult": F.exp(normal(seed, _SALT + 44, F.col("cust_num")) * 0.6 - 0.18),
    })

    city_idx: Column | None = None
    for t in (1, 2, 3, 4):
        members = [i for i, c in enumerate(codes.CITIES) if c[1] == t]
        choice = lookup(F.floor(u(7) * len(members)).cast("int"), members)
        cond = F.col("city_tier") == t
        city_idx = F.when(cond, choice) if city_idx is None else city_idx.when(cond, choice)
    assert city_idx is not None
    branches = lookup(F.col("city_tier") - 1, [codes.BRANCHES_PER_TIER[t] for t in (1, 2, 3, 4)])
    inc_idx = F.array_position(F.array(*[F.lit(b) for b in P.INCOME_BANDS]), F.col("income_band"))
    monthly = (lookup(inc_idx.cast("int") - 1, list(P.INCOME_SALARY)) * (0.7 + 0.6 * u(32))
               * by_persona(P.SALARY_FACTOR))
    birth_day = (F.lit(end_day) - F.floor(F.col("age") * 365.25)).cast("int")
    adult = birth_day + F.lit(int(18 * 365.25) + 1)
    new_open = F.lit(end_day - 1) - F.floor(u(12) * 89)
    df = df.withColumns({
        "city_idx": city_idx,
        "branch_no": F.lpad(int_between(u(8), F.lit(1), branches).cast("string"), 3, "0"),
        "birth_day": birth_day,
        "open_day": F.when(persona_is("new_customer"), new_open)
        .otherwise(F.greatest(F.lit(end_day) - F.col("tenure_days"), adult,
                              F.lit(epoch_day(_FIRST_OPEN)))).cast("int"),
        "deposit_base": F.col("aum") * asset_share("deposit"),
        "salary": F.when(u(31) < by_persona(P.SALARY_PROB), F.round(monthly, -1))
        .otherwise(F.lit(0.0)),
        # Most churning customers' payroll moves to another bank 2-3 months before the end.
        "salary_end_day": F.when(persona_is("churning") & (u(34) < 0.75),
                                 F.lit(end_day - 60) - F.floor(u(35) * 40))
        .otherwise(F.lit(end_day)).cast("int"),
        "is_parent": (F.col("age") >= 30) & (F.col("age") < 46) & (u(36) < gen.parent_share),
        "act_end": F.when(persona_is("dormant_saver"),
                          F.lit(end_day - DORMANT_QUIET_DAYS) - F.floor(u(40) * 90))
        .otherwise(F.lit(end_day)).cast("int"),
        # Churning customers' activity fades over the last 90 days, from 20-70% of their
        # usual level down to nothing (see activity.activity_day).
        "fade_level": F.when(persona_is("churning"), 0.2 + 0.5 * u(41))
        .otherwise(F.lit(None).cast("double")),
    })

    offset = (seed * 2_654_435_761) % _PHONE_SPACE
    x = F.pmod(F.col("cust_num") * _PHONE_MULT + F.lit(offset), F.lit(_PHONE_SPACE))
    has_dev = u(50) < by_persona(P.HAS_DEVICE)
    has_wechat = u(54) < by_persona(P.HAS_WECHAT)
    has_oa = has_wechat & (u(55) < 0.85)
    has_mp = has_wechat & ((u(56) < 0.6) | ~has_oa)
    df = df.withColumns({
        "city": lookup(F.col("city_idx"), [c[0] for c in codes.CITIES]),
        "branch_id": F.concat(lookup(F.col("city_idx"), [c[2] for c in codes.CITIES]),
                              F.col("branch_no")),
        "act_start": F.greatest(F.col("open_day"), F.lit(period.start_day)),
        "phone": F.concat(
            lookup(F.floor(x / 100_000_000).cast("int"), list(codes.PHONE_PREFIXES)),
            F.lpad(F.pmod(x, F.lit(100_000_000)).cast("string"), 8, "0"),
        ),
        "n_dev": F.when(has_dev & (u(51) < by_persona(P.SECOND_DEVICE)), 2)
        .when(has_dev, 1).otherwise(0),
        "oa_openid": F.when(has_oa, openid(seed, "oQ2Xs", F.col("cust_num"))),
        "mp_openid": F.when(has_mp, openid(seed, "o7Kp_", F.col("cust_num"))),
        "preferred": pick_by(u(60), F.col("p_idx"), [P.PREFERRED_CHANNEL[p] for p in PERSONAS]),
    })

    # Households: blocks of 5 consecutive customers; an active block shares one tablet among
    # its first 2-5 members (3.5 expected members per active block).
    block = F.floor(F.col("id") / 5)
    block_active = uniform(seed, _SALT + 70, block) < min(1.0, gen.family_device_share * 5 / 3.5)
    size = 2 + F.floor(uniform(seed, _SALT + 71, block) * 4)
    member = block_active & (F.pmod(F.col("id"), F.lit(5)) < size)
    shop_p = 0.0
    if gen.shop_devices > 0:
        shop_p = min(1.0, gen.shop_devices * gen.shop_device_customers / gen.customers)
    shop = F.floor(u(73) * max(1, gen.shop_devices)).cast("int")
    is_chain = (u(57) < gen.chain_share) & (F.col("n_dev") > 0)
    preferred = F.col("preferred")
    df = df.withColumns({
        "dev1": F.when(F.col("n_dev") >= 1, _device_id(seed, "dev1", u(52) < 0.3, F.col("cust_num"))),
        "dev2": F.when(F.col("n_dev") >= 2, _device_id(seed, "dev2", u(53) < 0.3, F.col("cust_num"))),
        "is_chain": is_chain,
        # Chain customers always browse the web: their cookie is the far end of the chain.
        "n_cookie": F.when(is_chain | (u(58) < by_persona(P.HAS_WEB)),
                           F.when(u(59) < 0.35, 2).otherwise(1)).otherwise(0),
        # Nobody prefers a channel they cannot receive: fall back to SMS (all have a phone).
        "preferred_channel": F.when((preferred == "app_push") & (F.col("n_dev") == 0), F.lit("sms"))
        .when((preferred == "wechat") & F.col("oa_openid").isNull(), F.lit("sms"))
        .otherwise(preferred),
        "tablet_id": F.when(member, _device_id(seed, "tablet", F.lit(True), block)),
        "shop_device_id": F.when(u(72) < shop_p, _device_id(seed, "shop", F.lit(False), shop)),
    })
    df = df.withColumns({
        "active_days": active_days(period),
        "cookie1": F.when(F.col("n_cookie") >= 1, _hex_id(seed, "ck1", F.col("cust_num"))),
        "cookie2": F.when(F.col("n_cookie") >= 2, _hex_id(seed, "ck2", F.col("cust_num"))),
    })
    return df.drop("city_idx", "branch_no", "tenure_days", "preferred")


def active_days(period: Period) -> Column:
    """Days of normal activity in ``[act_start, act_end)``; a fading tail counts partly.

    Needs ``act_start, act_end, fade_level``. A tail whose density falls linearly from
    ``fade_level`` to 0 over ``CHURN_TAIL_DAYS`` is worth ``fade_level * days / 2`` days.
    """
    start, end, level = F.col("act_start"), F.col("act_end"), F.col("fade_level")
    cut = F.lit(period.end_day - CHURN_TAIL_DAYS)
    plain = F.greatest(end - start, F.lit(0)).cast("double")
    fading = level.isNotNull() & (start < cut)
    return F.when(fading, (cut - start) + level * (CHURN_TAIL_DAYS / 2.0)).otherwise(plain)


def asset_share(product: str) -> Column:
    """The share of AUM held in ``product``, renormalised over the customer's holdings.

    Needs ``p_idx`` and the ``has_<product>`` flags.
    """
    held = {
        a: (F.lit(True) if a == "deposit" else F.col(HOLDING_FLAGS[a]))
        for a in codes.ASSET_PRODUCTS
    }
    weights = {
        a: F.when(held[a], by_persona({p: P.AUM_SPLIT[p][a] for p in PERSONAS})).otherwise(0.0)
        for a in codes.ASSET_PRODUCTS
    }
    total = weights["deposit"] + weights["wealth"] + weights["fund"] + weights["insurance"]
    return weights[product] / F.greatest(total, F.lit(1e-9))


def customers_table(base: DataFrame) -> DataFrame:
    """The raw/customers contract columns of a :func:`customer_base`."""
    return base.select(
        "customer_id",
        F.date_from_unix_date(F.col("birth_day")).alias("birth_date"),
        "gender", "city", "city_tier", "occupation", "income_band",
        F.date_from_unix_date(F.col("open_day")).alias("open_date"),
        "risk_level", "branch_id",
    )


def truth_personas(base: DataFrame) -> DataFrame:
    """raw/_truth_personas: the planted persona and preferred campaign channel."""
    return base.select("customer_id", "persona", "preferred_channel")
