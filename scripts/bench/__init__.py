"""Timings of sparkseg: ``python -m scripts.bench MODE [options]`` (``MODE --help``).

Modes (one module each): ``full`` (every step at several sizes against DuckDB, Polars and
scikit-learn; results.csv/md and a plot), ``daily`` (a first run, then appended days),
``identity`` (labelling on graph shapes that stop a BFS), ``kmeans`` (train and score
stages, one Lloyd iteration against scikit-learn), ``generate`` (``sparkseg generate``
per raw table), ``customer360`` (ingest, identity, features on an existing warehouse),
``ingest-scan`` (re-reading raw files against a persisted copy) and ``eventlog`` (a
summary of a Spark event log).

The other modules are the harness's parts: ``peers`` (the features in DuckDB SQL and
Polars) run by ``peer_worker``, ``check`` (column-by-column comparison), ``kmeans_compare``,
``memory`` (peak RSS and CPU of a process tree), ``report`` (result rows, CSV, markdown,
plot) and ``targets`` (``targets.toml``, the figures a run is judged against).
"""
