"""The example Airflow DAG: its commands, and the DAG parsed by real Airflow.

Airflow is not a dependency of sparkseg (its pins clash with ours): the test installs
it into a virtual environment of its own under ``~/.cache/sparkseg/`` (once per machine,
about a minute) and lets that interpreter parse the DAG file.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sparkseg.pipeline import STAGES

REPO = Path(__file__).resolve().parents[1]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sparkseg_dag", REPO / "examples/airflow/sparkseg_dag.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dag_runs_every_stage_in_pipeline_order_with_existing_jobs() -> None:
    module = _load()
    assert tuple(module.STAGES) == tuple(STAGES)
    for stage in module.STAGES:
        cmd = module.spark_submit_command(stage, home=str(REPO), master="yarn")
        assert "--as-of {{ ds }}" in cmd
        job = cmd.split(" --config")[0].split()[-1]
        assert Path(job).is_file(), job


AIRFLOW = "apache-airflow==3.3.2"
_PARSE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("sparkseg_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag = module.dag
print(json.dumps({"dag_id": dag.dag_id, "tasks": [t.task_id for t in dag.topological_sort()],
                  "commands": {t.task_id: t.bash_command for t in dag.tasks}}))
"""


def _airflow_python() -> Path:
    venv = Path.home() / ".cache" / "sparkseg" / AIRFLOW.replace("==", "-")
    python = venv / "bin" / "python"
    if not (venv / "ok").is_file():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", AIRFLOW], check=True,
                       timeout=900)
        (venv / "ok").touch()
    return python


@pytest.mark.slow
def test_dag_parses_in_real_airflow(tmp_path: Path) -> None:
    python = _airflow_python()
    out = subprocess.run(
        [str(python), "-W", "error::DeprecationWarning", "-c", _PARSE,
         str(REPO / "examples/airflow/sparkseg_dag.py")],
        capture_output=True, text=True, timeout=300,
        env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    dag = json.loads(out.stdout.strip().splitlines()[-1])
    assert dag["dag_id"] == "sparkseg_daily"
    assert dag["tasks"] == [*STAGES, "publish", "report"]
    assert "{{ ds }}" in dag["commands"]["ingest"]
    assert "var.value.get('sparkseg_home'" in dag["commands"]["ingest"]
