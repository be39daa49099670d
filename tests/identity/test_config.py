"""Identity config: the customer_id anchor can never be configured away."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkseg.errors import ConfigError
from tests.support.config import make_config


def test_customer_id_cannot_be_a_personal_id_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"identity\.pii_id_types"):
        make_config(tmp_path, identity={"pii_id_types": ["phone_hash", "customer_id"]})
