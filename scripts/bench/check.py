"""Do the peers compute what sparkseg computes? Column-by-column comparison of two outputs.

Both tables are read with pyarrow (this is a benchmark on small data; sparkseg itself never
collects customer rows) and aligned on ``customer_id``. Numbers agree within ``abs_tol``
(money is rounded to cents on both sides, so a half-cent rounding tie may differ by 0.01)
or ``rel_tol``; nulls must be in the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


@dataclass
class Comparison:
    rows_left: int
    rows_right: int
    columns: int = 0
    # column -> rows that differ
    differing: dict[str, int] = field(default_factory=dict)
    missing_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.differing and self.missing_rows == 0 and self.rows_left == self.rows_right

    def summary(self, left: str, right: str) -> str:
        head = (f"{right} vs {left}: {self.rows_right} vs {self.rows_left} rows, "
                f"{self.columns} columns compared")
        if self.ok:
            return head + ": all agree"
        bad = ", ".join(f"{c} ({n} rows)" for c, n in sorted(self.differing.items()))
        return head + f": {self.missing_rows} customers unmatched; differing: {bad or 'none'}"


def read_parquet_files(paths: Sequence[str]) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in paths], promote_options="permissive")


def _sorted(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[("customer_id", "ascending")]))


def compare_tables(
    left: pa.Table,
    right: pa.Table,
    *,
    columns: Sequence[str] | None = None,
    abs_tol: float = 0.0101,
    rel_tol: float = 1e-9,
) -> Comparison:
    """Compare ``right`` against ``left`` on the shared (or given) columns, by customer_id."""
    cols = [c for c in (columns or left.column_names) if c in right.column_names]
    cols = [c for c in cols if c != "customer_id"]
    out = Comparison(rows_left=left.num_rows, rows_right=right.num_rows, columns=len(cols))
    a, b = _sorted(left), _sorted(right)
    ids_a = a.column("customer_id").to_pylist()
    ids_b = b.column("customer_id").to_pylist()
    if ids_a != ids_b:
        out.missing_rows = len(set(ids_a) ^ set(ids_b))
        keep = sorted(set(ids_a) & set(ids_b))
        a = _sorted(a.filter(pc.is_in(a.column("customer_id"), pa.array(keep))))
        b = _sorted(b.filter(pc.is_in(b.column("customer_id"), pa.array(keep))))
    for c in cols:
        x, y = a.column(c), b.column(c)
        null_x = np.asarray(x.is_null().to_numpy(zero_copy_only=False))
        null_y = np.asarray(y.is_null().to_numpy(zero_copy_only=False))
        bad = null_x != null_y
        both = ~null_x & ~null_y
        if pa.types.is_floating(x.type) or pa.types.is_integer(x.type) or pa.types.is_decimal(x.type):
            xv = np.asarray(pc.fill_null(pc.cast(x, pa.float64()), 0.0).to_numpy(), dtype=float)
            yv = np.asarray(pc.fill_null(pc.cast(y, pa.float64()), 0.0).to_numpy(), dtype=float)
            close = np.isclose(xv, yv, rtol=rel_tol, atol=abs_tol)
            bad |= both & ~close
        else:
            xs, ys = x.to_pylist(), y.to_pylist()
            bad |= both & np.array([str(u) != str(v) for u, v in zip(xs, ys, strict=True)],
                                   dtype=bool)
        n = int(bad.sum())
        if n:
            out.differing[c] = n
    return out
