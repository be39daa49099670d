"""The features stage's aggregations written for single-node peers: DuckDB SQL and Polars.

Both compute every column of ``silver/customer_features`` (docs/contracts.md) from the
Parquet data files of the silver inputs of one as-of, with the same semantics as
``sparkseg.features`` (windows ``1 <= days_ago <= N`` in UTC calendar days, money summed as
double and rounded to cents, the same fills, caps and nulls). The lists of channels, product
types and event types come from sparkseg itself, so the peers stay in step with the stage;
:func:`check_columns_cover_spec` fails when the contract gains a column the peers lack.

Nothing here starts Spark; ``polars`` and ``duckdb`` are imported inside the functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sparkseg.features.assemble import FLAGGED_PRODUCTS
from sparkseg.features.balances import AUM_PRODUCTS
from sparkseg.features.customers import DEMOGRAPHICS
from sparkseg.features.events import (
    CAMPAIGN_CHANNELS,
    COUNTED_90D,
    ENGAGEMENT_CHANNELS,
    SENT_TYPES,
)
from sparkseg.tables import PRODUCT_TYPES, TXN_CHANNELS

if TYPE_CHECKING:
    import polars as pl

WINDOWS = (30, 90, 365)
TXN_MONEY = (
    *(f"{k}_amount_{n}d" for k in ("debit", "credit") for n in WINDOWS),
    "salary_amount_90d", "consumption_amount_90d", "transfer_out_amount_90d",
    "child_related_spend_365d", "wealth_purchase_amount_365d",
)
TXN_COLS = (
    "days_since_last_txn", "days_since_first_txn",
    *(f"txn_count_{n}d" for n in WINDOWS),
    *(f"{k}_amount_{n}d" for k in ("debit", "credit") for n in WINDOWS),
    "active_days_90d", "salary_count_365d", "salary_months_12m", "salary_amount_90d",
    "consumption_amount_90d", "consumption_count_90d", "transfer_out_amount_90d",
    "child_related_spend_365d", "wealth_purchase_count_30d", "wealth_purchase_count_365d",
    "wealth_purchase_amount_365d", "days_since_first_wealth_purchase", "txn_count_prev_30_120d",
    "consumption_share_90d", *(f"share_txn_{c}_90d" for c in TXN_CHANNELS),
    "txn_trend_ratio", "debit_trend_ratio", "net_flow_90d",
)
BAL_COLS = (
    *(f"balance_{p}" for p in PRODUCT_TYPES), "total_balance", "aum", "aum_90d_ago",
    "aum_change_90d", "balance_months_12m", "aum_cv_12m",
)
EVT_COLS = (
    *(c for n in (30, 90) for c in (f"event_count_{n}d", f"event_active_days_{n}d",
                                    f"login_count_{n}d")),
    *(f"{t}_count_90d" for t in COUNTED_90D), "days_since_last_event",
    *(f"share_evt_{c}_90d" for c in ENGAGEMENT_CHANNELS),
    *(c for stem, _, _, resp, _ in CAMPAIGN_CHANNELS for c in (f"{stem}_sent_90d", resp)),
    *(rate for *_, rate in CAMPAIGN_CHANNELS),
)


def campaign_cols(n: int) -> list[tuple[str, str, str, str]]:
    """(sent type, response type, sent column, response column) of an n-day window."""
    return [(s_type, r_type, f"{stem}_sent_{n}d", resp.replace("_90d", f"_{n}d"))
            for stem, s_type, r_type, resp, _ in CAMPAIGN_CHANNELS]


def extra_campaign_windows() -> tuple[int, ...]:
    """Campaign-count windows besides 90 days that the feature table has (e.g. 365)."""
    spec = set(output_columns())
    return tuple(n for n in (30, 180, 365) if campaign_cols(n)[0][2] in spec)


def evt_cols() -> tuple[str, ...]:
    extra = (c for n in extra_campaign_windows() for _, _, s, r in campaign_cols(n)
             for c in (s, r))
    return (*EVT_COLS, *extra)
BASE_COLS = ("customer_id", *DEMOGRAPHICS, "age", "tenure_days")
DERIVED_COLS = (
    "one_id", "as_of_date", "product_count", *(f"has_{p}" for p in FLAGGED_PRODUCTS),
    "is_new_customer", "in_honeymoon",
)
# Same as the NULL_WHEN_ABSENT sets of the stage's modules: no fill for an absent customer.
KEEP_NULL = frozenset({
    "days_since_last_txn", "days_since_first_txn", "days_since_first_wealth_purchase",
    "aum_cv_12m", "days_since_last_event", *(rate for *_, rate in CAMPAIGN_CHANNELS),
})


def output_columns() -> list[str]:
    """The columns of silver/customer_features, in table order (sparkseg's spec)."""
    from sparkseg.features.tables import CUSTOMER_FEATURES

    return list(CUSTOMER_FEATURES.columns)


def check_columns_cover_spec() -> None:
    """Raise when the peers' columns and sparkseg's feature table differ."""
    ours = set(BASE_COLS) | set(TXN_COLS) | set(BAL_COLS) | set(evt_cols()) | set(DERIVED_COLS)
    spec = set(output_columns())
    if ours != spec:
        raise AssertionError(
            f"peer feature set differs from silver/customer_features: missing "
            f"{sorted(spec - ours)}, extra {sorted(ours - spec)}"
        )


@dataclass(frozen=True)
class Inputs:
    """Parquet data files of the silver inputs of one as-of (from the Delta logs): all of
    silver/customers (versioned: the peers take the version valid at the as-of), the
    event tables' months of the as-of's history, identity_map's as-of partition."""

    customers: list[str]
    transactions: list[str]
    balances: list[str]
    events: list[str]
    identity_map: list[str]

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Params:
    as_of: dt.date
    child_mcc: tuple[str, ...]
    new_customer_days: int
    honeymoon_days: int
    # features.history_days: event rows dated before as_of - history_days are not read.
    history_days: int = 730

    @property
    def start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=self.history_days)


