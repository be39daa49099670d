"""Time segment training (per k and total), scoring, and one Lloyd iteration of MLlib
KMeans (row and block solvers) against scikit-learn's KMeans on the same matrix.

    pip install scikit-learn          # benchmark only; not a sparkseg dependency
    python -m scripts.bench kmeans --rows 200000 --features 16 --k 8 --threads 2

Without ``--config`` the features table is synthetic (8 planted groups in the default
segment feature columns, written as a Delta table under a temporary warehouse). With
``--config`` (and ``--as-of``), that warehouse's ``silver/customer_features`` as-of is
copied into the temporary warehouse first, so the benchmark never writes a model or a
gold table into a real warehouse.

Steps, in one run:
1. ``train`` and ``score`` stages (sparkseg.segment.train/score ``run``), timed; the
   per-candidate fit seconds come from the model's k-selection scores.
2. The model's preprocessing turns the table into the clustering matrix (n x d). The same
   matrix goes to MLlib (a cached DataFrame) and to scikit-learn (numpy; the benchmark,
   unlike a stage, may collect it).
3. MLlib ``KMeans(initMode="random", seed=s)`` with ``maxIter=0`` gives the initial
   centres C0 (and times initialisation alone); ``maxIter=1`` (same seed, so the same
   C0) times initialisation + one Lloyd iteration; the difference is the iteration.
   scikit-learn ``KMeans(n_clusters=k, init=C0, n_init=1, max_iter=1,
   algorithm="lloyd")`` under ``threadpool_limits(threads)`` runs the same iteration
   (its ``fit`` also ends with one more assignment pass, for the labels). Both start
   from C0, so their centres after the iteration must agree: the script prints the
   largest difference as a check that the two measured the same work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import statistics
import sys
import tempfile
import warnings
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scripts.bench.kmeans_compare import sklearn_or_none, timed
from sparkseg.cli import common_parser, start_session

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

AS_OF = dt.date(2026, 11, 1)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.bench kmeans", parents=[common_parser()],
                                description=__doc__.split("\n\n")[0])
    # Without --config the features are synthetic: no config file is read.
    p.set_defaults(config=None)
    p.add_argument("--rows", type=int, default=200_000, help="synthetic customers")
    p.add_argument("--features", type=int, default=16, help="first N default segment features")
    p.add_argument("--k", type=int, default=8, help="k of the Lloyd-iteration comparison")
    p.add_argument("--k-min", type=int, default=4)
    p.add_argument("--k-max", type=int, default=10)
    p.add_argument("--algorithms", default="kmeans", help="comma list: kmeans,bisecting_kmeans")
    p.add_argument("--threads", type=int, default=2, help="Spark local[N] and sklearn threads")
    p.add_argument("--repeat", type=int, default=3, help="repetitions of each Lloyd timing")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--driver-memory", default="4g")
    return p.parse_args(argv)


def synthetic_features(spark: SparkSession, rows: int, names: list[str], seed: int
                       ) -> DataFrame:
    """``rows`` customers in 8 planted groups; columns ``one_id, <names>, as_of_date``."""
    from pyspark.sql import functions as F

    from sparkseg.segment.config import DEFAULT_FEATURES

    spec = {f.name: f for f in DEFAULT_FEATURES}
    rng = np.random.default_rng(seed)
    group = F.pmod(F.xxhash64(F.lit(seed), F.col("id")), F.lit(8)).cast("int")
    cols = [F.concat(F.lit("c"), F.col("id").cast("string")).alias("one_id")]
    for j, name in enumerate(names):
        share = name.startswith("share_")
        logged = spec[name].transform == "log1p" if name in spec else True
        if share:
            centres, noise = rng.uniform(0.0, 1.0, 8), 0.08
        elif logged:
            centres, noise = rng.uniform(0.5, 11.0, 8), 0.35
        else:
            centres, noise = rng.uniform(1.0, 60.0, 8), 3.0
        centre = F.element_at(F.array(*(F.lit(float(c)) for c in centres)), group + 1)
        x = centre + noise * F.randn(seed + j)
        if share:
            x = F.least(F.greatest(x, F.lit(0.0)), F.lit(1.0))
        elif logged:
            x = F.expm1(x)
        if name == "days_since_last_txn":  # never transacted: null, as in the real table
            x = F.when(F.rand(seed + 100) < 0.02, F.lit(None)).otherwise(x)
        cols.append(x.cast("double").alias(name))
    cols.append(F.lit(AS_OF).alias("as_of_date"))
    return spark.range(rows).select(*cols)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Before numpy/sklearn start their thread pools (threadpool_limits also applies it).
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr)
    sk = sklearn_or_none()
    if sk is None:
        print("scikit-learn is not installed: `pip install scikit-learn` to compare with it "
              "(benchmark only; sparkseg does not depend on it). Timing MLlib alone.")

    from pyspark.ml import PipelineModel
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    from sparkseg.config import config_from_mapping, load_config
    from sparkseg.lakehouse import Lakehouse
    from sparkseg.segment import score, train
    from sparkseg.segment.config import DEFAULT_FEATURES
    from sparkseg.segment.model_store import ModelStore
    from sparkseg.segment.preprocess import VECTOR_COL
    from sparkseg.tables import TableSpec

    features = [f for f in DEFAULT_FEATURES][: args.features]
    names = [f.name for f in features]
    tmp = Path(tempfile.mkdtemp(prefix="bench_kmeans_"))
    segment = {
        "features": [f.model_dump() for f in features],
        "algorithms": args.algorithms.split(","),
        "k_min": args.k_min, "k_max": args.k_max, "seed": args.seed,
        "sample_max_rows": max(args.rows, 100),
    }
    cfg = config_from_mapping({
        "warehouse": str(tmp / "lake"), "engine": "offline", "segment": segment,
        "spark": {"master": f"local[{args.threads}]", "driver_memory": args.driver_memory,
                  "shuffle_partitions": 4 * args.threads, "log_level": "ERROR",
                  "show_progress": False},
    })
    spark = start_session(cfg)
    try:
        lake = Lakehouse(spark, cfg)
        as_of = AS_OF
        if args.config:
            src_cfg = load_config(args.config, args.overrides)
            as_of = args.as_of or src_cfg.as_of or AS_OF
            table = Lakehouse(spark, src_cfg).read(
                "silver/customer_features", partitions={"as_of_date": as_of}
            ).select("one_id", *names, "as_of_date")
            source = f"{src_cfg.warehouse} silver/customer_features {as_of}"
        else:
            table = synthetic_features(spark, args.rows, names, args.seed)
            source = "synthetic, 8 planted groups"
        spec = TableSpec("silver/customer_features", table.schema, ("as_of_date",))
        lake.write(table, spec, mode="overwrite")
        n_rows = lake.read(spec.name).count()

        load0 = os.getloadavg()[0]
        t_train, _ = timed(lambda: train.run(spark, cfg, as_of))
        t_score, _ = timed(lambda: score.run(spark, cfg, as_of))
        store = ModelStore(lake, cfg.segment.model_name)
        meta = store.load_metadata(store.resolve(None))

        # The clustering matrix: the model's preprocessing applied to every row.
        model = store.load_pipeline(meta.version)
        prep = PipelineModel(stages=model.stages[:-1])
        vectors = prep.transform(lake.read(spec.name)).select(VECTOR_COL).cache()
        vectors.count()
        arr_dir = str(tmp / "matrix")
        vectors.select(vector_to_array(F.col(VECTOR_COL)).alias("x")).write.parquet(arr_dir)
        import pyarrow.parquet as pq

        col = pq.read_table(arr_dir).column("x").combine_chunks()
        X = np.ascontiguousarray(col.flatten().to_numpy().reshape(len(col), -1), dtype=np.float64)

        k = args.k

        def mllib(solver: str, iters: int) -> tuple[float, np.ndarray]:
            est = KMeans(featuresCol=VECTOR_COL, k=k, maxIter=iters, initMode="random",
                         seed=args.seed, tol=0.0, solver=solver)
            seconds, m = timed(lambda: est.fit(vectors))
            return seconds, np.array(m.clusterCenters())

        results: dict[str, list[float]] = {}
        centres: dict[str, np.ndarray] = {}
        c0: np.ndarray | None = None
        for solver in ("row", "block"):
            for _ in range(args.repeat):
                s0, init = mllib(solver, 0)
                s1, after = mllib(solver, 1)
                if c0 is None:
                    c0 = init
                assert np.allclose(init, c0), "same seed must give the same initial centres"
                results.setdefault(f"MLlib {solver}: init only (maxIter=0)", []).append(s0)
                results.setdefault(f"MLlib {solver}: init + 1 iteration (maxIter=1)", []).append(s1)
                centres[solver] = after
        assert c0 is not None
        if sk is not None:
            SkKMeans, threadpool_limits = sk
            # Random initial centres may leave a cluster empty after the iteration; both
            # libraries then keep its centre, and sklearn warns. The check below compares.
            warnings.filterwarnings("ignore", message="Number of distinct clusters")
            with threadpool_limits(limits=args.threads):
                for _ in range(args.repeat):
                    est = SkKMeans(n_clusters=k, init=c0, n_init=1, max_iter=1,
                                   algorithm="lloyd", tol=0.0)
                    seconds, fitted = timed(partial(est.fit, X))
                    results.setdefault("sklearn lloyd: 1 iteration (fit, max_iter=1)", []).append(seconds)
                    centres["sklearn"] = fitted.cluster_centers_
        load1 = os.getloadavg()[0]

        print()
        print(f"data: {n_rows} rows x {len(names)} features ({source}); Spark {spark.version} "
              f"local[{args.threads}]; sklearn threads {args.threads}; "
              f"load average {load0:.1f} -> {load1:.1f} on {os.cpu_count()} cores")
        print(f"\ntrain stage: {t_train:.1f} s total ({meta.training_rows} training rows; "
              f"chosen {meta.algorithm} k={meta.k})")
        print(f"  {'algorithm':<18}{'k':>3}{'fit s':>9}{'silhouette':>12}{'cost':>14}")
        for s in meta.scores:
            sil = "n/a" if s.silhouette is None else f"{s.silhouette:.4f}"
            print(f"  {s.algorithm:<18}{s.k:>3}{s.fit_seconds:>9.2f}{sil:>12}{s.cost:>14.6g}")
        print(f"  sum of fits {sum(s.fit_seconds for s in meta.scores):.1f} s; the rest is "
              "preprocessing, silhouettes, aggregates and saving")
        print(f"score stage: {t_score:.1f} s ({n_rows / t_score:,.0f} rows/s, incl. Delta "
              "writes of gold/segments and gold/segment_migration)")

        ref_key = "sklearn lloyd: 1 iteration (fit, max_iter=1)"
        ref = statistics.median(results[ref_key]) if ref_key in results else None
        print(f"\none Lloyd iteration, k={k}, median of {args.repeat} (min in brackets):")
        print(f"  {'':<46}{'seconds':>8} {'[min]':>8}{'x sklearn':>11}")
        rows = [(name, statistics.median(v), f"[{min(v):.3f}]") for name, v in results.items()]
        for solver in ("row", "block"):
            # Difference of medians: noisy on a busy machine, but free of the init cost.
            one = (statistics.median(results[f"MLlib {solver}: init + 1 iteration (maxIter=1)"])
                   - statistics.median(results[f"MLlib {solver}: init only (maxIter=0)"]))
            rows.append((f"MLlib {solver}: 1 iteration (difference)", one, ""))
        for name, med, low in rows:
            ratio = f"{med / ref:>10.1f}x" if ref else f"{'n/a':>11}"
            print(f"  {name:<46}{med:>8.3f} {low:>8}{ratio}")
        if "sklearn" in centres:
            for solver in ("row", "block"):
                diff = float(np.abs(centres[solver] - centres["sklearn"]).max())
                print(f"  max |centre difference| MLlib {solver} vs sklearn after 1 iteration: "
                      f"{diff:.2e}")
        vectors.unpersist()
        return 0
    finally:
        spark.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
