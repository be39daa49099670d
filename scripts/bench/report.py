"""Result rows of the benchmark: table text, CSV (merged across runs), markdown, plot, targets.

One row per (customers, cores, step, engine). A later run replaces the rows it measured
again and keeps the others, so sizes measured on different days (e.g. 100k now, 1M when
the machine is quiet) end up in one table and one plot.
"""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from scripts.bench.targets import Targets, load_targets, millions

GB = 1024**3


@dataclass
class Result:
    customers: int
    cores: int
    step: str
    engine: str
    median_s: float
    min_s: float
    runs: int
    cpu_s: float | None  # median CPU seconds (user + system) of the process tree
    ratio: float | None  # median / the reference engine's median of the same step
    reference: str
    peak_gb: float | None
    rows: int
    rows_per_s_per_core: float | None
    load_before: float
    load_after: float
    measured_at: str
    note: str = ""

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.customers, self.cores, self.step, self.engine)


def make_result(
    *,
    customers: int,
    cores: int,
    step: str,
    engine: str,
    seconds: Sequence[float],
    peak_bytes: int | None,
    rows: int,
    load_before: float,
    load_after: float,
    measured_at: str,
    note: str = "",
    median: float | None = None,
    minimum: float | None = None,
    cpu: Sequence[float] | None = None,
    cpu_median: float | None = None,
) -> Result:
    """A row from raw timings (median unless ``median`` is given, e.g. a difference)."""
    med = statistics.median(seconds) if median is None else median
    if cpu_median is None and cpu:
        cpu_median = statistics.median(cpu)
    per_core = rows / med / cores if med > 0 and rows else None
    return Result(
        customers=customers, cores=cores, step=step, engine=engine,
        median_s=med, runs=len(seconds),
        min_s=minimum if minimum is not None else (min(seconds) if seconds else med),
        cpu_s=cpu_median,
        ratio=None, reference="",
        peak_gb=None if peak_bytes is None else peak_bytes / GB,
        rows=rows, rows_per_s_per_core=per_core,
        load_before=load_before, load_after=load_after, measured_at=measured_at, note=note,
    )


def set_ratios(results: list[Result], references: dict[str, str]) -> None:
    """Ratio of each row to the reference engine's row of the same size, cores and step."""
    by_key = {r.key: r for r in results}
    for r in results:
        ref_engine = references.get(r.step)
        if ref_engine is None:
            continue
        ref = by_key.get((r.customers, r.cores, r.step, ref_engine))
        if ref is not None and ref.median_s > 0:
            r.ratio = r.median_s / ref.median_s
            r.reference = ref_engine


# --------------------------------------------------------------------------- files


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_csv(path: Path, results: Iterable[Result]) -> None:
    names = [f.name for f in fields(Result)]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for r in results:
            d = asdict(r)
            w.writerow([_cell(d[n]) for n in names])


def read_csv(path: Path) -> list[Result]:
    if not path.exists():
        return []
    out = []
    types = {f.name: f.type for f in fields(Result)}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            values: dict[str, object] = {}
            for name, text in row.items():
                kind = str(types.get(name, "str"))
                if name not in types:
                    continue
                if text == "" and "None" in kind:
                    values[name] = None
                elif kind.startswith("int"):
                    values[name] = int(text)
                elif kind.startswith("float"):
                    values[name] = float(text)
                else:
                    values[name] = text
            for name, declared in types.items():  # a column added since the file was written
                if name not in values and "None" in str(declared):
                    values[name] = None
            out.append(Result(**values))  # type: ignore[arg-type]
    return out


def merge(old: Iterable[Result], new: Iterable[Result]) -> list[Result]:
    """Old rows not measured again, then the new ones; sorted by cores, size, step order."""
    new = list(new)
    fresh = {r.key for r in new}
    rows = [r for r in old if r.key not in fresh] + new
    return sorted(rows, key=lambda r: (r.cores, r.customers))


# --------------------------------------------------------------------------- text


def _fmt(x: float | None, spec: str) -> str:
    return "" if x is None else format(x, spec)


