"""Peak resident memory and CPU seconds of a process tree (memory sampled in a thread).

The Spark driver JVM is a child of the Python process that starts it, and ``sparkseg run``
is a child of the harness, so "peak memory" here is the largest sum of RSS over a process
and all its descendants seen at any sample (every ``interval`` seconds). psutil is used
when installed, else Linux ``/proc``; elsewhere the sampler reports nothing (None).
Sampling can miss a spike shorter than the interval; the JVM's heap grows and is not
returned, so for Spark the figure is close to the true peak.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import psutil
except ImportError:  # optional: /proc is enough on Linux
    psutil = None

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _tree_rss_proc(root: int) -> int | None:
    """Sum of RSS over ``root`` and its descendants from /proc (Linux), or None."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * _PAGE
    if root not in rss:
        return None
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def _psutil_tree_sum(root: int, measure: Callable[[psutil.Process], float]) -> float | None:
    """Sum of ``measure(process)`` over ``root`` and its descendants (psutil), or None."""
    try:
        proc = psutil.Process(root)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for p in procs:
        try:
            total += measure(p)
        except psutil.Error:  # exited between listing and reading
            continue
    return total


def tree_rss(root: int) -> int | None:
    """Current RSS in bytes of ``root`` plus all its descendants (None if unknown)."""
    if psutil is not None:
        total = _psutil_tree_sum(root, lambda p: p.memory_info().rss)
        return None if total is None else int(total)
    return _tree_rss_proc(root)


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process and its waited-for children (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / _TICK


def tree_cpu(root: int | None = None) -> float | None:
    """CPU seconds used so far by ``root`` (default: this process) and its descendants.

    Includes children that already exited and were waited for. On a shared machine this
    compares between runs much better than wall time, which grows with the load.
    """
    root = os.getpid() if root is None else root
    if psutil is not None:
        return _psutil_tree_sum(root, _cpu_seconds)
    try:
        pids = [root, *_descendants(root)]
        return sum(_proc_cpu(pid) for pid in pids)
    except (OSError, ValueError, IndexError):
        return None


def _cpu_seconds(p: psutil.Process) -> float:
    t = p.cpu_times()
    return float(t.user + t.system + t.children_user + t.children_system)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, stack = [], list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, ()))
    return out


def _own_cpu(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process itself (not of its children)."""
    out: dict[int, float] = {}
    for pid in pids:
        try:
            if psutil is not None:
                t = psutil.Process(pid).cpu_times()
                out[pid] = t.user + t.system
            else:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / _TICK
        except Exception:  # exited, or no /proc: that process is simply not counted
            continue
    return out


def _tree_pids(root: int) -> list[int]:
    if psutil is not None:
        try:
            proc = psutil.Process(root)
            return [root, *(p.pid for p in proc.children(recursive=True))]
        except psutil.Error:
            return []
    try:
        return [root, *_descendants(root)]
    except OSError:
        return []


class PeakSampler:
    """Samples :func:`tree_rss` of ``pid`` until stopped; ``peak`` is the largest seen.

    Also keeps the last CPU time seen of every process of the tree: ``cpu_seconds`` is
    their sum, which counts a Spark JVM that its Python parent never waits for (so that
    ``RUSAGE_CHILDREN`` never sees it). A process living less than one interval is missed.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.2) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self.interval = interval
        self.peak: int | None = None
        self._cpu: dict[int, float] = {}
        self._cpu0: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds used by the tree while sampled (minus what it had used before)."""
        return sum(c - self._cpu0.get(pid, 0.0) for pid, c in self._cpu.items())

    def _sample(self) -> None:
        now = tree_rss(self.pid)
        if now is not None and (self.peak is None or now > self.peak):
            self.peak = now
        cpu = _own_cpu(_tree_pids(self.pid))
        if not self._cpu0 and not self._cpu:
            self._cpu0 = dict(cpu)
        self._cpu.update(cpu)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def start(self) -> PeakSampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> int | None:
        self._stop.set()
        self._thread.join()
        return self.peak


@contextmanager
def peak_memory(pid: int | None = None, interval: float = 0.2) -> Iterator[PeakSampler]:
    """``with peak_memory() as s: ...`` then ``s.peak`` (bytes or None)."""
    sampler = PeakSampler(pid, interval).start()
    try:
        yield sampler
    finally:
        sampler.stop()
