"""The feature dictionary (conf/features.yaml) and the table contract must agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pyspark.sql import SparkSession

from sparkseg.errors import ConfigError, SchemaMismatchError
from sparkseg.features import stage
from sparkseg.features.dictionary import check_against_dictionary, load_dictionary
from sparkseg.features.tables import CUSTOMER_FEATURES
from tests.support.config import make_config
from tests.support.features import AS_OF

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "conf" / "features.yaml"


def edited(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    edit(data["features"])
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_dictionary_documents_every_column_in_table_order() -> None:
    dictionary = load_dictionary(SHIPPED)
    assert [f.name for f in dictionary.features] == CUSTOMER_FEATURES.columns
    check_against_dictionary(CUSTOMER_FEATURES.schema, dictionary, source=str(SHIPPED))


def test_default_config_finds_the_shipped_dictionary(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    assert cfg.resolve(cfg.features.dictionary) == SHIPPED


def test_mismatch_names_missing_extra_and_retyped_columns(tmp_path: Path) -> None:
    def edit(features: list[dict[str, str]]) -> None:
        features[:] = [f for f in features if f["name"] != "aum"]
        features.append({"name": "lucky_number", "type": "long", "unit": "count",
                         "window": "none", "description": "Not produced by the stage."})
        next(f for f in features if f["name"] == "age")["type"] = "double"

    dictionary = load_dictionary(edited(tmp_path, edit))
    with pytest.raises(SchemaMismatchError) as err:
        check_against_dictionary(CUSTOMER_FEATURES.schema, dictionary, source="x.yaml")
    assert err.value.missing == ["lucky_number"]
    assert err.value.extra == ["aum"]
    assert err.value.retyped == ["age (int, documented double)"]
    assert "silver/customer_features" in str(err.value)


def test_stage_refuses_to_run_when_the_dictionary_disagrees(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = edited(tmp_path, lambda fs: fs.pop())  # forgets the last column
    cfg = make_config(tmp_path / "lake", features={"dictionary": str(path)})
    # No table exists: the check comes before any read (else MissingTableError).
    with pytest.raises(SchemaMismatchError, match="net_flow_90d"):
        stage.run(spark, cfg, AS_OF)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit", "furlongs", "feature 'age' key 'unit'"),
        ("window", "last week", "feature 'age' key 'window'"),
        ("description", "", "feature 'age' key 'description'"),
    ],
)
def test_invalid_entry_is_a_config_error_naming_the_feature(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    def edit(features: list[dict[str, str]]) -> None:
        next(f for f in features if f["name"] == "age")[field] = value

    with pytest.raises(ConfigError, match=message):
        load_dictionary(edited(tmp_path, edit))


def test_duplicate_and_missing_dictionary_are_config_errors(tmp_path: Path) -> None:
    path = edited(tmp_path, lambda fs: fs.append(dict(fs[0])))
    with pytest.raises(ConfigError, match="listed twice: one_id"):
        load_dictionary(path)
    with pytest.raises(ConfigError, match="not found"):
        load_dictionary(tmp_path / "nope.yaml")
