"""Config of the ``audiences`` stage and of campaign post-evaluation."""

from __future__ import annotations

from pydantic import Field, model_validator

from sparkseg._model import Section
from sparkseg.tables import EVENT_TYPES, TXN_CATEGORIES


class ResponseMetric(Section):
    """What counts as a response to a campaign: any of these events or transactions."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    event_types: tuple[str, ...] = ()
    txn_categories: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _known_codes(self) -> ResponseMetric:
        if not self.event_types and not self.txn_categories:
            raise ValueError(f"metric {self.name}: give event_types and/or txn_categories")
        bad = [e for e in self.event_types if e not in EVENT_TYPES]
        bad += [c for c in self.txn_categories if c not in TXN_CATEGORIES]
        if bad:
            raise ValueError(f"metric {self.name}: unknown event type or category {bad[0]!r}")
        return self


_DEFAULT_METRICS = (
    # Any campaign touch answered: the first-loan example's opens and clicks.
    ResponseMetric(
        name="campaign_response",
        event_types=("push_opened", "sms_clicked", "wechat_msg_opened"),
    ),
    # The business outcome of a loan campaign.
    ResponseMetric(name="loan_disbursement", txn_categories=("loan_disbursement",)),
)


class EvaluationConfig(Section):
    # Evaluate, at each audiences run, the latest audience whose window has closed.
    enabled: bool = True
    # Campaign window [as_of, as_of + window_days) after an audience's as-of date.
    window_days: int = Field(14, ge=1, le=366)
    # Two-sided confidence level of the interval for the rate difference.
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    metrics: tuple[ResponseMetric, ...] = Field(default=_DEFAULT_METRICS, min_length=1)

    @model_validator(mode="after")
    def _unique_metrics(self) -> EvaluationConfig:
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metric names must be unique")
        return self


class AudiencesConfig(Section):
    # Relative to the config file's folder (Config.resolve).
    definitions: str = "audiences.yaml"
    # Files per exported audience (1: one CSV/Parquet file a marketing system picks up).
    export_files: int = Field(1, ge=1)
    evaluation: EvaluationConfig = EvaluationConfig()
