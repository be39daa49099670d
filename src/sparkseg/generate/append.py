"""``sparkseg generate --append-days N``: daily increments after the generated history.

A plain ``sparkseg generate`` writes ``[end_date - months, end_date)``. Each appended day
``d`` (``end_date``, ``end_date + 1``, ...) adds, as its own append commit per raw table:

- transactions and events of day ``d`` of the existing customers who are still active at
  ``end_date`` (not dormant savers nor churners), built by the same builders on a one-day
  :class:`Period` with the original history's daily rates;
- ``new_customers_per_day`` new customers (persona ``new_customer``, opened on ``d``) with
  their customer rows, truth rows, identity links and that day's activity; customers who
  opened on earlier appended days keep being active;
- late-arriving duplicates: exact copies of rows of the 1-3 days before ``d`` (same ids and
  timestamps), regenerated from the builders (never read back from raw);
- new identity links: a new device for a few existing customers, and sometimes one device
  two customers log in on (joins their components);
- month-end balance snapshots when ``d`` is the last day of a month;
- every ``rewrite_customers_every``-th day, raw/customers rewritten in full (``overwrite``)
  with a few customers' city, income_band or risk_level changed.

Where the next day is found: the newest commit of raw/events (written last on every day)
carries ``sparkseg.generate.day`` in its commit metadata; a plain generate's commit has
none, so appending starts at ``end_date``. Each other table is skipped for a day its own
newest commit already covers, so a rerun after a crash mid-day finishes that day without
appending anything twice. Nothing here scans the raw history: the history is read only
from the Delta logs' newest commits, and raw/customers (small) on a rewrite day.

Random values stay hashes of (seed, salt, keys): builders run with a *day seed* (a SHA-256
of seed and day), the customer base with the plain seed, so a customer's identifiers and
attributes are those of raw/customers while each day draws its own rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.config import Config
from sparkseg.errors import ConfigError, MissingTableError
from sparkseg.generate import codes
from sparkseg.generate import personas as P
from sparkseg.generate.balances import build_balances
from sparkseg.generate.config import PERSONAS, GenerateConfig, PersonaShares
from sparkseg.generate.customers import customer_base, customers_table, truth_personas
from sparkseg.generate.dirty import dirt_for, with_dirty_rows
from sparkseg.generate.events import build_events
from sparkseg.generate.links import build_identity_links
from sparkseg.generate.period import EPOCH, Period, _month_len, epoch_day
from sparkseg.generate.rng import lookup, uniform
from sparkseg.generate.stage import BYTES_PER_ROW, partitions_for
from sparkseg.generate.transactions import build_transactions
from sparkseg.lakehouse import Lakehouse, WriteMode
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TRANSACTIONS,
    RAW_TRUTH_PERSONAS,
    TableSpec,
)

log = logging.getLogger(__name__)
_SALT = 700  # salts 700-799 belong to this module
# Commit metadata keys (every generate commit carries the seed; appended ones the day too).
META_SEED = "sparkseg.generate.seed"
META_DAY = "sparkseg.generate.day"
META_END = "sparkseg.generate.end_date"
META_CUSTOMERS = "sparkseg.generate.customers"
# New customers' numbers follow from the day and this knob: it must not change in between.
META_NEW_PER_DAY = "sparkseg.generate.new_customers_per_day"
# Late duplicates copy rows of 1..LATE_MAX_LAG days before the appended day.
LATE_MAX_LAG = 3
# Written last on every appended day: its newest commit says which day is complete.
CURSOR_TABLE = RAW_EVENTS
_TS_COLUMN = {RAW_TRANSACTIONS.name: "txn_ts", RAW_EVENTS.name: "event_ts"}
_ID_COLUMN = {RAW_TRANSACTIONS.name: "txn_id", RAW_EVENTS.name: "event_id"}


# --- calendar and seeds -----------------------------------------------------------------


def day_seed(seed: int, day: dt.date) -> int:
    """The seed of one appended day: 62 bits of SHA-256 of ``seed:day`` (stable anywhere)."""
    digest = hashlib.sha256(f"{seed}:{day.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2


def _driver_uniform(*keys: object) -> float:
    """A uniform in [0, 1) from SHA-256 of ``keys``, for the few draws made on the driver."""
    digest = hashlib.sha256(":".join(map(str, keys)).encode()).digest()
    return int.from_bytes(digest[:7], "big") / float(1 << 56)


def day_index(gen: GenerateConfig, day: dt.date) -> int:
    """0 for ``end_date`` (the first appended day), 1 for the next, ..."""
    return (day - gen.end_date).days


def is_month_end(day: dt.date) -> bool:
    return day.day == _month_len(day.year, day.month)


def is_rewrite_day(gen: GenerateConfig, day: dt.date) -> bool:
    n = gen.rewrite_customers_every
    return n > 0 and (day_index(gen, day) + 1) % n == 0


def one_day(day: dt.date) -> Period:
    """``[day, day + 1)`` as a Period: its month start (payroll falls on ``day`` only for
    pay day ``day.day``), an interest posting if ``day`` is 21 Mar/Jun/Sep/Dec, no month
    end (balances use :func:`extended`), no campaign."""
    d = epoch_day(day)
    interest = (d,) if day.day == 21 and day.month % 3 == 0 else ()
    first = epoch_day(day.replace(day=1))
    return Period(day, day + dt.timedelta(days=1), (first,), (), interest, ())


def extended(period: Period, day: dt.date) -> Period:
    """``period`` continued to ``day`` (inclusive): its month ends run on past the end."""
    ends = list(period.month_ends)
    d = period.end
    while d <= day:
        if is_month_end(d):
            ends.append(epoch_day(d))
        d += dt.timedelta(days=1)
    return dataclasses.replace(period, end=day + dt.timedelta(days=1), month_ends=tuple(ends))


# --- customer bases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bases:
    """Customer bases of one appended day (hidden columns of :func:`customer_base`)."""

    existing: DataFrame  # customers 1 .. generate.customers
    opened: DataFrame  # customers opened on appended days up to and including the day
    today: DataFrame  # the part of ``opened`` opened on the day itself

    @property
    def everyone(self) -> DataFrame:
        return self.existing.unionByName(self.opened)


def first_new_number(gen: GenerateConfig, day: dt.date) -> int:
    """Customer number of the first customer opened on ``day`` (numbers follow the day)."""
    return gen.customers + day_index(gen, day) * gen.new_customers_per_day + 1


def bases(spark: SparkSession, gen: GenerateConfig, day: dt.date, partitions: int) -> Bases:
    period = Period.of(gen)
    existing = customer_base(spark.range(0, gen.customers, 1, partitions), gen=gen, period=period)
    k = gen.new_customers_per_day
    last = first_new_number(gen, day) + k - 1
    if last > 999_999_999:
        raise ConfigError(
            f"generate: appended day {day} would number customers past C999999999 "
            f"(customers={gen.customers}, new_customers_per_day={k})"
        )
    only_new = PersonaShares(**{p: (1.0 if p == "new_customer" else 0.0) for p in PERSONAS})
    new_gen = gen.model_copy(update={"personas": only_new})
    opened = customer_base(spark.range(gen.customers, last, 1, 1), gen=new_gen, period=period)
    # The opening day follows from the number: customers + i * k + 1 .. opened on day i.
    open_day = (F.lit(period.end_day) + F.floor((F.col("cust_num") - gen.customers - 1) / max(k, 1))
                ).cast("int")
    opened = opened.withColumns({"open_day": open_day, "act_start": open_day})
    today = opened.filter(F.col("open_day") == epoch_day(day))
    return Bases(existing, opened, today)


def day_base(base: DataFrame, *, day: dt.date, history: Period) -> DataFrame:
    """``base`` with its activity window narrowed to ``[day, day + 1)``.

    Needs ``act_end, fade_level, salary_end_day``; replaces ``act_start, act_end,
    active_days, fade_level, salary_end_day``. Customers active until the end of the
    history stay active; dormant savers and churners (fading at the end) stay away, and
    payroll that had not moved away keeps coming.
    """
    d = epoch_day(day)
    active = (F.col("act_end") >= history.end_day) & F.col("fade_level").isNull()
    return base.withColumns({
        "act_start": F.when(active, F.lit(d)).otherwise(F.lit(d + 1)),
        "act_end": F.lit(d + 1),
        "active_days": F.when(active, F.lit(1.0)).otherwise(F.lit(0.0)),
        "fade_level": F.lit(None).cast("double"),
        "salary_end_day": F.when(F.col("salary_end_day") >= history.end_day, F.lit(d + 1))
        .otherwise(F.col("salary_end_day")).cast("int"),
    })


# --- the rows of one day ------------------------------------------------------------------


def _dirty(df: DataFrame, spec: TableSpec, gen: GenerateConfig, seed: int) -> DataFrame:
    """``df`` with the table's planted dirt (as a plain generate plants it), conformed."""
    df = with_dirty_rows(df, dirt_for(spec.name, gen.end_date), share=gen.dirty_share,
                         seed=seed, salt=sum(map(ord, spec.name)))
    return spec.conform(df)


