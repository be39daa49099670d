"""``sparkseg generate`` end to end: tables on disk, determinism, planted dirt, truth."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.generate.config import PERSONAS
from sparkseg.generate.customers import customer_base
from sparkseg.generate.period import Period
from sparkseg.generate.stage import GENERATED_TABLES
from sparkseg.generate.transactions import build_transactions
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TRANSACTIONS,
    RAW_TRUTH_PERSONAS,
)
from tests.support.generate import GEN, Clean, fingerprint


def test_every_raw_table_is_written_with_its_contract_columns(written: Lakehouse) -> None:
    for spec in GENERATED_TABLES:
        df = written.read(spec)  # raises SchemaMismatchError on a wrong column or type
        actual = [(f.name, f.dataType.simpleString()) for f in written.schema(spec).fields]
        assert actual == [(f.name, f.dataType.simpleString()) for f in spec.schema.fields]
        assert df.count() > 0, spec.name


def test_same_seed_gives_the_same_rows_whatever_the_partitioning(
    spark: SparkSession, gen_cfg: Config, clean: Clean
) -> None:
    gen = gen_cfg.generate
    period = Period.of(gen)
    base = customer_base(spark.range(0, gen.customers, 1, 3), gen=gen, period=period)
    again = build_transactions(base, gen=gen, period=period)
    assert again.rdd.getNumPartitions() != clean.transactions.rdd.getNumPartitions()
    assert fingerprint(again) == fingerprint(clean.transactions)


def test_another_seed_gives_other_rows(spark: SparkSession, gen_cfg: Config, clean: Clean) -> None:
    gen = gen_cfg.generate.model_copy(update={"seed": gen_cfg.generate.seed + 1})
    period = Period.of(gen)
    base = customer_base(spark.range(0, gen.customers, 1, 2), gen=gen, period=period)
    other = build_transactions(base, gen=gen, period=period)
    assert fingerprint(other) != fingerprint(clean.transactions)


def test_dirty_rows_are_about_the_configured_share(written: Lakehouse, clean: Clean) -> None:
    share = GEN["dirty_share"]
    for spec, clean_df in ((RAW_TRANSACTIONS, clean.transactions), (RAW_BALANCES, clean.balances)):
        n = clean_df.count()
        # Rows changed or added on purpose: the written table minus the clean one.
        broken = written.read(spec).exceptAll(clean_df).count()
        sd = (share * (1 - share) / n) ** 0.5
        assert abs(broken / n - share) < 4 * sd, spec.name


def test_every_kind_of_transaction_dirt_is_present(written: Lakehouse) -> None:
    tx = written.read(RAW_TRANSACTIONS)
    year = F.year("txn_ts")
    counts = tx.agg(
        F.sum(F.col("txn_id").isNull().cast("int")).alias("null_key"),
        F.sum((F.trim("txn_id") == "").cast("int")).alias("blank_key"),
        F.sum(F.col("customer_id").isNull().cast("int")).alias("missing_customer"),
        F.sum((F.col("amount") == 0).cast("int")).alias("zero_amount"),
        F.sum((F.col("amount") < 0).cast("int")).alias("negative_amount"),
        F.sum((F.col("channel") == "ussd").cast("int")).alias("unknown_channel"),
        F.sum((F.col("category") == "refund").cast("int")).alias("unknown_category"),
        F.sum((year >= 2099).cast("int")).alias("future"),
        F.sum((year < 1990).cast("int")).alias("ancient"),
    ).first()
    assert counts is not None
    assert all(counts[k] > 0 for k in counts.asDict()), counts
    per_key = tx.filter(F.trim("txn_id") != "").groupBy("txn_id").agg(
        F.count("*").alias("rows"), F.countDistinct("amount").alias("amounts")
    )
    assert per_key.filter((F.col("rows") > 1) & (F.col("amounts") == 1)).count() > 0  # exact
    assert per_key.filter(F.col("amounts") > 1).count() > 0  # same key, other values


def _count_each(df: DataFrame, **conditions: Column) -> dict[str, int]:
    row = df.agg(*[F.sum(c.cast("int")).alias(k) for k, c in conditions.items()]).first()
    assert row is not None
    return {k: int(row[k] or 0) for k in conditions}


def _has_duplicate_keys(df: DataFrame, *keys: str) -> bool:
    return df.groupBy(*keys).count().filter(F.col("count") > 1).limit(1).count() > 0


def test_every_other_table_carries_its_kinds_of_dirt(written: Lakehouse) -> None:
    col, year = F.col, F.year
    ev = written.read(RAW_EVENTS)
    found = _count_each(
        ev, null_key=col("event_id").isNull(), missing_id=col("id_value").isNull(),
        unknown_channel=col("channel") == "tiktok", unknown_type=col("event_type") == "swipe",
        unknown_id_type=col("id_type") == "imei", future=year("event_ts") >= 2099,
        ancient=year("event_ts") < 1990,
    )
    assert min(found.values()) > 0, found
    assert _has_duplicate_keys(ev, "event_id")

    bal = written.read(RAW_BALANCES)
    found = _count_each(
        bal, null_key=col("customer_id").isNull(),
        unknown_product=col("product_type") == "precious_metal",
        future=year("snapshot_date") >= 2099, ancient=year("snapshot_date") < 1990,
    )
    assert min(found.values()) > 0, found
    assert _has_duplicate_keys(bal, "customer_id", "product_type", "snapshot_date")

    cu = written.read(RAW_CUSTOMERS)
    found = _count_each(
        cu, null_key=col("customer_id").isNull(), future=year("open_date") >= 2099,
        ancient=year("birth_date") < 1900,
    )
    assert min(found.values()) > 0, found
    assert _has_duplicate_keys(cu, "customer_id")

    links = written.read(RAW_IDENTITY_LINKS)
    found = _count_each(
        links, null_key=col("id_value_b").isNull(), unknown_id_type=col("id_type_a") == "imei",
        future=year("observed_ts") >= 2099, ancient=year("observed_ts") < 1990,
    )
    assert min(found.values()) > 0, found


def test_truth_names_every_customer_with_a_persona_and_preferred_channel(
    written: Lakehouse,
) -> None:
    truth = written.read(RAW_TRUTH_PERSONAS)
    customers = written.read(RAW_CUSTOMERS).filter(F.col("customer_id").isNotNull())
    assert truth.count() == truth.select("customer_id").distinct().count() == GEN["customers"]
    assert customers.join(truth, "customer_id", "left_anti").count() == 0
    assert truth.filter(~F.col("persona").isin(*PERSONAS)).count() == 0
    channels = {r[0] for r in truth.select("preferred_channel").distinct().collect()}
    assert channels == {"app_push", "sms", "wechat", "none"}


def test_anonymous_visitors_have_events_but_no_customer(written: Lakehouse) -> None:
    ev = written.read(RAW_EVENTS).filter(F.col("event_id").startswith("EA"))
    assert ev.count() > 0
    assert ev.filter(F.col("id_type") == "customer_id").count() == 0
