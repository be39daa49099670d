"""Stage ``features``: silver tables of one as-of -> silver/customer_features.

Reads the as-of's partition of silver/customers, transactions, balances, events and
identity_map; aggregates each raw table in one pass; joins the results onto the
customer base; checks the result against the feature dictionary; replaces the as-of's
partition of silver/customer_features.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame, SparkSession

from sparkseg.config import Config
from sparkseg.errors import MissingTableError
from sparkseg.features.assemble import assemble_features
from sparkseg.features.balances import balance_features
from sparkseg.features.customers import customer_base
from sparkseg.features.dictionary import check_against_dictionary, load_dictionary
from sparkseg.features.events import event_features, events_with_customer
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.features.transactions import transaction_features
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_CUSTOMERS,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    SILVER_TABLES,
    TableSpec,
)

log = logging.getLogger(__name__)


def _silver(raw: TableSpec) -> TableSpec:
    """The silver copy's spec of a raw table (SILVER_TABLES is keyed by the raw name)."""
    return SILVER_TABLES[raw.name]


def _read_identity_map(lake: Lakehouse, as_of: dt.date) -> DataFrame:
    # Imported here: the identity stage owns the spec, and importing this module (e.g. for
    # its pure build_features) should not depend on that stage's package.
    from sparkseg.identity.tables import IDENTITY_MAP

    ids = lake.read(IDENTITY_MAP, partitions={"as_of_date": as_of})
    return ids.select("id_type", "id_value", "customer_id")


def build_features(
    customers: DataFrame,
    transactions: DataFrame,
    balances: DataFrame,
    events: DataFrame,
    identity_map: DataFrame,
    *,
    cfg: Config,
    as_of: dt.date,
) -> DataFrame:
    """The feature rows of one as-of from the silver inputs (no I/O)."""
    fcfg = cfg.features
    # No caching: each input is scanned exactly once and no intermediate is reused, so
    # persisting would only add a materialisation.
    return assemble_features(
        customer_base(customers, as_of=as_of),
        transaction_features(transactions, as_of=as_of, child_mcc=fcfg.child_mcc),
        balance_features(balances, as_of=as_of),
        event_features(events_with_customer(events, identity_map), as_of=as_of),
        as_of=as_of,
        new_customer_days=fcfg.new_customer_days,
        honeymoon_days=fcfg.honeymoon_days,
    )


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """Compute silver/customer_features for ``as_of`` and replace that date's partition."""
    dictionary_path = cfg.resolve(cfg.features.dictionary)
    dictionary = load_dictionary(dictionary_path)
    # Fail before reading anything when the code's contract and the dictionary disagree.
    check_against_dictionary(CUSTOMER_FEATURES.schema, dictionary, source=str(dictionary_path))

    lake = Lakehouse(spark, cfg)
    part = {"as_of_date": as_of}
    customers_spec = _silver(RAW_CUSTOMERS)
    customers = lake.read(customers_spec, partitions=part)
    if customers.isEmpty():
        raise MissingTableError(
            customers_spec.name,
            lake.uri(customers_spec),
            hint=f"no rows for as_of_date={as_of.isoformat()}; run ingest for this date first",
        )
    features = build_features(
        customers,
        lake.read(_silver(RAW_TRANSACTIONS), partitions=part),
        lake.read(_silver(RAW_BALANCES), partitions=part),
        lake.read(_silver(RAW_EVENTS), partitions=part),
        _read_identity_map(lake, as_of),
        cfg=cfg,
        as_of=as_of,
    )
    check_against_dictionary(features.schema, dictionary, source=str(dictionary_path))
    result = lake.write(
        features,
        CUSTOMER_FEATURES,
        mode="overwrite_partitions",
        replace=part,
    )
    log.info("features %s: %d customers", as_of, result.rows)
