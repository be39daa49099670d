"""Config of the ``train``, ``score`` and ``profile`` stages."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class SegmentConfig(Section):
    model_name: str = "customer_segments"
    # None: the latest saved version; an int pins a version.
    model_version: int | None = None
    algorithms: tuple[str, ...] = ("kmeans",)
    k_min: int = Field(4, ge=2)
    k_max: int = Field(10, ge=2)
    seed: int = 7
    sample_fraction: float = Field(1.0, gt=0, le=1.0)
    sample_max_rows: int = Field(200_000, ge=100)
