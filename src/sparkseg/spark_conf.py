"""Runtime Spark settings changed for one block of work and restored afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from pyspark.sql import SparkSession


@contextlib.contextmanager
def conf_set(spark: SparkSession, key: str, value: str) -> Iterator[None]:
    """``key`` set to ``value`` while the block runs, then as it was (unset if it was).

    For runtime SQL settings only: a long-lived session (tests, notebooks, a job running
    several stages) is left as it was found, also when the block fails.
    """
    before = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        yield
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)
