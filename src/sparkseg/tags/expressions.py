"""Checking Spark SQL expressions from config without reading data.

Each expression is analysed against an empty DataFrame with the known input schema:
Spark's own parser and analyser find syntax errors, unknown columns and functions and
type errors, and no job runs. Errors come back as one-line problem texts that the
callers wrap in a :class:`~sparkseg.errors.ConfigError` naming their rule or audience.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_IDENTIFIER = re.compile(r"`([^`]+)`|\b([A-Za-z_][A-Za-z0-9_]*)\b")


def identifiers(expr: str) -> set[str]:
    """Lower-cased words of ``expr`` outside string literals (columns, functions, keywords).

    Used to find which tags a rule refers to (intersected with the tag names); Spark
    resolves column names case-insensitively, hence the lower case.
    """
    text = _STRING_LITERAL.sub(" ", expr)
    return {(m.group(1) or m.group(2)).lower() for m in _IDENTIFIER.finditer(text)}


@contextlib.contextmanager
def _quiet_query_context_logs() -> Iterator[None]:
    # PySpark logs every analysis error with its full Java trace to stderr; a bad rule
    # must end in one ConfigError line, so those loggers are muted while checking.
    from pyspark.logger import PySparkLogger

    loggers = [
        PySparkLogger.getLogger("SQLQueryContextLogger"),
        PySparkLogger.getLogger("DataFrameQueryContextLogger"),
    ]
    before = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, was in zip(loggers, before, strict=True):
            lg.disabled = was


def user_expr(text: str) -> Column:
    """A Column from an expression written in config.

    The text is parenthesised: ``F.expr`` would otherwise read a trailing word as an
    alias (``payroll AND`` parses as ``payroll AS `AND` ``). The newline lets a trailing
    ``--`` comment end before the closing parenthesis.
    """
    return F.expr(f"({text}\n)")


def empty_frame(spark: SparkSession, schema: T.StructType) -> DataFrame:
    """A DataFrame with ``schema`` and no rows: analysis only, nothing to read."""
    return spark.createDataFrame([], schema)


def _problem(err: AnalysisException) -> str:
    condition = err.getCondition() or ""
    params = err.getMessageParameters() or {}
    if condition.startswith("PARSE_SYNTAX_ERROR"):
        return f"syntax error at or near {params.get('error', '?')}"
    if condition.startswith("UNRESOLVED_COLUMN") or condition.startswith("UNRESOLVED_FIELD"):
        return f"unknown column '{params.get('objectName', '?').strip('`')}'"
    if condition.startswith("UNRESOLVED_ROUTINE"):
        return f"unknown function '{params.get('routineName', '?').strip('`')}'"
    if condition in ("MISSING_GROUP_BY", "MISSING_AGGREGATION") or condition.startswith(
        "AGGREGATE"
    ):
        return "aggregate functions are not allowed (expressions are evaluated per customer)"
    text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    text = text.split(" SQLSTATE")[0]
    return text[:300] or condition or type(err).__name__


def expression_type(frame: DataFrame, expr: str) -> tuple[T.DataType | None, str]:
    """The result type of ``expr`` over ``frame`` (an empty frame), or ``(None, problem)``.

    The expression is selected next to every column (``*``), so an aggregate fails
    analysis instead of quietly turning the rule into a global aggregate.
    """
    if "over" in identifiers(expr):
        # A window over all customers would funnel the whole table through one task.
        return None, "window functions (OVER) are not allowed"
    with _quiet_query_context_logs():
        try:
            checked = frame.select("*", user_expr(expr).alias("__checked__"))
            return checked.schema["__checked__"].dataType, ""
        except AnalysisException as err:
            return None, _problem(err)


def expression_types(frame: DataFrame, exprs: list[str]) -> list[tuple[T.DataType | None, str]]:
    """:func:`expression_type` of each expression, analysed in one select when all pass.

    Analysis costs about the same for one expression as for fifty, so the common case
    (every expression valid) is one analysis; on any failure each expression is
    analysed alone to name the one at fault.
    """
    if exprs and not any("over" in identifiers(e) for e in exprs):
        with _quiet_query_context_logs():
            try:
                checked = frame.select(
                    "*", *(user_expr(e).alias(f"__checked_{i}__") for i, e in enumerate(exprs))
                )
                return [(checked.schema[f"__checked_{i}__"].dataType, "") for i in range(len(exprs))]
            except AnalysisException:
                pass
    return [expression_type(frame, e) for e in exprs]
