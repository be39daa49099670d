"""MLlib KMeans (row and block solvers) against scikit-learn on the same feature matrix.

The matrix is sparkseg's own clustering input: the segment preprocessing
(``sparkseg.segment.preprocess.build_preprocessing`` of ``segment.features``: impute,
log1p, standardize, weight) fitted on the whole features table of the as-of. The same
rows go to MLlib (a cached vector column, as in training) and to scikit-learn (numpy).

Per solver and repetition: ``maxIter=0`` (initialisation alone), ``maxIter=1`` and
``maxIter=N`` (``segment.max_iter``), ``initMode="random"`` with a fixed seed, so every
fit starts from the same centres C0, ``tol=0``. scikit-learn ``KMeans(init=C0, n_init=1,
algorithm="lloyd", tol=0)`` with ``max_iter`` 1 and N, under ``threadpool_limits``. One
Lloyd iteration of MLlib is the difference of the medians of ``maxIter=1`` and
``maxIter=0``, as in ``python -m scripts.bench kmeans``, which uses this module's helpers
(``timed``, ``sklearn_or_none``). After N iterations both libraries' centres are
compared as a check that they did the same work (they may differ when one stops early
at convergence: the iteration counts are reported).
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

from scripts.bench.memory import tree_cpu

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from sparkseg.segment.config import SegmentConfig

T = TypeVar("T")


class SkKMeans(Protocol):
    """What the benchmark uses of a fitted ``sklearn.cluster.KMeans``."""

    cluster_centers_: np.ndarray
    n_iter_: int

    def fit(self, x: np.ndarray) -> SkKMeans: ...


# sklearn.cluster.KMeans and threadpoolctl.threadpool_limits
Sklearn = tuple[Callable[..., SkKMeans], Callable[..., AbstractContextManager[object]]]


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def sklearn_or_none() -> Sklearn | None:
    """scikit-learn's KMeans and threadpoolctl's limits, or None when not installed."""
    try:
        from sklearn.cluster import KMeans as SkKMeansClass
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return SkKMeansClass, threadpool_limits


def _timed_cpu(fn: Callable[[], T]) -> tuple[float, float | None, T]:
    """(wall seconds, CPU seconds of this process tree or None, result)."""
    c0 = tree_cpu()
    seconds, out = timed(fn)
    c1 = tree_cpu()
    return seconds, (c1 - c0 if c0 is not None and c1 is not None else None), out


@dataclass
class KMeansTimings:
    rows: int
    dims: int
    k: int
    iters: int
    # name -> seconds of each repetition
    seconds: dict[str, list[float]] = field(default_factory=dict)
    # name -> CPU seconds (this process + the Spark JVM) of each repetition
    cpu: dict[str, list[float]] = field(default_factory=dict)
    # name -> iterations actually run (last repetition)
    iterations: dict[str, int] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    sklearn_missing: bool = False

    def add(self, name: str, value: float, cpu: float | None = None) -> None:
        self.seconds.setdefault(name, []).append(value)
        if cpu is not None:
            self.cpu.setdefault(name, []).append(cpu)

    def median(self, name: str) -> float:
        return statistics.median(self.seconds[name])


def feature_matrix(spark: SparkSession, features: DataFrame, segment_cfg: SegmentConfig,
                   tmp: Path) -> tuple[DataFrame, np.ndarray]:
    """(cached DataFrame of the vector column, the same rows as a float64 numpy array)."""
    import pyarrow.parquet as pq
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    from sparkseg.segment.preprocess import VECTOR_COL, build_preprocessing

    prep = build_preprocessing(segment_cfg.features).fit(features)
    vectors = prep.transform(features).select(VECTOR_COL).cache()
    vectors.count()
    out = str(tmp / "matrix")
    vectors.select(vector_to_array(F.col(VECTOR_COL)).alias("x")).write.mode("overwrite").parquet(out)
    col = pq.read_table(out).column("x").combine_chunks()
    x = np.ascontiguousarray(col.flatten().to_numpy().reshape(len(col), -1), dtype=np.float64)
    return vectors, x


def compare(
    vectors: DataFrame, x: np.ndarray, *, k: int, iters: int, repeat: int, threads: int, seed: int
) -> KMeansTimings:
    """Time MLlib (row, block) and scikit-learn fits on the same rows; see the module doc."""
    from pyspark.ml.clustering import KMeans

    from sparkseg.segment.preprocess import VECTOR_COL

    res = KMeansTimings(rows=int(x.shape[0]), dims=int(x.shape[1]), k=k, iters=iters)
    centres: dict[str, np.ndarray] = {}
    c0: np.ndarray | None = None
    for solver in ("row", "block"):
        for _ in range(repeat):
            for n in (0, 1, iters):
                est = KMeans(featuresCol=VECTOR_COL, k=k, maxIter=n, initMode="random",
                             seed=seed, tol=0.0, solver=solver)
                seconds, cpu, model = _timed_cpu(partial(est.fit, vectors))
                res.add(f"MLlib {solver} maxIter={n}", seconds, cpu)
                got = np.array(model.clusterCenters())
                if n == 0:
                    c0 = got if c0 is None else c0
                    if not np.allclose(got, c0):
                        res.checks.append(f"MLlib {solver}: initial centres differ between fits")
                elif n == iters:
                    centres[solver] = got
                    res.iterations[f"MLlib {solver}"] = int(model.summary.numIter)
    assert c0 is not None
    sk = sklearn_or_none()
    if sk is None:
        res.sklearn_missing = True
        return res
    sk_kmeans, threadpool_limits = sk
    # Random initial centres may leave a cluster empty; both libraries keep its centre.
    warnings.filterwarnings("ignore", message="Number of distinct clusters")
    with threadpool_limits(limits=threads):
        for _ in range(repeat):
            for n in (1, iters):
                sk_est = sk_kmeans(n_clusters=k, init=c0, n_init=1, max_iter=n,
                                   algorithm="lloyd", tol=0.0)
                seconds, cpu, fitted = _timed_cpu(partial(sk_est.fit, x))
                res.add(f"sklearn max_iter={n}", seconds, cpu)
                if n == iters:
                    centres["sklearn"] = fitted.cluster_centers_
                    res.iterations["sklearn"] = int(fitted.n_iter_)
    for solver in ("row", "block"):
        diff = float(np.abs(centres[solver] - centres["sklearn"]).max())
        res.checks.append(
            f"max |centre difference| MLlib {solver} ({res.iterations[f'MLlib {solver}']} "
            f"iterations) vs sklearn ({res.iterations['sklearn']} iterations): {diff:.2e}"
        )
    return res