def _day_ids(df: DataFrame, spec: TableSpec, day: dt.date) -> DataFrame:
    """Ids of appended rows carry the day (``T20261101000000123000045``): the builders'
    ids number slots per customer from 0 every day, so they would repeat."""
    column = _ID_COLUMN[spec.name]
    prefix = F.lit(f"{column[0].upper()}{day:%Y%m%d}")
    return df.withColumn(column, F.concat(prefix, F.expr(f"substring({column}, 2)")))


def activity_rows(spec: TableSpec, base: DataFrame, gen: GenerateConfig,
                  day: dt.date) -> DataFrame:
    """Stored raw/transactions or raw/events rows of ``day`` for the customers of ``base``
    (plain :func:`customer_base` rows), dirt included.

    A pure function of (config, day, customer): calling it on a subset of customers gives
    exactly those customers' stored rows, which is how late duplicates are made.
    """
    history = Period.of(gen)
    gen_day = gen.model_copy(update={"seed": day_seed(gen.seed, day)})
    narrowed = day_base(base, day=day, history=history)
    build = build_transactions if spec is RAW_TRANSACTIONS else build_events
    rows = build(narrowed, gen=gen_day, period=one_day(day), rates_period=history)
    return _dirty(_day_ids(rows, spec, day), spec, gen, gen_day.seed)


