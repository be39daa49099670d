"""A test's sparkseg config: the repository's conf/ folder, a warehouse under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

from sparkseg.config import Config, config_from_mapping

REPO = Path(__file__).resolve().parents[2]
# Keyed-hash key for tests; stages that hash personal identifiers require it.
TEST_HASH_KEY = "test-only-key-not-secret"


def use_test_hash_key() -> None:
    """Give the run the test key unless one is exported (unset or exported empty: set it)."""
    if not os.environ.get("SPARKSEG_HASH_KEY"):
        os.environ["SPARKSEG_HASH_KEY"] = TEST_HASH_KEY


def make_config(warehouse: Path, **sections: object) -> Config:
    data: dict[str, object] = {"warehouse": str(warehouse), "engine": "offline"}
    data.update(sections)
    return config_from_mapping(data, source="<test>", config_dir=REPO / "conf")
