"""Run one peer (DuckDB or Polars) of the features stage ``repeat`` times; print JSON.

Started by ``python -m scripts.bench full`` in a subprocess, so that the thread limit is in place before
the engine is imported (POLARS_MAX_THREADS is read once, at import) and so that the
process's peak memory belongs to this peer alone::

    POLARS_MAX_THREADS=2 python -m scripts.bench.peer_worker spec.json

``spec.json``: ``{"engine", "threads", "repeat", "out", "as_of", "child_mcc",
"new_customer_days", "honeymoon_days", "inputs": {table: [parquet files]}}``. Prints one
line ``{"engine", "seconds": [...], "cpu_seconds": [...], "rows", "maxrss_bytes",
"version"}``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

from scripts.bench.peers import Inputs, Params, run_duckdb, run_polars


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    engine, threads, out = spec["engine"], int(spec["threads"]), spec["out"]
    inputs = Inputs(**spec["inputs"])
    params = Params(
        as_of=dt.date.fromisoformat(spec["as_of"]),
        child_mcc=tuple(spec["child_mcc"]),
        new_customer_days=int(spec["new_customer_days"]),
        honeymoon_days=int(spec["honeymoon_days"]),
        history_days=int(spec.get("history_days", 730)),
    )
    if engine == "duckdb":
        import duckdb

        version = duckdb.__version__

        def once() -> int:
            return run_duckdb(inputs, params, threads=threads, out=out)
    elif engine in ("polars", "polars-streaming"):
        if os.environ.get("POLARS_MAX_THREADS") != str(threads):
            print(f"POLARS_MAX_THREADS must be {threads} before polars is imported",
                  file=sys.stderr)
            return 2
        import polars as pl

        version = pl.__version__
        streaming = engine == "polars-streaming"

        def once() -> int:
            return run_polars(inputs, params, out=out, streaming=streaming)
    else:
        print(f"unknown engine {engine!r}", file=sys.stderr)
        return 2
    seconds: list[float] = []
    cpu: list[float] = []  # process CPU time, all threads
    rows = 0
    for _ in range(int(spec["repeat"])):
        if os.path.exists(out):
            os.remove(out)
        c0, t0 = time.process_time(), time.perf_counter()
        rows = once()
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"engine": engine, "seconds": seconds, "cpu_seconds": cpu, "rows": rows,
                      "maxrss_bytes": maxrss, "version": version}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