def original_rows(spec: TableSpec, base: DataFrame, gen: GenerateConfig,
                  day: dt.date) -> DataFrame:
    """Stored rows of ``day`` (inside the original history) for the customers of ``base``:
    the plain generate's builder and dirt, restricted to that day before the dirt (dirt
    is chosen per row, so the restriction changes no row)."""
    history = Period.of(gen)
    build = build_transactions if spec is RAW_TRANSACTIONS else build_events
    rows = build(base, gen=gen, period=history)
    rows = rows.filter(F.to_date(_TS_COLUMN[spec.name]) == F.lit(day))
    return _dirty(rows, spec, gen, gen.seed)


def late_duplicates(spec: TableSpec, existing: DataFrame, gen: GenerateConfig,
                    day: dt.date) -> DataFrame | None:
    """Exact copies of rows of the ``LATE_MAX_LAG`` days before ``day``: each existing
    customer is drawn with chance ``late_duplicate_share`` and a lag of 1-3 days, and all
    of its rows of that earlier day arrive again. ``None`` when the share is 0."""
    if gen.late_duplicate_share <= 0:
        return None
    key = F.lit(epoch_day(day))
    drawn = existing.filter(uniform(gen.seed, _SALT + 1, key, F.col("cust_num"))
                            < gen.late_duplicate_share)
    lag = 1 + F.floor(uniform(gen.seed, _SALT + 2, key, F.col("cust_num")) * LATE_MAX_LAG)
    parts = []
    for n in range(1, LATE_MAX_LAG + 1):
        earlier = day - dt.timedelta(days=n)
        if earlier < Period.of(gen).start:
            continue
        subset = drawn.filter(lag == n)
        make = activity_rows if earlier >= gen.end_date else original_rows
        parts.append(make(spec, subset, gen, earlier))
    return reduce(DataFrame.unionByName, parts) if parts else None


