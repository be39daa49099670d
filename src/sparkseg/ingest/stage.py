"""Stage ``ingest``: what is new in the raw tables -> ``silver/<table>`` + ``ops/quarantine``.

Daily cost is proportional to what is new: each raw table's batch is the data files of
the raw commits since the version silver last ingested (ingest/incremental.py), or the
whole table on the first run, on ``--full-refresh`` or when upstream rewrote it.

Order of work, chosen so that a failing run writes nothing at all:

1. the hash key must be in the environment (ConfigError otherwise, before any read);
2. every raw table is opened and checked against its contract (MissingTableError,
   SchemaMismatchError naming table and column) and its batch planned (log only);
3. the keys shared by two or more valid rows of each batch are found on a 64-bit hash
   of the key alone; only those rows go through the exact duplicate window (rule 7);
   a key silver already holds in the same ``event_month`` is a duplicate too;
4. every batch is flagged and counted; if any batch's bad-row share is above
   ``ingest.max_bad_share``, or an extract guard fails (empty, stale or shrunken: the
   batch's figures plus the state of what silver holds, see guards.py), the stage
   raises DataQualityError and writes nothing;
5. only then: the bad rows of every batch are appended to the quarantine (partition of
   the run's as-of) in one commit, then each table's valid rows to silver in one commit
   that also records its new state. Event tables append (a full batch replaces the
   table); ``silver/customers`` appends the versions that changed.

Each batch is read by four jobs (candidates, counts, silver, quarantine), each reading
only the columns it needs, from the same files, with the same wall-clock ``now``.
"""

from __future__ import annotations

