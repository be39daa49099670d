"""Rule 1: a key made only of whitespace, ASCII or Unicode, is a null key."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkseg.ingest.config import IngestConfig
from sparkseg.ingest.validate import RULES, row_reason
from sparkseg.tables import RAW_CUSTOMERS
from tests.support.ingest import customer
from tests.support.rows import frame

NOW = dt.datetime(2026, 6, 2, tzinfo=dt.UTC)

BLANKS = {
    "empty": "", "space": " ", "tab": "\t", "newline": "\n", "carriage return": "\r",
    "vertical tab": "\x0b", "form feed": "\x0c", "unit separator": "\x1f",
    "no-break space": "\u00a0", "ideographic (full-width) space": "\u3000",
    "en quad": "\u2000", "hair space": "\u200a", "narrow no-break space": "\u202f",
    "line separator": "\u2028", "medium mathematical space": "\u205f",
    "zero width space": "\u200b", "byte order mark": "\ufeff",
    "mix": " \u3000\t\u00a0\ufeff\u3000 ",
}
# Whitespace around a real key is not a blank key (and is kept as it came).
NOT_BLANK = {"padded": "\u3000c1\u00a0", "letter": "c", "full-width digit": "\uff11"}


def reasons(spark: SparkSession, keys: list[str]) -> dict[str, str | None]:
    df = frame(spark, RAW_CUSTOMERS, [customer(k) for k in keys])
    flagged = df.select("customer_id", row_reason(RULES[RAW_CUSTOMERS.name], now=NOW,
                                                  limits=IngestConfig()).alias("reason"))
    return {r["customer_id"]: r["reason"] for r in flagged.orderBy(F.col("customer_id")).collect()}


@pytest.mark.parametrize("name", list(BLANKS))
def test_a_key_of_only_whitespace_is_a_null_key(spark: SparkSession, name: str) -> None:
    assert reasons(spark, [BLANKS[name]]) == {BLANKS[name]: "null_key"}


def test_a_key_with_text_between_spaces_is_not_blank(spark: SparkSession) -> None:
    assert reasons(spark, list(NOT_BLANK.values())) == {v: None for v in NOT_BLANK.values()}
