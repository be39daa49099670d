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
from dataclasses import dataclass
from pathlib import Path

import pytest

from sparkseg.tables import RAW_EVENTS, RAW_IDENTITY_LINKS
from tests.reliability import summary
from tests.reliability.data import AS_OF, RawData, before, build_raw, write_raw
from tests.reliability.helpers import group_cpu_seconds, run_cli, write_config

# A key only this run uses, so a scan can prove the key itself never lands anywhere.
E2E_HASH_KEY = "e2e-only-key-3b9f71c2d8"
E2E_CUSTOMERS = 40


@dataclass(frozen=True)
class E2E:
    root: Path            # the warehouse
    config: Path          # its YAML config (offline engine, local[2])
    workdir: Path         # the subprocess's working directory
    log: str              # everything the command printed (stdout and stderr)
    seconds: float
    data: RawData

    @property
    def needles(self) -> list[str]:
        """Planted personal data (and the key) that no output may contain."""
        return [*self.data.phones, *self.data.id_numbers, *channel_ids(self.data), E2E_HASH_KEY]

    @property
    def env(self) -> dict[str, str]:
        return {"SPARKSEG_HASH_KEY": E2E_HASH_KEY}


def plant_quarantined_phones(data: RawData) -> None:
    """Rows ingest must quarantine that still carry raw phone numbers (hashed there)."""
    phone = data.phones[0]
    events = data.tables[RAW_EVENTS.name]
    template = dict(events[0])
    events += [
        {**template, "event_id": "PII-E-1", "id_type": "mobile", "id_value": phone},
        {**template, "event_id": "PII-E-2", "id_type": None, "id_value": data.phones[1]},
    ]
    data.tables[RAW_IDENTITY_LINKS.name].append({
        "id_type_a": "phone", "id_value_a": data.phones[2], "id_type_b": "customer_id",
        "id_value_b": "C000000003", "source": "crm", "observed_ts": before(30),
    })


CHANNEL_TYPES = ("device_id", "wechat_openid", "web_cookie")


def channel_ids(data: RawData) -> list[str]:
    """Every device id, WeChat openid and web cookie of the raw events and links."""
    pairs = [(r["id_type"], r["id_value"]) for r in data.tables[RAW_EVENTS.name]]
    for r in data.tables[RAW_IDENTITY_LINKS.name]:
        pairs += [(r["id_type_a"], r["id_value_a"]), (r["id_type_b"], r["id_value_b"])]
    return sorted({v for t, v in pairs if t in CHANNEL_TYPES and v})


def openid(i: int) -> str:
    return f"oWx-openid-{i + 1:05d}"


def cookie(i: int) -> str:
    return f"ck-cookie-{i + 1:05d}"


def plant_channel_ids(data: RawData, customers: int = 8) -> None:
    """WeChat openids and web cookies (device ids are there already) of valid and bad rows.

    Customer i's openid logs in and is linked to the customer; their cookie is linked to
    their device (a chain to the customer through the device's phone). Two quarantined
    events carry an openid and a device id (an unknown event type, a missing channel).
    """
    events, links = data.tables[RAW_EVENTS.name], data.tables[RAW_IDENTITY_LINKS.name]
    template = dict(events[0])
    for i in range(customers):
        events.append({**template, "event_id": f"WX-E-{i}", "channel": "wechat",
                       "id_type": "wechat_openid", "id_value": openid(i)})
        links.append({"id_type_a": "wechat_openid", "id_value_a": openid(i),
                      "id_type_b": "customer_id", "id_value_b": f"C{i + 1:09d}",
                      "source": "wechat_bind", "observed_ts": before(100)})
        links.append({"id_type_a": "web_cookie", "id_value_a": cookie(i),
                      "id_type_b": "device_id", "id_value_b": f"dev-{i + 1:06d}",
                      "source": "web_login", "observed_ts": before(90)})
    events += [
        {**template, "event_id": "PII-E-3", "id_type": "wechat_openid",
         "id_value": openid(0), "event_type": "dance"},
        {**template, "event_id": "PII-E-4", "id_type": "device_id",
         "id_value": "dev-000002", "channel": None},
    ]


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
