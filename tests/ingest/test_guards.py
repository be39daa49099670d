"""Extract guards: stale, empty or shrunken raw tables stop ingest (exit 5), writing nothing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.errors import ConfigError, DataQualityError
from sparkseg.ingest.config import IngestConfig
from sparkseg.ingest.guards import TableCounts, check_volume, guard_results
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import (
    OPS_QUARANTINE,
    OPS_RUNS,
    SILVER_TABLES,
)
from tests.support.cli import write_config
from tests.support.config import REPO, make_config
from tests.support.ingest import AS_OF, balance, customer, event, txn, write_raw
from tests.support.logs import captured_log
from tests.support.raw import BALANCES, CUSTOMERS, EVENTS, LINKS, TRANSACTIONS

MIDNIGHT = dt.datetime.combine(AS_OF, dt.time(), dt.UTC)


def at(days_ago: int, hour: int = 10) -> dt.datetime:
    """A timestamp on the day ``days_ago`` days before the as-of."""
    return MIDNIGHT - dt.timedelta(days=days_ago) + dt.timedelta(hours=hour)


def txns(per_day: Mapping[int, int]) -> list[tuple[Any, ...]]:
    """``n`` valid transactions on each day ``d`` days before the as-of."""
    return [txn(f"t{d}-{i}", ts=at(d, hour=i % 24)) for d, n in per_day.items() for i in range(n)]


def base(**tables: Sequence[tuple[Any, ...]]) -> dict[str, Sequence[tuple[Any, ...]]]:
    """Fresh tables with too little history for a volume check; links empty (allowed)."""
    raw: dict[str, Sequence[tuple[Any, ...]]] = {
        CUSTOMERS: [customer("c1")],
        TRANSACTIONS: txns({1: 2, 2: 2}),
        BALANCES: [balance("c1", "deposit", 100)],   # 2026-04-30: 32 days old
        EVENTS: [event("e1", ts=at(1))],
    }
    raw.update({f"raw/{k}": v for k, v in tables.items()})
    return raw


OUTPUTS = [*SILVER_TABLES.values(), OPS_QUARANTINE]


def versions(lake: Lakehouse) -> dict[str, int | None]:
    """Delta version of every table ingest writes (None: not created)."""
    return {s.name: DeltaTable(lake.uri(s)).version() if lake.exists(s) else None
            for s in OUTPUTS}


def ingest(lake: Lakehouse, cfg: Config) -> None:
    pipeline.run_stage(lake.spark, cfg, "ingest", AS_OF)


STALE_MESSAGE = ("raw/transactions is stale: newest txn_ts 2026-04-01 is 61 days before "
                 "as-of 2026-06-01 (ingest.max_staleness_days.transactions = 3)")


def test_stale_transactions_stop_ingest_with_exit_5_and_change_no_output(
    lake: Lakehouse, cfg: Config
) -> None:
    write_raw(lake, base())
    ingest(lake, cfg)
    before = versions(lake)
    # Every silver table exists (the quarantine only once a run had bad rows).
    assert None not in [v for t, v in before.items() if t.startswith("silver/")]
    # Newest valid row 61 days old; a broken row of yesterday and a valid one of the as-of
    # day itself do not make the table fresh (valid rows strictly before the as-of count).
    stale = [*txns({61: 20, 62: 20}), txn("bad", ts=at(1), amount=0), txn("late", ts=at(0))]
    write_raw(lake, base(transactions=stale))

    with pytest.raises(DataQualityError) as err:
        ingest(lake, cfg)

    assert err.value.exit_code == 5
    assert str(err.value) == STALE_MESSAGE + "; nothing was written"
    assert versions(lake) == before
    last = lake.read(OPS_RUNS).orderBy("started_at").collect()[-1]
    assert (last["status"], last["message"]) == ("failed", STALE_MESSAGE + "; nothing was written")


def test_staleness_switched_off_for_a_table_lets_the_stale_extract_through(
    lake: Lakehouse, tmp_path: Path
) -> None:
    cfg = make_config(tmp_path / "lake", ingest={"max_staleness_days": {"transactions": None}})
    write_raw(lake, base(transactions=txns({61: 20})))
    ingest(lake, cfg)
    assert lake.read(SILVER_TABLES[TRANSACTIONS]).count() == 20


def test_empty_events_table_fails_unless_allowed(lake: Lakehouse, tmp_path: Path) -> None:
    write_raw(lake, base(events=[]))
    with pytest.raises(DataQualityError) as err:
        ingest(lake, make_config(tmp_path / "lake"))
    assert err.value.exit_code == 5
    assert str(err.value) == ("raw/events is empty (0 rows; list events in ingest.allow_empty "
                              "to accept that); nothing was written")
    assert versions(lake) == dict.fromkeys(s.name for s in OUTPUTS)

    allowed = make_config(tmp_path / "lake", ingest={"allow_empty": ["events", "identity_links"]})
    ingest(lake, allowed)
    assert lake.read(SILVER_TABLES[EVENTS]).count() == 0
    assert lake.read(SILVER_TABLES[TRANSACTIONS]).count() == 4


HISTORY = dict.fromkeys(range(2, 10), 120)   # 120 rows a day on the 8 days before the latest


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (6, "raw/transactions volume dropped: 6 valid rows dated 2026-05-31 are 0.05x the median "
            "of 120 rows/day over the 8 days with rows before (ingest.volume.min_ratio = 0.2)"),
        (1300, "raw/transactions volume jumped: 1300 valid rows dated 2026-05-31 are 10.83x the "
               "median of 120 rows/day over the 8 days with rows before "
               "(ingest.volume.max_ratio = 10)"),
    ],
)
def test_latest_day_far_off_the_median_of_the_days_before_fails(
    lake: Lakehouse, cfg: Config, latest: int, expected: str
) -> None:
    write_raw(lake, base(transactions=txns({1: latest, **HISTORY})))
    with pytest.raises(DataQualityError) as err:
        ingest(lake, cfg)
    assert str(err.value) == expected + "; nothing was written"
    assert versions(lake) == dict.fromkeys(s.name for s in OUTPUTS)


def test_fresh_tables_with_normal_volume_pass_and_log_their_figures(
    lake: Lakehouse, cfg: Config
) -> None:
    # A campaign day (600 rows) in the window does not lift the median baseline.
    write_raw(lake, base(transactions=txns({1: 110, **HISTORY, 5: 600})))
    with captured_log() as lines:
        ingest(lake, cfg)
    assert lake.read(SILVER_TABLES[TRANSACTIONS]).count() == 110 + 7 * 120 + 600
    assert ("ingest guards raw/transactions: 1550 rows; newest txn_ts 2026-05-31; 110 valid "
            "rows dated 2026-05-31 are 0.92x the median of 120 rows/day over the 8 days with "
            "rows before") in lines


def test_short_history_skips_the_volume_check_and_says_so(lake: Lakehouse, cfg: Config) -> None:
    # 4 days of history: a 5 % latest day is not judged.
    write_raw(lake, base(transactions=txns({1: 6, 2: 120, 3: 120, 4: 120, 5: 120})))
    with captured_log() as lines:
        ingest(lake, cfg)
    assert lake.read(SILVER_TABLES[TRANSACTIONS]).count() == 486
    assert ("ingest guards raw/transactions: 486 rows; newest txn_ts 2026-05-31; volume check "
            "skipped: 4 day(s) with rows in the 28 before the latest "
            "(ingest.volume.min_history_days = 7)") in lines


# --- the checks on counted figures (no Spark) ----------------------------------------------

def counts(table: str, rows: int, newest: dt.date | None = None,
           daily: dict[int, int] | None = None) -> TableCounts:
    return TableCounts(table, {None: rows}, newest, daily or {})


def test_a_small_baseline_skips_the_volume_check() -> None:
    c = counts(EVENTS, 90, AS_OF, {1: 0, **dict.fromkeys(range(2, 11), 10)})
    assert check_volume(c, IngestConfig(), AS_OF) == (
        None, "volume check skipped: baseline 10 rows/day is below "
              "ingest.volume.min_baseline_rows = 100")


def test_every_failing_table_is_named_once_in_one_line() -> None:
    limits = IngestConfig()
    found = {
        CUSTOMERS: counts(CUSTOMERS, 0),
        # Empty and stale at once: only "empty" is reported.
        TRANSACTIONS: counts(TRANSACTIONS, 0),
        BALANCES: counts(BALANCES, 5, dt.date(2026, 4, 1)),
        EVENTS: counts(EVENTS, 3, None),      # rows, none valid before as-of
        LINKS: counts(LINKS, 0),
    }
    failures, notes = guard_results(found, limits, AS_OF)
    assert failures == [
        "raw/customers is empty (0 rows; it may never be)",
        "raw/transactions is empty (0 rows; list transactions in ingest.allow_empty to accept that)",
        "raw/balances is stale: newest snapshot_date 2026-04-01 is 61 days before as-of "
        "2026-06-01 (ingest.max_staleness_days.balances = 45)",
        "raw/events is stale: no valid row with event_ts before as-of 2026-06-01 "
        "(ingest.max_staleness_days.events = 3)",
    ]
    assert notes[LINKS] == "empty (allowed by ingest.allow_empty)"


def test_customers_can_not_be_allowed_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ingest\.allow_empty"):
        make_config(tmp_path, ingest={"allow_empty": ["customers"]})


# --- the command line ----------------------------------------------------------------------

def test_cli_ingest_on_a_stale_extract_exits_5_with_one_error_line(
    lake: Lakehouse, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    write_raw(lake, base(transactions=txns({61: 20})))
    config = write_config(tmp_path / "cfg.yaml", root)
    env = {k: v for k, v in os.environ.items() if k != "PYSPARK_GATEWAY_PORT"}
    # The subprocess runs elsewhere (cwd): a relative PYTHONPATH (src) must not fall
    # through to another checkout's installed code.
    paths = [str(Path(p).resolve()) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *paths])
    proc = subprocess.run(
        [sys.executable, "-m", "sparkseg.cli", "ingest", "--config", str(config),
         "--as-of", AS_OF.isoformat()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("sparkseg: error:")]
    assert proc.returncode == 5, proc.stderr[-2000:]
    assert errors == [f"sparkseg: error: {STALE_MESSAGE}; nothing was written"]
    assert "Traceback" not in proc.stderr
    assert versions(lake) == dict.fromkeys(s.name for s in OUTPUTS)
