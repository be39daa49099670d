"""scripts.bench (``python -m scripts.bench full``) and its helpers: peers agree with the features stage, results, memory.

The equivalence test runs sparkseg's ``build_features`` and the DuckDB/Polars versions on
the same tiny inline silver tables (edge cases of every window and fill) and compares every
column. The end-to-end smoke test of the harness (generate 300 customers, every step) is
marked slow.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import to_arrow_schema

from scripts.bench import report as rep
from scripts.bench.check import compare_tables, read_parquet_files
from scripts.bench.memory import peak_memory
from scripts.bench.peers import (
    Inputs,
    Params,
    check_columns_cover_spec,
    output_columns,
    run_duckdb,
    run_polars,
)
from sparkseg.config import Config
from sparkseg.features.stage import build_features
from sparkseg.tables import RAW_CUSTOMERS, SILVER_TABLES
from tests.support.features import AS_OF, cust, edge_inputs, to_silver

REPO = Path(__file__).resolve().parents[2]
SILVER_CUSTOMERS = SILVER_TABLES[RAW_CUSTOMERS.name]
D = dt.date


@pytest.fixture(scope="module")
def silver_files(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Inputs, Path]:
    """The inputs as Parquet files, and sparkseg's features of them as a Parquet file."""
    root = tmp_path_factory.mktemp("bench_peers")
    frames = edge_inputs(spark)
    files: dict[str, list[str]] = {}
    for name, df in frames.items():
        path = root / f"{name}.parquet"
        pq.write_table(_arrow(_silver_copy(name, df)), path)
        files[name] = [str(path)]
    cfg = Config(warehouse=str(root / "lake"))
    ours = build_features(
        frames["customers"], frames["transactions"], frames["balances"], frames["events"],
        frames["identity_map"].select("id_type", "id_value", "customer_id"),
        cfg=cfg.features, as_of=AS_OF,
    )
    pq.write_table(_arrow(ours), root / "sparkseg.parquet")  # a handful of rows
    return Inputs(**files), root


def _silver_copy(name: str, df: DataFrame) -> DataFrame:
    """What the bench reads from silver: event tables as they are (their files hold no
    ``event_month``, a folder name), customers versioned. c1 has a second version, seen
    by an ingest after the as-of, that the peers must not use (the stage does not)."""
    if name != "customers":
        return df
    later = dict(zip(RAW_CUSTOMERS.columns, cust("c1", open_date=D(2021, 3, 1)), strict=True))
    later["city_tier"] = 3
    newer = df.sparkSession.createDataFrame(
        [(*later.values(), 1, AS_OF + dt.timedelta(days=1))], SILVER_CUSTOMERS.schema)
    return to_silver(df, RAW_CUSTOMERS).unionByName(newer)


def _arrow(df: DataFrame) -> pa.Table:
    """A tiny DataFrame as an Arrow table with Spark's types (timestamps UTC).

    ``toArrow`` of a local DataFrame (inline rows) needs no cluster job.
    """
    table = df.toArrow()
    return table.cast(to_arrow_schema(df.schema))


def _params() -> Params:
    f = Config(warehouse="/unused").features
    return Params(as_of=AS_OF, child_mcc=tuple(f.child_mcc),
                  new_customer_days=f.new_customer_days, honeymoon_days=f.honeymoon_days)


def _run_peer(engine: str, inputs: Inputs, out: Path) -> pa.Table:
    if engine == "duckdb":
        pytest.importorskip("duckdb")
        run_duckdb(inputs, _params(), threads=2, out=str(out))
    else:
        pytest.importorskip("polars")
        run_polars(inputs, _params(), out=str(out), streaming=engine == "polars-streaming")
    return pq.read_table(out)


def test_peer_feature_set_is_the_feature_table_contract() -> None:
    check_columns_cover_spec()