def table_lines(results: Sequence[Result]) -> list[str]:
    head = (f"{'customers':>10} {'cores':>5}  {'step':<26}{'engine':<18}{'median s':>10}"
            f"{'min s':>9}{'n':>3}{'ratio':>9}{'CPU s':>9}  {'peak GB':>8}{'rows':>13}"
            f"{'rows/s/core':>13}  {'load 1m':>12}")
    lines = [head, "-" * len(head)]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
        load = f"{r.load_before:.1f}->{r.load_after:.1f}"
        lines.append(
            f"{r.customers:>10,} {r.cores:>5}  {r.step:<26}{r.engine:<18}{r.median_s:>10.2f}"
            f"{r.min_s:>9.2f}{r.runs:>3}{ratio:>9}{_fmt(r.cpu_s, '.1f'):>9}  "
            f"{_fmt(r.peak_gb, '.2f'):>8}{r.rows:>13,}"
            f"{_fmt(r.rows_per_s_per_core, ',.0f'):>13}  {load:>12}"
        )
    return lines


def markdown_table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| customers | cores | step | engine | median s | min s | n | ratio | CPU s | peak GB "
        "| rows | rows/s/core | load 1m before→after | note |",
        "|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x vs {r.reference}" if r.ratio is not None else ""
        lines.append(
            f"| {r.customers:,} | {r.cores} | {r.step} | {r.engine} | {r.median_s:.2f} "
            f"| {r.min_s:.2f} | {r.runs} | {ratio} | {_fmt(r.cpu_s, '.1f')} "
            f"| {_fmt(r.peak_gb, '.2f')} | {r.rows:,} "
            f"| {_fmt(r.rows_per_s_per_core, ',.0f')} "
            f"| {r.load_before:.1f}→{r.load_after:.1f} | {r.note} |"
        )
    return lines


# --------------------------------------------------------------------------- targets

TARGET_CORES = load_targets().cores


def _get(results: Sequence[Result], customers: int, step: str, engine: str,
         cores: int = TARGET_CORES) -> Result | None:
    for r in results:
        if (r.customers, r.cores, r.step, r.engine) == (customers, cores, step, engine):
            return r
    return None


def scaling_exponents(results: Sequence[Result], step: str, engine: str,
                      cores: int = TARGET_CORES) -> list[tuple[int, int, float]]:
    """(size a, size b, slope of log time over log size) between consecutive sizes."""
    pts = sorted((r.customers, r.median_s) for r in results
                 if r.step == step and r.engine == engine and r.cores == cores and r.median_s > 0)
    return [(a, b, math.log(tb / ta) / math.log(b / a))
            for (a, ta), (b, tb) in itertools.pairwise(pts) if b > a]


