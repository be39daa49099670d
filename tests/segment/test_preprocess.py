"""The preprocessing pipeline: imputation, signed log1p, scaling and weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from sparkseg.errors import SchemaMismatchError
from sparkseg.segment.config import ClusterFeature
from sparkseg.segment.preprocess import (
    VECTOR_COL,
    build_preprocessing,
    check_feature_columns,
    imputed_col,
)

E = math.e
SCHEMA = T.StructType([
    T.StructField("one_id", T.StringType()),
    T.StructField("a", T.DoubleType()),
    T.StructField("b", T.LongType()),
    T.StructField("c", T.DoubleType()),
])
FEATURES = [
    ClusterFeature(name="a", impute="median", transform="log1p"),
    ClusterFeature(name="b", impute="zero", weight=2.0),
    ClusterFeature(name="c", impute="constant", fill=7.0, transform="log1p"),
]


def test_pipeline_imputes_transforms_scales_and_weights(spark_clean: SparkSession) -> None:
    df = spark_clean.createDataFrame(
        [
            ("p", 0.0, 1, -(E - 1)),
            ("q", E - 1, None, float("nan")),
            ("r", E**2 - 1, 3, None),
            ("s", None, 5, 0.0),
        ],
        SCHEMA,
    )
    out = build_preprocessing(FEATURES).fit(df).transform(df)
    rows = {r["one_id"]: r for r in out.collect()}
    # a: median of (0, e-1, e^2-1) fills the null; b: zero; c: constant 7 fills null and NaN.
    assert [rows[k][imputed_col("a")] for k in "pqrs"] == pytest.approx([0, E - 1, E**2 - 1, E - 1])
    assert [rows[k][imputed_col("b")] for k in "pqrs"] == [1.0, 0.0, 3.0, 5.0]
    assert [rows[k][imputed_col("c")] for k in "pqrs"] == pytest.approx([-(E - 1), 7, 7, 0])
    # Transformed: signed log1p for a and c; then divided by the sample std, times weight.
    tx = np.array([
        [0.0, 1.0, 2.0, 1.0],
        [1.0, 0.0, 3.0, 5.0],
        [-1.0, math.log(8), math.log(8), 0.0],
    ])
    expected = (tx / tx.std(axis=1, ddof=1, keepdims=True)) * np.array([[1.0], [2.0], [1.0]])
    got = np.array([rows[k][VECTOR_COL].toArray() for k in "pqrs"]).T
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_missing_or_non_numeric_feature_is_a_schema_mismatch() -> None:
    schema = T.StructType([
        T.StructField("one_id", T.StringType()), T.StructField("a", T.StringType()),
    ])
    with pytest.raises(SchemaMismatchError) as err:
        check_feature_columns(schema, ["a", "b"], "silver/customer_features")
    assert err.value.missing == ["b"]
    assert err.value.retyped == ["a (string, expected a numeric type)"]
