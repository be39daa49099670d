"""Example Airflow DAG: the sparkseg stages as spark-submit tasks, one run per day.

The as-of date is the schedule's logical date (``{{ ds }}``). Every stage is idempotent
for its as-of date, so Airflow may retry any task. Exit codes (README) tell retryable
failures (1 internal, 6 write conflict) from ones a person must fix (2 config,
3 missing input, 4 incompatible table, 5 data quality).

After the stages, ``publish`` appends the as-of's ``pipeline`` row to ops/completions:
the record that downstream (marketing) systems wait for; it fails with exit code 3 while
a stage has not completed for the date.

Copy this file into the DAGs folder and set the Airflow Variables ``sparkseg_home``
(a checkout with dist/sparkseg.zip built by scripts/dev/build_pyfiles.sh) and
``sparkseg_master`` (e.g. ``yarn``).
"""

from __future__ import annotations

import datetime as dt

STAGES = ("ingest", "identity", "features", "train", "score", "profile", "tags", "audiences",
          "lifecycle")


def spark_submit_command(stage: str, *, home: str, master: str, config: str = "cluster.yaml") -> str:
    """The shell command of one stage's task (templated as-of date: ``{{ ds }}``)."""
    files = ",".join(f"{home}/conf/{f}" for f in (config, "tags.yaml", "audiences.yaml", "features.yaml"))
    return (
        f"spark-submit --master {master} --deploy-mode client "
        f"--py-files {home}/dist/sparkseg.zip --files {files} "
        f"{home}/jobs/{stage}_job.py --config {config} --as-of {{{{ ds }}}}"
    )


def build_dag():  # type: ignore[no-untyped-def]
    from airflow import DAG

    try:  # Airflow 3: the standard provider; Airflow 2: the core module
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:
        from airflow.operators.bash import BashOperator

    # Read at run time through templates: a Variable.get at parse time queries the
    # metadata database every time the scheduler parses this file.
    home = "{{ var.value.get('sparkseg_home', '/opt/sparkseg') }}"
    master = "{{ var.value.get('sparkseg_master', 'yarn') }}"
    with DAG(
        dag_id="sparkseg_daily",
        schedule="@daily",
        start_date=dt.datetime(2026, 11, 1),
        catchup=False,
        max_active_runs=1,  # stages of two dates must not write the same tables at once
        default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=10)},
        tags=["sparkseg"],
    ) as dag:
        previous = None
        for stage in (*STAGES, "publish", "report"):
            task = BashOperator(
                task_id=stage,
                bash_command=spark_submit_command(stage, home=home, master=master),
            )
            if previous is not None:
                previous >> task
            previous = task
    return dag


try:  # Airflow discovers DAG objects at module level; without Airflow this file stays importable.
    dag = build_dag()
except ImportError:
    dag = None
