"""A Spark standalone cluster on 127.0.0.1, started from the installed pyspark.

One master and N workers, each a ``spark-class`` process (which execs the JVM, so the
process id we hold is the JVM's). Everything binds to loopback; :meth:`stop` ends every
process this harness started, by process id, and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

from tests.support.config import REPO
from tests.support.session import TEST_JVM_OPTIONS

# The test JVMs' options (tests/support/session.py) for a submitted driver and executors.
JVM_CONF = {
    "spark.driver.extraJavaOptions": TEST_JVM_OPTIONS,
    "spark.executor.extraJavaOptions": TEST_JVM_OPTIONS,
}
# What every spark-submit to the test cluster sets: loopback, small executors, JVM options.
SUBMIT_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.executor.memory": "768m",
    "spark.sql.shuffle.partitions": "8",
    **JVM_CONF,
}


def conf_args(conf: Mapping[str, str]) -> list[str]:
    """``--conf key=value`` pairs for spark-submit."""
    return [arg for k, v in conf.items() for arg in ("--conf", f"{k}={v}")]

SPARK_HOME = Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(SPARK_HOME),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_MASTER_HOST": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_NO_DAEMONIZE": "1",
        }
    )
    return env


@dataclass
class StandaloneCluster:
    work: Path
    workers: int = 2
    cores_per_worker: int = 1
    memory_per_worker: str = "1g"
    master_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - owned by the process
        cmd = [str(SPARK_HOME / "bin" / "spark-class"), *args]
        self.procs[name] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=spark_env(), start_new_session=True
        )

    def start(self, timeout: float = 120) -> StandaloneCluster:
        self.work.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "master", "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(self.master_port),
            "--webui-port", str(self.ui_port),
        )
        for i in range(self.workers):
            self.start_worker(f"worker{i}")
        self.wait_for_workers(self.workers, timeout)
        return self

    def start_worker(self, name: str) -> None:
        work_dir = self.work / name
        work_dir.mkdir(exist_ok=True)
        self._spawn(
            name, "org.apache.spark.deploy.worker.Worker", self.url,
            "--host", "127.0.0.1", "--cores", str(self.cores_per_worker),
            "--memory", self.memory_per_worker, "--webui-port", str(free_port()),
            "--work-dir", str(work_dir),
        )

    def status(self) -> dict[str, object]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=5) as r:
            data: dict[str, object] = json.loads(r.read())
            return data

    def wait_for_workers(self, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    log = (self.work / f"{name}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{log}")
            try:
                if int(self.status().get("aliveworkers", 0)) >= n:  # type: ignore[call-overload]
                    return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"standalone cluster did not get {n} workers in {timeout}s")

    def kill(self, name: str) -> None:
        """SIGKILL one process (and the executors it launched, in its process group)."""
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(name)
        self.procs.clear()

    def submit(
        self, script: str, *args: str, timeout: float = 900, extra_conf: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """spark-submit ``script`` to this cluster with the package shipped as --py-files."""
        pyfiles = self.work / "sparkseg.zip"
        if not pyfiles.exists():
            subprocess.run(
                [sys.executable, "-m", "zipfile", "-c", str(pyfiles), "sparkseg"],
                cwd=REPO / "src", check=True,
            )
        conf = {**SUBMIT_CONF, "spark.driver.memory": "2g", "spark.ui.enabled": "false",
                "spark.task.maxFailures": "4", **(extra_conf or {})}
        cmd = [str(SPARK_HOME / "bin" / "spark-submit"), "--master", self.url,
               "--py-files", str(pyfiles), *conf_args(conf)]
        cmd += [script, *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, env=spark_env(), timeout=timeout, cwd=REPO
        )
