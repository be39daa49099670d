"""The benchmark's targets, read from ``targets.toml`` next to this module."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

TARGETS_FILE = Path(__file__).with_name("targets.toml")


@dataclass(frozen=True)
class Targets:
    cores: int
    run_customers: int
    run_max_seconds: float
    features_max_ratio: float
    train_small: int
    train_large: int
    train_max_ratio: float
    max_slope: float
    peak_customers: int
    peak_max_gb: float


def load_targets(path: Path = TARGETS_FILE) -> Targets:
    """The targets of ``path``; a missing key fails here, with its name."""
    raw = tomllib.loads(path.read_text())
    try:
        return Targets(
            cores=int(raw["cores"]),
            run_customers=int(raw["full_run"]["customers"]),
            run_max_seconds=float(raw["full_run"]["max_seconds"]),
            features_max_ratio=float(raw["features"]["max_ratio_to_duckdb"]),
            train_small=int(raw["train"]["small_customers"]),
            train_large=int(raw["train"]["large_customers"]),
            train_max_ratio=float(raw["train"]["max_ratio"]),
            max_slope=float(raw["scaling"]["max_slope"]),
            peak_customers=int(raw["peak_memory"]["customers"]),
            peak_max_gb=float(raw["peak_memory"]["max_gb"]),
        )
    except KeyError as err:
        raise ValueError(f"{path}: missing target {err}") from None


def millions(n: int) -> str:
    """1_000_000 -> '1M' (how the target lines name sizes)."""
    return f"{n / 1e6:g}M"
