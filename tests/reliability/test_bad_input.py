"""Bad input, property-based: quarantinable rows never stop ingest, identity or features.

Hypothesis draws corruptions of every kind the raw contract forbids (null and blank keys,
duplicate keys, null required values, unknown codes, zero and negative amounts,
timestamps in the future or before 1990, dates out of range) and may empty the four
non-customer tables (so they hold only bad rows, or nothing). For each case the stages
run in-process on the shared session with ``ingest.max_bad_share: 1.0`` and the extract
guards off (an emptied table stops ingest by design: tests/ingest/test_guards.py), and:

- none of ingest, identity, features fails;
- ``ops/quarantine`` holds exactly the injected rows, each with its expected reason and
  its row as stored (personal identifiers hashed);
- the silver tables, the identity map and the features equal those of a run on the
  clean rows alone (computed once per "emptied" shape and cached).

The clean base carries extreme but valid values (an amount of 1e15, a row after the
as-of). Cases tried are counted and printed in the terminal summary.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from sparkseg import pipeline
from sparkseg.config import Config
from sparkseg.errors import DataQualityError, MissingTableError, SparksegError
from sparkseg.ingest.validate import to_quarantine_rows
from sparkseg.tables import (
    OPS_QUARANTINE,
    SILVER_TABLES,
)
from tests.support import summary
from tests.support.bank import AS_OF, RawData, build_raw, write_raw
from tests.support.config import make_config
from tests.support.corruptions import (
    KINDS,
    actual_quarantine,
    corrupt,
    expected_quarantine,
)
from tests.support.raw import BALANCES, CUSTOMERS, EVENTS, LINKS, TRANSACTIONS
from tests.support.warehouse import read_table, rows_of, runs_rows, snapshot

pytestmark = pytest.mark.slow

STAGES = ("ingest", "identity", "features")
NON_CUSTOMER = frozenset(
    {TRANSACTIONS, BALANCES, EVENTS, LINKS}
)

EMPTIED_SHAPES = {"none": frozenset[str](), "all_but_customers": NON_CUSTOMER}
OUTPUTS = (*(s.name for s in SILVER_TABLES.values()), "silver/identity_map", "silver/customer_features")
# Every valid row of the clean base: tiny, and enough for every stage's code paths.
CLEAN: RawData = build_raw(8, seed=11)


@dataclass
class Outputs:
    """Rows of every output partition of one run, as multisets (small tables only)."""

    tables: dict[str, Counter[tuple[Any, ...]]]
    quarantine: list[Any]


def _run_stages(spark: SparkSession, cfg: Config) -> None:
    for stage in STAGES:
        pipeline.run_stage(spark, cfg, stage, AS_OF)


def _outputs(spark: SparkSession, root: Path) -> Outputs:
    part = {"as_of_date": AS_OF}
    # Silver copies are one table each (no as-of partition); identity and features are
    # written per as-of.
    copies = {s.name for s in SILVER_TABLES.values()}
    tables = {t: rows_of(read_table(spark, root, t, None if t in copies else part))
              for t in OUTPUTS}
    quarantine = read_table(spark, root, OPS_QUARANTINE.name, part).collect()
    return Outputs(tables, quarantine)


class References:
    """Runs on the clean rows alone, one per emptied shape, computed on first use."""

    def __init__(self, spark: SparkSession, base: Path) -> None:
        self.spark, self.base = spark, base
        self.done: dict[str, Outputs] = {}

    def get(self, shape: str) -> Outputs:
        if shape not in self.done:
            root = self.base / f"reference-{shape}"
            tables, _ = corrupt(CLEAN.tables, [], emptied=EMPTIED_SHAPES[shape])
            write_raw(root, tables)
            _run_stages(self.spark, _config(root))
            self.done[shape] = _outputs(self.spark, root)
        return self.done[shape]


# The extract guards off: this property is about rows. Its emptied shapes (tables empty or
# holding only bad rows) and its 8-customer base (events a week old) are exactly what the
# guards stop on purpose (exit 5, tests/ingest/test_guards.py).
GUARDS_OFF: dict[str, object] = {
    "allow_empty": ["transactions", "balances", "events", "identity_links"],
    "max_staleness_days": {"transactions": None, "balances": None, "events": None},
    "volume": {"tables": []},
}


def _config(root: Path, max_bad_share: float = 1.0) -> Config:
    return make_config(root, ingest={"max_bad_share": max_bad_share, **GUARDS_OFF})


@pytest.fixture(scope="module")
def references(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> References:
    return References(spark, tmp_path_factory.mktemp("bad-input-ref"))


@pytest.fixture(scope="module")
def case_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("bad-input-cases") / "lake"


ALL_KINDS = sorted(KINDS)
ONLY_BAD_KINDS = sorted(k for k, v in KINDS.items() if v.table in NON_CUSTOMER and not v.duplicate)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[str]]:
    shape = draw(st.sampled_from(sorted(EMPTIED_SHAPES)))
    allowed = ALL_KINDS if shape == "none" else [
        k for k in ALL_KINDS if not (KINDS[k].duplicate and KINDS[k].table in NON_CUSTOMER)
    ]
    kinds = draw(st.lists(st.sampled_from(allowed), max_size=12))
    return shape, kinds


@settings(
    max_examples=int(os.environ.get("SPARKSEG_HYPOTHESIS_EXAMPLES", "5")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=cases())
# Every kind at least once on top of the clean rows.
@example(case=("none", ALL_KINDS))
# Four tables holding only bad rows (every non-duplicate kind of theirs).
@example(case=("all_but_customers", ONLY_BAD_KINDS))
# Four empty tables.
@example(case=("all_but_customers", []))
def test_quarantinable_rows_never_fail_and_leave_clean_outputs_unchanged(
    spark: SparkSession, references: References, case_root: Path, case: tuple[str, list[str]]
) -> None:
    shape, kinds = case
    tables, injected = corrupt(CLEAN.tables, kinds, emptied=EMPTIED_SHAPES[shape])
    # Each example is a first run on its own warehouse: ingest appends to silver and the
    # quarantine, so an earlier example's outputs must not be there.
    shutil.rmtree(case_root, ignore_errors=True)
    write_raw(case_root, tables)
    try:
        _run_stages(spark, _config(case_root))
    except SparksegError as err:  # pragma: no cover - the property's failure message
        pytest.fail(f"{type(err).__name__} (exit {err.exit_code}) on {shape} {kinds}: {err}")
    got = _outputs(spark, case_root)
    want = references.get(shape)

    assert actual_quarantine(got.quarantine) == expected_quarantine(injected)
    for table in OUTPUTS:
        assert got.tables[table] == want.tables[table], table
    summary.record_case(shape, kinds)


def test_bad_share_above_the_ceiling_fails_with_exit_5_and_writes_nothing(
    spark: SparkSession, tmp_path: Path
) -> None:
    root = tmp_path / "lake"
    write_raw(root, CLEAN.tables)
    _run_stages(spark, _config(root, max_bad_share=0.05))
    n_txn = len(CLEAN.tables[TRANSACTIONS])
    # Just over 5 % of transactions broken (bad / (n + bad) > 0.05), each a different way.
    bad = ["txn_zero_amount", "txn_unknown_channel", "txn_future_ts", "txn_null_key"]
    kinds = [bad[i % len(bad)] for i in range(n_txn // 18 + 1)]
    tables, _ = corrupt(CLEAN.tables, kinds, emptied=frozenset())
    write_raw(root, tables)
    before = snapshot(root)

    with pytest.raises(DataQualityError) as err:
        pipeline.run_stage(spark, _config(root, max_bad_share=0.05), "ingest", AS_OF)

    assert err.value.exit_code == 5
    message = str(err.value)
    assert "\n" not in message and "raw/transactions" in message
    assert "nothing was written" in message
    # Nothing but the audit log changed: silver, quarantine, identity, features as before.
    assert snapshot(root) == before
    last = runs_rows(spark, root)[-1]
    assert (last["stage"], last["status"]) == ("ingest", "failed")
    assert last["message"].startswith("too many bad rows")


def test_customers_with_only_bad_rows_stop_identity_with_a_missing_input(
    spark: SparkSession, tmp_path: Path
) -> None:
    """Decided behaviour: with no valid customer there is nobody to stitch or segment.

    Ingest (ceiling 1.0) quarantines every customer row; identity then stops with exit 3
    naming silver/customers, instead of writing an empty identity map over a good one.
    """
    root = tmp_path / "lake"
    tables, injected = corrupt(
        CLEAN.tables, ["customer_null_key", "customer_future_birth", "customer_blank_key"],
        emptied=frozenset({CUSTOMERS}),
    )
    write_raw(root, tables)
    cfg = _config(root)
    pipeline.run_stage(spark, cfg, "ingest", AS_OF)
    quarantine = read_table(spark, root, OPS_QUARANTINE.name).collect()
    assert actual_quarantine(quarantine) == expected_quarantine(injected)
    before = snapshot(root)

    with pytest.raises(MissingTableError) as err:
        pipeline.run_stage(spark, cfg, "identity", AS_OF)

    assert err.value.exit_code == 3
    assert "silver/customers" in str(err.value)
    after = snapshot(root)
    assert after == before


def test_quarantine_json_keeps_the_timestamp_to_the_microsecond(spark: SparkSession) -> None:
    ts = dt.datetime(2026, 10, 20, 9, 30, 15, 123456, tzinfo=dt.UTC)
    flagged = spark.createDataFrame(
        [("e1", ts, "tv", "customer_id", "C1", "login", None, None, "unknown_code:channel")],
        "event_id string, event_ts timestamp, channel string, id_type string, "
        "id_value string, event_type string, campaign_id string, product_id string, "
        "reason string",
    )
    row = to_quarantine_rows(flagged, source_table=EVENTS, run_id="r",
                             quarantined_at=ts, as_of=AS_OF).collect()[0]
    stored = dt.datetime.fromisoformat(json.loads(row["row_json"])["event_ts"])
    assert stored == ts