# --------------------------------------------------------------------------- DuckDB


def _files(paths: Sequence[str]) -> str:
    quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{quoted}])"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_sql(inp: Inputs, p: Params) -> str:
    """One SELECT computing silver/customer_features (DuckDB dialect, TimeZone UTC)."""
    a = f"DATE '{p.as_of.isoformat()}'"
    a_ts = f"TIMESTAMPTZ '{p.as_of.isoformat()} 00:00:00+00'"
    first = f"DATE '{p.start.isoformat()}'"  # the history bound, as the stage reads
    ym = p.as_of.year * 12 + p.as_of.month

    def w(n: int) -> str:
        return f"d BETWEEN 1 AND {n}"

    def cnt(cond: str) -> str:
        return f"count(*) FILTER (WHERE {cond})"

    def sm(cond: str) -> str:
        return f"sum(amount) FILTER (WHERE {cond})"

    def money(expr: str) -> str:
        return f"coalesce(round({expr}, 2), 0.0)"

    def flag(cond: str) -> str:
        return f"CAST(coalesce(max(CASE WHEN {cond} THEN 1 END), 0) AS INTEGER)"

    salary = "category = 'salary' AND is_credit"
    consumption = "category = 'consumption' AND is_debit"
    wealth = "category = 'wealth_purchase'"
    mcc = ", ".join(_lit(m) for m in p.child_mcc)
    t_aggs = ["CAST(min(d) AS INTEGER) AS days_since_last_txn",
              "CAST(max(d) AS INTEGER) AS days_since_first_txn"]
    for n in WINDOWS:
        t_aggs += [f"{cnt(w(n))} AS txn_count_{n}d",
                   f"{sm(w(n) + ' AND is_debit')} AS debit_amount_{n}d",
                   f"{sm(w(n) + ' AND is_credit')} AS credit_amount_{n}d"]
    t_aggs += [
        f"count(DISTINCT d) FILTER (WHERE {w(90)}) AS active_days_90d",
        f"{cnt(w(365) + ' AND ' + salary)} AS salary_count_365d",
        f"count(DISTINCT m) FILTER (WHERE {w(365)} AND {salary}) AS salary_months_12m",
        f"{sm(w(90) + ' AND ' + salary)} AS salary_amount_90d",
        f"{sm(w(90) + ' AND ' + consumption)} AS consumption_amount_90d",
        f"{cnt(w(90) + ' AND ' + consumption)} AS consumption_count_90d",
        sm(w(90) + " AND category = 'transfer' AND is_debit") + " AS transfer_out_amount_90d",
        f"{sm(w(365) + ' AND ' + consumption + f' AND mcc IN ({mcc})')} AS child_related_spend_365d",
        f"{cnt(w(30) + ' AND ' + wealth)} AS wealth_purchase_count_30d",
        f"{cnt(w(365) + ' AND ' + wealth)} AS wealth_purchase_count_365d",
        f"{sm(w(365) + ' AND ' + wealth)} AS wealth_purchase_amount_365d",
        f"CAST(max(d) FILTER (WHERE {wealth}) AS INTEGER) AS days_since_first_wealth_purchase",
        f"{cnt('d BETWEEN 31 AND 120')} AS txn_count_prev_30_120d",
        f"{sm('d BETWEEN 31 AND 120 AND is_debit')} AS _debit_prev",
        *(f"{cnt(w(90) + f' AND channel = {_lit(c)}')} AS _n_{c}" for c in TXN_CHANNELS),
        *(f"{flag(w(365) + f' AND product_type = {_lit(pt)}')} AS used_{pt}"
          for pt in PRODUCT_TYPES),
    ]
    t_final = [
        *(money(c) + f" AS {c}" if c in TXN_MONEY else c
          for c in TXN_COLS[: TXN_COLS.index("txn_count_prev_30_120d") + 1]),
        *(f"used_{pt}" for pt in PRODUCT_TYPES),
    ]
    txn = f"""
t AS (
  SELECT customer_id, CAST(amount AS DOUBLE) AS amount, channel, product_type, category, mcc,
         direction = 'debit' AS is_debit, direction = 'credit' AS is_credit,
         date_diff('day', CAST(txn_ts AS DATE), {a}) AS d,
         {ym} - (year(txn_ts) * 12 + month(txn_ts)) AS m
  FROM {_files(inp.transactions)}
  WHERE txn_ts < {a_ts} AND CAST(txn_ts AS DATE) >= {first}
),
tg AS (SELECT customer_id, {", ".join(t_aggs)} FROM t GROUP BY customer_id),
tm AS (SELECT customer_id, {", ".join(t_final)}, {money("_debit_prev")} AS _debit_prev,
              {", ".join(f"_n_{c}" for c in TXN_CHANNELS)} FROM tg),
txn AS (
  SELECT * EXCLUDE (_debit_prev, {", ".join(f"_n_{c}" for c in TXN_CHANNELS)}),
    CASE WHEN debit_amount_90d > 0 THEN consumption_amount_90d / debit_amount_90d
         ELSE 0.0 END AS consumption_share_90d,
    {", ".join(f"CASE WHEN txn_count_90d > 0 THEN _n_{c} / txn_count_90d ELSE 0.0 END "
               f"AS share_txn_{c}_90d" for c in TXN_CHANNELS)},
    txn_count_30d / greatest(1.0, txn_count_prev_30_120d / 3.0) AS txn_trend_ratio,
    debit_amount_30d / greatest(1.0, _debit_prev / 3.0) AS debit_trend_ratio,
    {money("credit_amount_90d - debit_amount_90d")} AS net_flow_90d
  FROM tm
)"""
    in_year = "d BETWEEN 1 AND 365"
    bal = f"""
bd AS (
  SELECT customer_id, snapshot_date,
    {", ".join(f"sum(CAST(balance AS DOUBLE)) FILTER (WHERE product_type = {_lit(pt)}) AS {pt}"
               for pt in PRODUCT_TYPES)}
  FROM {_files(inp.balances)} WHERE snapshot_date < {a} AND snapshot_date >= {first}
  GROUP BY customer_id, snapshot_date
),
bm AS (
  SELECT *, {" + ".join(f"coalesce({pt}, 0.0)" for pt in PRODUCT_TYPES)} AS total,
         {" + ".join(f"coalesce({pt}, 0.0)" for pt in AUM_PRODUCTS)} AS aum,
         date_diff('day', snapshot_date, {a}) AS d
  FROM bd
),
bg AS (
  SELECT customer_id,
    {", ".join(f"arg_max_null({c}, snapshot_date) AS latest_{c}"
               for c in (*PRODUCT_TYPES, "total", "aum"))},
    arg_max(aum, snapshot_date) FILTER (WHERE d > 90) AS aum_90d_ago,
    count(*) FILTER (WHERE {in_year}) AS balance_months_12m,
    stddev_pop(aum) FILTER (WHERE {in_year}) AS _aum_std,
    avg(aum) FILTER (WHERE {in_year}) AS _aum_mean,
    {", ".join(f"{flag(in_year + f' AND {pt} <> 0')} AS held_{pt}" for pt in PRODUCT_TYPES)}
  FROM bm GROUP BY customer_id
),
bal AS (
  SELECT customer_id,
    {", ".join(f"{money(f'latest_{pt}')} AS balance_{pt}" for pt in PRODUCT_TYPES)},
    {money("latest_total")} AS total_balance, {money("latest_aum")} AS aum,
    {money("aum_90d_ago")} AS aum_90d_ago,
    {money(f"{money('latest_aum')} - {money('aum_90d_ago')}")} AS aum_change_90d,
    balance_months_12m,
    CASE WHEN balance_months_12m >= 3 AND _aum_mean <> 0 THEN _aum_std / _aum_mean END
      AS aum_cv_12m,
    {", ".join(f"held_{pt}" for pt in PRODUCT_TYPES)}
  FROM bg
)"""
    sent = ", ".join(_lit(s) for s in SENT_TYPES)
    e_aggs: list[str] = []
    for n in (30, 90):
        e_aggs += [
            f"{cnt(w(n) + ' AND engaged')} AS event_count_{n}d",
            f"count(DISTINCT d) FILTER (WHERE {w(n)} AND engaged) AS event_active_days_{n}d",
            cnt(w(n) + " AND event_type = 'login'") + f" AS login_count_{n}d",
        ]
    e_aggs += [f"{cnt(w(90) + f' AND event_type = {_lit(t)}')} AS {t}_count_90d"
               for t in COUNTED_90D]
    e_aggs.append("CAST(min(d) FILTER (WHERE engaged) AS INTEGER) AS days_since_last_event")
    e_aggs += [f"{cnt(w(90) + f' AND engaged AND channel = {_lit(c)}')} AS _n_{c}"
               for c in ENGAGEMENT_CHANNELS]
    for n in (90, *extra_campaign_windows()):
        for s_type, r_type, s_col, r_col in campaign_cols(n):
            e_aggs += [f"{cnt(w(n) + f' AND event_type = {_lit(s_type)}')} AS {s_col}",
                       f"{cnt(w(n) + f' AND event_type = {_lit(r_type)}')} AS {r_col}"]
    evt = f"""
ids AS (
  SELECT id_type, id_value, customer_id FROM {_files(inp.identity_map)}
  WHERE customer_id IS NOT NULL
),
e AS (
  SELECT ids.customer_id, ev.channel, ev.event_type,
         date_diff('day', CAST(ev.event_ts AS DATE), {a}) AS d,
         ev.event_type NOT IN ({sent}) AS engaged
  FROM {_files(inp.events)} ev JOIN ids ON ev.id_type = ids.id_type AND ev.id_value = ids.id_value
  WHERE ev.event_ts < {a_ts} AND CAST(ev.event_ts AS DATE) >= {first}
),
eg AS (SELECT customer_id, {", ".join(e_aggs)} FROM e GROUP BY customer_id),
evt AS (
  SELECT * EXCLUDE ({", ".join(f"_n_{c}" for c in ENGAGEMENT_CHANNELS)}),
    {", ".join(f"CASE WHEN event_count_90d > 0 THEN _n_{c} / event_count_90d ELSE 0.0 END "
               f"AS share_evt_{c}_90d" for c in ENGAGEMENT_CHANNELS)},
    {", ".join(f"CASE WHEN {stem}_sent_90d > 0 THEN least({resp}, {stem}_sent_90d) / "
               f"{stem}_sent_90d END AS {rate}" for stem, _, _, resp, rate in CAMPAIGN_CHANNELS)}
  FROM eg
)"""
    base = f"""
base AS (
  SELECT customer_id, {", ".join(DEMOGRAPHICS)},
    CAST(year({a}) - year(birth_date)
         - CASE WHEN {p.as_of.month} < month(birth_date)
                  OR ({p.as_of.month} = month(birth_date) AND {p.as_of.day} < day(birth_date))
                THEN 1 ELSE 0 END AS INTEGER) AS age,
    CAST(date_diff('day', open_date, {a}) AS INTEGER) AS tenure_days
  FROM (
    -- each customer's version valid at the as-of (sparkseg.silver.customers_as_of)
    SELECT * FROM {_files(inp.customers)} WHERE valid_from IS NULL OR valid_from <= {a}
    QUALIFY row_number() OVER (PARTITION BY customer_id
                               ORDER BY raw_version DESC, valid_from DESC NULLS LAST) = 1
  ) WHERE open_date IS NULL OR open_date < {a}
)"""

    def hold(pt: str) -> str:
        return f"greatest(coalesce(txn.used_{pt}, 0), coalesce(bal.held_{pt}, 0))"

    derived = {
        "one_id": "base.customer_id",
        "as_of_date": a,
        "product_count": "CAST(" + " + ".join(hold(pt) for pt in PRODUCT_TYPES) + " AS BIGINT)",
        **{f"has_{pt}": f"CAST({hold(pt)} AS INTEGER)" for pt in FLAGGED_PRODUCTS},
        "is_new_customer": f"CAST(coalesce(tenure_days < {p.new_customer_days}, false) AS INTEGER)",
        "in_honeymoon": f"CAST(coalesce(tenure_days < {p.honeymoon_days}, false) AS INTEGER)",
    }
    source = {**{c: "txn" for c in TXN_COLS}, **{c: "bal" for c in BAL_COLS},
              **{c: "evt" for c in evt_cols()}}
    select = []
    for c in output_columns():
        if c in derived:
            expr = derived[c]
        elif c in BASE_COLS:
            expr = f"base.{c}"
        elif c in KEEP_NULL:
            expr = f"{source[c]}.{c}"
        else:
            expr = f"coalesce({source[c]}.{c}, 0)"
        select.append(f"{expr} AS {c}")
    return (
        "WITH " + ",".join((base, txn, bal, evt)) + "\nSELECT " + ",\n  ".join(select)
        + "\nFROM base LEFT JOIN txn USING (customer_id) LEFT JOIN bal USING (customer_id)"
        + " LEFT JOIN evt USING (customer_id)"
    )


