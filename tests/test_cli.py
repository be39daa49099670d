"""The command line: bad config is one line on stderr and a documented exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkseg.cli import main
from sparkseg.config import load_config

REPO = Path(__file__).resolve().parents[1]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(list(argv))
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return code, err


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("warehouse: ./lh\nsegment:\n  kmin: 3\n", "unknown key 'segment.kmin'"),
        ("warehouse: ./lh\nsegment:\n  k_min: lots\n", "key 'segment.k_min'"),
        ("engine: offline\n", "missing required key 'warehouse'"),
        ("", "the config is empty"),
        ("warehouse: [unclosed\n", "invalid YAML"),
        ("warehouse: ./lh\nengine: duckdb\n", "key 'engine'"),
    ],
)
def test_bad_config_is_one_line_naming_key_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    config = _write(tmp_path, text)
    code, err = _run(capsys, "ingest", "--config", config)
    assert code == 2
    assert len(err) == 1
    assert expected in err[0] and config in err[0]
    assert err[0].startswith("sparkseg: error: ")


def test_missing_config_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "ingest", "--config", "/nonexistent/x.yaml")
    assert code == 2 and "config file not found" in err[0]


def test_bad_override_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "ingest", "--config", str(REPO / "conf/local.yaml"),
                     "--set", "ingest.max_bad_share=2")
    assert code == 2 and "ingest.max_bad_share" in err[0]


def test_shipped_configs_load() -> None:
    local = load_config(REPO / "conf/local.yaml")
    assert local.engine == "auto" and local.as_of is not None
    cluster = load_config(REPO / "conf/cluster.yaml")
    assert cluster.engine == "spark" and cluster.spark.master is None
    assert cluster.warehouse.startswith("hdfs://")


def test_override_changes_typed_value() -> None:
    cfg = load_config(REPO / "conf/local.yaml", ["warehouse=/data/lake", "segment.k_max=7"])
    assert cfg.warehouse == "/data/lake" and cfg.segment.k_max == 7


def test_bad_as_of_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ingest", "--as-of", "2026-13-01"])
    assert exc.value.code == 2