@pytest.mark.parametrize("engine", ["duckdb", "polars", "polars-streaming"])
def test_peer_computes_every_feature_column_as_the_stage_does(
    engine: str, silver_files: tuple[Inputs, Path], tmp_path: Path
) -> None:
    inputs, root = silver_files
    peer = _run_peer(engine, inputs, tmp_path / "peer.parquet")
    ours = read_parquet_files([str(root / "sparkseg.parquet")])

    result = compare_tables(ours, peer, abs_tol=1e-9)

    assert peer.column_names == output_columns()
    assert result.columns == len(output_columns()) - 1  # all but the key
    assert result.ok, result.summary("sparkseg", engine)


@pytest.mark.parametrize("engine", ["duckdb", "polars"])
def test_peer_windows_fills_and_caps_match_hand_computed_values(
    engine: str, silver_files: tuple[Inputs, Path], tmp_path: Path
) -> None:
    inputs, _ = silver_files
    rows = {r["customer_id"]: r for r in
            _run_peer(engine, inputs, tmp_path / "peer.parquet").to_pylist()}

    assert sorted(rows) == ["c1", "c2", "c4", "c5"]  # c3 opened after as-of
    c1 = rows["c1"]
    # 30d: days 1 (x2), 10, 30; day 31 and the as-of rows are out.
    assert c1["txn_count_30d"] == 4
    assert c1["debit_amount_30d"] == pytest.approx(100.1 + 10.5 + 20)  # unknown direction out
    assert c1["salary_months_12m"] == 2 and c1["salary_amount_90d"] == pytest.approx(600)
    assert c1["child_related_spend_365d"] == pytest.approx(55.55)
    assert c1["days_since_first_txn"] == 400 and c1["days_since_last_txn"] == 1
    assert c1["balance_wealth"] == 0.0 and c1["has_wealth"] == 1  # closed, but bought in 365d
    assert c1["aum"] == pytest.approx(1000) and c1["total_balance"] == pytest.approx(1500)
    assert c1["aum_90d_ago"] == pytest.approx(800)  # latest month-end before as-of - 90 days
    assert c1["push_open_rate_90d"] == 1.0 and c1["sms_click_rate_90d"] is None
    assert c1["event_count_90d"] == 4  # login, page view, two opens; the send is reach
    assert rows["c2"]["search_count_90d"] == 1 and rows["c2"]["age"] == 36
    assert rows["c4"]["age"] == 35 and rows["c4"]["is_new_customer"] == 0
    assert rows["c4"]["has_fund"] == 0 and rows["c4"]["share_txn_third_party_90d"] == 1.0
    c5 = rows["c5"]
    assert c5["txn_count_365d"] == 0 and c5["days_since_last_txn"] is None
    assert c5["share_txn_atm_90d"] == 0.0 and c5["aum_cv_12m"] is None


def test_compare_tables_names_columns_that_differ_and_null_mismatches() -> None:
    left = pa.table({"customer_id": ["a", "b", "c"], "x": [1.0, 2.0, None],
                     "y": [1, 2, 3], "s": ["u", "v", "w"]})
    right = pa.table({"customer_id": ["c", "b", "a"], "x": [None, 2.0, 1.005],
                      "y": [3, 5, 1], "s": ["w", "v", "u"]})

    same_within_cent = compare_tables(left, right)
    strict = compare_tables(left, right, abs_tol=0.0)

    assert same_within_cent.differing == {"y": 1}
    assert strict.differing == {"x": 1, "y": 1}
    assert not strict.ok
    nulls = compare_tables(left, right.set_column(1, "x", pa.array([1.0, 2.0, 1.005])))
    assert nulls.differing == {"x": 1, "y": 1}


def _result(customers: int, step: str, engine: str, median: float, **kw: object) -> rep.Result:
    base: dict[str, object] = dict(
        customers=customers, cores=2, step=step, engine=engine, seconds=[median],
        peak_bytes=None, rows=customers * 100, load_before=1.0, load_after=1.0,
        measured_at="t",
    )
    base.update(kw)
    return rep.make_result(**base)  # type: ignore[arg-type]


