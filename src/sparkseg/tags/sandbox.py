"""What a tag rule or audience expression may contain: an allow-list over Spark's parse tree.

Expressions come from config and run on executors with ``F.expr``. Analysis alone accepts
``reflect('java.lang.System', 'getenv', ...)``, subqueries over ``parquet.`/any/path```,
``rand()`` and the like, so before an expression is analysed (analysis of a subquery over
files already lists and reads them) its tree from Spark's own parser is walked and only
these are accepted:

- column references (analysis then checks they are known columns) and literals;
- the operators of :data:`ALLOWED_NODES` (arithmetic, comparison, boolean, CASE, IN list,
  LIKE, CAST, ...), which the parser builds directly;
- calls of the deterministic built-in scalar functions of :data:`ALLOWED_FUNCTIONS`.

Anything else (another function, a subquery, a window, ``IDENTIFIER(...)``, a parameter
marker, a construct this module does not know) is refused with a one-line problem naming
it. After analysis, :func:`analysed_problem` checks the resolved tree once more (no
nondeterministic, user-defined, aggregate or subquery node; leaves only columns and
literals), so a builtin shadowed by a session function or a bare ``current_date`` that
resolves to a function cannot slip through.

The trees are read with ``TreeNode.toJSON`` (one JVM call per expression; the nodes come
as a pre-order list of every node reachable through ``children``); should that fail for
some node, the tree is walked through ``children()`` instead.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from pyspark.sql import SparkSession

from sparkseg.spark_conf import conf_set

# Deterministic built-in scalar functions that read nothing but their arguments. Kept
# explicit (not "every builtin but a deny-list"): a new Spark release adds functions, and
# none of them may reach rules unreviewed.
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(
    {
        # conditional and null handling
        "between", "coalesce", "equal_null", "greatest", "if", "ifnull", "isnan",
        "isnotnull", "isnull", "least", "nanvl", "nullif", "nullifzero", "nvl", "nvl2",
        "zeroifnull",
        # math
        "abs", "bround", "cbrt", "ceil", "ceiling", "div", "exp", "expm1", "floor", "ln",
        "log", "log10", "log1p", "log2", "mod", "negative", "pmod", "positive", "pow",
        "power", "round", "sign", "signum", "sqrt", "try_add", "try_divide",
        "try_multiply", "try_subtract", "width_bucket",
        # strings (no repeat/space: they build strings of any size from a number)
        "btrim", "char_length", "character_length", "concat", "concat_ws", "contains",
        "endswith", "ilike", "initcap", "instr", "lcase", "left", "len", "length",
        "levenshtein", "like", "locate", "lower", "lpad", "ltrim", "position", "regexp",
        "regexp_count", "regexp_extract", "regexp_instr", "regexp_like", "regexp_replace",
        "regexp_substr", "replace", "right", "rlike", "rpad", "rtrim", "split",
        "split_part", "startswith", "substr", "substring", "substring_index", "translate",
        "trim", "ucase", "upper",
        # dates (relative to columns, never to the clock: see _CLOCK)
        "add_months", "date_add", "date_diff", "date_format", "date_part", "date_sub",
        "date_trunc", "dateadd", "datediff", "datepart", "day", "dayofmonth",
        "dayofweek", "dayofyear", "extract", "hour", "last_day", "make_date", "minute",
        "month", "months_between", "next_day", "quarter", "second", "to_date",
        "to_timestamp", "trunc", "weekday", "weekofyear", "year",
        # casts written as functions
        "bigint", "boolean", "date", "decimal", "double", "float", "int", "smallint",
        "string", "timestamp", "tinyint",
        # arrays, maps, structs (no sequence: it builds arrays of any size)
        "array", "array_contains", "array_distinct", "array_except", "array_intersect",
        "array_join", "array_max", "array_min", "array_position", "array_size",
        "array_union", "arrays_overlap", "cardinality", "element_at", "exists", "filter",
        "forall", "get", "map", "map_contains_key", "map_keys", "map_values", "named_struct",
        "size", "slice", "sort_array", "struct", "transform", "try_element_at",
    }
)

# Parse-tree node classes (simple names) accepted besides function calls: what the parser
# builds directly for operators and special syntax (``a || b``, ``x::int``, ``trim(BOTH
# ...)``, ``position(a IN b)``, ``struct(a AS b)``, lambdas of transform/filter).
ALLOWED_NODES: frozenset[str] = frozenset(
    {
        "Literal", "UnresolvedAttribute", "UnresolvedExtractValue", "UnresolvedFunction",
        "LambdaFunction", "UnresolvedNamedLambdaVariable", "CreateNamedStruct", "Alias",
        "Add", "Subtract", "Multiply", "Divide", "Remainder", "IntegralDivide", "Pmod",
        "UnaryMinus", "UnaryPositive", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
        "BitwiseNot", "EqualTo", "EqualNullSafe", "LessThan", "LessThanOrEqual",
        "GreaterThan", "GreaterThanOrEqual", "And", "Or", "Not", "In", "CaseWhen", "If",
        "Cast", "IsNull", "IsNotNull", "Like", "RLike", "ILike", "LikeAny", "LikeAll",
        "NotLikeAny", "NotLikeAll", "Concat", "Substring", "StringTrim", "StringTrimLeft",
        "StringTrimRight", "StringTrimBoth", "StringLocate", "Overlay", "TimestampAdd",
        "TimestampDiff",
    }
)

# Leaves a resolved expression may have: columns, literals, lambda variables and the
# shared-subexpression references Spark builds for BETWEEN.
_ALLOWED_LEAVES = frozenset(
    {"AttributeReference", "Literal", "NamedLambdaVariable", "CommonExpressionRef"}
)

_REFLECTION = frozenset({"reflect", "java_method", "try_reflect"})
# The clock and the session: a rerun of an as-of date must give the same tags, so rules
# compare columns (which the features stage computes relative to the as-of date).
_CLOCK = frozenset(
    {
        "current_date", "current_timestamp", "current_time", "current_timezone", "curdate",
        "now", "localtimestamp", "unix_timestamp", "current_user", "user", "session_user",
        "current_database", "current_schema", "current_catalog",
    }
)
_RANDOM = frozenset(
    {
        "rand", "random", "randn", "randstr", "uniform", "uuid", "shuffle",
        "monotonically_increasing_id", "spark_partition_id", "input_file_name",
        "input_file_block_start", "input_file_block_length",
    }
)
# Bare words the analyser turns into function calls when no column has that name.
_LITERAL_FUNCTIONS = frozenset(
    {"current_date", "current_timestamp", "current_time", "current_user", "user", "session_user"}
)

AGGREGATE = "aggregate functions are not allowed (expressions are evaluated per customer)"
WINDOW = "window functions (OVER) are not allowed"


@dataclass(frozen=True)
class Node:
    cls: str  # simple class name, e.g. "UnresolvedFunction"
    name_parts: str | None  # "[lower]" for functions and attributes, as Spark prints them
    leaf: bool


def _simple(class_name: str) -> str:
    return class_name.rsplit(".", 1)[-1].rstrip("$")


def tree_nodes(jexpr: Any) -> list[Node]:
    """Every node of a Catalyst expression reachable through ``children``, pre-order."""
    try:
        return [
            Node(
                _simple(d["class"]),
                d["nameParts"] if isinstance(d.get("nameParts"), str) else None,
                d.get("num-children") == 0,
            )
            for d in json.loads(jexpr.toJSON())
        ]
    except Exception:  # a node toJSON cannot print: walk the tree instead
        return _walk(jexpr)


def _walk(jexpr: Any) -> list[Node]:
    out: list[Node] = []
    stack = [jexpr]
    while stack:
        node = stack.pop()
        cls = _simple(node.getClass().getName())
        parts = (
            node.nameParts().mkString("[", ", ", "]")
            if cls in ("UnresolvedFunction", "UnresolvedAttribute")
            else None
        )
        children = node.children()
        out.append(Node(cls, parts, children.size() == 0))
        stack.extend(children.apply(i) for i in reversed(range(children.size())))
    return out


def _single_name(parts: str | None) -> str | None:
    """``"[lower]"`` -> ``"lower"``; None for a qualified (multi-part) name."""
    if parts is None or not (parts.startswith("[") and parts.endswith("]")):
        return None
    inner = parts[1:-1]
    return None if ", " in inner else inner.lower()


def _function_group(spark: SparkSession, name: str) -> str | None:
    """The builtin's group ("agg_funcs", "generator_funcs", ...), or None if not builtin."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    registry = jvm.org.apache.spark.sql.catalyst.analysis.FunctionRegistry.builtin()
    info = registry.lookupFunction(jvm.org.apache.spark.sql.catalyst.FunctionIdentifier.apply(name))
    return str(info.get().getGroup()) if info.isDefined() else None


