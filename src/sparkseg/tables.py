"""Table contracts: one schema definition per table, shared by readers and writers.

Stage-owned output tables are declared here too, so that every module (and the
report) finds a table's name, schema and partitioning in one place.
Writers select a spec's columns in its order; readers validate against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import types as T

from sparkseg.errors import SchemaMismatchError

S, D, TS, INT, L, DB, B = (
    T.StringType(),
    T.DateType(),
    T.TimestampType(),
    T.IntegerType(),
    T.LongType(),
    T.DoubleType(),
    T.BooleanType(),
)
MONEY = T.DecimalType(18, 2)


def schema(*fields: tuple[str, T.DataType] | tuple[str, T.DataType, bool]) -> T.StructType:
    """Build a StructType from ``(name, type[, nullable])`` tuples (nullable by default)."""
    return T.StructType(
        [T.StructField(f[0], f[1], f[2] if len(f) > 2 else True) for f in fields]
    )


@dataclass(frozen=True)
class TableSpec:
    """A table's name (``layer/name``), schema and partition columns."""

    name: str
    schema: T.StructType
    partition_by: tuple[str, ...] = ()

    @property
    def layer(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.schema.fields]

    def conform(self, df: DataFrame) -> DataFrame:
        """Check ``df`` has exactly this spec's columns and types; select them in order.

        Nullability is not compared (Spark derives it loosely). Extra columns are an error
        so that nothing is written that the contract does not name.
        """
        check_columns(df.schema, self.schema, self.name, allow_extra=False)
        return df.select(*self.columns)


def _type_name(t: T.DataType) -> str:
    return t.simpleString()


def check_columns(
    actual: T.StructType, expected: T.StructType, table: str, *, allow_extra: bool
) -> None:
    """Raise :class:`SchemaMismatchError` naming missing, retyped (and extra) columns."""
    have = {f.name: f.dataType for f in actual.fields}
    missing = [f.name for f in expected.fields if f.name not in have]
    retyped = [
        f"{f.name} ({_type_name(have[f.name])}, expected {_type_name(f.dataType)})"
        for f in expected.fields
        if f.name in have and _type_name(have[f.name]) != _type_name(f.dataType)
    ]
    wanted = {f.name for f in expected.fields}
    extra = [] if allow_extra else [n for n in have if n not in wanted]
    if missing or retyped or extra:
        raise SchemaMismatchError(table, missing=missing, retyped=retyped, extra=extra)


# --- raw input contract (docs/contracts.md) ---------------------------------------

RAW_CUSTOMERS = TableSpec(
    "raw/customers",
    schema(
        ("customer_id", S), ("birth_date", D), ("gender", S), ("city", S), ("city_tier", INT),
        ("occupation", S), ("income_band", S), ("open_date", D), ("risk_level", S),
        ("branch_id", S),
    ),
)
RAW_TRANSACTIONS = TableSpec(
    "raw/transactions",
    schema(
        ("txn_id", S), ("customer_id", S), ("account_id", S), ("txn_ts", TS), ("amount", MONEY),
        ("currency", S), ("direction", S), ("channel", S), ("category", S),
        ("product_type", S), ("mcc", S),
    ),
)
RAW_BALANCES = TableSpec(
    "raw/balances",
    schema(("customer_id", S), ("product_type", S), ("balance", MONEY), ("snapshot_date", D)),
)
RAW_EVENTS = TableSpec(
    "raw/events",
    schema(
        ("event_id", S), ("event_ts", TS), ("channel", S), ("id_type", S), ("id_value", S),
        ("event_type", S), ("campaign_id", S), ("product_id", S),
    ),
)
RAW_IDENTITY_LINKS = TableSpec(
    "raw/identity_links",
    schema(
        ("id_type_a", S), ("id_value_a", S), ("id_type_b", S), ("id_value_b", S),
        ("source", S), ("observed_ts", TS),
    ),
)
# Planted personas of generated data: for evaluation scripts only, never read by a stage.
RAW_TRUTH_PERSONAS = TableSpec(
    "raw/_truth_personas",
    schema(("customer_id", S), ("persona", S), ("preferred_channel", S)),
)

