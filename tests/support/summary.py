"""Figures the reliability suite reports at the end of a run (cases tried, kills survived).

Tests record into these module-level counters; ``conftest.pytest_terminal_summary``
prints them, so CI logs show how many cases and kill points a run actually covered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

CASES: Counter[str] = Counter()
KINDS_SEEN: Counter[str] = Counter()
KILLS: list[str] = []
NOTES: list[str] = []
TIMINGS: dict[str, float] = {}
# CPU seconds used (this process group, i.e. pytest and its Spark JVM; and the sparkseg
# subprocesses): on an idle 2-core machine the wall time is at least half of the total.
CPU: dict[str, float] = {}


def add_cpu(what: str, seconds: float) -> None:
    CPU[what] = CPU.get(what, 0.0) + seconds


def record_case(shape: str, kinds: Sequence[str]) -> None:
    CASES["total"] += 1
    CASES[f"shape={shape}"] += 1
    CASES["bad rows"] += len(kinds)
    KINDS_SEEN.update(kinds)


def record_kill(description: str) -> None:
    KILLS.append(description)


def note(line: str) -> None:
    NOTES.append(line)


def lines() -> list[str]:
    out = []
    if CASES:
        shapes = ", ".join(f"{k}: {v}" for k, v in sorted(CASES.items()) if k.startswith("shape="))
        out.append(
            f"bad input: {CASES['total']} hypothesis cases passed ({shapes}), "
            f"{CASES['bad rows']} injected bad rows, {len(KINDS_SEEN)} corruption kinds"
        )
    if KILLS:
        out.append(f"crashes: {len(KILLS)} kill points survived:")
        out += [f"  - {k}" for k in KILLS]
    out += NOTES
    out += [f"time {name}: {seconds:.1f}s" for name, seconds in TIMINGS.items()]
    out += [f"cpu {name}: {seconds:.1f}s" for name, seconds in CPU.items()]
    if CPU:
        out.append(f"cpu total: {sum(CPU.values()):.1f}s")
    return out
