"""Table and model paths, built only from configured names that cannot escape the root."""

from __future__ import annotations

import re

from sparkseg._model import NAME_PATTERN
from sparkseg.errors import InvalidNameError

_NAME = re.compile(NAME_PATTERN)
LAYERS = ("raw", "silver", "gold", "ops", "models", "reports", "exports")


def check_name(name: str) -> str:
    """Return ``name`` if it is a plain name (no separators, no ``..``), else raise."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidNameError(str(name))
    return name


def table_uri(root: str, table: str) -> str:
    """``root/layer/name`` for a ``layer/name`` table reference, each part checked."""
    parts = table.split("/")
    if len(parts) != 2 or parts[0] not in LAYERS:
        raise InvalidNameError(table)
    layer, name = parts
    check_name(name)
    return join(root, layer, name)


def join(root: str, *parts: str) -> str:
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\\" in part:
            raise InvalidNameError(part)
    return "/".join([root.rstrip("/"), *parts])
