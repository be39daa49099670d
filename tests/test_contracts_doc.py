"""docs/contracts.md's column lists are the table specs, rendered (no Spark session needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkseg.contracts_doc import (
    COMMAND,
    SPEC_MODULES,
    main,
    render,
    render_block,
    render_repo,
    table_specs,
)
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.tables import DB, L, S, TableSpec, schema

REPO = Path(__file__).resolve().parents[1]

TINY = TableSpec("gold/tiny", schema(("one_id", S), ("score", DB, False)), ("one_id",))
OTHER = TableSpec("ops/other", schema(("n", L)))


def test_contracts_doc_lists_the_columns_of_every_spec() -> None:
    current, result = render_repo(REPO)
    assert not result.problems, (
        "docs/contracts.md and the table specs differ:\n  "
        + "\n  ".join(result.problems)
        + f"\nrun `{COMMAND}` from the repository root and commit docs/contracts.md"
    )
    assert result.text == current


def test_every_stage_tables_module_is_scanned() -> None:
    modules = {
        "sparkseg." + ".".join(p.relative_to(REPO / "src" / "sparkseg").with_suffix("").parts)
        for p in (REPO / "src" / "sparkseg").rglob("tables.py")
    }
    assert modules == set(SPEC_MODULES)
    specs = table_specs()
    assert specs["silver/customer_features"] is CUSTOMER_FEATURES
    assert len(specs["silver/customer_features"].columns) == 101
    assert specs["silver/customers"].columns[-2:] == ["raw_version", "valid_from"]


def test_block_renders_partitioning_name_type_nullable_and_description() -> None:
    assert render_block(TINY, {"one_id": "The customer | anon."}) == "\n".join([
        "",
        "Partitioned by `one_id`.",
        "",
        "| column | type | nullable | description |",
        "|---|---|---|---|",
        "| `one_id` | `string` | yes | The customer \\| anon. |",
        "| `score` | `double` | no |  |",
        "",
    ])
    assert render_block(OTHER) == "\n".join([
        "", "Not partitioned.", "", "| column | type | nullable |", "|---|---|---|",
        "| `n` | `bigint` | yes |", "",
    ])


def _prose_around(tiny_block: str) -> str:
    """A document of prose, ``tiny_block`` as gold/tiny's block, and ops/other's up to date."""
    return "\n".join([
        "# Title",
        "Hand-written prose.",
        "<!-- columns:gold/tiny -->",
        tiny_block,
        "<!-- /columns -->",
        "More prose.",
        "<!-- columns:ops/other -->",
        render_block(OTHER),
        "<!-- /columns -->",
        "",
    ])


def test_render_replaces_drifted_blocks_and_keeps_the_prose() -> None:
    doc = _prose_around("| `one_id` | `string` | yes |")  # drifted: score is missing
    result = render(doc, {TINY.name: TINY, OTHER.name: OTHER})
    assert result.changed == ("gold/tiny",)
    assert result.problems == [
        "gold/tiny: generated column list differs from the spec (doc lacks: score)"
    ]
    assert result.unknown == () and result.missing == ()
    assert result.text == _prose_around(render_block(TINY))
    again = render(result.text, {TINY.name: TINY, OTHER.name: OTHER})
    assert again.text == result.text and again.problems == []


def test_render_names_unknown_blocks_and_specs_without_a_block() -> None:
    doc = "<!-- columns:gold/gone -->\nold text\n<!-- /columns -->\n"
    result = render(doc, {TINY.name: TINY})
    assert result.text == doc  # an unknown block is left as it is
    assert result.problems == [
        "gold/gone: block names a table that no spec declares",
        "gold/tiny: spec has no <!-- columns:gold/tiny --> block",
    ]


@pytest.mark.parametrize(
    "doc",
    [
        "<!-- columns:gold/tiny -->\nrows\n",
        "<!-- columns:gold/tiny -->\n<!-- columns:ops/other -->\n<!-- /columns -->\n",
    ],
)
def test_unclosed_block_is_an_error(doc: str) -> None:
    with pytest.raises(ValueError, match="block of gold/tiny"):
        render(doc, {TINY.name: TINY, OTHER.name: OTHER})


def test_command_rewrites_a_drifted_copy_and_check_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "features.yaml").write_bytes(
        (REPO / "conf" / "features.yaml").read_bytes()
    )
    shipped = (REPO / "docs" / "contracts.md").read_text(encoding="utf-8")
    drifted = shipped.replace("| `share` | `double` | yes |\n", "")
    assert drifted != shipped
    (tmp_path / "docs" / "contracts.md").write_text(drifted, encoding="utf-8")

    assert main(["--repo", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert (
        "gold/segment_profiles: generated column list differs from the spec (doc lacks: share)"
        in err
    )
    assert COMMAND in err
    assert (tmp_path / "docs" / "contracts.md").read_text(encoding="utf-8") == drifted

    assert main(["--repo", str(tmp_path)]) == 0
    assert (tmp_path / "docs" / "contracts.md").read_text(encoding="utf-8") == shipped
    assert main(["--repo", str(tmp_path), "--check"]) == 0
