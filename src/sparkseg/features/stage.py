"""Stage ``features``: silver tables at one as-of -> silver/customer_features.

Reads silver/customers as of the as-of (each customer's version valid then), the rows
of silver/transactions, balances and events dated in ``[as_of - features.history_days,
as_of)`` (only those ``event_month`` partitions are scanned, see
:func:`sparkseg.silver.read_events`) and the as-of's partition of identity_map;
aggregates each raw table in one pass; joins the results onto the customer base; checks
the result against the feature dictionary; replaces the as-of's partition of
silver/customer_features.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame, SparkSession

from sparkseg.config import Config
from sparkseg.features.assemble import assemble_features
from sparkseg.features.balances import balance_features
from sparkseg.features.config import FeaturesConfig
from sparkseg.features.customers import customer_base
from sparkseg.features.dictionary import check_against_dictionary, load_dictionary
from sparkseg.features.events import event_features, events_with_customer
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.features.transactions import transaction_features
from sparkseg.lakehouse import Lakehouse
from sparkseg.silver import read_events, read_known_customers
from sparkseg.tables import (
    RAW_BALANCES,
    RAW_EVENTS,
    RAW_TRANSACTIONS,
    TableSpec,
)

log = logging.getLogger(__name__)


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
    cfg: FeaturesConfig,
    as_of: dt.date,
) -> DataFrame:
    """The feature rows of one as-of from the silver inputs (no I/O)."""
    # No caching: each input is scanned exactly once and no intermediate is reused, so
    # persisting would only add a materialisation.
    return assemble_features(
        customer_base(customers, as_of=as_of),
        transaction_features(transactions, as_of=as_of, child_mcc=cfg.child_mcc),
        balance_features(balances, as_of=as_of),
        event_features(events_with_customer(events, identity_map), as_of=as_of),
        as_of=as_of,
        new_customer_days=cfg.new_customer_days,
        honeymoon_days=cfg.honeymoon_days,
    )


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """Compute silver/customer_features for ``as_of`` and replace that date's partition."""
    dictionary_path = cfg.resolve(cfg.features.dictionary)
    dictionary = load_dictionary(dictionary_path)
    # Fail before reading anything when the code's contract and the dictionary disagree.
    check_against_dictionary(CUSTOMER_FEATURES.schema, dictionary, source=str(dictionary_path))

    lake = Lakehouse(spark, cfg)
    part = {"as_of_date": as_of}
    customers = read_known_customers(lake, as_of)
    # Every feature looks back at most history_days, and each window already drops rows
    # at or after the as-of: reading [as_of - history_days, as_of) changes no value, and
    # the scan stays the same size however long the history grows.
    start = as_of - dt.timedelta(days=cfg.features.history_days)

    def events_of(raw: TableSpec) -> DataFrame:
        return read_events(lake, raw, start=start, end=as_of)

    features = build_features(
        customers,
        events_of(RAW_TRANSACTIONS),
        events_of(RAW_BALANCES),
        events_of(RAW_EVENTS),
        _read_identity_map(lake, as_of),
        cfg=cfg.features,
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
