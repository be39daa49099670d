"""Where did a Spark application spend its time? A summary of a Spark event log.

The Spark UI is off in sparkseg's local sessions; the event log is the profile instead.
``python -m scripts.bench full --event-log DIR`` turns it on for every Spark process of the benchmark
(through ``PYSPARK_SUBMIT_ARGS``); then::

    python -m scripts.bench eventlog DIR/local-1234...   [--top 15]

prints the slowest stages with their call site (the sparkseg line that triggered them),
tasks, executor run time, input, shuffle write and spill, and the total per call site.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

MB = 1024**2


@dataclass
class Stage:
    stage_id: int
    attempt: int
    name: str
    tasks: int
    seconds: float
    run_s: float  # executor run time summed over tasks
    cpu_s: float  # executor CPU time summed over tasks (run - cpu: waiting for CPU or I/O)
    input_mb: float
    shuffle_read_mb: float
    shuffle_write_mb: float
    spill_mb: float
    output_mb: float


def _metric(accs: list[dict[str, object]], name: str) -> float:
    for a in accs:
        if a.get("Name") == name:
            try:
                return float(str(a.get("Value", 0)))
            except ValueError:
                return 0.0
    return 0.0


def read_stages(path: Path) -> list[Stage]:
    """Completed stages of one event log file."""
    out = []
    # A rolling log (Spark 4's default) is a folder of events_<n>_... files.
    files = sorted(path.glob("events_*"), key=lambda p: int(p.name.split("_")[1])) \
        if path.is_dir() else [path]
    if any(f.suffix in (".zstd", ".lz4", ".snappy", ".lzf") for f in files):
        raise SystemExit(f"{path}: compressed event log; write it with "
                         "spark.eventLog.compress=false (`scripts.bench full --event-log` does)")
    for f in files:
        out += _stages_of(f)
    return out


@dataclass
class Execution:
    """One SQL execution (a DataFrame action): its description and plan's top operators."""

    exec_id: int
    description: str
    seconds: float
    operators: str


def read_executions(path: Path) -> tuple[dict[int, Execution], dict[int, int]]:
    """SQL executions of a log, and the execution id of each stage (via its job)."""
    execs: dict[int, Execution] = {}
    starts: dict[int, float] = {}
    stage_exec: dict[int, int] = {}
    files = sorted(path.glob("events_*")) if path.is_dir() else [path]
    for f in files:
        with f.open() as fh:
            for line in fh:
                head = line[:120]
                if "SQLExecutionStart" in head:
                    e = json.loads(line)
                    plan = e.get("physicalPlanDescription", "").split("\n\n")[0]
                    ops = [ln.strip(" +-:*").split(" (")[0] for ln in plan.splitlines()[1:]]
                    keep = [o for o in ops if o.split(" ")[0] in _INTERESTING]
                    execs[e["executionId"]] = Execution(
                        e["executionId"], str(e.get("description", ""))[:70], 0.0,
                        ", ".join(dict.fromkeys(keep)))
                    starts[e["executionId"]] = e["time"]
                elif "SQLExecutionEnd" in head:
                    e = json.loads(line)
                    if e["executionId"] in execs:
                        execs[e["executionId"]].seconds = (e["time"] - starts[e["executionId"]]) / 1000
                elif '"SparkListenerJobStart"' in head:
                    e = json.loads(line)
                    eid = e.get("Properties", {}).get("spark.sql.execution.id")
                    if eid is not None:
                        for sid in e.get("Stage IDs", []):
                            stage_exec[int(sid)] = int(eid)
    return execs, stage_exec


_INTERESTING = {"SortMergeJoin", "BroadcastHashJoin", "ShuffledHashJoin", "HashAggregate",
                "SortAggregate", "ObjectHashAggregate", "Expand", "Window", "Sort", "Generate",
                "InMemoryTableScan", "Execute", "CollectLimit", "BatchEvalPython",
                "ArrowEvalPython", "CartesianProduct", "BroadcastNestedLoopJoin"}


