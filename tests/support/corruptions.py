"""Row corruptions the raw contract forbids, each with the quarantine reason it must get.

A corruption copies a clean template row of its table and breaks exactly one rule, so
the expected reason is known (the first failing rule of sparkseg.ingest.validate).
Broken rows get fresh keys where the key matters, so they never collide with a clean
row; a ``duplicate_key`` is an exact copy of a clean row (either copy may survive).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sparkseg.identity.config import IdentityConfig
from sparkseg.tables import (
    ID_TYPES,
    RAW_TABLES,
    TableSpec,
)
from tests.support.bank import Row
from tests.support.raw import BALANCES, CUSTOMERS, EVENTS, LINKS, TRANSACTIONS
from tests.support.warehouse import keyed_hash

FUTURE_TS = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
PLACEHOLDER_TS = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)   # before ingest.earliest_event_date
JUST_TOO_OLD_TS = dt.datetime(1989, 12, 31, 23, 59, tzinfo=dt.UTC)
FUTURE_DATE = dt.date(2099, 12, 31)

Make = Callable[[Row, int], Row]


@dataclass(frozen=True)
class Kind:
    table: str
    reason: str
    make: Make
    # A copy of a clean row: only meaningful while the clean rows are in the table.
    duplicate: bool = False


def _set(**changes: Any) -> Make:
    def make(row: Row, i: int) -> Row:
        return {**row, **{k: (v(i) if callable(v) else v) for k, v in changes.items()}}
    return make


def _copy(row: Row, i: int) -> Row:
    return dict(row)


T, C, B, E, L = (TRANSACTIONS, CUSTOMERS, BALANCES,
                 EVENTS, LINKS)


def _tid(i: int) -> str:
    return f"BAD-T-{i}"


def _eid(i: int) -> str:
    return f"BAD-E-{i}"


def _cid(i: int) -> str:
    return f"BAD-C-{i}"


KINDS: dict[str, Kind] = {
    # raw/customers
    "customer_null_key": Kind(C, "null_key", _set(customer_id=None)),
    "customer_blank_key": Kind(C, "null_key", _set(customer_id="   ")),
    "customer_future_birth": Kind(C, "future_date:birth_date",
                                  _set(customer_id=_cid, birth_date=FUTURE_DATE)),
    "customer_ancient_birth": Kind(C, "ancient_date:birth_date",
                                   _set(customer_id=_cid, birth_date=dt.date(1899, 12, 31))),
    "customer_future_open": Kind(C, "future_date:open_date",
                                 _set(customer_id=_cid, open_date=FUTURE_DATE)),
    "customer_duplicate": Kind(C, "duplicate_key", _copy, duplicate=True),
    # raw/transactions
    "txn_null_key": Kind(T, "null_key", _set(txn_id=None)),
    "txn_null_customer": Kind(T, "null_value:customer_id", _set(txn_id=_tid, customer_id=None)),
    "txn_null_ts": Kind(T, "null_value:txn_ts", _set(txn_id=_tid, txn_ts=None)),
    "txn_null_amount": Kind(T, "null_value:amount", _set(txn_id=_tid, amount=None)),
    "txn_null_direction": Kind(T, "null_value:direction", _set(txn_id=_tid, direction=None)),
    "txn_unknown_direction": Kind(T, "unknown_code:direction", _set(txn_id=_tid, direction="in")),
    "txn_unknown_channel": Kind(T, "unknown_code:channel", _set(txn_id=_tid, channel="fax")),
    "txn_unknown_category": Kind(T, "unknown_code:category",
                                 _set(txn_id=_tid, category="Salary")),  # case matters
    "txn_unknown_product": Kind(T, "unknown_code:product_type",
                                _set(txn_id=_tid, product_type="crypto")),
    "txn_zero_amount": Kind(T, "non_positive_amount", _set(txn_id=_tid, amount=Decimal("0.00"))),
    "txn_negative_amount": Kind(T, "non_positive_amount",
                                _set(txn_id=_tid, amount=Decimal("-1000000000000000.00"))),
    "txn_future_ts": Kind(T, "future_timestamp", _set(txn_id=_tid, txn_ts=FUTURE_TS)),
    "txn_placeholder_ts": Kind(T, "ancient_timestamp", _set(txn_id=_tid, txn_ts=PLACEHOLDER_TS)),
    "txn_just_too_old_ts": Kind(T, "ancient_timestamp", _set(txn_id=_tid, txn_ts=JUST_TOO_OLD_TS)),
    "txn_duplicate": Kind(T, "duplicate_key", _copy, duplicate=True),
    # raw/balances
    "balance_null_customer": Kind(B, "null_key", _set(customer_id=None)),
    "balance_null_product": Kind(B, "null_key", _set(product_type=None)),
    "balance_null_date": Kind(B, "null_key", _set(snapshot_date=None)),
    "balance_null_balance": Kind(B, "null_value:balance", _set(balance=None)),
    "balance_unknown_product": Kind(B, "unknown_code:product_type", _set(product_type="gold")),
    "balance_future_date": Kind(B, "future_date:snapshot_date", _set(snapshot_date=FUTURE_DATE)),
    "balance_ancient_date": Kind(B, "ancient_date:snapshot_date",
                                 _set(snapshot_date=dt.date(1985, 1, 31))),
    "balance_duplicate": Kind(B, "duplicate_key", _copy, duplicate=True),
    # raw/events (a phone_hash template: its value must be hashed in the quarantine too)
    "event_null_key": Kind(E, "null_key", _set(event_id=None)),
    "event_null_ts": Kind(E, "null_value:event_ts", _set(event_id=_eid, event_ts=None)),
    "event_null_id_type": Kind(E, "null_value:id_type", _set(event_id=_eid, id_type=None)),
    "event_null_id_value": Kind(E, "null_value:id_value", _set(event_id=_eid, id_value=None)),
    "event_unknown_channel": Kind(E, "unknown_code:channel", _set(event_id=_eid, channel="tv")),
    "event_unknown_id_type": Kind(E, "unknown_code:id_type", _set(event_id=_eid, id_type="mobile")),
    "event_unknown_type": Kind(E, "unknown_code:event_type", _set(event_id=_eid, event_type="dance")),
    "event_future_ts": Kind(E, "future_timestamp", _set(event_id=_eid, event_ts=FUTURE_TS)),
    "event_ancient_ts": Kind(E, "ancient_timestamp", _set(event_id=_eid, event_ts=PLACEHOLDER_TS)),
    "event_duplicate": Kind(E, "duplicate_key", _copy, duplicate=True),
    # raw/identity_links
    "link_null_value": Kind(L, "null_key", _set(id_value_b=None)),
    "link_blank_type": Kind(L, "null_key", _set(id_type_a="")),
    "link_unknown_type_a": Kind(L, "unknown_code:id_type_a", _set(id_type_a="phone")),
    "link_unknown_type_b": Kind(L, "unknown_code:id_type_b", _set(id_type_b="CUSTOMER_ID")),
    "link_future_ts": Kind(L, "future_timestamp", _set(observed_ts=FUTURE_TS)),
    "link_ancient_ts": Kind(L, "ancient_timestamp", _set(observed_ts=PLACEHOLDER_TS)),
    "link_duplicate": Kind(L, "duplicate_key", _copy, duplicate=True),
}


def template(rows: Sequence[Row], table: str, i: int) -> Row:
    """A clean row to corrupt; events and links prefer ones that carry a phone number."""
    if table in (E, L):
        phoney = [r for r in rows if "phone_hash" in (r.get("id_type"), r.get("id_type_a"),
                                                      r.get("id_type_b"))]
        rows = phoney or rows
    return rows[i % len(rows)]


def corrupt(
    clean: Mapping[str, Sequence[Row]], kinds: Sequence[str], *, emptied: frozenset[str]
) -> tuple[dict[str, list[Row]], list[tuple[str, str, Row]]]:
    """Raw tables with the corruptions added, and the expected (table, reason, row) list.

    Tables in ``emptied`` keep none of their clean rows: they hold only the bad rows
    (or nothing). Templates always come from ``clean``.
    """
    tables = {name: ([] if name in emptied else [dict(r) for r in rows])
              for name, rows in clean.items()}
    expected = []
    for i, name in enumerate(kinds):
        kind = KINDS[name]
        row = kind.make(template(clean[kind.table], kind.table, i), i)
        tables[kind.table].append(row)
        expected.append((kind.table, kind.reason, row))
    return tables, expected


# --- what ops/quarantine should hold --------------------------------------------------------

_PERSONAL_PAIRS = {E: (("id_type", "id_value"),),
                   L: (("id_type_a", "id_value_a"), ("id_type_b", "id_value_b"))}
# Only the types ingest keeps in clear by default (customer_id): every channel id is hashed.
_PLAIN_TYPES = {t for t in ID_TYPES if t not in IdentityConfig().pii_id_types}
_SPECS: dict[str, TableSpec] = {s.name: s for s in RAW_TABLES}


def stored(table: str, row: Row) -> Row:
    """The row as ingest stores it: personal (or unknown-typed) identifiers hashed."""
    out = dict(row)
    for type_col, value_col in _PERSONAL_PAIRS.get(table, ()):
        if out.get(value_col) is not None and out.get(type_col) not in _PLAIN_TYPES:
            out[value_col] = keyed_hash(out[value_col])
    return out


def canonical(table: str, row: Row) -> tuple[Any, ...]:
    """Contract columns in order, with comparable Python values."""
    out = []
    for f in _SPECS[table].schema.fields:
        v = row.get(f.name)
        kind = f.dataType.simpleString()
        if v is None:
            out.append(None)
        elif kind == "timestamp":
            ts = v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v)
            out.append(ts.astimezone(dt.UTC))
        elif kind == "date":
            out.append(v if isinstance(v, dt.date) else dt.date.fromisoformat(v))
        elif kind.startswith("decimal"):
            out.append(Decimal(str(v)))
        else:
            out.append(v)
    return tuple(out)


def expected_quarantine(expected: Sequence[tuple[str, str, Row]]) -> Counter[tuple[Any, ...]]:
    return Counter((t, r, canonical(t, stored(t, row))) for t, r, row in expected)


def actual_quarantine(rows: Sequence[Any]) -> Counter[tuple[Any, ...]]:
    """``ops/quarantine`` rows (source_table, reason, row_json) in the same form."""
    return Counter(
        (r["source_table"], r["reason"],
         canonical(r["source_table"], json.loads(r["row_json"], parse_float=Decimal)))
        for r in rows
    )
