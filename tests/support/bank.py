"""Small hand-built raw tables for the reliability suite, written with delta-rs.

``build_raw`` makes a seeded, contract-clean bank of ``n`` customers in four behaviour
groups (payroll, wealthy, dormant, digital) so that every stage down to the audiences
has something to do, and plants personal data where the privacy tests look for it:
raw 11-digit phone numbers as ``phone_hash`` identifiers in events and identity links
(the contract's own case), and extra ``id_number`` / ``mobile`` columns in
raw/customers (the contract allows extra columns; the job must drop them).

Rows are dicts keyed by column name, so a test can copy and corrupt one.
Raw tables come from outside sparkseg (core-banking extracts), so they are written with
delta-rs directly: no Spark job, and extra columns the Lakehouse spec would refuse.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from sparkseg.tables import (
    RAW_CUSTOMERS,
    RAW_TABLES,
    TableSpec,
)
from tests.support.delta import write_delta
from tests.support.raw import BALANCES, CUSTOMERS, EVENTS, LINKS, TRANSACTIONS

AS_OF = dt.date(2026, 11, 1)
MIDNIGHT = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
Row = dict[str, Any]

# Extra columns of raw/customers that hold personal data (allowed by the contract,
# dropped by the job).
EXTRA_CUSTOMER_COLUMNS = ("id_number", "mobile")

def money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def before(days: float, *, hour: int = 10) -> dt.datetime:
    """A timestamp ``days`` before the as-of (at ``hour`` o'clock that day)."""
    return MIDNIGHT - dt.timedelta(days=days) + dt.timedelta(hours=hour)


@dataclass
class RawData:
    tables: dict[str, list[Row]]
    phones: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)

    def copy(self) -> RawData:
        return RawData(
            {name: [dict(r) for r in rows] for name, rows in self.tables.items()},
            list(self.phones),
            list(self.id_numbers),
        )


def _phone(rng: random.Random) -> str:
    return "139" + "".join(rng.choice("0123456789") for _ in range(8))


def _id_number(rng: random.Random, birth: dt.date) -> str:
    # Region (6) + birth date (8) + sequence (3) + check digit (1): 18 digits.
    region = "".join(rng.choice("0123456789") for _ in range(6))
    tail = "".join(rng.choice("0123456789") for _ in range(4))
    return f"{region}{birth:%Y%m%d}{tail}"


