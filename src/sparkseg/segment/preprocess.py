"""Preprocessing as MLlib pipeline stages: impute, log1p, assemble, standardize, weight.

The stages are fitted on the training sample and saved inside the model's
``PipelineModel``, so scoring applies exactly the medians, means and standard
deviations the clusters were trained with. Everything runs in the JVM (Imputer,
SQLTransformer, VectorAssembler, StandardScaler, ElementwiseProduct): no Python UDF.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.ml import Pipeline
from pyspark.ml.base import Estimator, Transformer
from pyspark.ml.feature import (
    ElementwiseProduct,
    Imputer,
    SQLTransformer,
    StandardScaler,
    VectorAssembler,
)
from pyspark.ml.linalg import Vectors
from pyspark.sql import types as T

from sparkseg.errors import SchemaMismatchError
from sparkseg.segment.config import ClusterFeature

# The vector the clustering algorithms see (standardized, weighted).
VECTOR_COL = "_seg_features"
_NUMERIC = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType,
            T.DecimalType)


def _in(name: str) -> str:
    return f"_seg_in_{name}"


def imputed_col(name: str) -> str:
    """Column holding feature ``name`` after imputation, still in original units."""
    return f"_seg_imp_{name}"


def _tx(name: str) -> str:
    return f"_seg_tx_{name}"


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def check_feature_columns(
    schema: T.StructType, names: Sequence[str], table: str, *, keys: Sequence[str] = ("one_id",)
) -> None:
    """Raise :class:`SchemaMismatchError` if a key or feature is missing, or a feature
    is not numeric."""
    have = {f.name: f.dataType for f in schema.fields}
    missing = [n for n in [*keys, *names] if n not in have]
    retyped = [
        f"{n} ({have[n].simpleString()}, expected a numeric type)"
        for n in names
        if n in have and not isinstance(have[n], _NUMERIC)
    ]
    if missing or retyped:
        raise SchemaMismatchError(table, missing=missing, retyped=retyped)


def build_preprocessing(features: Sequence[ClusterFeature]) -> Pipeline:
    """An unfitted pipeline from the raw feature columns to :data:`VECTOR_COL`.

    Needs the numeric columns named in ``features``; adds ``_seg_imp_<name>`` (imputed,
    original units), ``_seg_tx_<name>`` (transformed) and :data:`VECTOR_COL`.
    """
    prepare: list[str] = []
    by_strategy: dict[str, list[str]] = {"median": [], "mean": []}
    for f in features:
        col = f"CAST({_q(f.name)} AS DOUBLE)"
        if f.impute in by_strategy:
            prepare.append(f"{col} AS {_q(_in(f.name))}")
            by_strategy[f.impute].append(f.name)
        else:
            fill = 0.0 if f.impute == "zero" else float(f.fill)
            # nanvl as well as coalesce: a NaN would poison every distance it touches.
            prepare.append(f"nanvl(coalesce({col}, {fill!r}D), {fill!r}D) AS {_q(imputed_col(f.name))}")
    stages: list[Estimator | Transformer] = [
        SQLTransformer(statement="SELECT *, " + ", ".join(prepare) + " FROM __THIS__")
    ]
    for strategy, names in by_strategy.items():
        if names:
            # Imputer treats both null and NaN as missing; it learns the statistic on fit.
            stages.append(
                Imputer(
                    strategy=strategy,
                    inputCols=[_in(n) for n in names],
                    outputCols=[imputed_col(n) for n in names],
                )
            )
    transformed = []
    for f in features:
        x = _q(imputed_col(f.name))
        # Signed log1p: equals log1p for x >= 0 and keeps negative money flows finite.
        expr = f"signum({x}) * log1p(abs({x}))" if f.transform == "log1p" else x
        transformed.append(f"{expr} AS {_q(_tx(f.name))}")
    stages.append(SQLTransformer(statement="SELECT *, " + ", ".join(transformed) + " FROM __THIS__"))
    stages.append(
        VectorAssembler(inputCols=[_tx(f.name) for f in features], outputCol="_seg_vec")
    )
    # Scaled to unit variance but NOT centred: k-means distances do not care about a
    # shift, and BisectingKMeans splits a cluster by perturbing its centre by 1e-4 of its
    # norm, so a zero-mean root centre (norm ~ 0) could never be split. A constant
    # column gets std 0 and StandardScaler outputs 0 for it (no division by zero).
    stages.append(
        StandardScaler(inputCol="_seg_vec", outputCol="_seg_scaled", withMean=False, withStd=True)
    )
    stages.append(
        ElementwiseProduct(
            inputCol="_seg_scaled",
            outputCol=VECTOR_COL,
            scalingVec=Vectors.dense([float(f.weight) for f in features]),
        )
    )
    return Pipeline(stages=stages)


def describe(features: Sequence[ClusterFeature]) -> list[dict[str, object]]:
    """The per-feature preprocessing, for the model metadata."""
    return [
        {
            "name": f.name,
            "impute": f.impute,
            "fill": f.fill if f.impute == "constant" else (0.0 if f.impute == "zero" else None),
            "transform": "signed_log1p" if f.transform == "log1p" else "none",
            "weight": f.weight,
        }
        for f in features
    ]