def _link_rows(spark: SparkSession, rows: list[tuple[str, str, str, str, str, int]]) -> DataFrame:
    """raw/identity_links rows from (type_a, value_a, type_b, value_b, source, epoch second)."""
    schema = T.StructType([
        *[T.StructField(c, T.StringType()) for c in
          ("id_type_a", "id_value_a", "id_type_b", "id_value_b", "source")],
        T.StructField("observed_s", T.LongType()),
    ])
    df = spark.createDataFrame(rows, schema).coalesce(1)
    # Seconds, not Python datetimes: those would be shifted by the driver's time zone.
    return df.withColumn("observed_ts", F.timestamp_seconds("observed_s")).drop("observed_s")


def new_links(spark: SparkSession, gen: GenerateConfig, day: dt.date) -> DataFrame:
    """A day's new device links of existing customers (a handful, drawn on the driver).

    ``new_device_links_per_day`` customers log in on a new device (device_id ->
    customer_id); with chance ``merge_link_chance`` one more device is logged in on by
    two customers, which joins their identity components.
    """
    seed, d0 = gen.seed, epoch_day(day) * 86_400

    def customer(*keys: object) -> str:
        return f"C{1 + int(_driver_uniform(seed, day, *keys) * gen.customers):09d}"

    def device(*keys: object) -> str:
        return hashlib.md5(":".join(map(str, (seed, day, *keys))).encode()).hexdigest()[:16]

    def second(*keys: object) -> int:
        return d0 + int(_driver_uniform(seed, day, "s", *keys) * 86_400)

    rows = [("device_id", device("dev", j), "customer_id", customer("dev", j), "app_login",
             second("dev", j)) for j in range(gen.new_device_links_per_day)]
    if _driver_uniform(seed, day, "merge") < gen.merge_link_chance and gen.customers > 1:
        shared = device("merge")
        a, b = customer("merge-a"), customer("merge-b")
        if a == b:  # two draws of one customer would join nothing
            b = f"C{int(a[1:]) % gen.customers + 1:09d}"
        rows += [("device_id", shared, "customer_id", c, "app_login", second("merge", c))
                 for c in (a, b)]
    return _link_rows(spark, rows)


def changed_customers(customers: DataFrame, gen: GenerateConfig, day: dt.date) -> DataFrame:
    """raw/customers with ``changed_customer_share`` of customers changed in one attribute:
    a move (city, city_tier, branch area), a new income band or a new risk level.

    Needs and returns the raw/customers columns. The choice is a hash of (seed, day,
    customer_id), so duplicate rows of a customer change alike; rows without a
    customer_id stay as they are. The new value always differs from the old one.
    """
    seed, key = day_seed(gen.seed, day), F.col("customer_id")
    u = lambda k: uniform(seed, _SALT + 10 + k, key)  # noqa: E731
    chosen = key.isNotNull() & (u(0) < gen.changed_customer_share)
    what = F.floor(u(1) * 3).cast("int")

    def other(values: list[Any], column: str, k: int) -> Column:
        """Another value of ``values`` than the row's (a shift by 1 .. len-1 positions)."""
        old = F.array_position(F.array(*[F.lit(v) for v in values]), F.col(column)).cast("int") - 1
        shift = 1 + F.floor(u(k) * (len(values) - 1)).cast("int")
        return F.pmod(F.greatest(old, F.lit(0)) + shift, F.lit(len(values)))

    city = other([c[0] for c in codes.CITIES], "city", 2)
    income = lookup(other(list(P.INCOME_BANDS), "income_band", 3), list(P.INCOME_BANDS))
    risks = ["C1", "C2", "C3", "C4", "C5"]
    risk = lookup(other(risks, "risk_level", 4), risks)
    moves, grade = chosen & (what == 0), {1: income, 2: risk}
    return customers.withColumns({
        "city": F.when(moves, lookup(city, [c[0] for c in codes.CITIES])).otherwise(F.col("city")),
        "city_tier": F.when(moves, lookup(city, [c[1] for c in codes.CITIES]))
        .otherwise(F.col("city_tier")),
        # Branch ids are the city's 4-digit area code plus the branch number.
        "branch_id": F.when(moves, F.concat(lookup(city, [c[2] for c in codes.CITIES]),
                                            F.expr("substring(branch_id, 5)")))
        .otherwise(F.col("branch_id")),
        "income_band": F.when(chosen & (what == 1), grade[1]).otherwise(F.col("income_band")),
        "risk_level": F.when(chosen & (what == 2), grade[2]).otherwise(F.col("risk_level")),
    }).select(*RAW_CUSTOMERS.columns)


