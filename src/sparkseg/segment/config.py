"""Config of the ``train``, ``score`` and ``profile`` stages.

Every key has a default that suits a local run on generated data; ``conf/local.yaml``
only overrides the k range and the algorithms. See ``docs/segments.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sparkseg._model import NAME_PATTERN, Section

Algorithm = Literal["kmeans", "bisecting_kmeans"]
Impute = Literal["median", "mean", "zero", "constant"]
Transform = Literal["log1p", "none"]
ChoiceRule = Literal["best_silhouette", "elbow"]
Solver = Literal["auto", "row", "block"]


class ClusterFeature(Section):
    """One input column of the clustering and how it is prepared.

    ``impute``: how nulls (and NaN) are filled, fitted on the training sample
    (``constant`` uses ``fill``). ``transform``: ``log1p`` is the signed
    ``sign(x) * log(1 + |x|)``, so it also suits signed money columns such as
    ``net_flow_90d``. ``weight`` multiplies the standardized column: 2.0 makes the
    feature count twice in the Euclidean distance, 0.5 half.
    """

    name: str
    impute: Impute = "median"
    fill: float = 0.0
    transform: Transform = "none"
    weight: float = Field(1.0, gt=0)


def _f(name: str, impute: Impute = "zero", transform: Transform = "log1p", fill: float = 0.0
       ) -> ClusterFeature:
    return ClusterFeature(name=name, impute=impute, transform=transform, fill=fill)


# Chosen from docs/contracts.md to tell apart wealth, activity, payroll, channel habit,
# digital engagement, age/tenure and trend: the axes along which bank personas differ.
# One column per axis where columns are near-duplicates (total_balance ~ aum, credit ~
# debit amount): every standardized column weighs the same, so duplicates would let one
# axis (activity) dominate the distance. Money and counts are heavy-tailed (log1p);
# shares and ages are already on a bounded scale.
DEFAULT_FEATURES: tuple[ClusterFeature, ...] = (
    _f("aum", "median"),
    _f("aum_change_90d"),
    _f("debit_amount_90d"),
    _f("txn_count_90d"),
    # Null means "never transacted": fill with a recency older than any window (3 years).
    _f("days_since_last_txn", "constant", fill=1095.0),
    _f("salary_months_12m", transform="none"),
    _f("wealth_purchase_count_365d"),
    _f("share_txn_branch_90d", transform="none"),
    _f("share_txn_mobile_app_90d", transform="none"),
    _f("share_txn_wechat_90d", transform="none"),
    _f("share_txn_third_party_90d", transform="none"),
    _f("event_count_90d"),
    _f("age", "median", transform="none"),
    _f("tenure_days", "median"),
    _f("txn_trend_ratio", "constant", fill=1.0),
    _f("net_flow_90d"),
)


class SegmentConfig(Section):
    model_name: str = Field("customer_segments", pattern=NAME_PATTERN)
    # None: the latest saved version; an int pins a version for scoring.
    model_version: int | None = None
    # train reuses the latest model when it was trained for the same as-of on identical
    # input and settings (fingerprints in its metadata); true forces a new version.
    retrain: bool = False
    # Daily runs score with the latest model while it is younger than this many days
    # (trained for an earlier as-of, with the same settings); 0 fits for every as-of.
    # A model is then trained on the first as-of at least this many days after it.
    retrain_every_days: int = Field(0, ge=0)
    features: tuple[ClusterFeature, ...] = DEFAULT_FEATURES
    algorithms: tuple[Algorithm, ...] = ("kmeans",)
    k_min: int = Field(4, ge=2)
    k_max: int = Field(10, ge=2)
    seed: int = 7
    max_iter: int = Field(20, ge=1)
    tol: float = Field(1e-4, ge=0)
    # MLlib KMeans solver (Spark >= 3.1): "block" stacks rows into matrices (faster for
    # dense low-dimensional data), "row" is the classic per-row loop, "auto" lets Spark pick.
    kmeans_solver: Solver = "auto"
    # Training sample: this share of customers, at most sample_max_rows of them.
    sample_fraction: float = Field(1.0, gt=0, le=1.0)
    sample_max_rows: int = Field(200_000, ge=100)
    # Silhouette of each candidate is measured on this many rows of the training sample.
    silhouette_sample_rows: int = Field(20_000, ge=50)
    choice_rule: ChoiceRule = "best_silhouette"
    # best_silhouette: candidates this close to the best silhouette count as ties, and
    # the tie with the most segments wins (0: strictly the best silhouette).
    silhouette_tolerance: float = Field(0.01, ge=0, le=1)
    # A candidate whose smallest cluster holds less than this share of the sample is
    # rejected (a cluster of a few outliers is not a marketing segment). 0.5 %: 5,000
    # customers of a million is a campaign; at 1M generated customers 2 % rejected the
    # k = 8 split that matched the personas (ARI 0.67) for k = 4 (ARI 0.37).
    min_segment_share: float = Field(0.005, ge=0, lt=1)
    # Id alignment: a new cluster keeps the id of its optimally assigned previous segment
    # when their centroids are within this RMS distance (population standard deviations
    # per feature, original units); otherwise it gets a new id.
    match_threshold: float = Field(0.5, gt=0)
    # Naming: up to this many phrases per name, from features with |lift_z| >= name_min_lift.
    name_max_phrases: int = Field(3, ge=1, le=6)
    name_min_lift: float = Field(0.3, ge=0)
    # Extra columns of silver/customer_features described in gold/segment_feature_stats
    # (the model's own features always are).
    profile_extra_features: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> SegmentConfig:
        if self.k_max < self.k_min:
            raise ValueError(f"k_max ({self.k_max}) must be >= k_min ({self.k_min})")
        if not self.algorithms:
            raise ValueError("algorithms must name at least one of kmeans, bisecting_kmeans")
        names = [f.name for f in self.features]
        if not names:
            raise ValueError("features must name at least one column")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"features listed twice: {', '.join(dupes)}")
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]
