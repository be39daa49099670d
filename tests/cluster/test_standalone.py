"""The pipeline on a real Spark standalone cluster (one master, two workers on 127.0.0.1).

1. spark-submit `generate` and `run_pipeline` with the package shipped as --py-files,
   then check the outputs.
2. The same pipeline on a copy of the raw tables, with one worker (and the executors it
   launched) SIGKILLed in the middle of a stage: the job must finish with the same keys
   and counts (Spark retries the lost tasks on the other worker), or fail with a clear
   error leaving every table at a committed version.
Every process the tests start is stopped by process id at teardown.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from deltalake import DeltaTable

from sparkseg.tables import SILVER_TABLES
from tests.support.cluster import (
    JVM_CONF,
    SPARK_HOME,
    SUBMIT_CONF,
    StandaloneCluster,
    conf_args,
    free_port,
    spark_env,
)
from tests.support.config import REPO

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

AS_OF = "2026-11-01"
SMALL = ["--set", "segment.k_min=3", "--set", "segment.k_max=4", "--set", "report.enabled=false"]
# Delta rebuilds a table's state in 50 tasks by default, sized for large clusters; on the
# test cluster's two 1-core workers those tasks were most of the spark-engine run's time.
SMALL_DELTA = ["--conf", "spark.databricks.delta.snapshotPartitions=2"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    c = StandaloneCluster(tmp_path_factory.mktemp("cluster"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _args(warehouse: Path, checkpoints: Path) -> list[str]:
    return ["--config", "conf/local.yaml", "--as-of", AS_OF, "--set", f"warehouse={warehouse}",
            "--set", f"spark.checkpoint_dir={checkpoints}", *SMALL]


def _table(warehouse: Path, name: str) -> DeltaTable:
    return DeltaTable(str(warehouse / name))


def _keys(warehouse: Path, name: str, *cols: str) -> list[tuple[object, ...]]:
    # Silver copies of raw are one table each; the other outputs are written per as-of.
    copy = name in {s.name for s in SILVER_TABLES.values()}
    t = _table(warehouse, name).to_pyarrow_table(
        filters=None if copy else [("as_of_date", "=", dt.date.fromisoformat(AS_OF))]
    )
    return sorted(zip(*(t.column(c).to_pylist() for c in cols), strict=True))


def readme_submit_command() -> list[str]:
    """The README's standalone spark-submit command (the block after its marker)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- standalone-submit: run by tests/cluster/test_standalone.py -->", 1)[1]
    body = block.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [ln.split("#", 1)[0].rstrip() for ln in body.splitlines()]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    commands = [shlex.split(c) for c in joined.splitlines() if c.strip()]
    assert commands[0] == ["scripts/dev/build_pyfiles.sh"], commands
    return commands[1]