def _function_problem(spark: SparkSession, parts: str | None, where: str) -> str:
    name = _single_name(parts)
    if name is None:
        shown = (parts or "?").strip("[]").replace(", ", ".")
        return f"function '{shown}' is not allowed in {where} (qualified function names)"
    if name in _REFLECTION:
        return f"function '{name}' is not allowed in {where} (it calls Java methods)"
    if name in _CLOCK:
        return (
            f"function '{name}' is not allowed in {where} (it depends on when it runs: "
            "compare columns instead)"
        )
    if name in _RANDOM:
        return f"function '{name}' is not allowed in {where} (nondeterministic)"
    group = _function_group(spark, name)
    if group is None:
        if not spark.catalog.functionExists(name):
            return f"unknown function '{name}'"
        return f"function '{name}' is not allowed in {where} (not a built-in function)"
    if group == "agg_funcs":
        return AGGREGATE
    if group == "window_funcs":
        return WINDOW
    if group == "generator_funcs":
        return f"generator function '{name}' is not allowed in {where} (one value per customer)"
    return f"function '{name}' is not allowed in {where}"


def _node_problem(node: Node, where: str) -> str:
    if "Subquery" in node.cls or node.cls in ("Exists", "ListQuery"):
        return f"subqueries are not allowed in {where} (an expression sees only the customer's row)"
    if "Window" in node.cls:
        return WINDOW
    if node.cls == "ExpressionWithUnresolvedIdentifier":
        return f"IDENTIFIER(...) is not allowed in {where}"
    if node.cls.endswith("Parameter"):
        return f"parameter markers are not allowed in {where}"
    return f"construct '{node.cls}' is not allowed in {where}"


