"""raw/identity_links: the identity graph the identity stage stitches into ONE_IDs.

Per customer: KYC links the phone to the customer id; app logins link devices to the
customer id, except for "chain" customers whose device is only known through an SMS
one-time password (device -> phone) and whose web cookie only through cookie sync
(cookie -> device), so that the cookie is three hops from the customer id. WeChat
official-account openids bind to the customer id or the phone; mini-program openids join
through the WeChat union id. Family tablets and shop phones link one device to several
customers (the identity stage's explosion guard must catch the shop phones); anonymous
visitors form components without any customer.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sparkseg.generate.activity import timestamp
from sparkseg.generate.config import GenerateConfig
from sparkseg.generate.period import Period
from sparkseg.generate.rng import uniform
from sparkseg.tables import RAW_IDENTITY_LINKS

_SALT = 500  # salts 500-599 belong to this module
# Links are first observed at most this many days before the end of the data.
LOOKBACK_DAYS = 3 * 365


def _edge(k: int, when: Column, type_a: str, value_a: Column, type_b: str, value_b: Column,
          source: str) -> Column:
    return F.when(when, F.struct(
        F.lit(k).alias("k"),
        F.lit(type_a).alias("id_type_a"), value_a.alias("id_value_a"),
        F.lit(type_b).alias("id_type_b"), value_b.alias("id_value_b"),
        F.lit(source).alias("source"),
    ))


def _observed(seed: int, key: Column, edge: Column, first_day: Column, period: Period) -> Column:
    """A time between ``first_day`` (or the lookback) and the end of the data."""
    lo = F.greatest(first_day, F.lit(period.end_day - LOOKBACK_DAYS))
    u_day = uniform(seed, _SALT + 1, key, edge)
    u_sec = uniform(seed, _SALT + 2, key, edge)
    day = lo + F.floor(u_day * (F.lit(period.end_day) - lo))
    return timestamp(day.cast("int"), F.floor(u_sec * 86_400).cast("long"))


def build_identity_links(base: DataFrame, *, gen: GenerateConfig, period: Period) -> DataFrame:
    """Clean raw/identity_links edges of the customers in ``base`` (:func:`customer_base`).

    Needs ``cust_num, customer_id, open_day, phone, n_dev, dev1, dev2, is_chain,
    oa_openid, mp_openid, n_cookie, cookie1, cookie2, tablet_id, shop_device_id``.
    """
    seed = gen.seed
    cust = F.col("cust_num")
    u = lambda k: uniform(seed, _SALT + 10 + k, cust)  # noqa: E731
    cid, phone = F.col("customer_id"), F.col("phone")
    chain = F.col("is_chain")
    dev1, dev2 = F.col("dev1"), F.col("dev2")
    oa, mp = F.col("oa_openid"), F.col("mp_openid")
    c1, c2 = F.col("cookie1"), F.col("cookie2")
    oa_to_customer = u(0) < 0.65
    mp_via_unionid = oa.isNotNull() & (u(1) < 0.7)
    cookie_route = u(2)  # web login, SMS login on the web, or never linked (stays anonymous)
    edges = F.array(
        _edge(0, F.lit(True), "customer_id", cid, "phone_hash", phone, "kyc"),
        _edge(1, dev1.isNotNull() & ~chain, "device_id", dev1, "customer_id", cid, "app_login"),
        _edge(2, dev1.isNotNull() & chain, "device_id", dev1, "phone_hash", phone, "sms_otp"),
        _edge(3, dev2.isNotNull(), "device_id", dev2, "customer_id", cid, "app_login"),
        _edge(4, oa.isNotNull() & oa_to_customer, "wechat_openid", oa, "customer_id", cid,
              "wechat_bind"),
        _edge(5, oa.isNotNull() & ~oa_to_customer, "wechat_openid", oa, "phone_hash", phone,
              "wechat_phone_auth"),
        _edge(6, mp.isNotNull() & mp_via_unionid, "wechat_openid", mp, "wechat_openid", oa,
              "unionid"),
        _edge(7, mp.isNotNull() & ~mp_via_unionid, "wechat_openid", mp, "phone_hash", phone,
              "wechat_phone_auth"),
        _edge(8, c1.isNotNull() & chain, "web_cookie", c1, "device_id", dev1, "cookie_sync"),
        _edge(9, c1.isNotNull() & ~chain & (cookie_route < 0.55), "web_cookie", c1,
              "customer_id", cid, "web_login"),
        _edge(10, c1.isNotNull() & ~chain & (cookie_route >= 0.55) & (cookie_route < 0.9),
              "web_cookie", c1, "phone_hash", phone, "web_sms_login"),
        _edge(11, c2.isNotNull(), "web_cookie", c2, "customer_id", cid, "web_login"),
        _edge(12, F.col("tablet_id").isNotNull(), "device_id", F.col("tablet_id"),
              "customer_id", cid, "app_login"),
        _edge(13, F.col("shop_device_id").isNotNull(), "device_id", F.col("shop_device_id"),
              "customer_id", cid, "app_login"),
    )
    rows = (
        base.select("cust_num", "open_day", F.explode(edges).alias("e"))
        .filter(F.col("e").isNotNull())
        .select("cust_num", "open_day", "e.*")
    )
    return rows.withColumn(
        "observed_ts", _observed(seed, cust, F.col("k"), F.col("open_day"), period)
    ).select(*RAW_IDENTITY_LINKS.columns)


def build_anonymous_links(anon: DataFrame, *, gen: GenerateConfig, period: Period) -> DataFrame:
    """Edges among anonymous visitors' identifiers (:func:`anonymous_base`): no customer.

    App visitors' devices share a cookie with the web (cookie sync); some mini-program
    visitors are known as the same WeChat user as an official-account follower (union id).
    """
    seed = gen.seed
    a = F.col("anon_num")
    edges = F.array(
        _edge(0, F.col("device").isNotNull() & F.col("cookie").isNotNull(), "web_cookie",
              F.col("cookie"), "device_id", F.col("device"), "cookie_sync"),
        _edge(1, F.col("mp_openid").isNotNull() & F.col("oa_openid").isNotNull(), "wechat_openid",
              F.col("mp_openid"), "wechat_openid", F.col("oa_openid"), "unionid"),
    )
    rows = (
        anon.select("anon_num", F.explode(edges).alias("e"))
        .filter(F.col("e").isNotNull())
        .select("anon_num", "e.*")
    )
    return rows.withColumn(
        "observed_ts", _observed(seed, a + 1_000_000_000, F.col("k"), F.lit(period.start_day), period)
    ).select(*RAW_IDENTITY_LINKS.columns)
