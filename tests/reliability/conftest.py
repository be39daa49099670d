"""Reliability suite fixtures: one uninterrupted ``sparkseg run`` shared by the modules.

``e2e`` runs the real command line (a subprocess, as an orchestrator would) once per
test session on hand-built raw tables with planted personal data. The privacy scan
reads its outputs and captured log, the crash test compares against it, and the
wrong-input and path tests start from copies of its warehouse.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import summary
from tests.support.bank import AS_OF, build_raw, write_raw
from tests.support.cli import group_cpu_seconds, run_cli, write_config
from tests.support.e2e import (
    E2E,
    E2E_CUSTOMERS,
    E2E_HASH_KEY,
    plant_channel_ids,
    plant_quarantined_phones,
)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> E2E:
    # Development aid: SPARKSEG_E2E_DIR=<folder> keeps the run there and reuses it when the
    # folder already holds a finished one (CI leaves it unset: a fresh run every session).
    keep = os.environ.get("SPARKSEG_E2E_DIR")
    base = Path(keep) if keep else tmp_path_factory.mktemp("e2e")
    root = base / "lake"
    data = build_raw(E2E_CUSTOMERS, seed=3)
    plant_quarantined_phones(data)
    plant_channel_ids(data)
    done = base / "seconds.txt"
    if keep and done.is_file():
        log, seconds = (base / "run.log").read_text(encoding="utf-8"), float(done.read_text())
        return E2E(root, base / "e2e.yaml", base, log, seconds, data)
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    write_raw(root, data.tables)
    config = write_config(base / "e2e.yaml", root)
    code, log, seconds = run_cli(
        ["run", "--config", str(config), "--as-of", AS_OF.isoformat()],
        log=base / "run.log", cwd=base, env={"SPARKSEG_HASH_KEY": E2E_HASH_KEY},
    )
    assert code == 0, log[-3000:]
    done.write_text(str(seconds))
    summary.TIMINGS["uninterrupted `sparkseg run` (subprocess)"] = seconds
    return E2E(root, config, base, log, seconds, data)


@pytest.fixture
def lake_copy(e2e: E2E, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the e2e warehouse that a test may break."""
    root = tmp_path / "lake"
    shutil.copytree(e2e.root, root)
    yield root


@pytest.fixture(autouse=True, scope="module")
def _module_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    t0, cpu0 = time.monotonic(), group_cpu_seconds(os.getpgrp())
    yield
    name = Path(str(request.node.path)).stem
    summary.TIMINGS[f"{name} (wall)"] = time.monotonic() - t0
    # pytest and its Spark JVM share this process group; sparkseg subprocesses do not.
    summary.add_cpu(f"{name} (pytest + JVM)", group_cpu_seconds(os.getpgrp()) - cpu0)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = summary.lines()
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"load average at the end: {os.getloadavg()}")
