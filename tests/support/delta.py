"""The tests' one Delta writer: delta-rs, no Spark job.

Input tables of a stage come from outside sparkseg anyway (core-banking extracts, the
gold tables a report reads); writing them with another Delta writer keeps the tests fast
on two cores and lets a test write what the Lakehouse would refuse (extra columns, a
wrong type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pyarrow as pa
from deltalake import write_deltalake

from sparkseg.tables import TableSpec

ARROW = {
    "string": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "decimal(18,2)": pa.decimal128(18, 2),
    "map<string,bigint>": pa.map_(pa.string(), pa.int64()),
}

Rows = Sequence[tuple[Any, ...]] | Sequence[Mapping[str, Any]]


def arrow_schema(spec: TableSpec, extra: Sequence[str] = ()) -> pa.Schema:
    """``spec``'s columns as Arrow types, then ``extra`` string columns."""
    fields = [(f.name, ARROW[f.dataType.simpleString()]) for f in spec.schema.fields]
    return pa.schema(fields + [(name, pa.string()) for name in extra])


def arrow_table(schema: pa.Schema, rows: Rows) -> pa.Table:
    """Rows as tuples in ``schema``'s order or as dicts by column name (missing: null)."""
    names = schema.names
    dicts = [r if isinstance(r, Mapping) else dict(zip(names, r, strict=True)) for r in rows]
    return pa.Table.from_arrays(
        [pa.array([d.get(f.name) for d in dicts], type=f.type) for f in schema], schema=schema
    )


def write_delta(
    uri: str,
    spec: TableSpec,
    rows: Rows,
    *,
    mode: Literal["error", "overwrite", "append"] = "overwrite",
    partitioned: bool = False,
    extra: Sequence[str] = (),
    schema: pa.Schema | None = None,
    replace_schema: bool = False,
) -> None:
    """One Delta commit of ``rows`` at ``uri`` (``spec``'s columns, ``extra`` strings).

    ``partitioned``: by ``spec.partition_by``; ``schema``: Arrow types of a test's own
    (a wrong type, a missing column); ``replace_schema``: the commit replaces the table's
    schema too, as a new extract of another shape would.
    """
    table = arrow_table(schema or arrow_schema(spec, extra), rows)
    write_deltalake(
        uri, table, mode=mode,
        partition_by=(list(spec.partition_by) or None) if partitioned else None,
        schema_mode="overwrite" if replace_schema else None,
    )