def test_results_merge_keeps_sizes_not_measured_again_and_sets_ratios(tmp_path: Path) -> None:
    old = [_result(100_000, "features", "sparkseg", 50.0),
           _result(1_000_000, "features", "sparkseg", 400.0)]
    rep.write_csv(tmp_path / "r.csv", old)
    new = [_result(100_000, "features", "sparkseg", 40.0),
           _result(100_000, "features", "duckdb", 10.0)]

    merged = rep.merge(rep.read_csv(tmp_path / "r.csv"), new)
    rep.set_ratios(merged, {"features": "duckdb"})

    got = {(r.customers, r.engine): (r.median_s, r.ratio) for r in merged}
    assert got == {(100_000, "sparkseg"): (40.0, 4.0), (100_000, "duckdb"): (10.0, 1.0),
                   (1_000_000, "sparkseg"): (400.0, None)}
    assert merged[0].rows_per_s_per_core == pytest.approx(100_000 * 100 / 40.0 / 2)


def test_targets_say_met_missed_and_not_measured() -> None:
    results = [
        _result(100_000, "full run", "sparkseg", 100.0),
        _result(1_000_000, "full run", "sparkseg", 900.0),
        _result(1_000_000, "features", "sparkseg", 60.0),
        _result(1_000_000, "features", "duckdb", 30.0),
    ]
    rep.set_ratios(results, {"features": "duckdb"})

    lines = rep.targets(results, run_step="full run", feat_step="features",
                        spark_engine="sparkseg", train_step="stage train")

    text = "\n".join(lines)
    assert "full run, 1M customers, 2 cores, < 600 s: 900 s, MISSED by 1.50x" in text
    assert "features <= 3x DuckDB at 1,000,000: 2.00x by wall time, met" in text
    assert "train(5M) <= 1.3 x train(1M): NOT MEASURED" in text
    assert "100,000->1,000,000: 0.95" in text  # log(9)/log(10)
    assert "peak memory < 16 GB at 5M: NOT MEASURED" in text


def test_scaling_exponent_of_time_proportional_to_size_is_one() -> None:
    results = [_result(n, "features", "duckdb", n / 1000) for n in (1000, 10_000, 100_000)]

    slopes = [s for _, _, s in rep.scaling_exponents(results, "features", "duckdb")]

    assert slopes == pytest.approx([1.0, 1.0])


def test_plot_writes_a_png_of_each_series(tmp_path: Path) -> None:
    results = [_result(n, "features", e, n / k) for n in (1000, 10_000) for e, k in
               (("sparkseg", 100), ("duckdb", 1000))]

    assert rep.plot(results, tmp_path / "p.png", [("features", "sparkseg"), ("features", "duckdb")])
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not rep.plot(results, tmp_path / "none.png", [("full run", "sparkseg")])