def parse(spark: SparkSession, text: str) -> Any | None:
    """Spark's parse tree of ``text``, or None when it does not parse (analysis reports it)."""
    try:
        return spark._jsparkSession.sessionState().sqlParser().parseExpression(text)
    except Exception:  # the analysis that follows gives the one-line syntax error
        return None


def parsed_problem(spark: SparkSession, text: str, columns: set[str], where: str) -> str:
    """Why the parse tree of ``text`` is refused, or "" when every node is allowed.

    ``columns`` are the lower-case column names: a bare ``current_date`` is a column
    reference if such a column exists, else the analyser would make it the clock.
    """
    tree = parse(spark, text)
    if tree is None:
        return ""
    for node in tree_nodes(tree):
        if node.cls == "UnresolvedFunction":
            if _single_name(node.name_parts) not in ALLOWED_FUNCTIONS:
                return _function_problem(spark, node.name_parts, where)
        elif node.cls == "UnresolvedAttribute":
            name = _single_name(node.name_parts)
            if name in _LITERAL_FUNCTIONS and name not in columns:
                return _function_problem(spark, node.name_parts, where)
        elif node.cls not in ALLOWED_NODES:
            return _node_problem(node, where)
    return ""


def analysed_problem(jexpr: Any, where: str) -> str:
    """Why a resolved expression is refused, or "": the check after analysis."""
    if not jexpr.deterministic():
        return f"nondeterministic expressions are not allowed in {where}"
    nodes = tree_nodes(jexpr)
    for node in nodes:
        if "UDF" in node.cls or "UserDefined" in node.cls:
            return f"user-defined functions are not allowed in {where}"
        if "Aggregate" in node.cls:
            return AGGREGATE
        if "Subquery" in node.cls or "Window" in node.cls or node.cls in ("Exists", "ListQuery"):
            return _node_problem(node, where)
    bad = sorted({n.cls for n in nodes if n.leaf} - _ALLOWED_LEAVES)
    if bad:
        return f"construct '{bad[0]}' is not allowed in {where}"
    return ""


SQL_ON_FILES = "spark.sql.runSQLOnFiles"


@contextlib.contextmanager
def no_sql_on_files(spark: SparkSession) -> Iterator[None]:
    """``parquet.`/path``` and the like name no table while the block runs.

    Defence in depth for the stages that evaluate config expressions: should a subquery
    ever pass the allow-list, it still cannot read a file by path. A runtime SQL setting,
    restored on exit so a long-lived session (tests, notebooks) is left as it was; the
    stage's plans are analysed, and so settled, inside the block.
    """
    with conf_set(spark, SQL_ON_FILES, "false"):
        yield


P = ParamSpec("P")
R = TypeVar("R")


def without_sql_on_files(
    stage: Callable[Concatenate[SparkSession, P], R],
) -> Callable[Concatenate[SparkSession, P], R]:
    """``stage`` (a function of the session first) run inside :func:`no_sql_on_files`.

    For the stages whose config holds SQL expressions (tags, lifecycle, audiences):
    besides the allow-list, no SQL may read a file by path while they run.
    """

    @functools.wraps(stage)
    def guarded(spark: SparkSession, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with no_sql_on_files(spark):
            return stage(spark, *args, **kwargs)

    return guarded