import datetime as dt
import logging
import operator
import uuid
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from sparkseg.config import Config
from sparkseg.identity.hashing import hash_key, with_hashed_identifiers
from sparkseg.ingest.guards import (
    TableCounts,
    check_guards,
    guard_results,
    row_counts,
    with_known,
)
from sparkseg.ingest.incremental import (
    BATCH_PREFIX,
    STATE_DAYS,
    STATE_KEY,
    Batch,
    SilverState,
    pending_batches,
    plan_batch,
)
from sparkseg.ingest.validate import (
    REASON,
    RULES,
    check_bad_share,
    duplicate_candidates,
    keep_valid_rows,
    key_columns,
    row_reason,
    table_quality,
    to_quarantine_rows,
    with_duplicates,
)
from sparkseg.lakehouse import Lakehouse, WriteMode, ledger
from sparkseg.silver import event_month
from sparkseg.tables import (
    EVENT_MONTH,
    EVENT_TIME,
    OPS_QUARANTINE,
    RAW_EVENTS,
    RAW_IDENTITY_LINKS,
    RAW_TABLES,
    RAW_VERSION,
    SILVER_TABLES,
    VALID_FROM,
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
    """Validate what is new in every raw table; append it to silver, bad rows to quarantine."""
    key = hash_key(cfg.identity)
    now = dt.datetime.now(dt.UTC)
    current = ledger.current()
    run_id = current.run_id if current is not None else uuid.uuid4().hex[:16]
    lake = Lakehouse(spark, cfg)
    window = cfg.ingest.volume.window_days

    # Every raw table is opened and its columns checked (metadata only) before any job.
    # Every commit below expects the version its table had here: of two ingests racing
    # (an orchestrator retry overlapping a live attempt), the second to commit exits 6.
    quarantine_version = lake.version(OPS_QUARANTINE)
    pending = pending_batches(lake)
    batches = {spec.name: plan_batch(lake, spec, full_refresh=cfg.ingest.full_refresh,
                                     pending=pending) for spec in RAW_TABLES}
    for name, b in batches.items():
        log.info("ingest %s: %s (%s)", name, b.note, b.mode)

    checked = {name: check_rows(b.df, name, cfg, now=now, key=key) for name, b in batches.items()}
    checked = {name: _flag_known_keys(lake, batches[name], df) for name, df in checked.items()}
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
        # same job gives the guards their figures (newest date, rows per recent day); the
        # silver state adds what earlier runs ingested.
        counts = row_counts(flag(survivor=False), as_of=as_of, window_days=window)
        flagged = flag(survivor=True)
        quality = [table_quality(name, c.reasons) for name, c in counts.items()]
        for q in quality:
            log.info("ingest %s", q.describe(top=10))
        check_bad_share(quality, cfg.ingest.max_bad_share)
        known = {name: with_known(c, _prior_state(batches[name]), as_of=as_of, window_days=window)
                 for name, c in counts.items()}
        failures, notes = guard_results(known, cfg.ingest, as_of)
        for name, note in notes.items():
            log.info("ingest guards %s: %s", name, note)
        check_guards(failures)
        _write_quarantine(lake, batches, flagged, counts, as_of=as_of, run_id=run_id, now=now,
                          expect_version=_expected(quarantine_version))
        for spec in RAW_TABLES:
            _write_silver(lake, batches[spec.name], flagged[spec.name], counts[spec.name],
                          as_of=as_of)
    finally:
        for df in candidates.values():
            df.unpersist()


def _expected(version: int | None) -> int:
    """The version a commit expects; -1: the table must not exist yet."""
    return -1 if version is None else version


def _prior_state(batch: Batch) -> SilverState | None:
    """What silver already holds that this batch adds to (nothing when it replaces it)."""
    if batch.mode == "full" and batch.raw.name in EVENT_TIME:
        return None
    return batch.state


def _flag_known_keys(lake: Lakehouse, batch: Batch, checked: DataFrame) -> DataFrame:
    """Rule 7 across runs: a valid row of an event table whose key silver already holds
    (in the same ``event_month``) is a ``duplicate_key``.

    Only the months the batch touches are read from silver (one small job over the batch
    finds them), so the lookup costs the batch's months, not the history.
    """
    name = batch.raw.name
    if batch.mode == "full" or name not in EVENT_TIME or batch.empty_increment:
        return checked
    month = event_month(F.col(EVENT_TIME[name]))
    touched = [r[0] for r in checked.where(F.col(REASON).isNull()).select(month.alias("m"))
               .distinct().collect() if r[0] is not None]  # months: a few dates
    if not touched:
        return checked
    columns = [c for c in checked.columns if c != REASON]
    keys = key_columns(RULES[name], columns)
    silver = lake.read(SILVER_TABLES[name], partitions={EVENT_MONTH: touched})
    seen = silver.select(*[F.col(k).alias(f"_seen_{k}") for k in keys],
                         F.col(EVENT_MONTH).alias("_seen_month")).distinct()
    on = [F.col(k).eqNullSafe(F.col(f"_seen_{k}")) for k in keys]
    on.append(F.col("_month") == F.col("_seen_month"))
    joined = checked.withColumn("_month", month).join(seen, reduce(operator.and_, on), "left")
    hit = F.col(REASON).isNull() & F.col("_seen_month").isNotNull()
    return joined.withColumn(REASON, F.when(hit, F.lit("duplicate_key")).otherwise(F.col(REASON))
                             ).select(*columns, REASON)


def _count_all(frames: dict[str, DataFrame]) -> dict[str, int]:
    """Rows of each frame, in one Spark job (one small row per frame comes back)."""
    counted = [df.groupBy().count().select(F.lit(name).alias("name"), "count")
               for name, df in frames.items()]
    found = {r["name"]: int(r["count"]) for r in reduce(DataFrame.unionByName, counted).collect()}
    return {name: found.get(name, 0) for name in frames}


def _next_state(batch: Batch, counts: TableCounts, *, as_of: dt.date) -> SilverState:
    """The state silver holds once this batch is committed (see incremental.py)."""
    prior = _prior_state(batch)
    daily = dict(prior.daily) if prior is not None else {}
    for ago, n in counts.daily.items():
        day = as_of - dt.timedelta(days=ago)
        daily[day] = daily.get(day, 0) + n
    kept = dict(sorted(daily.items())[-STATE_DAYS:])
    newest = max([d for d in (prior.newest if prior else None, counts.newest) if d is not None],
                 default=None)
    valid = counts.reasons.get(None, 0)
    return SilverState(batch.raw_version, batch.raw_table_id,
                       (prior.rows if prior else 0) + valid, newest, kept)


def _write_quarantine(
    lake: Lakehouse,
    batches: dict[str, Batch],
    flagged: dict[str, DataFrame],
    counts: dict[str, TableCounts],
    *,
    as_of: dt.date,
    run_id: str,
    now: dt.datetime,
    expect_version: int | None,
) -> None:
    """The bad rows of every batch not quarantined yet, in one commit naming the batches.

    One commit, so a kill leaves the quarantine either as it was or with all of this
    run's bad rows; a rerun finds the batches named here (incremental.pending_batches).
    """
    due = [b for name, b in batches.items() if not b.empty_increment and not b.quarantined
           and any(r is not None for r in counts[name].reasons)]
    if not due and expect_version != -1:
        return
    # With nothing to quarantine on the first run, the table is still created (empty):
    # readers of ops/quarantine find it from the first ingest on.
    bad = reduce(DataFrame.unionByName, [
        to_quarantine_rows(flagged[b.raw.name], source_table=b.raw.name, run_id=run_id,
                           quarantined_at=now, as_of=as_of) for b in due or batches.values()])
    # Bad rows are a small share of a batch: rebalancing (AQE sizes the partitions)
    # writes a few files instead of one tiny file per input partition.
    lake.write(bad.hint("rebalance"), OPS_QUARANTINE, mode="append",
               metadata={f"{BATCH_PREFIX}{b.raw.name}": f"{b.tag} {b.raw_version}" for b in due},
               expect_version=expect_version)


def _write_silver(
    lake: Lakehouse,
    batch: Batch,
    flagged: DataFrame,
    counts: TableCounts,
    *,
    as_of: dt.date,
) -> None:
    """A batch's valid rows and silver's new state, in one commit."""
    name = batch.raw.name
    if batch.empty_increment:
        log.info("ingest %s: no new raw version since %d", name, batch.raw_version)
        return
    state = {STATE_KEY: _next_state(batch, counts, as_of=as_of).to_json()}
    valid = keep_valid_rows(flagged)
    spec = SILVER_TABLES[name]
    if name in EVENT_TIME:
        rows = valid.withColumn(EVENT_MONTH, event_month(F.col(EVENT_TIME[name])))
        mode: WriteMode = "overwrite" if batch.mode == "full" else "append"
        lake.write(rows.hint("rebalance", EVENT_MONTH), spec, mode=mode, metadata=state,
                   expect_version=_expected(batch.silver_version))
    else:
        lake.write(_new_versions(lake, valid, batch, as_of=as_of), spec, mode="append",
                   metadata=state, expect_version=_expected(batch.silver_version))


def _new_versions(lake: Lakehouse, valid: DataFrame, batch: Batch, *, as_of: dt.date
                  ) -> DataFrame:
    """The rows of a dimension batch that differ from each customer's latest version.

    A customer seen for the first time holds since always (``valid_from`` null); a
    changed one from this as-of. Rows equal in every column to the latest version are
    not stored again.
    """
    spec = SILVER_TABLES[batch.raw.name]
    columns = batch.raw.columns
    stamped = valid.withColumn(RAW_VERSION, F.lit(batch.raw_version).cast("long"))
    if batch.state is None and not lake.exists(spec):
        return stamped.withColumn(VALID_FROM, F.lit(None).cast("date"))
    stored = lake.read(spec)
    newest = Window.partitionBy("customer_id").orderBy(F.col(RAW_VERSION).desc())
    latest = (stored.withColumn("_rank", F.row_number().over(newest))
              .where(F.col("_rank") == 1)
              .select(*[F.col(c).alias(f"_l_{c}") for c in columns]))
    same = reduce(operator.and_, [F.col(c).eqNullSafe(F.col(f"_l_{c}")) for c in columns])
    changed = stamped.join(latest, same, "left_anti")
    known = latest.select(F.col("_l_customer_id").alias("_known_id"))
    return (changed.join(known, F.col("customer_id") == F.col("_known_id"), "left")
            .withColumn(VALID_FROM, F.when(F.col("_known_id").isNotNull(), F.lit(as_of))
                        .cast("date"))
            .drop("_known_id"))
