"""The example Airflow DAG: checked with Airflow when installed, its commands always."""

from __future__ import annotations

import importlib.util
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


def test_dag_imports_in_airflow() -> None:
    pytest.importorskip("airflow", reason="Airflow is not installed")
    module = _load()
    dag = module.dag
    assert dag is not None and dag.dag_id == "sparkseg_daily"
    assert [t.task_id for t in dag.topological_sort()] == [*STAGES, "publish", "report"]
