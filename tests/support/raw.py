"""The raw tables' names: the keys of a test's raw rows (``{TRANSACTIONS: [...]}``)."""

from __future__ import annotations

from sparkseg import tables

CUSTOMERS = tables.RAW_CUSTOMERS.name
TRANSACTIONS = tables.RAW_TRANSACTIONS.name
BALANCES = tables.RAW_BALANCES.name
EVENTS = tables.RAW_EVENTS.name
LINKS = tables.RAW_IDENTITY_LINKS.name