# --- where the raw data ends --------------------------------------------------------------


def commit_metadata(entry: Mapping[str, Any]) -> dict[str, str]:
    """sparkseg's commit metadata of one history entry, whichever engine wrote it (the
    offline engine puts it at the top level, delta-spark in ``userMetadata`` as JSON)."""
    meta = {k: str(v) for k, v in entry.items() if k.startswith("sparkseg.")}
    user = entry.get("userMetadata")
    if isinstance(user, str) and user.startswith("{"):
        meta.update({k: str(v) for k, v in json.loads(user).items()})
    return meta


def covered_through(lake: Lakehouse, spec: TableSpec, gen: GenerateConfig) -> dt.date:
    """The last day ``spec``'s newest commit covers: its ``sparkseg.generate.day``, or
    ``end_date - 1`` after a plain generate. Checks the commit was made with this seed."""
    if not lake.exists(spec):
        raise MissingTableError(spec.name, lake.uri(spec), "run a plain `sparkseg generate` first")
    history = lake.history(spec, 1)
    meta = commit_metadata(history[0]) if history else {}
    recorded = {META_SEED: str(gen.seed), META_END: gen.end_date.isoformat(),
                META_CUSTOMERS: str(gen.customers),
                META_NEW_PER_DAY: str(gen.new_customers_per_day)}
    for k, want in recorded.items():
        if k in meta and meta[k] != want:
            raise ConfigError(
                f"generate --append-days: {spec.name} was generated with {k}={meta[k]}, "
                f"the config says {want} (appended days must continue the same data set)"
            )
    if META_SEED not in meta:
        raise ConfigError(f"generate --append-days: {spec.name} was not written by "
                          "`sparkseg generate` (no generate metadata in its newest commit)")
    day = meta.get(META_DAY)
    return dt.date.fromisoformat(day) if day else gen.end_date - dt.timedelta(days=1)


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppendedTable:
    table: str
    version: int
    rows: int
    mode: str


