"""Stage ``ingest``: raw tables -> validated ``silver/<table>`` + ``ops/quarantine``.

Order of work, chosen so that a failing run writes nothing at all:

1. the hash key must be in the environment (ConfigError otherwise, before any read);
2. every raw table is opened and checked against its contract (MissingTableError,
   SchemaMismatchError naming table and column) before any data is processed;
3. the keys shared by two or more valid rows of each table are found on a 64-bit hash
   of the key alone (one small, persisted table per raw table); only those rows go
   through the exact duplicate window (rule 7), so no step shuffles whole tables;
4. every table is flagged and counted; if any table's bad-row share is above
   ``ingest.max_bad_share``, or an extract guard fails (an empty, stale or shrunken
   table: see guards.py; the figures come from the same counting job), the stage
   raises DataQualityError and writes nothing;
5. only then are the silver copies and the quarantine written, each replacing the
   ``as_of_date`` partition of this run (a rerun of the date replaces, never adds).

Each raw table is read by four jobs (candidates, counts, silver, quarantine), each
reading only the columns it needs, from the same snapshot (the files of the version
opened in step 2), with the same wall-clock ``now``: they see the same rows and flag
them the same way. Measured at 1M customers, re-reading the Parquet files (about 10 s
for 50M transactions) is far cheaper than building a persisted copy (66 s): see
docs/decisions.md.
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
from sparkseg.ingest.guards import check_guards, guard_results, row_counts
from sparkseg.ingest.validate import (
    REASON,
    RULES,
    TableQuality,
    check_bad_share,
    duplicate_candidates,
    keep_valid_rows,
    row_reason,
    table_quality,
    to_quarantine_rows,
    with_duplicates,
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


# Above this many duplicated keys in one table, the candidate hashes are not broadcast
# (80 MB of longs) and Spark joins them by shuffle: slower, still exact.
MAX_BROADCAST_CANDIDATES = 10_000_000


def check_rows(
    raw: DataFrame, table: str, cfg: Config, *, now: dt.datetime, key: bytes
) -> DataFrame:
    """A raw table with ``reason`` of the row rules (1-6) added and identifiers hashed.

    Validation runs on the values as they arrived (a blank phone is a null key); hashing
    comes after, so nothing downstream of this function (cache, silver, quarantine JSON)
    ever holds a raw personal identifier. The duplicate rule (7) therefore orders
    conflicting copies by their hashed identifiers: deterministic for a given key.
    """
    flagged = raw.withColumn(REASON, row_reason(RULES[table], now=now, limits=cfg.ingest))
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

    checked = {name: check_rows(df, name, cfg, now=now, key=key) for name, df in raw.items()}
    # The duplicated key hashes: read three times each, and small (the duplicated keys).
    candidates = {
        name: duplicate_candidates(df, RULES[name]).persist(StorageLevel.MEMORY_AND_DISK)
        for name, df in checked.items()
    }
    try:
        # One job fills every candidate cache; its size decides how each table meets it.
        contested = _count_all(candidates)
        def flag(survivor: bool) -> dict[str, DataFrame]:
            return {
                name: with_duplicates(df, candidates[name], RULES[name], survivor=survivor,
                                      broadcast=contested[name] <= MAX_BROADCAST_CANDIDATES)
                for name, df in checked.items()
            }

        # Counting needs how many copies are duplicates, not which: a narrower read. The
        # same job gives the guards their figures (newest date, rows per recent day).
        counts = row_counts(flag(survivor=False), as_of=as_of,
                            window_days=cfg.ingest.volume.window_days)
        flagged = flag(survivor=True)
        quality = [table_quality(name, c.reasons) for name, c in counts.items()]
        for q in quality:
            log.info("ingest %s", q.describe(top=10))
        check_bad_share(quality, cfg.ingest.max_bad_share)
        failures, notes = guard_results(counts, cfg.ingest, as_of)
        for name, note in notes.items():
            log.info("ingest guards %s: %s", name, note)
        check_guards(failures)
        _write(lake, flagged, quality, as_of=as_of, run_id=run_id, now=now)
    finally:
        for df in candidates.values():
            df.unpersist()


def _count_all(frames: dict[str, DataFrame]) -> dict[str, int]:
    """Rows of each frame, in one Spark job (one small row per frame comes back)."""
    counted = [df.groupBy().count().select(F.lit(name).alias("name"), "count")
               for name, df in frames.items()]
    found = {r["name"]: int(r["count"]) for r in reduce(DataFrame.unionByName, counted).collect()}
    return {name: found.get(name, 0) for name in frames}


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
