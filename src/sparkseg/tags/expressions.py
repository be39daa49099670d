"""Checking Spark SQL expressions from config without reading data.

Each expression's parse tree is first checked against the allow-list of
:mod:`sparkseg.tags.sandbox` (no reflection, subqueries, file reads, randomness, windows,
aggregates or user-defined functions), then analysed against an empty DataFrame with the
known input schema: Spark's own parser and analyser find syntax errors, unknown columns
and functions and type errors, and no job runs. Errors come back as one-line problem texts that the
callers wrap in a :class:`~sparkseg.errors.ConfigError` naming their rule or audience.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkseg.tags import sandbox

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


def user_text(text: str) -> str:
    """The text that is parsed for an expression written in config.

    It is parenthesised: ``F.expr`` would otherwise read a trailing word as an alias
    (``payroll AND`` parses as ``payroll AS `AND` ``). The newline lets a trailing ``--``
    comment end before the closing parenthesis.
    """
    return f"({text}\n)"


def user_expr(text: str) -> Column:
    """A Column from an expression written in config (see :func:`user_text`)."""
    return F.expr(user_text(text))


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


def _analysed(checked: DataFrame, count: int) -> list[Any]:
    """The resolved expressions of the last ``count`` columns of ``checked`` (no job)."""
    project = checked._jdf.queryExecution().analyzed().projectList()
    size = project.size()
    # Each column is an Alias around the user's expression.
    return [project.apply(i).child() for i in range(size - count, size)]


def expression_type(
    frame: DataFrame, expr: str, where: str = "rules"
) -> tuple[T.DataType | None, str]:
    """The result type of ``expr`` over ``frame`` (an empty frame), or ``(None, problem)``.

    The parse tree is checked against the allow-list of :mod:`sparkseg.tags.sandbox`
    first, so a refused expression is never analysed (analysing a subquery over files
    already reads them). The expression is selected next to every column (``*``), so an
    aggregate fails analysis instead of quietly turning the rule into a global aggregate.
    ``where`` ("rules", "audiences") ends the refusal messages.
    """
    if "over" in identifiers(expr):
        # A window over all customers would funnel the whole table through one task.
        return None, sandbox.WINDOW
    columns = {c.lower() for c in frame.columns}
    problem = sandbox.parsed_problem(frame.sparkSession, user_text(expr), columns, where)
    if problem:
        return None, problem
    with _quiet_query_context_logs():
        try:
            checked = frame.select("*", user_expr(expr).alias("__checked__"))
            dtype = checked.schema["__checked__"].dataType
        except AnalysisException as err:
            return None, _problem(err)
    problem = sandbox.analysed_problem(_analysed(checked, 1)[0], where)
    return (None, problem) if problem else (dtype, "")


def expression_types(
    frame: DataFrame, exprs: list[str], where: str = "rules"
) -> list[tuple[T.DataType | None, str]]:
    """:func:`expression_type` of each expression, analysed in one select when all pass.

    Analysis costs about the same for one expression as for fifty, so the common case
    (every expression valid) is one analysis; on any failure each expression is
    analysed alone to name the one at fault.
    """
    columns = {c.lower() for c in frame.columns}
    clean = exprs and not any(
        "over" in identifiers(e)
        or sandbox.parsed_problem(frame.sparkSession, user_text(e), columns, where)
        for e in exprs
    )
    if clean:
        with _quiet_query_context_logs():
            try:
                checked = frame.select(
                    "*", *(user_expr(e).alias(f"__checked_{i}__") for i, e in enumerate(exprs))
                )
                types = [checked.schema[f"__checked_{i}__"].dataType for i in range(len(exprs))]
            except AnalysisException:
                types = []
        if types:
            analysed = _analysed(checked, len(exprs))
            if not any(sandbox.analysed_problem(a, where) for a in analysed):
                return [(t, "") for t in types]
    return [expression_type(frame, e, where) for e in exprs]
