"""``python -m scripts.bench MODE [options]``: run the ``main`` of the mode's module."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

# mode -> (module under scripts.bench, one line for --help). Imported only when chosen:
# some modes import pyspark, some only the standard library.
MODES: dict[str, tuple[str, str]] = {
    "full": ("full", "every step at several sizes against DuckDB, Polars, scikit-learn"),
    "daily": ("daily", "a first full run, then appended days run incrementally"),
    "identity": ("identity", "identity labelling on chain, star and fan-out graphs"),
    "kmeans": ("kmeans", "train and score stages; one Lloyd iteration against scikit-learn"),
    "generate": ("generate", "`sparkseg generate`: seconds, rows and files per raw table"),
    "customer360": ("customer360", "ingest, identity, features of an existing warehouse"),
    "ingest-scan": ("ingest_scan", "re-reading raw files against a persisted copy"),
    "eventlog": ("eventlog", "where a Spark application spent its time (event log)"),
}


def usage() -> str:
    lines = ["usage: python -m scripts.bench MODE [options]   (MODE --help for its options)",
             "", "modes:"]
    lines += [f"  {name:<12} {text}" for name, (_, text) in MODES.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    mode, rest = args[0], args[1:]
    if mode not in MODES:
        print(f"unknown mode {mode!r}\n\n{usage()}", file=sys.stderr)
        return 2
    entry: Callable[[list[str]], int] = importlib.import_module(
        f"scripts.bench.{MODES[mode][0]}").main
    return entry(rest)


if __name__ == "__main__":
    sys.exit(main())
