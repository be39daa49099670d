"""One small generated data set per test run, shared by the generate tests.

``written`` is what ``sparkseg generate`` wrote (with dirty rows); ``clean`` holds the same
data straight from the builders, before any dirt, cached: comparing the two tells which
rows were broken on purpose. Both use the session ``spark`` fixture, not ``spark_clean``,
so that the cache survives between tests of this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from sparkseg.config import Config
from sparkseg.generate import stage
from sparkseg.generate.balances import build_balances
from sparkseg.generate.customers import customer_base
from sparkseg.generate.events import build_events
from sparkseg.generate.links import build_identity_links
from sparkseg.generate.period import Period
from sparkseg.generate.transactions import build_transactions
from sparkseg.lakehouse import Lakehouse
from tests.support.config import make_config
from tests.support.generate import GEN, Clean


@pytest.fixture(scope="package")
def gen_cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    warehouse: Path = tmp_path_factory.mktemp("generate") / "lake"
    return make_config(warehouse, generate=GEN)


@pytest.fixture(scope="package")
def written(spark: SparkSession, gen_cfg: Config) -> Lakehouse:
    stage.run(spark, gen_cfg, gen_cfg.generate.end_date)
    return Lakehouse(spark, gen_cfg)


@pytest.fixture(scope="package")
def clean(spark: SparkSession, gen_cfg: Config) -> Iterator[Clean]:
    gen = gen_cfg.generate
    period = Period.of(gen)
    base = customer_base(spark.range(0, gen.customers, 1, 2), gen=gen, period=period).cache()
    data = Clean(
        base,
        build_transactions(base, gen=gen, period=period).cache(),
        build_balances(base, gen=gen, period=period).cache(),
        build_events(base, gen=gen, period=period).cache(),
        build_identity_links(base, gen=gen, period=period).cache(),
    )
    yield data
    for df in data.frames():
        df.unpersist()