def run_duckdb(inp: Inputs, p: Params, *, threads: int, out: str) -> int:
    """Write the features to ``out`` (Parquet) with DuckDB on ``threads`` threads; rows."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET TimeZone = 'UTC'")
        # Insertion order is irrelevant here and costs memory on big group-bys.
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"COPY ({duckdb_sql(inp, p)}) TO {_lit(out)} (FORMAT parquet)")
        row = con.execute(f"SELECT count(*) FROM read_parquet({_lit(out)})").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


# --------------------------------------------------------------------------- Polars


def polars_features(inp: Inputs, p: Params) -> pl.LazyFrame:
    """A Polars LazyFrame computing silver/customer_features (same semantics)."""
    import polars as pl

    as_of = p.as_of
    a_ts = dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC)
    a = pl.lit(as_of)
    d = pl.col("d")

    def w(n: int) -> pl.Expr:
        return d.is_between(1, n)

    def cnt(cond: pl.Expr) -> pl.Expr:
        return cond.fill_null(False).sum().cast(pl.Int64)

    def sm(cond: pl.Expr) -> pl.Expr:
        return pl.col("amount").filter(cond.fill_null(False)).sum()

    def money(expr: pl.Expr) -> pl.Expr:
        return expr.round(2).fill_null(0.0)

    def flag(cond: pl.Expr) -> pl.Expr:
        return cond.fill_null(False).any().cast(pl.Int32)

    def distinct(col: str, cond: pl.Expr) -> pl.Expr:
        return pl.col(col).filter(cond.fill_null(False)).n_unique().cast(pl.Int64)

    first = p.start  # the history bound, as the stage reads
    tx = pl.scan_parquet(inp.transactions).filter(
        (pl.col("txn_ts") < a_ts) & (pl.col("txn_ts").dt.date() >= first)).select(
        "customer_id", pl.col("amount").cast(pl.Float64), "channel", "product_type",
        "category", "mcc",
        (pl.col("direction") == "debit").alias("is_debit"),
        (pl.col("direction") == "credit").alias("is_credit"),
        (a - pl.col("txn_ts").dt.date()).dt.total_days().alias("d"),
        (pl.lit(as_of.year * 12 + as_of.month)
         - (pl.col("txn_ts").dt.year().cast(pl.Int32) * 12
            + pl.col("txn_ts").dt.month().cast(pl.Int32))).alias("m"),
    )
    debit, credit, cat = pl.col("is_debit"), pl.col("is_credit"), pl.col("category")
    salary = (cat == "salary") & credit
    consumption = (cat == "consumption") & debit
    wealth = cat == "wealth_purchase"
    aggs = [d.min().cast(pl.Int32).alias("days_since_last_txn"),
            d.max().cast(pl.Int32).alias("days_since_first_txn")]
    for n in WINDOWS:
        aggs += [cnt(w(n)).alias(f"txn_count_{n}d"),
                 sm(w(n) & debit).alias(f"debit_amount_{n}d"),
                 sm(w(n) & credit).alias(f"credit_amount_{n}d")]
    aggs += [
        distinct("d", w(90)).alias("active_days_90d"),
        cnt(w(365) & salary).alias("salary_count_365d"),
        distinct("m", w(365) & salary).alias("salary_months_12m"),
        sm(w(90) & salary).alias("salary_amount_90d"),
        sm(w(90) & consumption).alias("consumption_amount_90d"),
        cnt(w(90) & consumption).alias("consumption_count_90d"),
        sm(w(90) & (cat == "transfer") & debit).alias("transfer_out_amount_90d"),
        sm(w(365) & consumption & pl.col("mcc").is_in(list(p.child_mcc))).alias(
            "child_related_spend_365d"),
        cnt(w(30) & wealth).alias("wealth_purchase_count_30d"),
        cnt(w(365) & wealth).alias("wealth_purchase_count_365d"),
        sm(w(365) & wealth).alias("wealth_purchase_amount_365d"),
        d.filter(wealth.fill_null(False)).max().cast(pl.Int32).alias(
            "days_since_first_wealth_purchase"),
        cnt(d.is_between(31, 120)).alias("txn_count_prev_30_120d"),
        sm(d.is_between(31, 120) & debit).alias("_debit_prev"),
        *(cnt(w(90) & (pl.col("channel") == c)).alias(f"_n_{c}") for c in TXN_CHANNELS),
        *(flag(w(365) & (pl.col("product_type") == pt)).alias(f"used_{pt}")
          for pt in PRODUCT_TYPES),
    ]
    tg = tx.group_by("customer_id").agg(aggs).with_columns(
        *(money(pl.col(c)).alias(c) for c in (*TXN_MONEY, "_debit_prev"))
    )
    n90 = pl.col("txn_count_90d")
    txn = tg.with_columns(
        pl.when(pl.col("debit_amount_90d") > 0)
        .then(pl.col("consumption_amount_90d") / pl.col("debit_amount_90d"))
        .otherwise(0.0).alias("consumption_share_90d"),
        *(pl.when(n90 > 0).then(pl.col(f"_n_{c}") / n90).otherwise(0.0)
          .alias(f"share_txn_{c}_90d") for c in TXN_CHANNELS),
        (pl.col("txn_count_30d")
         / pl.max_horizontal(pl.lit(1.0), pl.col("txn_count_prev_30_120d") / 3.0))
        .alias("txn_trend_ratio"),
        (pl.col("debit_amount_30d") / pl.max_horizontal(pl.lit(1.0), pl.col("_debit_prev") / 3.0))
        .alias("debit_trend_ratio"),
        money(pl.col("credit_amount_90d") - pl.col("debit_amount_90d")).alias("net_flow_90d"),
    ).drop("_debit_prev", *(f"_n_{c}" for c in TXN_CHANNELS))

    pt_col = pl.col("product_type")
    bd = (
        pl.scan_parquet(inp.balances)
        .filter((pl.col("snapshot_date") < as_of) & (pl.col("snapshot_date") >= first))
        .with_columns(pl.col("balance").cast(pl.Float64))
        .group_by("customer_id", "snapshot_date")
        # A product absent from a month-end is null (as sum(when(...)) in Spark), so that
        # a closed product neither counts as held nor carries a stale balance.
        .agg(*(pl.when((pt_col == pt).any())
               .then(pl.col("balance").filter(pt_col == pt).sum()).alias(pt)
               for pt in PRODUCT_TYPES))
        .with_columns(
            pl.sum_horizontal(*(pl.col(pt).fill_null(0.0) for pt in PRODUCT_TYPES)).alias("total"),
            pl.sum_horizontal(*(pl.col(pt).fill_null(0.0) for pt in AUM_PRODUCTS)).alias("aum"),
            (a - pl.col("snapshot_date")).dt.total_days().alias("d"),
        )
    )
    in_year = w(365)
    old = d > 90
    bg = bd.group_by("customer_id").agg(
        *(pl.col(c).sort_by("snapshot_date").last().alias(f"latest_{c}")
          for c in (*PRODUCT_TYPES, "total", "aum")),
        pl.col("aum").filter(old).sort_by(pl.col("snapshot_date").filter(old)).last()
        .alias("aum_90d_ago"),
        cnt(in_year).alias("balance_months_12m"),
        pl.col("aum").filter(in_year).std(ddof=0).alias("_aum_std"),
        pl.col("aum").filter(in_year).mean().alias("_aum_mean"),
        *(flag(in_year & (pl.col(pt) != 0)).alias(f"held_{pt}") for pt in PRODUCT_TYPES),
    )
    months, mean = pl.col("balance_months_12m"), pl.col("_aum_mean")
    bal = bg.select(
        "customer_id",
        *(money(pl.col(f"latest_{pt}")).alias(f"balance_{pt}") for pt in PRODUCT_TYPES),
        money(pl.col("latest_total")).alias("total_balance"),
        money(pl.col("latest_aum")).alias("aum"),
        money(pl.col("aum_90d_ago")).alias("aum_90d_ago"),
        money(money(pl.col("latest_aum")) - money(pl.col("aum_90d_ago"))).alias("aum_change_90d"),
        months,
        pl.when((months >= 3) & (mean != 0)).then(pl.col("_aum_std") / mean).alias("aum_cv_12m"),
        *(f"held_{pt}" for pt in PRODUCT_TYPES),
    )

    ids = (pl.scan_parquet(inp.identity_map).filter(pl.col("customer_id").is_not_null())
           .select("id_type", "id_value", "customer_id"))
    etype = pl.col("event_type")
    ev = (
        pl.scan_parquet(inp.events)
        .filter((pl.col("event_ts") < a_ts) & (pl.col("event_ts").dt.date() >= first))
        .select("id_type", "id_value", "channel", "event_type",
                (a - pl.col("event_ts").dt.date()).dt.total_days().alias("d"))
        .join(ids, on=["id_type", "id_value"], how="inner")
        .with_columns((~etype.is_in(list(SENT_TYPES))).alias("engaged"))
    )
    engaged = pl.col("engaged")
    e_aggs: list[pl.Expr] = []
    for n in (30, 90):
        e_aggs += [cnt(w(n) & engaged).alias(f"event_count_{n}d"),
                   distinct("d", w(n) & engaged).alias(f"event_active_days_{n}d"),
                   cnt(w(n) & (etype == "login")).alias(f"login_count_{n}d")]
    e_aggs += [cnt(w(90) & (etype == t)).alias(f"{t}_count_90d") for t in COUNTED_90D]
    e_aggs.append(d.filter(engaged.fill_null(False)).min().cast(pl.Int32)
                  .alias("days_since_last_event"))
    e_aggs += [cnt(w(90) & engaged & (pl.col("channel") == c)).alias(f"_n_{c}")
               for c in ENGAGEMENT_CHANNELS]
    for n in (90, *extra_campaign_windows()):
        for s_type, r_type, s_col, r_col in campaign_cols(n):
            e_aggs += [cnt(w(n) & (etype == s_type)).alias(s_col),
                       cnt(w(n) & (etype == r_type)).alias(r_col)]
    ne = pl.col("event_count_90d")
    evt = ev.group_by("customer_id").agg(e_aggs).with_columns(
        *(pl.when(ne > 0).then(pl.col(f"_n_{c}") / ne).otherwise(0.0)
          .alias(f"share_evt_{c}_90d") for c in ENGAGEMENT_CHANNELS),
        *(pl.when(pl.col(f"{stem}_sent_90d") > 0)
          .then(pl.min_horizontal(resp, f"{stem}_sent_90d") / pl.col(f"{stem}_sent_90d"))
          .alias(rate) for stem, _, _, resp, rate in CAMPAIGN_CHANNELS),
    ).drop(*(f"_n_{c}" for c in ENGAGEMENT_CHANNELS))

    birth, opened = pl.col("birth_date"), pl.col("open_date")
    valid_from = pl.col("valid_from")
    since = valid_from.fill_null(dt.date(1, 1, 1))
    before_birthday = (pl.lit(as_of.month) < birth.dt.month()) | (
        (pl.lit(as_of.month) == birth.dt.month()) & (pl.lit(as_of.day) < birth.dt.day()))
    base = (
        pl.scan_parquet(inp.customers)
        # Each customer's version valid at the as-of (sparkseg.silver.customers_as_of):
        # the newest raw_version, then the latest valid_from (null lowest).
        .filter(valid_from.is_null() | (valid_from <= as_of))
        .filter(pl.col("raw_version") == pl.col("raw_version").max().over("customer_id"))
        .filter(since == since.max().over("customer_id"))
        .filter(opened.is_null() | (opened < as_of))
        .select("customer_id", *DEMOGRAPHICS,
                (pl.lit(as_of.year) - birth.dt.year().cast(pl.Int32)
                 - before_birthday.cast(pl.Int32)).cast(pl.Int32).alias("age"),
                (a - opened).dt.total_days().cast(pl.Int32).alias("tenure_days"))
    )
    joined = (base.join(txn, on="customer_id", how="left")
              .join(bal, on="customer_id", how="left")
              .join(evt, on="customer_id", how="left"))

    def hold(pt: str) -> pl.Expr:
        return pl.max_horizontal(pl.col(f"used_{pt}").fill_null(0),
                                 pl.col(f"held_{pt}").fill_null(0))

    tenure = pl.col("tenure_days")
    derived = {
        "one_id": pl.col("customer_id"),
        "as_of_date": a,
        "product_count": pl.sum_horizontal(*(hold(pt) for pt in PRODUCT_TYPES)).cast(pl.Int64),
        **{f"has_{pt}": hold(pt).cast(pl.Int32) for pt in FLAGGED_PRODUCTS},
        "is_new_customer": (tenure < p.new_customer_days).fill_null(False).cast(pl.Int32),
        "in_honeymoon": (tenure < p.honeymoon_days).fill_null(False).cast(pl.Int32),
    }
    select = []
    for c in output_columns():
        if c in derived:
            select.append(derived[c].alias(c))
        elif c in BASE_COLS or c in KEEP_NULL:
            select.append(pl.col(c))
        else:
            select.append(pl.col(c).fill_null(0))
    return joined.select(select)


def run_polars(inp: Inputs, p: Params, *, out: str, streaming: bool = False) -> int:
    """Write the features to ``out`` (Parquet) with Polars; rows written.

    The thread count is POLARS_MAX_THREADS, read once when polars is first imported.
    """
    lf = polars_features(inp, p)
    if streaming:
        lf.sink_parquet(out)
        import polars as pl

        return int(pl.scan_parquet(out).select(pl.len()).collect().item())
    df = lf.collect()
    df.write_parquet(out)
    return int(df.height)
