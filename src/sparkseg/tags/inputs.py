"""The input columns tag rules may use, known without reading any data.

Rules are validated before the stage reads a row, so the validator needs the columns of
``silver/customer_features`` and ``gold/segments`` up front. The feature list comes from
the feature dictionary (``features.dictionary``, a YAML list of entries with ``name`` and
an optional ``type``) when it exists, else from the copy of docs/contracts.md below.
At run time the real tables are checked again (:func:`check_referenced_columns`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pyspark.sql import types as T

from sparkseg.config import Config
from sparkseg.errors import ConfigError, SchemaMismatchError

log = logging.getLogger(__name__)

FEATURES_TABLE = "silver/customer_features"
SEGMENTS_TABLE = "gold/segments"

_S, _D, _I, _L, _DB = T.StringType(), T.DateType(), T.IntegerType(), T.LongType(), T.DoubleType()


# docs/contracts.md, "silver/customer_features": money double, counts long, rates double,
# flags int 0/1. Used when the feature dictionary is not there (or names no type).
_CONTRACT_GROUPS: tuple[tuple[T.DataType, str], ...] = (
    (_S, "one_id customer_id"),
    (_D, "as_of_date"),
    (_L, "days_since_last_txn days_since_first_txn tenure_days"),
    (_L, "txn_count_30d txn_count_90d txn_count_365d"),
    (_DB, "debit_amount_30d debit_amount_90d debit_amount_365d"),
    (_DB, "credit_amount_30d credit_amount_90d credit_amount_365d"),
    (_L, "active_days_90d"),
    (_DB, "total_balance"),
    (_I, "age city_tier"),
    (_S, "gender income_band occupation risk_level"),
    (_DB, "balance_deposit balance_wealth balance_fund balance_insurance"),
    (_DB, "balance_credit_card balance_loan balance_mortgage aum aum_90d_ago aum_change_90d"),
    (_L, "balance_months_12m"),
    (_DB, "aum_cv_12m"),
    (_L, "product_count"),
    (_I, "has_credit_card has_loan has_mortgage has_wealth has_fund has_insurance"),
    (_L, "salary_count_365d salary_months_12m"),
    (_DB, "salary_amount_90d consumption_amount_90d"),
    (_L, "consumption_count_90d"),
    (_DB, "transfer_out_amount_90d consumption_share_90d child_related_spend_365d"),
    (_L, "wealth_purchase_count_30d wealth_purchase_count_365d"),
    (_DB, "wealth_purchase_amount_365d"),
    (_L, "days_since_first_wealth_purchase"),
    (_DB, "share_txn_branch_90d share_txn_atm_90d share_txn_mobile_app_90d"),
    (_DB, "share_txn_online_banking_90d share_txn_wechat_90d share_txn_mini_program_90d"),
    (_DB, "share_txn_pos_90d share_txn_third_party_90d"),
    (_L, "event_count_30d event_count_90d event_active_days_30d event_active_days_90d"),
    (_L, "login_count_30d login_count_90d page_view_count_90d product_view_count_90d"),
    (_L, "like_count_90d comment_count_90d share_count_90d invite_count_90d search_count_90d"),
    (_L, "days_since_last_event"),
    (_DB, "share_evt_app_90d share_evt_wechat_90d share_evt_mini_program_90d share_evt_web_90d"),
    (_L, "push_sent_90d push_opened_90d sms_sent_90d sms_clicked_90d"),
    (_L, "wechat_sent_90d wechat_opened_90d"),
    (_DB, "push_open_rate_90d sms_click_rate_90d wechat_open_rate_90d"),
    (_I, "is_new_customer in_honeymoon"),
    (_L, "txn_count_prev_30_120d"),
    (_DB, "txn_trend_ratio debit_trend_ratio net_flow_90d"),
)
CONTRACT_FEATURES: tuple[tuple[str, T.DataType], ...] = tuple(
    (name, dtype) for dtype, names in _CONTRACT_GROUPS for name in names.split()
)

# docs/contracts.md, "gold/segments" (without one_id and as_of_date, which features carry).
SEGMENT_COLUMNS: tuple[tuple[str, T.DataType], ...] = (
    ("segment_id", _I),
    ("segment_name", _S),
    ("segment_name_zh", _S),
    ("distance", _DB),
    ("model_version", _I),
)

_TYPE_NAMES: Mapping[str, T.DataType] = {
    "string": _S, "str": _S, "date": _D, "int": _I, "integer": _I, "long": _L, "bigint": _L,
    "double": _DB, "float": _DB, "boolean": T.BooleanType(), "bool": T.BooleanType(),
}


def _dictionary_entries(data: Any) -> list[Mapping[str, Any]] | None:
    if isinstance(data, Mapping):
        for key in ("features", "columns"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        return None
    return [e for e in data if isinstance(e, Mapping) and isinstance(e.get("name"), str)]


def _dictionary_path(cfg: Config) -> Path | None:
    # The default "conf/features.yaml" is given relative to the repository while
    # Config.resolve is relative to the config folder: accept either reading.
    configured = cfg.features.dictionary
    for candidate in (cfg.resolve(configured), cfg.resolve(Path(configured).name)):
        if candidate.is_file():
            return candidate
    return None


def feature_columns(cfg: Config) -> tuple[tuple[str, T.DataType], ...]:
    """Names and types of ``silver/customer_features``: dictionary first, contract else."""
    path = _dictionary_path(cfg)
    if path is None:
        return CONTRACT_FEATURES
    try:
        entries = _dictionary_entries(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError:
        raise ConfigError(f"{path}: invalid YAML in the feature dictionary") from None
    if not entries:
        log.warning("%s lists no features; using the contract's column list", path)
        return CONTRACT_FEATURES
    contract = dict(CONTRACT_FEATURES)
    out: dict[str, T.DataType] = {n: contract[n] for n in ("one_id", "customer_id", "as_of_date")}
    for entry in entries:
        name = entry["name"]
        typed = _TYPE_NAMES.get(str(entry.get("type", entry.get("dtype", ""))).lower())
        out[name] = typed or contract.get(name, _DB)
    return tuple(out.items())


def known_input_schema(cfg: Config) -> T.StructType:
    """The columns a rule may reference: features plus segment columns."""
    fields = [*feature_columns(cfg), *SEGMENT_COLUMNS]
    return T.StructType([T.StructField(n, t, True) for n, t in fields])


def check_referenced_columns(referenced: Iterable[str], available: Iterable[str]) -> None:
    """Raise :class:`SchemaMismatchError` naming the input table that lacks a used column."""
    have = set(available)
    segment_names = {n for n, _ in SEGMENT_COLUMNS}
    missing = sorted(set(referenced) - have)
    if not missing:
        return
    seg = [c for c in missing if c in segment_names]
    if seg:
        raise SchemaMismatchError(SEGMENTS_TABLE, missing=seg)
    raise SchemaMismatchError(FEATURES_TABLE, missing=missing)