def targets(results: Sequence[Result], *, run_step: str, feat_step: str, spark_engine: str,
            train_step: str, goals: Targets | None = None) -> list[str]:
    """One line per target of issue 9 (``targets.toml`` unless ``goals`` is given): met,
    missed (by how much) or not measured."""
    g = goals or load_targets()
    cores = g.cores
    out = []
    run_max, feat_max, train_max = (f"{g.run_max_seconds:g}", f"{g.features_max_ratio:g}",
                                    f"{g.train_max_ratio:g}")
    run_name = (f"full run, {millions(g.run_customers)} customers, {cores} cores, "
                f"< {run_max} s")
    run1m = _get(results, g.run_customers, run_step, spark_engine, cores)
    if run1m is None:
        out.append(f"{run_name}: NOT MEASURED")
    else:
        verdict = ("met" if run1m.median_s < g.run_max_seconds
                   else f"MISSED by {run1m.median_s / g.run_max_seconds:.2f}x")
        cpu = ("" if run1m.cpu_s is None else
               f"; CPU {run1m.cpu_s:.0f} s = {run1m.cpu_s / cores:.0f} s on {cores} idle cores")
        out.append(f"{run_name}: {run1m.median_s:.0f} s, {verdict} "
                   f"(load {run1m.load_before:.1f}->{run1m.load_after:.1f}{cpu})")
    feats = [r for r in results if r.step == feat_step and r.engine == spark_engine
             and r.cores == cores and r.ratio is not None and r.reference == "duckdb"]
    if not feats:
        out.append(f"features <= {feat_max}x DuckDB: NOT MEASURED")
    for r in feats:
        verdict = "met" if r.ratio is not None and r.ratio <= g.features_max_ratio else (
            f"MISSED by {(r.ratio or 0) / g.features_max_ratio:.2f}x")
        duck = _get(results, r.customers, feat_step, "duckdb", cores)
        cpu = ""
        if r.cpu_s and duck is not None and duck.cpu_s:
            q = r.cpu_s / duck.cpu_s
            cpu = (f" (by CPU seconds {q:.2f}x: "
                   f"{'met' if q <= g.features_max_ratio else 'missed'})")
        out.append(f"features <= {feat_max}x DuckDB at {r.customers:,}: {r.ratio:.2f}x by wall "
                   f"time, {verdict}{cpu}")
    small, large = millions(g.train_small), millions(g.train_large)
    train_name = f"train({large}) <= {train_max} x train({small})"
    t1, t5 = (_get(results, n, train_step, spark_engine, cores)
              for n in (g.train_small, g.train_large))
    if t1 is None or t5 is None:
        have = ", ".join(f"{r.customers:,}: {r.median_s:.0f} s" for r in results
                         if r.step == train_step and r.engine == spark_engine
                         and r.cores == cores)
        out.append(f"{train_name}: NOT MEASURED (train stage {have or 'n/a'})")
    else:
        q = t5.median_s / t1.median_s
        verdict = "met" if q <= g.train_max_ratio else f"MISSED by {q / g.train_max_ratio:.2f}x"
        out.append(f"{train_name}: {q:.2f}x, {verdict}")
    for step, engine in ((run_step, spark_engine), (feat_step, spark_engine),
                         (feat_step, "duckdb"), (feat_step, "polars")):
        ex = scaling_exponents(results, step, engine, cores)
        if not ex:
            continue
        parts = ", ".join(f"{a:,}->{b:,}: {s:.2f}" for a, b, s in ex)
        verdict = "met" if all(s <= g.max_slope for _, _, s in ex) else "MISSED"
        out.append(f"time grows at most linearly ({step}, {engine}; log-log slope <= "
                   f"{g.max_slope:g}): {parts}, {verdict}")
    if not any(scaling_exponents(results, run_step, spark_engine, cores)):
        out.append("time grows at most linearly (full run): NOT MEASURED (one size only)")
    peak_name = f"peak memory < {g.peak_max_gb:g} GB at {millions(g.peak_customers)}"
    peaks = [r for r in results if r.customers == g.peak_customers and r.engine == spark_engine
             and r.peak_gb is not None and r.cores == cores]
    if not peaks:
        out.append(f"{peak_name}: NOT MEASURED")
    else:
        worst = max(peaks, key=lambda r: r.peak_gb or 0.0)
        verdict = "met" if (worst.peak_gb or 0) < g.peak_max_gb else "MISSED"
        out.append(f"{peak_name}: {worst.peak_gb:.1f} GB ({worst.step}), {verdict}")
    return out


# --------------------------------------------------------------------------- plot


def plot(results: Sequence[Result], path: Path, series: Sequence[tuple[str, str]]) -> bool:
    """Log-log plot of median seconds against customers for each (step, engine) series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    drawn = 0
    sizes: set[int] = set()
    for cores in sorted({r.cores for r in results}):
        for step, engine in series:
            pts = sorted((r.customers, r.median_s) for r in results
                         if r.step == step and r.engine == engine and r.cores == cores)
            if not pts:
                continue
            xs, ys = zip(*pts, strict=True)
            sizes.update(xs)
            ax.plot(xs, ys, marker="o", label=f"{step}: {engine} ({cores} cores)")
            drawn += 1
    if not drawn:
        plt.close(fig)
        return False
    if len(sizes) > 1:  # a slope-1 guide through the smallest full-run point
        lo, hi = min(sizes), max(sizes)
        anchor = min((r.median_s for r in results if r.customers == lo), default=1.0)
        ax.plot([lo, hi], [anchor, anchor * hi / lo], "k:", linewidth=1, label="linear (slope 1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("customers")
    ax.set_ylabel("seconds (median)")
    ax.set_title("sparkseg benchmark: time against size (log-log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
