"""Config of the ``features`` stage."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class FeaturesConfig(Section):
    # Lifecycle flags: tenure (days since open_date) below these marks the customer.
    honeymoon_days: int = Field(90, ge=1)
    new_customer_days: int = Field(180, ge=1)
    # The feature dictionary; relative paths resolve against the config file's folder.
    dictionary: str = "features.yaml"
    # Merchant category codes of child-related spending (clothing, toys, schools, tutoring).
    child_mcc: tuple[str, ...] = ("5641", "5945", "8211", "8220", "8299")
    # The longest lookback any feature uses: the stage reads only the silver event rows
    # of [as_of - history_days, as_of). It bounds days_since_first_txn (and the first
    # wealth purchase) and the "latest snapshot" of balances; the windowed features need
    # 365 days, hence the floor of 366.
    history_days: int = Field(730, ge=366)