@pytest.fixture(scope="module")
def reference(cluster: StandaloneCluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate on the cluster, then the README's submit command as written (spark engine),
    with the test cluster's URL and warehouse and overrides for a small run appended."""
    work = tmp_path_factory.mktemp("ref")
    warehouse = work / "lake"
    gen = cluster.submit(
        "jobs/generate_job.py", *_args(warehouse, work / "chk"), "--customers", "300",
        "--months", "3",
    )
    assert gen.returncode == 0, gen.stderr[-3000:]
    build = subprocess.run(["bash", "scripts/dev/build_pyfiles.sh"], cwd=REPO, capture_output=True,
                           text=True)
    assert build.returncode == 0, build.stderr
    cmd = readme_submit_command()
    assert cmd[0] == "spark-submit" and "spark://127.0.0.1:7077" in cmd
    cmd = [str(SPARK_HOME / "bin" / "spark-submit"), *SMALL_DELTA, *conf_args(JVM_CONF)] + [
        cluster.url if a == "spark://127.0.0.1:7077"
        else f"warehouse={warehouse}" if a == "warehouse=/data/lake" else a
        for a in cmd[1:]
    ]
    cmd += ["--set", f"spark.checkpoint_dir={work / 'chk'}", "--set", "spark.shuffle_partitions=8",
            "--set", "segment.sample_max_rows=100000", *SMALL]
    run = subprocess.run(cmd, capture_output=True, text=True, env=spark_env(), timeout=1200, cwd=REPO)
    assert run.returncode == 0, run.stderr[-3000:]
    return warehouse


def test_pipeline_runs_on_the_cluster_and_segments_every_customer(reference: Path) -> None:
    features = _keys(reference, "silver/customer_features", "one_id")
    segments = _keys(reference, "gold/segments", "one_id")
    assert len(features) > 250
    assert segments == features  # every customer once, nobody else
    runs = _table(reference, "ops/runs").to_pyarrow_table().to_pylist()
    stages = {r["stage"] for r in runs if r["status"] == "succeeded"}
    assert {"ingest", "identity", "features", "train", "score", "profile", "tags",
            "audiences"} <= stages
    # The README's command loads delta-spark: the pipeline ran on Spark's own connector.
    assert {r["engine"] for r in runs if r["stage"] != "generate"} == {"spark"}


def _staging_or_new_stage(log: Path, stage: str) -> bool:
    return log.exists() and f"{stage} {AS_OF}: start" in log.read_text(errors="replace")


def _every_executor_busy(ui_port: int) -> bool:
    """True while each executor runs a task (so a worker kill costs running work)."""
    base = f"http://127.0.0.1:{ui_port}/api/v1/applications"
    try:
        with urllib.request.urlopen(base, timeout=2) as r:
            app = json.loads(r.read())[0]["id"]
        with urllib.request.urlopen(f"{base}/{app}/executors", timeout=2) as r:
            executors = [e for e in json.loads(r.read()) if e["id"] != "driver"]
    except (OSError, ValueError, IndexError, KeyError):
        return False
    return len(executors) >= 2 and all(e["activeTasks"] > 0 for e in executors)


def test_worker_killed_mid_stage_loses_and_doubles_nothing(
    cluster: StandaloneCluster, reference: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "lake"
    shutil.copytree(reference / "raw", warehouse / "raw")
    log = tmp_path / "driver.log"
    pyfiles = cluster.work / "sparkseg.zip"
    ui_port = free_port()
    submit = [
        str(SPARK_HOME / "bin" / "spark-submit"), "--master", cluster.url,
        "--py-files", str(pyfiles),
        *conf_args({**SUBMIT_CONF, "spark.ui.enabled": "true", "spark.ui.port": str(ui_port),
                    "spark.task.maxFailures": "8"}),
        # The reference run's config (conf/cluster.yaml: Asia/Shanghai, its segment
        # settings), on the offline engine: the engines publish the same rows.
        "jobs/run_pipeline.py", "--config", "conf/cluster.yaml", "--as-of", AS_OF,
        "--set", f"warehouse={warehouse}", "--set", "engine=offline",
        "--set", f"spark.checkpoint_dir={tmp_path / 'chk'}", "--set", "spark.shuffle_partitions=8",
        "--set", "segment.sample_max_rows=100000", *SMALL,
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(submit, stdout=out, stderr=subprocess.STDOUT, env=spark_env(),
                                cwd=REPO, start_new_session=True)
        try:
            deadline = time.monotonic() + 600
            while not _staging_or_new_stage(log, "features") and proc.poll() is None:
                assert time.monotonic() < deadline, "features stage never started"
                time.sleep(0.5)
            # Kill only while both executors run tasks: then work is lost for certain.
            while not _every_executor_busy(ui_port) and proc.poll() is None:
                assert time.monotonic() < deadline, "the executors were never both busy"
                time.sleep(0.05)
            assert proc.poll() is None, "the run ended before the kill"
            cluster.kill("worker0")
            code = proc.wait(timeout=900)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
    text = log.read_text(errors="replace")
    # The kill came while both executors ran tasks (polled above), so running work was
    # lost and Spark ran it again on the other worker.
    assert "Lost executor" in text, text[-3000:]
    if code != 0:
        # Allowed outcome: a clear error, and every table at a committed, complete version.
        assert "sparkseg: error:" in text, text[-3000:]
        for name in ("silver/customer_features", "gold/segments"):
            if (warehouse / name).exists():
                _table(warehouse, name).to_pyarrow_table()
        pytest.fail(f"job failed after the worker was killed (clear error): {text.splitlines()[-1]}")
    for name, cols in [
        ("silver/transactions", ("txn_id",)),
        ("silver/events", ("event_id",)),
        ("silver/identity_map", ("id_type", "id_value", "one_id")),
        ("silver/customer_features", ("one_id",)),
        ("gold/segments", ("one_id",)),
        ("gold/customer_tags", ("one_id", "tag", "value")),
    ]:
        got = _keys(warehouse, name, *cols)
        assert len(got) == len(set(got)), f"duplicated rows in {name}"
        assert got == _keys(reference, name, *cols), f"{name} differs from the reference run"