def _stages_of(path: Path) -> list[Stage]:
    out = []
    with path.open() as fh:
        for line in fh:
            if '"SparkListenerStageCompleted"' not in line[:80]:
                continue
            info = json.loads(line)["Stage Info"]
            accs = info.get("Accumulables", [])
            start, end = info.get("Submission Time"), info.get("Completion Time")
            out.append(Stage(
                stage_id=int(info["Stage ID"]), attempt=int(info.get("Stage Attempt ID", 0)),
                name=str(info.get("Stage Name", "?")), tasks=int(info.get("Number of Tasks", 0)),
                seconds=(end - start) / 1000 if start and end else 0.0,
                run_s=_metric(accs, "internal.metrics.executorRunTime") / 1000,
                cpu_s=_metric(accs, "internal.metrics.executorCpuTime") / 1e9,
                input_mb=_metric(accs, "internal.metrics.input.bytesRead") / MB,
                shuffle_read_mb=(_metric(accs, "internal.metrics.shuffle.read.remoteBytesRead")
                                 + _metric(accs, "internal.metrics.shuffle.read.localBytesRead"))
                / MB,
                shuffle_write_mb=_metric(accs, "internal.metrics.shuffle.write.bytesWritten") / MB,
                spill_mb=_metric(accs, "internal.metrics.diskBytesSpilled") / MB,
                output_mb=_metric(accs, "internal.metrics.output.bytesWritten") / MB,
            ))
    return out


def summary_lines(stages: list[Stage], top: int = 12,
                  execs: dict[int, Execution] | None = None,
                  stage_exec: dict[int, int] | None = None) -> list[str]:
    """The slowest stages, then the SQL executions (actions) by task CPU time."""
    if not stages:
        return ["no completed stages in the log"]
    execs, stage_exec = execs or {}, stage_exec or {}
    total = sum(s.seconds for s in stages)
    cpu = sum(s.cpu_s for s in stages)
    run = sum(s.run_s for s in stages)
    lines = [f"{len(stages)} stages, {total:.1f} s of stage wall time, task run {run:.1f} s, "
             f"task CPU {cpu:.1f} s (run >> CPU: tasks waited for a CPU or for I/O)",
             f"{'stage':>6} {'exec':>5} {'wall s':>8} {'run s':>8} {'cpu s':>7} {'tasks':>6} "
             f"{'in MB':>8} {'shuf r MB':>9} {'shuf w MB':>9} {'spill MB':>9} {'out MB':>8}"]
    for s in sorted(stages, key=lambda s: -s.seconds)[:top]:
        eid = stage_exec.get(s.stage_id)
        lines.append(
            f"{s.stage_id:>6} {'' if eid is None else eid:>5} {s.seconds:>8.1f} {s.run_s:>8.1f} "
            f"{s.cpu_s:>7.1f} {s.tasks:>6} {s.input_mb:>8.1f} {s.shuffle_read_mb:>9.1f} "
            f"{s.shuffle_write_mb:>9.1f} {s.spill_mb:>9.1f} {s.output_mb:>8.1f}")
    per_exec: dict[int | None, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for s in stages:
        acc = per_exec[stage_exec.get(s.stage_id)]
        acc[0] += s.run_s
        acc[1] += s.cpu_s
        acc[2] += 1
    lines.append("per SQL execution (task run s, task CPU s, stages, wall s: description; plan):")
    for eid, (r, c, n) in sorted(per_exec.items(), key=lambda kv: -kv[1][1])[:top]:
        e = execs.get(eid) if eid is not None else None
        what = f"{e.description}; {e.operators}" if e else "(no SQL execution)"
        wall = f"{e.seconds:.1f}" if e else ""
        lines.append(f"  exec {'-' if eid is None else eid:>4}: {r:>8.1f} {c:>7.1f} {int(n):>3} "
                     f"{wall:>7}  {what}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.bench eventlog",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("logs", nargs="+", type=Path)
    p.add_argument("--top", type=int, default=12)
    args = p.parse_args(argv)
    for path in args.logs:
        print(f"== {path}")
        execs, stage_exec = read_executions(path)
        print("\n".join(summary_lines(read_stages(path), args.top, execs, stage_exec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
