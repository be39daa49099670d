"""What a stage run read and wrote, collected for its ``ops/runs`` row.

The runner opens a ledger around a stage's ``run``; the lakehouse records every table
version it reads and every commit it makes into the open ledger (if any). A
context variable keeps stage code free of bookkeeping arguments.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Ledger:
    stage: str
    as_of: dt.date | None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    inputs: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    # Published export sets: audience -> set folder relative to the warehouse root.
    exports: dict[str, str] = field(default_factory=dict)
    # A note for the ``message`` column of a successful run (failures record the error).
    message: str = ""

    def record_read(self, table: str, version: int) -> None:
        # The first read of a table is the one the stage's results depend on.
        self.inputs.setdefault(table, version)

    def record_write(self, table: str, version: int, rows: int) -> None:
        self.outputs[table] = version
        self.rows[table] = self.rows.get(table, 0) + rows

    def record_export(self, audience: str, folder: str) -> None:
        self.exports[audience] = folder


_current: contextvars.ContextVar[Ledger | None] = contextvars.ContextVar("ledger", default=None)


def current() -> Ledger | None:
    return _current.get()


@contextlib.contextmanager
def open_ledger(stage: str, as_of: dt.date | None) -> Iterator[Ledger]:
    ledger = Ledger(stage, as_of)
    token = _current.set(ledger)
    try:
        yield ledger
    finally:
        _current.reset(token)
