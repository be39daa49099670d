"""The ``sparkseg`` command line as a subprocess: its config, its process group, its CPU."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support import summary
from tests.support.config import REPO
from tests.support.session import TEST_JVM_OPTIONS


def write_config(path: Path, warehouse: Path, **sections: Any) -> Path:
    """A YAML config for a subprocess run: small, deterministic local Spark."""
    data: dict[str, Any] = {
        "warehouse": str(warehouse),
        "engine": "offline",
        "as_of": "2026-11-01",
        "spark": {
            "master": "local[2]", "shuffle_partitions": 4, "show_progress": False,
            "log_level": "WARN", "driver_memory": "1g",
            "conf": {"spark.default.parallelism": "4", "spark.ui.enabled": "false",
                     "spark.driver.extraJavaOptions": TEST_JVM_OPTIONS},
        },
        "features": {"dictionary": str(REPO / "conf/features.yaml")},
        "tags": {"rules": str(REPO / "conf/tags.yaml")},
        "audiences": {"definitions": str(REPO / "conf/audiences.yaml")},
        "segment": {"k_min": 2, "k_max": 3, "algorithms": ["kmeans"]},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")" of the command name: state, ppid, pgrp, ..., utime (12th), stime.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


@dataclass
class Proc:
    """A ``sparkseg`` command started in its own process group (so SIGKILL takes the JVM too)."""

    popen: subprocess.Popen[bytes]
    log: Path
    started: float
    cpu_seconds: float = 0.0
    _sampled: float = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def sample_cpu(self, every: float = 0.5) -> None:
        """Keep the group's CPU use (the JVM is not a waited-for child, so rusage misses it)."""
        if time.monotonic() - self._sampled >= every:
            self._sampled = time.monotonic()
            self.cpu_seconds = max(self.cpu_seconds, group_cpu_seconds(self.popen.pid))

    def kill(self) -> None:
        """SIGKILL the whole group at once, as a lost container or machine would."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def wait(self, timeout: float = 900) -> int:
        deadline = time.monotonic() + timeout
        while (code := self.popen.poll()) is None:
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"sparkseg did not finish in {timeout}s: {self.log}")
            self.sample_cpu()
            time.sleep(0.1)
        return code


def start_cli(args: Sequence[str], *, log: Path, cwd: Path, env: Mapping[str, str] | None = None
              ) -> Proc:
    environ = {**os.environ, **(env or {})}
    environ.pop("PYSPARK_GATEWAY_PORT", None)
    # The command runs in another folder: a relative PYTHONPATH (``PYTHONPATH=src``) would
    # silently import the installed sparkseg instead of the code under test.
    if environ.get("PYTHONPATH"):
        environ["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in environ["PYTHONPATH"].split(os.pathsep) if p)
    out = log.open("wb")
    popen = subprocess.Popen(
        [sys.executable, "-m", "sparkseg.cli", *args], cwd=cwd, env=environ,
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    out.close()
    return Proc(popen, log, time.monotonic())


def run_cli(args: Sequence[str], *, log: Path, cwd: Path, env: Mapping[str, str] | None = None,
            timeout: float = 900) -> tuple[int, str, float]:
    """Run a command to its end: (exit code, output, seconds); CPU use is tallied."""
    proc = start_cli(args, log=log, cwd=cwd, env=env)
    code = proc.wait(timeout)
    summary.add_cpu("sparkseg subprocesses", proc.cpu_seconds)
    return code, proc.text(), proc.elapsed


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
