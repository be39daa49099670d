"""The input columns tag rules may use, known without reading any data.

Rules are validated before the stage reads a row, so the validator needs the columns of
``silver/customer_features`` and ``gold/segments`` up front: the feature dictionary
(``features.dictionary``, conf/features.yaml) when it exists, else the features stage's
table spec; the segment columns from the segment stage's spec. At run time the real
tables are checked again (:func:`check_referenced_columns`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pyspark.sql import types as T

from sparkseg.config import Config
from sparkseg.errors import SchemaMismatchError
from sparkseg.features.dictionary import load_dictionary
from sparkseg.features.tables import CUSTOMER_FEATURES
from sparkseg.segment.tables import SEGMENT_COLUMNS, SEGMENTS

FEATURES_TABLE = CUSTOMER_FEATURES.name
SEGMENTS_TABLE = SEGMENTS.name

# docs/contracts.md, "silver/customer_features" (the features stage's spec).
CONTRACT_FEATURES: tuple[tuple[str, T.DataType], ...] = tuple(
    (f.name, f.dataType) for f in CUSTOMER_FEATURES.schema.fields
)
# docs/contracts.md, "gold/segments", without the keys one_id and as_of_date.


def _dictionary_path(cfg: Config) -> Path | None:
    path = cfg.resolve(cfg.features.dictionary)
    return path if path.is_file() else None


def feature_columns(cfg: Config) -> tuple[tuple[str, T.DataType], ...]:
    """Names and types of ``silver/customer_features``: dictionary first, table spec else."""
    path = _dictionary_path(cfg)
    if path is None:
        return CONTRACT_FEATURES
    return tuple((f.name, f.spark_type) for f in load_dictionary(path).features)


def known_input_schema(cfg: Config) -> T.StructType:
    """The columns a rule may reference: features plus segment columns."""
    fields = [*feature_columns(cfg), *SEGMENT_COLUMNS]
    return T.StructType([T.StructField(n, t, True) for n, t in fields])


def check_referenced_columns(referenced: Iterable[str], available: Iterable[str]) -> None:
    """Raise :class:`SchemaMismatchError` naming the input table that lacks a used column."""
    have = set(available)
    segment_names = {n for n, _ in SEGMENT_COLUMNS}
    missing = sorted(set(referenced) - have)
    if not missing:
        return
    seg = [c for c in missing if c in segment_names]
    if seg:
        raise SchemaMismatchError(SEGMENTS_TABLE, missing=seg)
    raise SchemaMismatchError(FEATURES_TABLE, missing=missing)
