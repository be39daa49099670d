"""Keyed hashing of personal identifiers (HMAC-SHA256) with Spark built-in functions.

Channel identifiers (phones, device ids, WeChat openids, web cookies: the default
``identity.pii_id_types``) never leave ``raw/`` in clear: ingest replaces them by
``HMAC-SHA256(key, value)`` before anything is written. A plain SHA-256 would be
reversible by enumerating the ~10^10 possible phone numbers; the key
(from an environment variable, never from the config file) makes that impossible for
whoever reads the lake without the key.

HMAC is ``H((K' xor opad) || H((K' xor ipad) || m))`` (RFC 2104) where ``K'`` is the key
padded to the 64-byte SHA-256 block. The two padded keys are derived on the driver;
Spark evaluates the two SHA-256 passes with ``sha2``/``unhex``/``concat`` on binary, so
no Python UDF is involved.

The padded keys are never literals of a query: a literal is printed by ``explain``, the
Spark UI and the event log (``SparkListenerSQLExecutionStart`` holds the whole plan).
Instead they are the one row of a tiny DataFrame built in the JVM through py4j (a
``parallelize`` of one ``Row``: a ``Scan ExistingRDD`` whose rows no plan rendering
prints, and no temp file as PySpark's own ``createDataFrame`` writes), broadcast and
cross-joined to the rows to hash; the HMAC expression only names its columns. The
optimizer cannot fold an RDD's rows into literals, so the plan stays a join.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.errors import ConfigError
from sparkseg.identity.config import IdentityConfig
from sparkseg.tables import ID_TYPES

_BLOCK = 64  # SHA-256 block size in bytes


def hash_key(cfg: IdentityConfig) -> bytes:
    """The HMAC key from the environment variable ``cfg.hash_key_env`` (UTF-8 bytes).

    Raises :class:`ConfigError` naming the variable when it is unset or empty, so that a
    stage fails before it reads any data.
    """
    value = os.environ.get(cfg.hash_key_env, "")
    if not value:
        raise ConfigError(
            f"environment variable {cfg.hash_key_env} (identity.hash_key_env) is not set: "
            "it must hold the secret key for hashing personal identifiers"
        )
    return value.encode("utf-8")


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


# The columns that carry the padded keys next to the rows being hashed (dropped after).
INNER_PAD, OUTER_PAD = "_hmac_inner_pad", "_hmac_outer_pad"
_PADS_SCHEMA = T.StructType([
    T.StructField(INNER_PAD, T.BinaryType(), False),
    T.StructField(OUTER_PAD, T.BinaryType(), False),
])


def key_pads(spark: SparkSession, key: bytes) -> DataFrame:
    """One row: ``_hmac_inner_pad, _hmac_outer_pad`` (64 bytes each) of ``key``.

    Built in the JVM from one ``Row`` so that the bytes go through py4j's socket only:
    PySpark's ``createDataFrame`` of a local list would pickle them into a temp file.
    """
    inner_pad, outer_pad = _pads(key)
    sc = spark.sparkContext
    jvm = sc._jvm
    assert jvm is not None and sc._gateway is not None  # a classic (non-Connect) session
    values = sc._gateway.new_array(jvm.java.lang.Object, 2)
    values[0], values[1] = bytearray(inner_pad), bytearray(outer_pad)
    rows = jvm.java.util.ArrayList()
    rows.add(jvm.org.apache.spark.sql.RowFactory.create(values))
    jschema = spark._jsparkSession.parseDataType(_PADS_SCHEMA.json())
    jdf = spark._jsparkSession.createDataFrame(sc._jsc.parallelize(rows, 1), jschema)
    return DataFrame(jdf, spark)


def with_key_pads(df: DataFrame, key: bytes) -> DataFrame:
    """``df`` plus the two pad columns of :func:`key_pads` (a broadcast one-row join)."""
    # A one-row broadcast side: every task gets the 128 bytes once, no shuffle of df.
    return df.crossJoin(F.broadcast(key_pads(df.sparkSession, key)))


def hmac_sha256_hex(value: Column) -> Column:
    """HMAC-SHA256 of a string column's UTF-8 bytes, as 64 lowercase hex characters.

    Needs the pad columns of :func:`with_key_pads` on the same DataFrame. Null stays
    null. Equal to ``hmac.new(key, v.encode(), hashlib.sha256).hexdigest()``.
    """
    inner = F.unhex(F.sha2(F.concat(F.col(INNER_PAD), value.cast("binary")), 256))
    return F.sha2(F.concat(F.col(OUTER_PAD), inner), 256)


def is_personal(id_type: Column, pii_id_types: Iterable[str]) -> Column:
    """True where an identifier of this type must be hashed.

    Personal types are hashed, and so is anything whose type is null or not a known
    identifier type (a quarantined row may say ``phone`` instead of ``phone_hash``):
    only a value whose type is known and not personal is stored as it came.
    """
    plain = [t for t in ID_TYPES if t not in set(pii_id_types)]
    return id_type.isNull() | ~id_type.isin(plain)


def with_hashed_identifiers(
    df: DataFrame,
    *,
    pairs: Sequence[tuple[str, str]],
    key: bytes,
    pii_id_types: Iterable[str],
) -> DataFrame:
    """Replace identifier values by their keyed hash where their type is personal.

    Needs, for each ``(type column, value column)`` in ``pairs``, both columns; replaces
    the value column in place (same name, same position).
    """
    pii = tuple(pii_id_types)
    replaced = {
        value_col: F.when(is_personal(F.col(type_col), pii), hmac_sha256_hex(F.col(value_col)))
        .otherwise(F.col(value_col))
        .alias(value_col)
        for type_col, value_col in pairs
    }
    padded = with_key_pads(df, key)
    return padded.select(*[replaced.get(c, F.col(c)) for c in df.columns])
