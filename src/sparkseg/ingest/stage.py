"""Stage ``ingest``: raw tables -> validated ``silver/<table>`` + ``ops/quarantine``.

Order of work, chosen so that a failing run writes nothing at all:

1. the hash key must be in the environment (ConfigError otherwise, before any read);
2. every raw table is opened and checked against its contract (MissingTableError,
   SchemaMismatchError naming table and column) before any data is processed;
3. every table is flagged and counted; if any table's bad-row share is above
   ``ingest.max_bad_share`` the stage raises DataQualityError and writes nothing;
4. only then are the silver copies and the quarantine written, each replacing the
   ``as_of_date`` partition of this run (a rerun of the date replaces, never adds).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.identity.hashing import hash_key, with_hashed_identifiers
from sparkseg.ingest.validate import (
    RULES,
    TableQuality,
    check_bad_share,
    keep_valid_rows,
    reason_counts,
    table_quality,
    to_quarantine_rows,
    with_reason,
)
from sparkseg.lakehouse import Lakehouse, ledger
from sparkseg.tables import (
    OPS_QUARANTINE,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TABLES,
    SILVER_TABLES,
)

log = logging.getLogger(__name__)

# (id_type column, id_value column) pairs per raw table: values of personal types are hashed.
IDENTIFIER_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    RAW_EVENTS.name: (("id_type", "id_value"),),
    RAW_IDENTITY_LINKS.name: (("id_type_a", "id_value_a"), ("id_type_b", "id_value_b")),
}


def flag_table(
    raw: DataFrame, table: str, cfg: Config, *, now: dt.datetime, key: bytes
) -> DataFrame:
    """A raw table with ``reason`` added and personal identifiers hashed.

    Validation runs on the values as they arrived (a blank phone is a null key); hashing
    comes after, so nothing downstream of this function (cache, silver, quarantine JSON)
    ever holds a raw personal identifier.
    """
    flagged = with_reason(raw, RULES[table], now=now, limits=cfg.ingest)
    pairs = IDENTIFIER_COLUMNS.get(table, ())
    if pairs:
        flagged = with_hashed_identifiers(
            flagged, pairs=pairs, key=key, pii_id_types=cfg.identity.pii_id_types
        )
    return flagged


def run(spark: SparkSession, cfg: Config, as_of: dt.date) -> None:
    """Validate every raw table; write ``silver/<table>`` and ``ops/quarantine`` for ``as_of``."""
    key = hash_key(cfg.identity)
    now = dt.datetime.now(dt.UTC)
    current = ledger.current()
    run_id = current.run_id if current is not None else uuid.uuid4().hex[:16]
    lake = Lakehouse(spark, cfg)

    # Lakehouse.read checks each table's columns and types on open (metadata only), so a
    # missing table or column fails here, before any Spark job runs.
    raw = {spec.name: lake.read(spec) for spec in RAW_TABLES}

    # Each flagged table feeds three consumers (the reason counts, the silver write and
    # the quarantine write); persisting it once keeps the raw scan, the validation and the
    # duplicate window (a shuffle) to one pass per table. MEMORY_AND_DISK: large tables
    # spill instead of being recomputed.
    flagged = {
        name: flag_table(df, name, cfg, now=now, key=key).persist(StorageLevel.MEMORY_AND_DISK)
        for name, df in raw.items()
    }
    try:
        quality = [table_quality(name, n) for name, n in reason_counts(flagged).items()]
        for q in quality:
            log.info("ingest %s", q.describe(top=10))
        check_bad_share(quality, cfg.ingest.max_bad_share)
        _write(lake, flagged, quality, as_of=as_of, run_id=run_id, now=now)
    finally:
        for df in flagged.values():
            df.unpersist()


def _write(
    lake: Lakehouse,
    flagged: dict[str, DataFrame],
    quality: list[TableQuality],
    *,
    as_of: dt.date,
    run_id: str,
    now: dt.datetime,
) -> None:
    replace = {"as_of_date": as_of}
    for spec in RAW_TABLES:
        silver = keep_valid_rows(flagged[spec.name]).withColumn("as_of_date", F.lit(as_of))
        lake.write(silver, SILVER_TABLES[spec.name], mode="overwrite_partitions", replace=replace)
    # Always written, even empty: a rerun after the source was fixed must clear the
    # quarantine rows of the earlier run for this date.
    quarantined = [
        to_quarantine_rows(flagged[q.table], source_table=q.table, run_id=run_id,
                           quarantined_at=now, as_of=as_of)
        for q in quality
    ]
    # Bad rows are a small share of every table's partitions: rebalancing (AQE sizes the
    # partitions) writes a few files instead of one tiny file per input partition.
    quarantine = reduce(DataFrame.unionByName, quarantined).hint("rebalance")
    lake.write(quarantine, OPS_QUARANTINE, mode="overwrite_partitions", replace=replace)
