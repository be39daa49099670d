"""Column lists of docs/contracts.md, generated from the table specs.

Every ``TableSpec`` of ``sparkseg.tables`` and of the stages' ``tables.py`` modules has a
generated block in docs/contracts.md::

    <!-- columns:silver/customers -->
    ...generated: partitioning and a table of name, type, nullable (and description)...
    <!-- /columns -->

The prose around the blocks is hand-written and kept as is. Descriptions come from the
feature dictionary (``conf/features.yaml``) for ``silver/customer_features``; the other
specs carry none. Regenerate with ``python -m sparkseg.contracts_doc``; ``--check``
exits 1, naming the tables, when the file differs from what the specs render.
No Spark session is needed: specs are plain ``StructType``s.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sparkseg.tables import SILVER_TABLES, TableSpec

# The modules that declare table specs: sparkseg.tables and each stage's tables.py.
SPEC_MODULES = (
    "sparkseg.tables",
    "sparkseg.identity.tables",
    "sparkseg.features.tables",
    "sparkseg.segment.tables",
    "sparkseg.tags.tables",
    "sparkseg.lifecycle.tables",
    "sparkseg.audiences.tables",
    "sparkseg.strategies.tables",
)
DOC = Path("docs") / "contracts.md"
FEATURE_DICTIONARY = Path("conf") / "features.yaml"
COMMAND = "python -m sparkseg.contracts_doc"

_OPEN = re.compile(r"^<!-- columns:(?P<table>[^ ]+) -->$")
_CLOSE = "<!-- /columns -->"


def table_specs() -> dict[str, TableSpec]:
    """Every table spec declared at module level in :data:`SPEC_MODULES`, by table name."""
    specs: dict[str, TableSpec] = {}
    found: list[TableSpec] = list(SILVER_TABLES.values())
    for name in SPEC_MODULES:
        module = importlib.import_module(name)
        found.extend(v for v in vars(module).values() if isinstance(v, TableSpec))
    for spec in found:
        if spec.name in specs and specs[spec.name] != spec:
            raise ValueError(f"two different specs are named {spec.name}")
        specs[spec.name] = spec
    return specs


def feature_descriptions(dictionary: Path) -> dict[str, dict[str, str]]:
    """Column descriptions by table, from the feature dictionary at ``dictionary``."""
    from sparkseg.features.dictionary import load_dictionary

    loaded = load_dictionary(dictionary)
    return {loaded.table: {f.name: f.description for f in loaded.features}}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_block(spec: TableSpec, descriptions: Mapping[str, str] | None = None) -> str:
    """The generated text of one table's block (without the markers)."""
    parts = ", ".join(f"`{c}`" for c in spec.partition_by)
    # Blank lines around the content: the markers stay HTML blocks of their own.
    lines = [
        "",
        f"Partitioned by {parts}." if parts else "Not partitioned.",
        "",
    ]
    if descriptions:
        lines += ["| column | type | nullable | description |", "|---|---|---|---|"]
    else:
        lines += ["| column | type | nullable |", "|---|---|---|"]
    for field in spec.schema.fields:
        row = [f"`{field.name}`", f"`{field.dataType.simpleString()}`",
               "yes" if field.nullable else "no"]
        if descriptions:
            row.append(_cell(descriptions.get(field.name, "")))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join([*lines, ""])


_ROW = re.compile(r"^\| `([^`]+)` \|")


def _drift(old: str, new: str) -> str:
    """`` (doc lacks: a; doc has extra: b)`` from the rows of two renderings; ``""`` if none."""
    def rows(text: str) -> dict[str, str]:
        return {m[1]: line for line in text.split("\n") if (m := _ROW.match(line))}

    was, now = rows(old), rows(new)
    parts = []
    if lacks := [c for c in now if c not in was]:
        parts.append("doc lacks: " + ", ".join(lacks))
    if extra := [c for c in was if c not in now]:
        parts.append("doc has extra: " + ", ".join(extra))
    if retyped := [c for c in now if c in was and was[c] != now[c]]:
        parts.append("rows differ: " + ", ".join(retyped))
    return f" ({'; '.join(parts)})" if parts else ""


@dataclass(frozen=True)
class Rendered:
    """The regenerated document and what differed from the input."""

    text: str
    changed: tuple[str, ...]  # tables whose block content changed
    unknown: tuple[str, ...]  # blocks naming a table no spec declares
    missing: tuple[str, ...]  # specs with no block in the document
    # per changed table: what the document lists that the spec does not, and the reverse
    drift: tuple[tuple[str, str], ...] = ()

    @property
    def problems(self) -> list[str]:
        detail = dict(self.drift)
        out = [f"{t}: generated column list differs from the spec{detail.get(t, '')}"
               for t in self.changed]
        out += [f"{t}: block names a table that no spec declares" for t in self.unknown]
        out += [f"{t}: spec has no <!-- columns:{t} --> block" for t in self.missing]
        return out


def render(
    doc: str,
    specs: Mapping[str, TableSpec],
    descriptions: Mapping[str, Mapping[str, str]] | None = None,
) -> Rendered:
    """Replace each block's content in ``doc`` by what ``specs`` render; keep the rest.

    Raises :class:`ValueError` on a block that is not closed or is nested.
    """
    descriptions = descriptions or {}
    out: list[str] = []
    changed: list[str] = []
    drift: list[tuple[str, str]] = []
    unknown: list[str] = []
    seen: set[str] = set()
    lines = doc.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _OPEN.match(line.strip())
        if not match:
            out.append(line)
            i += 1
            continue
        table = match["table"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != _CLOSE:
            if _OPEN.match(lines[end].strip()):
                raise ValueError(f"block of {table} (line {i + 1}) is not closed before the next")
            end += 1
        if end == len(lines):
            raise ValueError(f"block of {table} (line {i + 1}) has no {_CLOSE}")
        old = "\n".join(lines[i + 1:end])
        seen.add(table)
        if table in specs:
            new = render_block(specs[table], descriptions.get(table))
            if new != old:
                changed.append(table)
                drift.append((table, _drift(old, new)))
        else:
            new = old
            unknown.append(table)
        out += [line, *([new] if new else []), lines[end]]
        i = end + 1
    missing = tuple(sorted(t for t in specs if t not in seen))
    return Rendered("\n".join(out), tuple(changed), tuple(unknown), missing, tuple(drift))


def render_repo(repo: Path) -> tuple[str, Rendered]:
    """The current docs/contracts.md of ``repo`` and its regenerated form."""
    current = (repo / DOC).read_text(encoding="utf-8")
    descriptions = feature_descriptions(repo / FEATURE_DICTIONARY)
    return current, render(current, table_specs(), descriptions)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Regenerate the column lists of docs/contracts.md."
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(),
                        help="repository root (default: the current directory)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    _, result = render_repo(args.repo)
    if args.check:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        if result.problems:
            print(f"run `{COMMAND}` to regenerate {DOC}", file=sys.stderr)
        return 1 if result.problems else 0
    (args.repo / DOC).write_text(result.text, encoding="utf-8")
    if result.changed:
        print(f"updated {len(result.changed)} block(s): {', '.join(result.changed)}")
    # Blocks to add or remove by hand: the generator does not guess where they belong.
    unplaced = result.problems[len(result.changed):]
    for problem in unplaced:
        print(problem, file=sys.stderr)
    return 1 if unplaced else 0


if __name__ == "__main__":
    raise SystemExit(main())
