"""Config of ``sparkseg report``."""

from __future__ import annotations

from pydantic import Field

from sparkseg._model import Section


class ReportConfig(Section):
    # `sparkseg run` writes the report after the last stage unless this is false.
    enabled: bool = True
    title: str = "Customer segments"
    # Rows of the lift heatmap: the features with the largest |lift_z| in any segment.
    heatmap_features: int = Field(25, ge=1, le=200)
    # Tags shown per segment (ranked by lift over the whole base, see min_tag_share).
    top_tags: int = Field(5, ge=0, le=50)
    # A tag must cover at least this share of a segment to be one of its top tags,
    # so that a tag held by two customers does not top the list by lift alone.
    min_tag_share: float = Field(0.05, ge=0.0, le=1.0)
    # Tag values with the largest absolute change against the previous as-of.
    tag_changes: int = Field(15, ge=1, le=200)
    # Shown as each segment's key figures (mean and median) when gold/segment_feature_stats
    # has them; features missing there are skipped.
    key_features: tuple[str, ...] = (
        "aum",
        "total_balance",
        "txn_count_90d",
        "debit_amount_90d",
        "event_count_90d",
        "age",
        "tenure_days",
    )
