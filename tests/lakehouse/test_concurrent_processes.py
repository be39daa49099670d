"""Two real writer processes on one table, on each engine: nothing doubled, nothing lost.

Each pair meets at a barrier right before the commits can race (see writer_process.py),
so the interleaving tested is the dangerous one, not whatever the scheduler picked.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from tests.support.config import REPO
from tests.support.lakehouse import ENGINES

pytestmark = pytest.mark.slow

OLD, NEW = "2026-01-31", "2026-02-28"


def _start(engine: str, warehouse: Path, mode: str, one_id: str, as_of: str,
           barrier: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.lakehouse.writer_process", engine, str(warehouse), mode,
         one_id, as_of, str(barrier)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _race(engine: str, tmp: Path, a: tuple[str, str, str], b: tuple[str, str, str]
          ) -> dict[str, tuple[int, str]]:
    """Run writers ``(mode, one_id, as_of)`` a and b together; ``{one_id: (code, stderr)}``."""
    barrier = tmp / "barrier"
    barrier.mkdir()
    procs = {w[1]: _start(engine, tmp / "lake", *w, barrier) for w in (a, b)}
    out = {}
    for one_id, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        out[one_id] = (proc.returncode, err)
    return out


def _one_ids(tmp: Path, as_of: str) -> list[str]:
    table = DeltaTable(str(tmp / "lake" / "gold" / "sample")).to_pyarrow_table(
        filters=[("as_of_date", "=", dt.date.fromisoformat(as_of))]
    )
    return sorted(table.column("one_id").to_pylist())


def _seed(engine: str, tmp: Path) -> None:
    """The table exists with one row of another date (written by one process alone)."""
    (tmp / "seed-barrier").mkdir()
    seed = _start(engine, tmp / "lake", "append", "seed", OLD, tmp / "seed-barrier")
    (tmp / "seed-barrier" / "other.ready").touch()  # nobody to wait for
    _, err = seed.communicate(timeout=600)
    assert seed.returncode == 0, err[-2000:]


def _codes(out: dict[str, tuple[int, str]]) -> list[int]:
    return sorted(code for code, _ in out.values())


@pytest.mark.parametrize("engine", ENGINES)
def test_two_writers_of_a_new_partition_one_commits_the_other_exits_6(
    engine: str, tmp_path: Path
) -> None:
    _seed(engine, tmp_path)
    out = _race(engine, tmp_path, ("overwrite_partitions", "a", NEW),
                ("overwrite_partitions", "b", NEW))
    assert _codes(out) == [0, 6], out
    winner = next(k for k, (code, _) in out.items() if code == 0)
    loser_err = next(err for code, err in out.values() if code == 6)
    assert "sparkseg: error: write conflict on gold/sample" in loser_err
    assert _one_ids(tmp_path, NEW) == [winner]  # one copy, the winner's
    assert _one_ids(tmp_path, OLD) == ["seed"]


@pytest.mark.parametrize("engine", ENGINES)
def test_two_appends_expecting_the_same_version_one_commits_the_other_exits_6(
    engine: str, tmp_path: Path
) -> None:
    """Two ingests racing (an orchestrator retry overlapping a live attempt) both read the
    same watermark: only one may append its batch."""
    _seed(engine, tmp_path)
    out = _race(engine, tmp_path, ("guarded_append", "a", NEW), ("guarded_append", "b", NEW))
    assert _codes(out) == [0, 6], out
    winner = next(k for k, (code, _) in out.items() if code == 0)
    assert _one_ids(tmp_path, NEW) == [winner]


@pytest.mark.parametrize("engine", ENGINES)
def test_two_first_writes_of_a_table_never_replace_each_other(
    engine: str, tmp_path: Path
) -> None:
    out = _race(engine, tmp_path, ("overwrite_partitions", "a", NEW),
                ("overwrite_partitions", "b", NEW))
    assert _codes(out) == [0, 6], out
    winner = next(k for k, (code, _) in out.items() if code == 0)
    assert _one_ids(tmp_path, NEW) == [winner]
    assert DeltaTable(str(tmp_path / "lake" / "gold" / "sample")).version() == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_replace_racing_an_append_to_its_partition_loses_no_appended_row(
    engine: str, tmp_path: Path
) -> None:
    _seed(engine, tmp_path)
    out = _race(engine, tmp_path, ("overwrite_partitions", "r", OLD), ("append", "x", OLD))
    assert out["x"][0] == 0, out  # an append never conflicts
    modes = _commit_modes(tmp_path)
    if out["r"][0] != 0:
        # The append committed first and the replace had already read the table: it
        # saw the append land under it and stopped.
        assert out["r"][0] == 6, out
        assert modes[1:] == ["Append"], modes
        assert _one_ids(tmp_path, OLD) == ["seed", "x"]
    elif modes[1:] == ["Overwrite", "Append"]:
        # The replace committed first; the append landed after it.
        assert _one_ids(tmp_path, OLD) == ["r", "x"]
    else:
        # The append committed before the replace read the table (delta-spark reads,
        # writes and commits in the one call after the barrier): the replace then
        # replaced a partition that already held the row, as a later replace must.
        assert modes[1:] == ["Append", "Overwrite"], modes
        # ... and it must have read the table the append left (delta-spark records the
        # version a transaction read); had it read the seed alone, the row would be lost.
        overwrite = _commits(tmp_path)[2]
        assert overwrite.get("readVersion") == 1, overwrite
        assert _one_ids(tmp_path, OLD) == ["r"]


def _commits(tmp: Path) -> list[dict[str, Any]]:
    """The commit infos of the test table, oldest first."""
    history = DeltaTable(str(tmp / "lake" / "gold" / "sample")).history()
    return sorted(history, key=lambda entry: int(entry["version"]))


def _commit_modes(tmp: Path) -> list[str]:
    """The write mode of each commit of the test table, oldest first."""
    return [str(c["operationParameters"].get("mode", "")).strip('"') for c in _commits(tmp)]