RAW_TABLES: tuple[TableSpec, ...] = (
    RAW_CUSTOMERS, RAW_TRANSACTIONS, RAW_BALANCES, RAW_EVENTS, RAW_IDENTITY_LINKS,
)

# Allowed codes (the raw contract, docs/contracts.md).
TXN_CHANNELS = ("branch", "atm", "mobile_app", "online_banking", "wechat", "mini_program", "pos",
                "third_party")
TXN_CATEGORIES = ("salary", "transfer", "consumption", "wealth_purchase", "wealth_redemption",
                  "loan_disbursement", "loan_repayment", "fee", "interest", "other")
PRODUCT_TYPES = ("deposit", "credit_card", "loan", "mortgage", "wealth", "fund", "insurance")
DIRECTIONS = ("debit", "credit")
EVENT_CHANNELS = ("app", "wechat", "mini_program", "web", "sms", "call_center")
ID_TYPES = ("customer_id", "device_id", "wechat_openid", "web_cookie", "phone_hash")
EVENT_TYPES = ("login", "page_view", "product_view", "click", "like", "comment", "share",
               "search", "invite", "push_sent", "push_opened", "sms_sent", "sms_clicked",
               "wechat_msg_sent", "wechat_msg_opened")


# The event time of each raw event table (raw/customers is a dimension and has none).
EVENT_TIME: dict[str, str] = {
    RAW_TRANSACTIONS.name: "txn_ts",
    RAW_BALANCES.name: "snapshot_date",
    RAW_EVENTS.name: "event_ts",
    RAW_IDENTITY_LINKS.name: "observed_ts",
}
# Silver event tables are partitioned by the first day of the event's calendar month (in
# the session time zone): features and evaluation read only the months of their windows.
EVENT_MONTH = "event_month"
# silver/customers keeps every version of a customer row: the raw version it came from
# and the as-of from which it holds (null: since before the first ingest).
RAW_VERSION, VALID_FROM = "raw_version", "valid_from"


def silver_of(raw: TableSpec) -> TableSpec:
    """The one validated copy of a raw table.

    Event tables: the raw columns plus ``event_month``, partitioned by it, append-only.
    ``silver/customers``: the raw columns plus ``raw_version`` and ``valid_from`` (one row
    per customer and changed version; readers take :func:`sparkseg.silver.customers_as_of`).
    """
    name = raw.name.split("/", 1)[1]
    if raw.name in EVENT_TIME:
        fields = [*raw.schema.fields, T.StructField(EVENT_MONTH, D, True)]
        return TableSpec(f"silver/{name}", T.StructType(fields), (EVENT_MONTH,))
    fields = [*raw.schema.fields, T.StructField(RAW_VERSION, L, True),
              T.StructField(VALID_FROM, D, True)]
    return TableSpec(f"silver/{name}", T.StructType(fields))


SILVER_TABLES: dict[str, TableSpec] = {t.name: silver_of(t) for t in RAW_TABLES}

# --- ops --------------------------------------------------------------------------------

OPS_QUARANTINE = TableSpec(
    "ops/quarantine",
    schema(
        ("source_table", S), ("reason", S), ("row_json", S), ("run_id", S),
        ("quarantined_at", TS), ("as_of_date", D),
    ),
    ("as_of_date",),
)
OPS_RUNS = TableSpec(
    "ops/runs",
    schema(
        ("run_id", S), ("stage", S), ("as_of_date", D), ("status", S), ("config_hash", S),
        ("engine", S), ("started_at", TS), ("seconds", DB),
        ("input_versions", T.MapType(S, L)), ("output_versions", T.MapType(S, L)),
        ("row_counts", T.MapType(S, L)), ("message", S),
    ),
)
# One row per completed stage run, and one per completed pipeline run (stage
# ``pipeline``), written only after every output of the run is committed. A consumer
# waits for the ``pipeline`` row of an as-of and reads each table at the version it lists
# (sparkseg.completions). Small and append-only like ops/runs, so not partitioned.
OPS_COMPLETIONS = TableSpec(
    "ops/completions",
    schema(
        ("as_of_date", D), ("stage", S), ("run_id", S), ("completed_at", TS),
        ("config_hash", S), ("output_versions", T.MapType(S, L)),
        ("exports", T.MapType(S, S)),
    ),
)
