"""raw/events: organic app / WeChat / web / call-centre events and campaign touches.

Like transactions, each customer row explodes once into numbered slots: organic events
first, then six slots per campaign (push_sent, push_opened, sms_sent, sms_clicked,
wechat_msg_sent, wechat_msg_opened). A touch exists when the customer was targeted and
can receive the channel; an open exists with a probability that is high on the customer's
preferred channel and low elsewhere (zero for preferred channel ``none``).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.generate import codes
from sparkseg.generate import personas as P
from sparkseg.generate.activity import (
    activity_day,
    daily_rates,
    row_count,
    second_of_day,
    timestamp,
)
from sparkseg.generate.config import PERSONAS, GenerateConfig
from sparkseg.generate.customers import by_persona, openid
from sparkseg.generate.period import Period
from sparkseg.generate.rng import int_between, lookup, pick, pick_by, pick_index_by, uniform
from sparkseg.tables import EVENT_CHANNELS, EVENT_TYPES, RAW_EVENTS

_SALT = 400  # salts 400-499 belong to this module (anonymous visitors: 450-499)
# Campaign slot j -> (event type, event channel, preferred_channel value that opens it).
TOUCHES: tuple[tuple[str, str, str], ...] = (
    ("push_sent", "app", "app_push"),
    ("push_opened", "app", "app_push"),
    ("sms_sent", "sms", "sms"),
    ("sms_clicked", "sms", "sms"),
    ("wechat_msg_sent", "wechat", "wechat"),
    ("wechat_msg_opened", "wechat", "wechat"),
)
# Second of the day (bank wall-clock time, see docs/generate.md) each channel sends at.
SEND_SECOND = {"app": 10 * 3600, "sms": 11 * 3600, "wechat": 12 * 3600}
ORGANIC_TYPES_WEB_ONLY = ("page_view", "product_view", "search", "click", "login")
ORGANIC_TYPES_CALL_CENTER = ("login", "product_view", "search")


def expected_campaign_events(gen: GenerateConfig) -> float:
    """Mean campaign events per customer (to leave the rest of the budget to organic ones)."""
    shares = gen.personas.normalised()
    channels = sum(shares[p] * (P.HAS_DEVICE[p] + 1.0 + 0.85 * P.HAS_WECHAT[p]) for p in PERSONAS)
    opened = 1.0 + gen.open_rate_preferred / 3 + gen.open_rate_other
    return gen.campaigns * gen.campaign_reach * channels * opened


def product_id(family: Column, u: Column) -> Column:
    """``family`` + catalogue number: WM0042, FD000517 (fund codes have 6 digits), CC007."""
    size = F.coalesce(
        F.try_element_at(F.create_map(*[F.lit(x) for kv in codes.CATALOG_SIZE.items() for x in kv]),
                         family),
        F.lit(10),
    )
    number = (F.floor(u * size) + 1).cast("string")
    width = F.when(family == "FD", 6).when(family == "WM", 4).otherwise(3)
    return F.concat(family, F.lpad(number, width, "0"))


def _u(seed: int, k: int) -> Column:
    return uniform(seed, _SALT + k, F.col("cust_num"), F.col("seq"))


def _ident(id_type: str, value: Column) -> Column:
    """An (id_type, id_value) pair; CASE branches need identical struct field names."""
    return F.struct(F.lit(id_type).alias("t"), value.alias("v"))


# Codes travel as ints (positions in the contract lists) until the final select.
EC = {c: i for i, c in enumerate(EVENT_CHANNELS)}
ET = {t: i for i, t in enumerate(EVENT_TYPES)}
PREFERRED = ("app_push", "sms", "wechat", "none")  # touch j is answered by PREFERRED[j // 2]
# Identifier slots: which of the customer's identifiers an event carries.
ID_SLOTS: tuple[tuple[str, str], ...] = (
    ("customer_id", "customer_id"), ("device_id", "dev1"), ("device_id", "dev2"),
    ("device_id", "tablet_id"), ("device_id", "shop_device_id"), ("wechat_openid", "oa_openid"),
    ("wechat_openid", "mp_openid"), ("web_cookie", "cookie1"), ("web_cookie", "cookie2"),
    ("phone_hash", "phone"),
)
SLOT = {column: i for i, (_, column) in enumerate(ID_SLOTS)}
_IDENTIFIERS = ("customer_id", "phone", "dev1", "dev2", "oa_openid", "mp_openid", "cookie1",
                "cookie2", "tablet_id", "shop_device_id")


def build_events(base: DataFrame, *, gen: GenerateConfig, period: Period,
                 rates_period: Period | None = None) -> DataFrame:
    """Clean raw/events rows of the customers in ``base`` (see :func:`customer_base`).

    Needs ``cust_num, customer_id, p_idx, style_idx, open_day, act_start, act_end,
    fade_level, active_days, evt_mult, phone, n_dev, dev1, dev2, oa_openid, mp_openid,
    n_cookie, cookie1, cookie2, tablet_id, shop_device_id, preferred_channel``. Phone
    numbers go out raw as ``phone_hash`` values: ingest hashes them. ``rates_period``
    (default ``period``): the period the organic daily rates are scaled to (see
    :func:`sparkseg.generate.transactions.build_transactions`).
    """
    seed = gen.seed
    u = lambda k: _u(seed, k)  # noqa: E731 - short alias for the many draws
    shares = gen.personas.normalised()
    target = max(0.2 * gen.events_per_customer,
                 gen.events_per_customer - expected_campaign_events(gen))
    rates = daily_rates(P.EVENT_RATE, target, shares, rates_period or period)
    cust = F.col("cust_num")
    n_touch = len(TOUCHES) * len(period.campaigns)

    counted = base.select(
        "cust_num", "p_idx", "style_idx", "open_day", "act_start", "act_end", "fade_level",
        "active_days", "n_dev", "n_cookie", *_IDENTIFIERS,
        (F.array_position(F.array(*[F.lit(p) for p in PREFERRED]), F.col("preferred_channel"))
         .cast("int") - 1).alias("pref"),
        row_count(by_persona(rates), F.col("evt_mult"), uniform(seed, _SALT, cust)).alias("n_org"),
    )
    # sequence(0, -1) is [0, -1], not empty: a customer with no slot at all (no organic
    # event and no campaign, e.g. campaigns=0 or an appended day) must explode to no row.
    rows = counted.withColumn(
        "seq", F.explode(F.sequence(F.lit(0), F.col("n_org") + n_touch - 1))
    ).filter((F.col("seq") >= 0) & (F.col("seq") < F.col("n_org") + n_touch))
    seq, n_org = F.col("seq"), F.col("n_org")
    slot = F.greatest(seq - n_org, F.lit(0))
    rows = rows.withColumns({
        "organic": seq < n_org,
        "k": F.least(F.floor(slot / len(TOUCHES)).cast("int"),
                     F.lit(max(0, len(period.campaigns) - 1))),
        "j": F.pmod(slot, F.lit(len(TOUCHES))).cast("int"),
    })
    organic, k, j = F.col("organic"), F.col("k"), F.col("j")

    # --- campaign touches: keep only those that happened --------------------------------------
    if period.campaigns:
        camp_day = lookup(k, [c.day for c in period.campaigns])
        camp_id = lookup(k, [c.campaign_id for c in period.campaigns])
        camp_product = lookup(k, [c.product_id for c in period.campaigns])
    else:  # no campaign slots exist: placeholders keep the expressions typed
        camp_day = F.lit(0)
        camp_id = camp_product = F.lit(None).cast("string")
    touch_channel = lookup(j, [EC[t[1]] for t in TOUCHES])
    answered_by = F.floor(j / 2).cast("int")  # index into PREFERRED
    # One draw per customer and campaign (not per slot): targeting covers all channels.
    targeted = uniform(seed, _SALT + 1, cust, k) < gen.campaign_reach
    reachable = (F.when(touch_channel == EC["app"], F.col("n_dev") > 0)
                 .when(touch_channel == EC["wechat"], F.col("oa_openid").isNotNull())
                 .otherwise(F.lit(True)))
    open_rate = (F.when(F.col("pref") == PREFERRED.index("none"), F.lit(0.0))
                 .when(F.col("pref") == answered_by, F.lit(gen.open_rate_preferred))
                 .otherwise(F.lit(gen.open_rate_other)))
    # The open draw is per customer, campaign and channel: sent and opened slots share it.
    opened = uniform(seed, _SALT + 2, cust, k, answered_by) < open_rate
    is_open = F.pmod(j, F.lit(2)) == 1
    happens = organic | (
        targeted & (camp_day >= F.col("open_day")) & reachable & (~is_open | opened)
    )
    rows = rows.filter(happens)

    # --- channel ------------------------------------------------------------------------------
    drawn_channel = pick_index_by(u(3), F.col("style_idx"), [P.EVENT_CHANNEL[p] for p in PERSONAS],
                                  EVENT_CHANNELS)
    has_app = F.col("n_dev") > 0
    has_oa, has_mp = F.col("oa_openid").isNotNull(), F.col("mp_openid").isNotNull()
    has_web = F.col("n_cookie") > 0
    # A channel the customer has no identifier for falls back to one they have.
    fallback = (F.when(has_oa, EC["wechat"]).when(has_mp, EC["mini_program"])
                .when(has_web, EC["web"]).when(has_app, EC["app"]).otherwise(EC["call_center"]))
    org_channel = (
        F.when((drawn_channel == EC["app"]) & ~has_app, fallback)
        .when((drawn_channel == EC["wechat"]) & ~has_oa, fallback)
        .when((drawn_channel == EC["mini_program"]) & ~has_mp, fallback)
        .when((drawn_channel == EC["web"]) & ~has_web, fallback)
        .otherwise(drawn_channel)
    )
    rows = rows.withColumns({
        "channel": F.when(organic, org_channel).otherwise(touch_channel),
        "only_calls": organic & ~has_oa & ~has_mp & ~has_web & ~has_app
        & (drawn_channel != EC["call_center"]),
    })
    channel = F.col("channel")
    # Customers without any digital identifier only call the bank, and rarely.
    rows = rows.filter(~F.col("only_calls") | (u(19) < 0.2))

    # --- event type and identifier -----------------------------------------------------------
    drawn_type = pick_index_by(u(4), F.col("style_idx"), [P.EVENT_TYPE[p] for p in PERSONAS],
                               EVENT_TYPES)
    call_types = [ET[t] for t in ORGANIC_TYPES_CALL_CENTER]
    web_types = [ET[t] for t in ORGANIC_TYPES_WEB_ONLY]
    org_type = (
        F.when((channel == EC["call_center"]) & ~drawn_type.isin(*call_types), F.lit(ET["login"]))
        .when((channel == EC["web"]) & ~drawn_type.isin(*web_types), F.lit(ET["page_view"]))
        .otherwise(drawn_type)
    )
    app_slot = (
        F.when(F.col("tablet_id").isNotNull() & (u(5) < 0.25), SLOT["tablet_id"])
        .when(F.col("shop_device_id").isNotNull() & (u(16) < 0.08), SLOT["shop_device_id"])
        .when(u(17) < 0.3, SLOT["customer_id"])  # logged-in app events
        .when((F.col("n_dev") == 2) & (u(18) < 0.4), SLOT["dev2"])
        .otherwise(SLOT["dev1"])
    )
    web_slot = F.when((F.col("n_cookie") == 2) & (u(6) < 0.4), SLOT["cookie2"]).otherwise(SLOT["cookie1"])
    id_slot = (
        F.when(channel == EC["app"], F.when(organic, app_slot).otherwise(SLOT["dev1"]))
        .when(channel == EC["wechat"], SLOT["oa_openid"])
        .when(channel == EC["mini_program"], SLOT["mp_openid"])
        .when(channel == EC["web"], web_slot)
        .otherwise(SLOT["phone"])  # sms and call centre
    )
    rows = rows.withColumns({
        "event_type": F.when(organic, org_type).otherwise(lookup(j, [ET[t[0]] for t in TOUCHES])),
        "id_slot": id_slot,
    })
    et = F.col("event_type")
    viewed = product_id(pick_by(u(7), F.col("p_idx"), [P.VIEWED_PRODUCT[p] for p in PERSONAS]),
                        u(8))
    product = F.when(~organic, camp_product).when(
        (et == ET["product_view"]) | ((et == ET["click"]) & (u(9) < 0.5)), viewed
    )
    id_value: Column | None = None
    for i, (_, column) in enumerate(ID_SLOTS):
        cond = F.col("id_slot") == i
        id_value = F.when(cond, F.col(column)) if id_value is None else id_value.when(cond, F.col(column))
    assert id_value is not None

    # --- time -----------------------------------------------------------------------------------
    org_day = activity_day(u(10), u(11), period=period)
    org_second = second_of_day(u(12) * 2.0 - 1.0 + u(13) * 2.0 - 1.0)
    # Opens follow their send by a minute to a day (most within the first hour).
    delay = F.when(is_open, 60 + F.floor(F.pow(u(14), 3) * 86_400)).otherwise(F.floor(u(15) * 1800))
    send_second = lookup(answered_by, [SEND_SECOND["app"], SEND_SECOND["sms"], SEND_SECOND["wechat"]])
    ts = F.when(organic, timestamp(org_day, org_second)).otherwise(
        timestamp(camp_day, (send_second + delay).cast("long"))
    )
    pad = F.lpad(cust.cast("string"), 9, "0")
    return rows.select(
        F.concat(F.lit("E"), pad, F.lpad(seq.cast("string"), 5, "0")).alias("event_id"),
        ts.alias("event_ts"),
        lookup(channel, list(EVENT_CHANNELS)).alias("channel"),
        lookup(F.col("id_slot"), [t for t, _ in ID_SLOTS]).alias("id_type"),
        id_value.alias("id_value"),
        lookup(et, list(EVENT_TYPES)).alias("event_type"),
        F.when(~organic, camp_id).alias("campaign_id"),
        product.alias("product_id"),
    ).select(*RAW_EVENTS.columns)


def anonymous_base(ids: DataFrame, *, gen: GenerateConfig) -> DataFrame:
    """Anonymous visitors (no customer) from ``ids`` (column ``id``).

    Adds ``anon_num, kind`` (web / mini_program / app), ``cookie, mp_openid, oa_openid,
    device``: web visitors have a cookie; app visitors a device and a cookie their app
    shares with the web (cookie sync); mini-program visitors an openid and sometimes the
    official-account openid of the same WeChat user.
    """
    seed = gen.seed
    a = F.col("anon_num")
    u = lambda k: uniform(seed, _SALT + 50 + k, a)  # noqa: E731
    df = ids.select((F.col("id") + 1).alias("anon_num"))
    df = df.withColumn("kind", pick(u(0), {"web": 0.55, "mini_program": 0.25, "app": 0.2}))
    kind = F.col("kind")
    key = lambda tag: F.concat_ws(":", F.lit(str(seed)), F.lit(tag), a.cast("string"))  # noqa: E731
    return df.withColumns({
        "cookie": F.when(kind != "mini_program", F.md5(key("anon-ck"))),
        "device": F.when(kind == "app", F.substring(F.md5(key("anon-dev")), 1, 16)),
        "mp_openid": F.when(kind == "mini_program", openid(seed, "o7Kp_", key("anon-mp"))),
        "oa_openid": F.when((kind == "mini_program") & (u(1) < 0.3),
                            openid(seed, "oQ2Xs", key("anon-oa"))),
        "n_events": int_between(u(2), 1, 10),
    })


def build_anonymous_events(anon: DataFrame, *, gen: GenerateConfig, period: Period) -> DataFrame:
    """Events of anonymous visitors (:func:`anonymous_base`): browsing, never logged in."""
    seed = gen.seed
    a = F.col("anon_num")
    rows = anon.withColumn("seq", F.explode(F.sequence(F.lit(0), F.col("n_events") - 1)))
    u = lambda k: uniform(seed, _SALT + 60 + k, a, F.col("seq"))  # noqa: E731
    kind = F.col("kind")
    event_type = pick(u(0), {"page_view": 0.5, "product_view": 0.2, "search": 0.15, "click": 0.15})
    identity = (
        F.when(kind == "web", _ident("web_cookie", F.col("cookie")))
        .when(kind == "app", _ident("device_id", F.col("device")))
        .otherwise(_ident("wechat_openid", F.col("mp_openid")))
    )
    # A visitor's events cluster around one visit day.
    visit = F.lit(period.start_day) + F.floor(uniform(seed, _SALT + 70, a) * period.days)
    day = F.least(visit + F.floor(u(1) * 3), F.lit(period.end_day - 1)).cast("int")
    rows = rows.withColumns({"identity": identity, "event_type": event_type})
    family = pick(u(2), {"WM": 0.3, "FD": 0.3, "CC": 0.25, "LN": 0.15})
    return rows.select(
        F.concat(F.lit("EA"), F.lpad(a.cast("string"), 9, "0"), F.lpad(F.col("seq").cast("string"), 3, "0"))
        .alias("event_id"),
        timestamp(day, F.floor(u(3) * 86_400).cast("long")).alias("event_ts"),
        lookup(F.when(kind == "web", 0).when(kind == "app", 1).otherwise(2),
               ["web", "app", "mini_program"]).alias("channel"),
        F.col("identity.t").alias("id_type"),
        F.col("identity.v").alias("id_value"),
        "event_type",
        F.lit(None).cast("string").alias("campaign_id"),
        F.when(F.col("event_type") == "product_view", product_id(family, u(4))).alias("product_id"),
    ).select(*RAW_EVENTS.columns)
