"""The feature dictionary (``conf/features.yaml``): every column's meaning, unit and window.

The dictionary is part of the contract of silver/customer_features: the stage refuses
to write a table whose columns or types differ from it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator
from pyspark.sql import types as T

from sparkseg._model import Section
from sparkseg.errors import ConfigError, SchemaMismatchError

Unit = Literal["yuan", "count", "days", "ratio", "flag", "years", "code", "date"]
TypeName = Literal["string", "date", "int", "long", "double"]

_SPARK_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "date": T.DateType(),
    "int": T.IntegerType(),
    "long": T.LongType(),
    "double": T.DoubleType(),
}
# 30d, 90d, 365d, 30_120d (a window that ends before as-of), latest, ever, none.
_WINDOW = re.compile(r"^(\d+d|\d+_\d+d|latest|ever|none)$")


class FeatureDoc(Section):
    """One column of the feature table, as documented for its users."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: TypeName
    unit: Unit
    window: str
    description: str = Field(min_length=1)
    description_zh: str | None = None

    @field_validator("window")
    @classmethod
    def _known_window(cls, value: str) -> str:
        if not _WINDOW.match(value):
            raise ValueError("expected Nd, N_Md, latest, ever or none")
        return value

    @property
    def spark_type(self) -> T.DataType:
        return _SPARK_TYPES[self.type]


class FeatureDictionary(Section):
    table: str
    features: tuple[FeatureDoc, ...] = Field(min_length=1)


def load_dictionary(path: Path) -> FeatureDictionary:
    """Read and validate a feature dictionary; :class:`ConfigError` names the entry at fault."""
    if not path.is_file():
        raise ConfigError(f"feature dictionary not found: {path} (config key features.dictionary)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise ConfigError(f"{path}: invalid YAML") from None
    try:
        dictionary = FeatureDictionary.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = list(first["loc"])
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int):
            entries = (data or {}).get("features") or []
            entry = entries[loc[1]] if loc[1] < len(entries) else None
            if isinstance(entry, dict) and "name" in entry:
                where = f"feature '{entry['name']}' key '{'.'.join(str(p) for p in loc[2:])}'"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
    names = [f.name for f in dictionary.features]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{path}: feature(s) listed twice: {', '.join(dupes)}")
    return dictionary


def check_against_dictionary(
    actual: T.StructType, dictionary: FeatureDictionary, *, source: str
) -> None:
    """Raise :class:`SchemaMismatchError` unless ``actual`` has exactly the documented columns.

    ``missing``: documented but not produced; ``extra``: produced but undocumented;
    ``retyped``: produced with another type than documented.
    """
    have = {f.name: f.dataType.simpleString() for f in actual.fields}
    documented = {f.name: f.spark_type.simpleString() for f in dictionary.features}
    missing = [n for n in documented if n not in have]
    extra = [n for n in have if n not in documented]
    retyped = [
        f"{n} ({have[n]}, documented {documented[n]})"
        for n in documented
        if n in have and have[n] != documented[n]
    ]
    if missing or extra or retyped:
        raise SchemaMismatchError(
            f"{dictionary.table} (feature dictionary {source})",
            missing=missing,
            extra=extra,
            retyped=retyped,
        )
