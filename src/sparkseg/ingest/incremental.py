"""What a daily ingest reads: the raw data files added since the last ingested version.

The watermark of a raw table is the state in the metadata of the silver commit that
last ingested it (:class:`SilverState`, key ``sparkseg.ingest.state``): written in the
same commit as the rows, it can never disagree with silver after a crash. A
:class:`Batch` is either the files of raw commits ``(watermark, current]`` or, on the
first run, on ``--full-refresh`` or when the raw table was rewritten
(:attr:`sparkseg.lakehouse.changes.Changes.rewritten`), the whole current raw table.

The bad rows of every batch of a run are appended to the quarantine in one commit
before the silver commits, its metadata naming each batch
(``sparkseg.ingest.batch.<table> = <table>@<silver version>:<mode> <raw version>``) (silver's version moves with every silver commit, so a tag never recurs): a
rerun after a crash between the two finds that tag and ingests exactly the same batch
again without appending its bad rows twice (:func:`pending_batches`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Literal

from pyspark.sql import DataFrame

from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import OPS_QUARANTINE, RAW_CUSTOMERS, SILVER_TABLES, TableSpec

log = logging.getLogger(__name__)

STATE_KEY = "sparkseg.ingest.state"
# Quarantine commit metadata: "<prefix><raw table>" -> "<batch tag> <raw version>".
BATCH_PREFIX = "sparkseg.ingest.batch."
# Commits searched for a state or a pending batch. Ingest commits each silver table once a
# run and the quarantine at most five times; retain and vacuum do not commit to silver.
_HISTORY = 200
# Valid rows per event date kept in the state: enough for the volume guard's window.
STATE_DAYS = 400


@dataclass(frozen=True)
class SilverState:
    """What silver holds of one raw table, as of its last ingest commit."""

    raw_version: int
    raw_table_id: str
    rows: int  # valid rows (versions, for customers) in silver
    newest: dt.date | None  # newest event date among them (event tables)
    daily: dict[dt.date, int] = field(default_factory=dict)  # valid rows per event date

    def to_json(self) -> str:
        return json.dumps({
            "raw_version": self.raw_version, "raw_table_id": self.raw_table_id,
            "rows": self.rows, "newest": self.newest.isoformat() if self.newest else None,
            "daily": {d.isoformat(): n for d, n in sorted(self.daily.items())},
        }, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> SilverState:
        s = json.loads(text)
        return SilverState(
            int(s["raw_version"]), str(s["raw_table_id"]), int(s["rows"]),
            dt.date.fromisoformat(s["newest"]) if s.get("newest") else None,
            {dt.date.fromisoformat(d): int(n) for d, n in (s.get("daily") or {}).items()},
        )


def silver_state(lake: Lakehouse, raw: TableSpec) -> SilverState | None:
    """The state of the newest silver commit that carries one, or None (never ingested)."""
    for _version, meta in lake.commit_metadata(SILVER_TABLES[raw.name], _HISTORY):
        if STATE_KEY in meta:
            return SilverState.from_json(meta[STATE_KEY])
    return None


def batch_tag(raw: TableSpec, silver_version: int | None, mode: str) -> str:
    return f"{raw.name}@{-1 if silver_version is None else silver_version}:{mode}"


def pending_batches(lake: Lakehouse) -> dict[str, int]:
    """``batch tag -> raw version`` of the recent quarantine commits of ingest batches.

    A tag naming silver's current version is a batch whose silver commit never happened."""
    out: dict[str, int] = {}
    for _version, meta in lake.commit_metadata(OPS_QUARANTINE, _HISTORY):
        for key, value in meta.items():
            if key.startswith(BATCH_PREFIX):
                tag, until = value.rsplit(" ", 1)
                out.setdefault(tag, int(until))
    return out


@dataclass(frozen=True)
class Batch:
    """The raw rows one ingest run validates for one raw table."""

    raw: TableSpec
    df: DataFrame
    mode: Literal["incremental", "full"]
    raw_version: int
    raw_table_id: str
    state: SilverState | None  # silver's state before this batch
    silver_version: int | None  # silver's version when planned: its commit expects it
    tag: str  # the quarantine commit tag (see module doc)
    note: str
    # Its bad rows were appended by an earlier attempt that died before the silver commit.
    quarantined: bool = False

    @property
    def empty_increment(self) -> bool:
        """An incremental batch of no commits: nothing to write at all."""
        return self.mode == "incremental" and self.state is not None and (
            self.raw_version == self.state.raw_version)


def plan_batch(
    lake: Lakehouse, raw: TableSpec, *, full_refresh: bool, pending: dict[str, int]
) -> Batch:
    """The batch of ``raw`` for this run (see the module doc); reads no data."""
    state = silver_state(lake, raw)
    silver_version = lake.version(SILVER_TABLES[raw.name])
    info = lake.table_info(raw)
    current = lake.version(raw)
    assert current is not None  # table_info raised MissingTableError otherwise
    reason = None
    if full_refresh:
        reason = "--full-refresh"
    elif state is None:
        reason = "first ingest"
    elif state.raw_table_id != info.id:
        reason = f"the table was recreated (id {info.id}, was {state.raw_table_id})"
    if reason is None:
        assert state is not None
        mode: Literal["incremental", "full"] = "incremental"
        until = pending.get(batch_tag(raw, silver_version, mode), current)
        changes = lake.changes(raw, since=state.raw_version, until=until, info=info)
        if changes.rewritten is None:
            df = lake.read_files(raw, changes.files, version=until, info=info)
            note = (f"{len(changes.files)} new file(s) in versions "
                    f"{state.raw_version + 1}..{until}")
            tag = batch_tag(raw, silver_version, mode)
            return Batch(raw, df, mode, until, info.id, state, silver_version, tag, note,
                         tag in pending)
        reason = changes.rewritten
        if raw.name != RAW_CUSTOMERS.name:
            log.warning("ingest %s: %s; re-ingesting the whole table", raw.name, reason)
    mode = "full"
    until = pending.get(batch_tag(raw, silver_version, mode), current)
    df = lake.read(raw, version=until)
    tag = batch_tag(raw, silver_version, mode)
    return Batch(raw, df, mode, until, info.id, state, silver_version, tag,
                 f"whole table at version {until} ({reason})", tag in pending)
