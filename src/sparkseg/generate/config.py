"""Config of ``sparkseg generate`` (synthetic raw tables)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from sparkseg._model import Section

# Persona names are fixed by docs/contracts.md ("Synthetic data").
PERSONAS: tuple[str, ...] = (
    "payroll_mass",
    "young_digital",
    "affluent_investor",
    "silver_depositor",
    "small_business",
    "dormant_saver",
    "churning",
    "new_customer",
)


class PersonaShares(Section):
    """Mixture weights of the planted personas (normalised to sum 1)."""

    payroll_mass: float = Field(0.27, ge=0.0)
    young_digital: float = Field(0.18, ge=0.0)
    affluent_investor: float = Field(0.07, ge=0.0)
    silver_depositor: float = Field(0.14, ge=0.0)
    small_business: float = Field(0.08, ge=0.0)
    dormant_saver: float = Field(0.12, ge=0.0)
    churning: float = Field(0.07, ge=0.0)
    new_customer: float = Field(0.07, ge=0.0)

    @model_validator(mode="after")
    def _some_weight(self) -> PersonaShares:
        if sum(self.weights().values()) <= 0:
            raise ValueError("at least one persona share must be > 0")
        return self

    def weights(self) -> dict[str, float]:
        return {p: float(getattr(self, p)) for p in PERSONAS}

    def normalised(self) -> dict[str, float]:
        w = self.weights()
        total = sum(w.values())
        return {p: v / total for p, v in w.items()}


class GenerateConfig(Section):
    # Customer ids are "C" + 9 digits, hence the ceiling.
    customers: int = Field(20_000, ge=1, le=999_999_999)
    seed: int = 42
    months: int = Field(12, ge=1, le=60)
    # The last day covered by generated data (exclusive); the demo as-of date.
    end_date: dt.date = dt.date(2026, 11, 1)
    # Share of rows per raw table deliberately broken (null keys, duplicates, ...).
    dirty_share: float = Field(0.005, ge=0.0, le=0.5)
    txn_per_customer: float = Field(50.0, gt=0)
    events_per_customer: float = Field(50.0, gt=0)
    personas: PersonaShares = PersonaShares()
    # Marketing campaigns spread evenly over the period; each reaches this share of customers.
    campaigns: int = Field(4, ge=0, le=24)
    campaign_reach: float = Field(0.6, ge=0.0, le=1.0)
    # Chance that a touch on the customer's preferred channel is opened, and on any other.
    open_rate_preferred: float = Field(0.45, ge=0.0, le=1.0)
    open_rate_other: float = Field(0.04, ge=0.0, le=1.0)
    # Share of customers aged 30-45 who spend on children (MCC 5641, 5945, 8211, 8220, 8299).
    parent_share: float = Field(0.45, ge=0.0, le=1.0)
    # Share of customers whose app device reaches their customer_id only through the phone
    # (identity chains web_cookie -> device_id -> phone_hash -> customer_id).
    chain_share: float = Field(0.15, ge=0.0, le=1.0)
    # Share of customers whose household shares one tablet (2-5 customers per tablet).
    family_device_share: float = Field(0.02, ge=0.0, le=0.7)
    # Shop / branch-demo phones that many customers log in on (explosion-guard bait).
    shop_devices: int = Field(2, ge=0, le=1000)
    shop_device_customers: int = Field(30, ge=2)
    # Anonymous visitors (identifiers with no customer) per customer.
    anonymous_share: float = Field(0.1, ge=0.0, le=10.0)
    # Target size of one output Parquet file.
    target_file_mb: int = Field(128, ge=1)

    # --- ``sparkseg generate --append-days N`` (daily increments after ``end_date``) -----------
    # Customers who open an account on each appended day (new customer_id rows, persona
    # new_customer, with their own transactions, events and identity links that day). Their
    # numbers follow from the day (customers + day_index * new_customers_per_day + j), so
    # keep this value constant for a warehouse, like the seed.
    new_customers_per_day: int = Field(5, ge=0, le=100_000)
    # Share of existing customers one of whose rows of the 1-3 days before an appended day
    # arrive again that day (late-arriving exact copies: same ids and timestamps).
    late_duplicate_share: float = Field(0.01, ge=0.0, le=0.5)
    # New device_id -> customer_id links (an existing customer's new phone) per appended day.
    new_device_links_per_day: int = Field(3, ge=0, le=100_000)
    # Chance that an appended day also brings one device logged in by two existing customers
    # (joins their identity components).
    merge_link_chance: float = Field(0.3, ge=0.0, le=1.0)
    # Every n-th appended day (day index n-1, 2n-1, ...) raw/customers is rewritten in full
    # (mode overwrite) with a few customers' city, income_band or risk_level changed; 0: never.
    rewrite_customers_every: int = Field(7, ge=0)
    # Share of customers whose attributes such a rewrite changes.
    changed_customer_share: float = Field(0.01, ge=0.0, le=1.0)