def build_raw(n: int, *, seed: int = 7) -> RawData:
    """``n`` customers with transactions, month-end balances, events and identity links."""
    rng = random.Random(seed)
    data = RawData({spec.name: [] for spec in RAW_TABLES})
    customers, txns = data.tables[CUSTOMERS], data.tables[TRANSACTIONS]
    balances, events = data.tables[BALANCES], data.tables[EVENTS]
    links = data.tables[LINKS]
    groups = ("payroll", "wealthy", "dormant", "digital")
    month_ends = [dt.date(2026, 10, 31), dt.date(2026, 9, 30), dt.date(2026, 8, 31),
                  dt.date(2026, 7, 31)]
    for i in range(n):
        cid = f"C{i + 1:09d}"
        group = groups[i % len(groups)]
        birth = dt.date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        phone, idn = _phone(rng), _id_number(rng, birth)
        data.phones.append(phone)
        data.id_numbers.append(idn)
        customers.append({
            "customer_id": cid, "birth_date": birth, "gender": rng.choice("FM"),
            "city": rng.choice(["Shanghai", "Chengdu", "Wuxi"]), "city_tier": 1 + i % 3,
            "occupation": rng.choice(["engineer", "teacher", "retired", "owner"]),
            "income_band": rng.choice(["<5k", "5-10k", "10-20k", ">20k"]),
            "open_date": dt.date(2010 + rng.randrange(16), 1 + rng.randrange(12), 1),
            "risk_level": rng.choice(["R1", "R2", "R3"]), "branch_id": f"b{i % 5:02d}",
            "id_number": idn, "mobile": phone,
        })
        # Transactions: count, recency and mix depend on the group.
        n_txn = {"payroll": 10, "wealthy": 6, "dormant": 2, "digital": 12}[group]
        oldest = 200 if group == "dormant" else 120
        newest = 100 if group == "dormant" else 1
        for j in range(n_txn):
            day = rng.uniform(newest, oldest)
            salary = group == "payroll" and j < 3
            wealth = group == "wealthy" and j < 2
            amount = (rng.uniform(8000, 15000) if salary
                      else rng.uniform(20000, 200000) if wealth
                      else rng.uniform(5, 3000))
            txns.append({
                "txn_id": f"T{i + 1:06d}-{j:03d}", "customer_id": cid,
                "account_id": f"A{i + 1:06d}", "txn_ts": before(j * 30 + 5 if salary else day),
                "amount": money(amount), "currency": "CNY",
                "direction": "credit" if salary else "debit",
                "channel": ("mobile_app" if group == "digital"
                            else rng.choice(["branch", "atm", "pos", "wechat"])),
                "category": ("salary" if salary else "wealth_purchase" if wealth
                             else rng.choice(["consumption", "transfer", "fee"])),
                "product_type": "wealth" if wealth else "deposit",
                "mcc": rng.choice([None, "5411", "5641", "5812"]),
            })
        for snap in month_ends:
            base = {"wealthy": 600000.0, "payroll": 30000.0, "dormant": 80000.0,
                    "digital": 8000.0}[group]
            balances.append({"customer_id": cid, "product_type": "deposit",
                             "balance": money(base * rng.uniform(0.8, 1.2)),
                             "snapshot_date": snap})
            if group == "wealthy":
                balances.append({"customer_id": cid, "product_type": "wealth",
                                 "balance": money(base * rng.uniform(1, 2)),
                                 "snapshot_date": snap})
        # Events: logins and views by customer id, phone or device; campaign touches.
        device = f"dev-{i + 1:06d}"
        n_evt = {"payroll": 4, "wealthy": 3, "dormant": 1, "digital": 10}[group]
        for j in range(n_evt):
            id_type, id_value = [("customer_id", cid), ("phone_hash", phone),
                                 ("device_id", device)][j % 3]
            events.append({
                "event_id": f"E{i + 1:06d}-{j:03d}", "event_ts": before(rng.uniform(1, 80)),
                "channel": "app" if j % 2 else "wechat", "id_type": id_type,
                "id_value": id_value,
                "event_type": rng.choice(["login", "page_view", "product_view", "search"]),
                "campaign_id": None, "product_id": None,
            })
        # A campaign: push (digital answers), sms (payroll answers).
        if group in ("payroll", "digital"):
            sent, opened, channel = (("push_sent", "push_opened", "app") if group == "digital"
                                     else ("sms_sent", "sms_clicked", "sms"))
            for j, etype in enumerate((sent, opened, sent)):
                events.append({
                    "event_id": f"M{i + 1:06d}-{j:03d}", "event_ts": before(20 - j),
                    "channel": channel, "id_type": "customer_id", "id_value": cid,
                    "event_type": etype, "campaign_id": "CMP01", "product_id": None,
                })
        links.append({"id_type_a": "phone_hash", "id_value_a": phone, "id_type_b": "customer_id",
                      "id_value_b": cid, "source": "crm", "observed_ts": before(300)})
        links.append({"id_type_a": "device_id", "id_value_a": device,
                      "id_type_b": "phone_hash", "id_value_b": phone, "source": "app_login",
                      "observed_ts": before(200)})
    # Extreme but valid values: the contract has no upper bound on an amount.
    txns.append({**txns[0], "txn_id": "T-EXTREME", "amount": Decimal("1000000000000000.00"),
                 "txn_ts": before(3)})
    # A row after the as-of (a back-fill's later data): valid, not used by this as-of.
    txns.append({**txns[0], "txn_id": "T-AFTER-AS-OF", "txn_ts": MIDNIGHT + dt.timedelta(hours=5)})
    return data


def write_raw_table(
    root: str | Path, spec: TableSpec, rows: Sequence[Row], *,
    extra: Sequence[str] = (), schema: pa.Schema | None = None,
) -> None:
    """Replace ``<root>/<spec.name>`` with ``rows`` (one Delta commit, delta-rs)."""
    write_delta(f"{root}/{spec.name}", spec, rows, extra=extra, schema=schema, replace_schema=True)


def write_raw(root: str | Path, tables: Mapping[str, Sequence[Row]], *,
              with_personal_extras: bool = True) -> None:
    """Write every raw table of the contract (raw/customers with its extra columns)."""
    for spec in RAW_TABLES:
        extra = EXTRA_CUSTOMER_COLUMNS if (spec is RAW_CUSTOMERS and with_personal_extras) else ()
        write_raw_table(root, spec, tables.get(spec.name, ()), extra=extra)
