"""The hash key never appears in a query plan, the Spark UI's event log or the output.

A real ``sparkseg ingest`` runs in a subprocess with the event log on (uncompressed) and
the UI started on a free port; its event log files (every plan Spark records for the SQL
tab and the history server) and everything it printed are searched for the key, its
hex and base64 forms and the hex of both HMAC pads (upper and lower case). In-process,
every ``explain`` mode of the hashing ingest step is searched the same way, and its
optimised plan must still join the pads (the optimizer did not fold them into literals).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import io
import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.identity.hashing import _pads
from sparkseg.ingest.stage import check_rows
from sparkseg.lakehouse import Lakehouse
from sparkseg.tables import RAW_EVENTS
from tests.support.bank import AS_OF, build_raw, write_raw
from tests.support.cli import run_cli, write_config
from tests.support.config import make_config

pytestmark = pytest.mark.slow

KEY = "secrecy-only-key-5e1d0c9a"
# The wall clock of the in-process check: after every timestamp of the test data.
NOW = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def needles(key: str) -> list[str]:
    raw = key.encode()
    inner, outer = _pads(raw)
    forms = [key, raw.hex(), base64.b64encode(raw).decode(), inner.hex(), outer.hex(),
             base64.b64encode(inner).decode(), base64.b64encode(outer).decode()]
    return [*forms, *(f.upper() for f in forms[1:])]


def found(text: str, key: str = KEY) -> list[str]:
    return [n for n in needles(key) if n in text]


def test_needles_are_found_in_a_plan_that_holds_the_pads_as_literals() -> None:
    # The search itself works: yesterday's plans held F.lit(inner_pad.hex()).
    inner, _ = _pads(KEY.encode())
    assert found(f"Project [sha2(concat(unhex({inner.hex()}), cast(v#1 as binary)), 256)]")


@pytest.fixture(scope="module")
def ingest_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("secrecy")
    root, events_dir = base / "lake", base / "eventlog"
    events_dir.mkdir()
    write_raw(root, build_raw(4, seed=5).tables)
    conf = {
        "spark.default.parallelism": "4",
        "spark.ui.enabled": "true", "spark.ui.port": "0",
        "spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1",
        "spark.eventLog.enabled": "true", "spark.eventLog.dir": events_dir.as_uri(),
        "spark.eventLog.compress": "false",
    }
    config = write_config(base / "secrecy.yaml", root, spark={"conf": conf})
    code, out, _ = run_cli(["ingest", "--config", str(config), "--as-of", AS_OF.isoformat()],
                           log=base / "ingest.log", cwd=base, env={"SPARKSEG_HASH_KEY": KEY})
    assert code == 0, out[-3000:]
    return events_dir, out


def test_the_event_log_of_a_real_ingest_holds_no_key_material(ingest_run: tuple[Path, str]
                                                              ) -> None:
    events_dir, _ = ingest_run
    files = [p for p in events_dir.rglob("*") if p.is_file()]
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    # The log is the real one: plain JSON with the SQL plans, hashing included.
    assert files and "SparkListenerSQLExecutionStart" in text and "sha2(concat(" in text
    assert '"spark.ui.enabled":"true"' in text  # with the UI on, as a cluster runs it
    assert found(text) == []


def test_the_output_of_a_real_ingest_holds_no_key_material(ingest_run: tuple[Path, str]
                                                           ) -> None:
    _, out = ingest_run
    assert found(out) == []


def test_no_explain_mode_of_the_hashing_step_shows_key_material(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARKSEG_HASH_KEY", KEY)
    cfg = make_config(tmp_path / "lake")
    write_raw(tmp_path / "lake", build_raw(2, seed=5).tables)
    raw = Lakehouse(spark, cfg).read(RAW_EVENTS)
    checked = check_rows(raw, RAW_EVENTS.name, cfg, now=NOW, key=KEY.encode())
    plans = []
    for mode in ("simple", "extended", "codegen", "cost", "formatted"):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            checked.explain(mode=mode)
        plans.append(buf.getvalue())
    assert "sha2(concat(" in plans[1]  # the extended plan shows the HMAC expression
    assert [found(p) for p in plans] == [[]] * len(plans)
    # Still a join with the one-row pads relation after optimisation: nothing was folded.
    optimized = plans[1].split("== Optimized Logical Plan ==")[1].split("== Physical Plan ==")[0]
    assert "Join Cross" in optimized and re.search(r"LogicalRDD \[_hmac_inner_pad", optimized)
    # And it hashes: the phone of the first customer, by the key, as Python's hmac does.
    phone = build_raw(2, seed=5).phones[0]
    stored = {r["id_value"] for r in checked.where("id_type = 'phone_hash'").collect()}
    assert hmac.new(KEY.encode(), phone.encode(), hashlib.sha256).hexdigest() in stored