def test_peak_memory_and_cpu_count_a_grandchild_that_is_never_waited_for(
    tmp_path: Path,
) -> None:
    # The grandchild holds 300 MB and burns 0.6 s of CPU; its parent exits without waiting
    # for it, as a Python driver may leave its Spark JVM. The marker file only orders the
    # steps (the machine may be busy), it is not what is measured.
    marker = tmp_path / "burnt"
    grandchild = ("import time, pathlib; b = bytearray(300 * 2**20); "
                  "b[::4096] = b'x' * len(b[::4096]); t = time.process_time()\n"
                  "while time.process_time() - t < 0.6: pass\n"
                  f"pathlib.Path({str(marker)!r}).touch(); time.sleep(3)")
    code = ("import pathlib, subprocess, sys, time; "
            f"p = subprocess.Popen([sys.executable, '-c', {grandchild!r}])\n"
            f"while not pathlib.Path({str(marker)!r}).exists(): time.sleep(0.02)\n"
            "time.sleep(0.5)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    with peak_memory(proc.pid, interval=0.05) as sampler:
        proc.wait()

    assert sampler.peak is not None and sampler.peak > 300 * 2**20
    assert sampler.cpu_seconds >= 0.55


@pytest.mark.slow
def test_harness_prints_table_and_writes_results_at_300_customers(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    out = tmp_path / "out"
    env = dict(os.environ)
    env.setdefault("SPARKSEG_HASH_KEY", "test-only-key-not-secret")
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.bench", "full", "--sizes", "300", "--cores", "2",
         "--repeat", "1", "--skip", "run", "--peers", "duckdb", "--driver-memory", "2g",
         "--work", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=1800,
    )

    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "median s" in proc.stdout and "rows/s/core" in proc.stdout
    assert "check: duckdb vs sparkseg: 300 vs 300 rows" in proc.stdout
    assert "all agree" in proc.stdout
    rows = rep.read_csv(out / "results.csv")
    assert {(r.step, r.engine) for r in rows} >= {
        ("generate", "sparkseg"), ("features", "sparkseg"), ("features", "duckdb"),
        ("kmeans fit", "MLlib row"), ("kmeans fit", "MLlib block"),
    }
    assert (out / "results.md").read_text().startswith("# sparkseg benchmark results")
    assert (out / "time_vs_size.png").stat().st_size > 0


def test_event_log_summary_attributes_stage_time_to_its_sql_execution(tmp_path: Path) -> None:
    import json

    from scripts.bench.eventlog import read_executions, read_stages, summary_lines

    def acc(name: str, value: float) -> dict[str, object]:
        return {"Name": name, "Value": value}

    events = [
        {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
         "executionId": 7, "description": "parquet at x", "time": 1000,
         "physicalPlanDescription": "== Physical Plan ==\n+- HashAggregate (2)\n   +- Scan (1)"
                                    "\n\n(1) Scan"},
        {"Event": "SparkListenerJobStart", "Job ID": 0, "Stage IDs": [3],
         "Properties": {"spark.sql.execution.id": "7"}},
        {"Event": "SparkListenerStageCompleted", "Stage Info": {
            "Stage ID": 3, "Stage Name": "s", "Number of Tasks": 2, "Submission Time": 1000,
            "Completion Time": 4000, "Accumulables": [
                acc("internal.metrics.executorRunTime", 5000),
                acc("internal.metrics.executorCpuTime", 2e9),
                acc("internal.metrics.diskBytesSpilled", 3 * 1024**2)]}},
        {"Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
         "executionId": 7, "time": 4500},
    ]
    log = tmp_path / "app"
    log.write_text("\n".join(json.dumps(e) for e in events) + "\n")

    stages = read_stages(log)
    execs, stage_exec = read_executions(log)
    text = "\n".join(summary_lines(stages, 5, execs, stage_exec))

    assert [(s.seconds, s.run_s, s.cpu_s, s.spill_mb) for s in stages] == [(3.0, 5.0, 2.0, 3.0)]
    assert stage_exec == {3: 7} and execs[7].seconds == 3.5
    assert "exec    7:      5.0     2.0   1     3.5  parquet at x; HashAggregate" in text


def test_targets_are_judged_against_the_data_file(tmp_path: Path) -> None:
    from scripts.bench.targets import TARGETS_FILE, load_targets

    text = TARGETS_FILE.read_text().replace("max_seconds = 600", "max_seconds = 1000")
    (tmp_path / "targets.toml").write_text(text)
    results = [_result(1_000_000, "full run", "sparkseg", 900.0)]

    lines = rep.targets(results, run_step="full run", feat_step="features",
                        spark_engine="sparkseg", train_step="stage train",
                        goals=load_targets(tmp_path / "targets.toml"))

    assert lines[0].startswith("full run, 1M customers, 2 cores, < 1000 s: 900 s, met")


def test_bench_lists_its_modes_and_refuses_an_unknown_one() -> None:
    listed = subprocess.run([sys.executable, "-m", "scripts.bench", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    unknown = subprocess.run([sys.executable, "-m", "scripts.bench", "nope"], cwd=REPO,
                             capture_output=True, text=True, timeout=120)

    assert listed.returncode == 0
    modes = [ln.split()[0] for ln in listed.stdout.split("modes:")[1].splitlines() if ln.strip()]
    assert modes == ["full", "daily", "identity", "kmeans", "generate", "customer360",
                     "ingest-scan", "eventlog"]
    assert unknown.returncode == 2 and "unknown mode 'nope'" in unknown.stderr