def day_plan(spark: SparkSession, lake: Lakehouse, gen: GenerateConfig,
              day: dt.date) -> list[tuple[TableSpec, WriteMode, Callable[[], DataFrame]]]:
    """(table, mode, lazy rows) to commit for ``day``, in write order (events last)."""
    history = Period.of(gen)
    rows_per_day = gen.customers * max(gen.txn_per_customer, gen.events_per_customer) / history.days
    cores = spark.sparkContext.defaultParallelism
    parts = partitions_for(rows_per_day, BYTES_PER_ROW[RAW_TRANSACTIONS.name],
                           gen.target_file_mb, cores)
    # The whole customer base is walked for a day's few rows: split it over the cores once
    # it is big, and gather the (small) output into ``parts`` files with a cheap shuffle.
    spread = max(1, min(cores, gen.customers // 50_000))
    b = bases(spark, gen, day, spread)
    seed = day_seed(gen.seed, day)
    plan: list[tuple[TableSpec, WriteMode, Callable[[], DataFrame]]] = []

    def new_customer_rows() -> DataFrame:
        return _dirty(customers_table(b.today), RAW_CUSTOMERS, gen, seed)

    if is_rewrite_day(gen, day):
        def rewritten() -> DataFrame:
            current = lake.read(RAW_CUSTOMERS)
            return changed_customers(current.unionByName(new_customer_rows()), gen, day)
        plan.append((RAW_CUSTOMERS, "overwrite", rewritten))
    elif gen.new_customers_per_day > 0:
        plan.append((RAW_CUSTOMERS, "append", new_customer_rows))
    if gen.new_customers_per_day > 0:
        plan.append((RAW_TRUTH_PERSONAS, "append", lambda: truth_personas(b.today)))

    def activity(spec: TableSpec) -> Callable[[], DataFrame]:
        def build() -> DataFrame:
            fresh = activity_rows(spec, b.everyone, gen, day)
            late = late_duplicates(spec, b.existing, gen, day)
            return fresh if late is None else fresh.unionByName(late)
        return build

    plan.append((RAW_TRANSACTIONS, "append", activity(RAW_TRANSACTIONS)))
    if is_month_end(day):
        def balances() -> DataFrame:
            longer = extended(history, day)
            rows = build_balances(b.everyone, gen=gen, period=longer,
                                  first_month=len(longer.month_ends) - 1)
            return _dirty(rows, RAW_BALANCES, gen, seed)
        plan.append((RAW_BALANCES, "append", balances))

    def links() -> DataFrame:
        gen_day = gen.model_copy(update={"seed": seed})
        own = build_identity_links(b.today, gen=gen_day, period=one_day(day))
        return _dirty(own.unionByName(new_links(spark, gen, day)), RAW_IDENTITY_LINKS, gen, seed)

    plan.append((RAW_IDENTITY_LINKS, "append", links))
    plan.append((RAW_EVENTS, "append", activity(RAW_EVENTS)))

    # A rewrite holds the whole customers table, not a day: sized like a plain generate's.
    whole = partitions_for(gen.customers, BYTES_PER_ROW[RAW_CUSTOMERS.name], gen.target_file_mb,
                           cores)

    def sized(build: Callable[[], DataFrame], n: int) -> Callable[[], DataFrame]:
        def files() -> DataFrame:
            df = build()
            return df.repartition(n) if spread > 1 or n > 1 else df.coalesce(n)
        return files

    return [(spec, mode, sized(build, whole if mode == "overwrite" else parts))
            for spec, mode, build in plan]


def append_days(spark: SparkSession, cfg: Config, days: int) -> list[AppendedTable]:
    """Append ``days`` days after the last day raw/events covers (see module docstring)."""
    if days < 1:
        raise ConfigError(f"generate --append-days must be at least 1, got {days}")
    gen = cfg.generate
    lake = Lakehouse(spark, cfg)
    start = covered_through(lake, CURSOR_TABLE, gen) + dt.timedelta(days=1)
    through: dict[str, dt.date] = {}
    done: list[AppendedTable] = []
    for n in range(days):
        day = start + dt.timedelta(days=n)
        meta = {META_SEED: str(gen.seed), META_DAY: day.isoformat(),
                META_END: gen.end_date.isoformat(), META_CUSTOMERS: str(gen.customers),
                META_NEW_PER_DAY: str(gen.new_customers_per_day)}
        for spec, mode, build in day_plan(spark, lake, gen, day):
            if spec.name not in through:
                through[spec.name] = (covered_through(lake, spec, gen) if lake.exists(spec)
                                      else EPOCH)
            if through[spec.name] >= day:  # committed before a crash: never twice
                log.info("generate: %s already holds %s, skipped", spec.name, day)
                continue
            result = lake.write(build(), spec, mode=mode, metadata=meta)
            through[spec.name] = day
            done.append(AppendedTable(spec.name, result.version, result.rows, mode))
        log.info("generate: appended %s", day)
    return done


def run_append(spark: SparkSession, cfg: Config, as_of: dt.date, days: int) -> None:
    """Stage function of ``sparkseg generate --append-days N`` (``as_of`` moves nothing)."""
    for a in append_days(spark, cfg, days):
        log.info("appended %s v%d (%s): %d rows", a.table, a.version, a.mode, a.rows)
