"""Deterministic pseudo-random Columns derived from a seed and row keys.

``F.rand`` depends on how rows fall into partitions, so two runs with the same seed but a
different number of cores would differ. Every random value here is instead a hash of
(seed, salt, keys): the same customer gets the same values however the job is split.
Each use site passes its own ``salt`` so that draws are independent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

_BITS = 53  # a double holds 53 bits of mantissa: uniform values are exact multiples of 2**-53
_MASK = (1 << _BITS) - 1


def uniform(seed: int, salt: int, *keys: Column) -> Column:
    """A double in [0, 1), a pure function of ``(seed, salt, keys)``."""
    h = F.xxhash64(F.lit(seed).cast("long"), F.lit(salt), *keys)
    return h.bitwiseAND(F.lit(_MASK)).cast("double") / float(1 << _BITS)


def normal(seed: int, salt: int, *keys: Column) -> Column:
    """A standard-normal double (Box-Muller of two independent uniforms)."""
    u1 = uniform(seed, salt, *keys)
    u2 = uniform(seed, salt + 7919, *keys)
    return F.sqrt(F.log(1.0 - u1) * -2.0) * F.cos(u2 * (2.0 * math.pi))


def lognormal(median: Column | float, sigma: Column | float, z: Column) -> Column:
    """``median * exp(sigma * z)``: right-skewed, like money amounts."""
    med = median if isinstance(median, Column) else F.lit(median)
    return med * F.exp(z * sigma)


def int_between(u: Column, lo: int | Column, hi: int | Column) -> Column:
    """An int in [lo, hi] from a uniform ``u``."""
    lo_c = lo if isinstance(lo, Column) else F.lit(lo)
    hi_c = hi if isinstance(hi, Column) else F.lit(hi)
    return (lo_c + F.floor(u * (hi_c - lo_c + 1))).cast("int")


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}L" if abs(value) > 2**31 - 1 else str(value)
    if isinstance(value, float):
        return f"{value!r}D"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def array_literal(values: Sequence[Any]) -> Column:
    """An array literal in one expression (one JVM call instead of one per element)."""
    if not values:
        raise ValueError("an array literal needs at least one value")
    if any(isinstance(v, float) for v in values):
        values = [float(v) for v in values]
    return F.expr("array(" + ", ".join(_sql_literal(v) for v in values) + ")")


def lookup(idx: Column, values: Sequence[Any], *, nullable: bool = False) -> Column:
    """``values[idx]`` for a 0-based int Column (e.g. a persona parameter).

    Pass ``nullable=True`` where ``idx`` can be null: Spark's ``element_at`` returns the
    array's *last* element for a null index, not null.
    """
    value = F.element_at(array_literal(values), idx + 1)
    return F.when(idx.isNotNull(), value) if nullable else value


def pick(u: Column, weights: Mapping[str, float]) -> Column:
    """One of ``weights``' keys with probability proportional to its weight."""
    total = sum(weights.values())
    items = [(k, w) for k, w in weights.items() if w > 0]
    cum = 0.0
    out: Column | None = None
    for k, w in items[:-1]:
        cum += w / total
        out = F.when(u < cum, F.lit(k)) if out is None else out.when(u < cum, F.lit(k))
    last = F.lit(items[-1][0])
    return last if out is None else out.otherwise(last)


def pick_by(u: Column, idx: Column, tables: Sequence[Mapping[str, float]]) -> Column:
    """A key drawn from ``tables[idx]`` (one weight table per row group, e.g. persona).

    Compiles to one CASE over the union of keys with per-group cumulative thresholds
    looked up by ``idx`` (no higher-order functions, so code generation keeps it).
    """
    keys: list[str] = []
    for table in tables:
        keys += [k for k in table if k not in keys]
    return _draw(u, idx, tables, keys, [F.lit(k) for k in keys])


def pick_index_by(
    u: Column, idx: Column, tables: Sequence[Mapping[str, float]], keys: Sequence[str]
) -> Column:
    """Like :func:`pick_by`, but the int position of the drawn key in ``keys``.

    Ints are cheap to carry through the projections that follow; the builders turn them
    into code strings only in their final ``select``.
    """
    missing = {k for t in tables for k in t} - set(keys)
    if missing:
        raise ValueError(f"weights for keys outside the code list: {sorted(missing)}")
    return _draw(u, idx, tables, list(keys), [F.lit(i) for i in range(len(keys))])


def _draw(
    u: Column, idx: Column, tables: Sequence[Mapping[str, float]], keys: list[str],
    results: list[Column],
) -> Column:
    # Keys no group can draw are skipped: they would only add CASE branches.
    drawable = [i for i, k in enumerate(keys) if any(t.get(k, 0.0) > 0 for t in tables)]
    cums: dict[int, list[float]] = {i: [] for i in drawable}
    for table in tables:
        total = sum(max(0.0, table.get(keys[i], 0.0)) for i in drawable)
        if total <= 0:
            raise ValueError("every weight table needs a positive weight")
        last_positive = max(i for i in drawable if table.get(keys[i], 0.0) > 0)
        running = 0.0
        for i in drawable:
            running += max(0.0, table.get(keys[i], 0.0)) / total
            # Exactly 1.0 from the last positive weight on: rounding must not let a draw
            # fall through to a key this group never picks.
            cums[i].append(1.0 if i >= last_positive else running)
    out: Column | None = None
    for i in drawable[:-1]:
        cond = u < lookup(idx, cums[i])
        out = F.when(cond, results[i]) if out is None else out.when(cond, results[i])
    last = results[drawable[-1]]
    return last if out is None else out.otherwise(last)
