"""Keyed hashing of personal identifiers: HMAC-SHA256 in Spark built-ins."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.errors import ConfigError
from sparkseg.identity.config import IdentityConfig
from sparkseg.identity.hashing import (
    hash_key,
    hmac_sha256_hex,
    with_hashed_identifiers,
    with_key_pads,
)

VALUES = ["13800000000", "", "手机 +86-138", "x" * 300]
KEYS = [b"k", b"s" * 64, "长密钥".encode() * 30]  # short, one block, longer than a block


def test_hmac_matches_python_hmac_for_short_block_sized_and_long_keys(spark: SparkSession) -> None:
    df = spark.createDataFrame([(v,) for v in VALUES], "v string")
    for key in KEYS:
        hashed = with_key_pads(df, key).select("v", hmac_sha256_hex(F.col("v")).alias("h"))
        got = {r["v"]: r["h"] for r in hashed.collect()}
        assert got == {v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in VALUES}


def test_null_identifier_stays_null(spark: SparkSession) -> None:
    df = spark.createDataFrame([(None,)], "v string")
    assert with_key_pads(df, b"k").select(hmac_sha256_hex(F.col("v"))).first()[0] is None


def test_only_values_of_plain_known_types_are_kept_as_they_came(spark: SparkSession) -> None:
    rows = [("phone_hash", "13800000000"), ("phone", "13800000001"), (None, "13800000002"),
            ("device_id", "d1"), ("customer_id", "c1")]
    df = spark.createDataFrame(rows, "id_type string, id_value string")
    out = with_hashed_identifiers(
        df, pairs=[("id_type", "id_value")], key=b"k", pii_id_types=("phone_hash",)
    )
    assert out.columns == ["id_type", "id_value"]
    got = [tuple(r) for r in out.collect()]

    def keyed(v: str) -> str:
        return hmac.new(b"k", v.encode(), hashlib.sha256).hexdigest()

    assert got == [("phone_hash", keyed("13800000000")), ("phone", keyed("13800000001")),
                   (None, keyed("13800000002")), ("device_id", "d1"), ("customer_id", "c1")]


@pytest.mark.parametrize("value", [None, ""])
def test_missing_or_empty_key_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    cfg = IdentityConfig(hash_key_env="MY_BANK_KEY")
    if value is None:
        monkeypatch.delenv("MY_BANK_KEY", raising=False)
    else:
        monkeypatch.setenv("MY_BANK_KEY", value)
    with pytest.raises(ConfigError, match="MY_BANK_KEY"):
        hash_key(cfg)


def test_key_comes_from_the_configured_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_BANK_KEY", "sécret")
    assert hash_key(IdentityConfig(hash_key_env="MY_BANK_KEY")) == "sécret".encode()
