"""The reliability suite's one uninterrupted ``sparkseg run``: its inputs and what it left.

The ``e2e`` fixture (tests/reliability/conftest.py) runs it once per test session on
hand-built raw tables with planted personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sparkseg.tables import RAW_EVENTS, RAW_IDENTITY_LINKS
from tests.support.bank import RawData, before

# A key only this run uses, so a scan can prove the key itself never lands anywhere.
E2E_HASH_KEY = "e2e-only-key-3b9f71c2d8"
E2E_CUSTOMERS = 40


@dataclass(frozen=True)
class E2E:
    root: Path            # the warehouse
    config: Path          # its YAML config (offline engine, local[2])
    workdir: Path         # the subprocess's working directory
    log: str              # everything the command printed (stdout and stderr)
    seconds: float
    data: RawData

    @property
    def needles(self) -> list[str]:
        """Planted personal data (and the key) that no output may contain."""
        return [*self.data.phones, *self.data.id_numbers, *channel_ids(self.data), E2E_HASH_KEY]

    @property
    def env(self) -> dict[str, str]:
        return {"SPARKSEG_HASH_KEY": E2E_HASH_KEY}


def plant_quarantined_phones(data: RawData) -> None:
    """Rows ingest must quarantine that still carry raw phone numbers (hashed there)."""
    phone = data.phones[0]
    events = data.tables[RAW_EVENTS.name]
    template = dict(events[0])
    events += [
        {**template, "event_id": "PII-E-1", "id_type": "mobile", "id_value": phone},
        {**template, "event_id": "PII-E-2", "id_type": None, "id_value": data.phones[1]},
    ]
    data.tables[RAW_IDENTITY_LINKS.name].append({
        "id_type_a": "phone", "id_value_a": data.phones[2], "id_type_b": "customer_id",
        "id_value_b": "C000000003", "source": "crm", "observed_ts": before(30),
    })


CHANNEL_TYPES = ("device_id", "wechat_openid", "web_cookie")


def channel_ids(data: RawData) -> list[str]:
    """Every device id, WeChat openid and web cookie of the raw events and links."""
    pairs = [(r["id_type"], r["id_value"]) for r in data.tables[RAW_EVENTS.name]]
    for r in data.tables[RAW_IDENTITY_LINKS.name]:
        pairs += [(r["id_type_a"], r["id_value_a"]), (r["id_type_b"], r["id_value_b"])]
    return sorted({v for t, v in pairs if t in CHANNEL_TYPES and v})


def openid(i: int) -> str:
    return f"oWx-openid-{i + 1:05d}"


def cookie(i: int) -> str:
    return f"ck-cookie-{i + 1:05d}"


def plant_channel_ids(data: RawData, customers: int = 8) -> None:
    """WeChat openids and web cookies (device ids are there already) of valid and bad rows.

    Customer i's openid logs in and is linked to the customer; their cookie is linked to
    their device (a chain to the customer through the device's phone). Two quarantined
    events carry an openid and a device id (an unknown event type, a missing channel).
    """
    events, links = data.tables[RAW_EVENTS.name], data.tables[RAW_IDENTITY_LINKS.name]
    template = dict(events[0])
    for i in range(customers):
        events.append({**template, "event_id": f"WX-E-{i}", "channel": "wechat",
                       "id_type": "wechat_openid", "id_value": openid(i)})
        links.append({"id_type_a": "wechat_openid", "id_value_a": openid(i),
                      "id_type_b": "customer_id", "id_value_b": f"C{i + 1:09d}",
                      "source": "wechat_bind", "observed_ts": before(100)})
        links.append({"id_type_a": "web_cookie", "id_value_a": cookie(i),
                      "id_type_b": "device_id", "id_value_b": f"dev-{i + 1:06d}",
                      "source": "web_login", "observed_ts": before(90)})
    events += [
        {**template, "event_id": "PII-E-3", "id_type": "wechat_openid",
         "id_value": openid(0), "event_type": "dance"},
        {**template, "event_id": "PII-E-4", "id_type": "device_id",
         "id_value": "dev-000002", "channel": None},
    ]
