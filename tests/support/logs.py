"""What sparkseg logs during a block, as message lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def captured_log(level: int = logging.INFO) -> Iterator[list[str]]:
    """The messages of the ``sparkseg`` loggers at ``level`` or above while the block runs."""
    handler, logger = _Collect(), logging.getLogger("sparkseg")
    old = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
