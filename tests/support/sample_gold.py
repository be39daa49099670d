"""Hand-made gold and ops tables of two as-of dates, as the stages would leave them.

Four segments with English and Chinese names, a few tags and audiences, a campaign
evaluation, stage runs, quarantined rows and a model's metadata.json: every section of
the report has something to show, and the second date has migration and tag changes.
Used by the report tests and by ``scripts/dev/report_screenshot.py``.

The table specs below restate docs/contracts.md on purpose: the report reads the tables
by name, so its tests check it against the contract, not against one stage's code.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from sparkseg.lakehouse import Lakehouse
from sparkseg.segment.model_store import (
    METADATA_FILE,
    CandidateScore,
    ModelMetadata,
    ModelStore,
    SegmentInfo,
)
from sparkseg.tables import DB, INT, OPS_QUARANTINE, OPS_RUNS, D, L, S, TableSpec, schema
from tests.support.delta import write_delta

PREV, AS_OF = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
P = ("as_of_date",)

SEGMENTS = TableSpec("gold/segments", schema(
    ("one_id", S), ("segment_id", INT), ("segment_name", S), ("segment_name_zh", S),
    ("distance", DB), ("model_version", INT), ("as_of_date", D)), P)
PROFILES = TableSpec("gold/segment_profiles", schema(
    ("as_of_date", D), ("segment_id", INT), ("model_version", INT), ("size", L), ("share", DB),
    ("name_en", S), ("name_zh", S)), P)
FEATURE_STATS = TableSpec("gold/segment_feature_stats", schema(
    ("as_of_date", D), ("segment_id", INT), ("feature", S), ("mean", DB), ("median", DB),
    ("lift_z", DB)), P)
MIGRATION = TableSpec("gold/segment_migration", schema(
    ("as_of_date", D), ("prev_as_of_date", D), ("from_segment_id", INT), ("to_segment_id", INT),
    ("customers", L)), P)
CUSTOMER_TAGS = TableSpec("gold/customer_tags", schema(
    ("one_id", S), ("tag", S), ("value", S), ("category", S), ("as_of_date", D),
    ("rule_version", S)), P)
TAG_COUNTS = TableSpec("gold/tag_counts", schema(
    ("as_of_date", D), ("tag", S), ("value", S), ("customers", L), ("prev_customers", L),
    ("change", L)), P)
AUDIENCE_MEMBERS = TableSpec("gold/audience_members", schema(
    ("audience", S), ("one_id", S), ("group", S), ("as_of_date", D)), P)
CAMPAIGN_EVALUATION = TableSpec("gold/campaign_evaluation", schema(
    ("audience", S), ("as_of_date", D), ("window_start", D), ("window_end", D), ("metric", S),
    ("target_n", L), ("target_responders", L), ("target_rate", DB), ("control_n", L),
    ("control_responders", L), ("control_rate", DB), ("diff", DB), ("ci_low", DB),
    ("ci_high", DB)), P)

NAMES = {
    0: ("Payroll mass", "代发工资客群"),
    1: ("Young digital", "年轻数字化客群"),
    2: ("Affluent investors", "高净值投资客群"),
    3: ("Dormant savers", "沉睡储蓄客群"),
}
# Customer i (of 40 per scale unit) is in segment SEG_NOW[i % 40] at AS_OF.
SEG_NOW = [0] * 16 + [1] * 12 + [2] * 8 + [3] * 4
# Lift z per segment (0..3) and feature; mean = base * (1 + z / 4), median a bit lower.
LIFTS: dict[str, tuple[float, tuple[float, float, float, float]]] = {
    "aum": (180_000.0, (-0.3, -0.6, 2.8, 0.4)),
    "total_balance": (150_000.0, (-0.2, -0.5, 2.5, 0.6)),
    "txn_count_90d": (45.0, (0.8, 1.2, 0.2, -2.1)),
    "debit_amount_90d": (24_000.0, (0.5, 0.9, 1.1, -1.9)),
    "event_count_90d": (60.0, (-0.2, 2.4, 0.1, -1.6)),
    "login_count_30d": (9.0, (-0.1, 2.1, 0.3, -1.4)),
    "age": (41.0, (-0.2, -1.3, 0.9, 1.2)),
    "tenure_days": (2100.0, (0.1, -1.0, 0.8, 1.1)),
    "salary_months_12m": (7.0, (1.9, 0.4, -0.2, -1.7)),
    "share_txn_mobile_app_90d": (0.45, (0.2, 1.7, -0.4, -1.2)),
    "wealth_purchase_count_365d": (1.5, (-0.4, -0.3, 3.4, -0.6)),
    "days_since_last_txn": (12.0, (-0.5, -0.6, -0.2, 3.1)),
}


def put(lake: Lakehouse, spec: TableSpec, rows: list[tuple[object, ...]]) -> None:
    """Write ``rows`` as a new Delta table with delta-rs (no Spark job: the sample is
    fixture data; the report's reads through the lakehouse are what is under test)."""
    write_delta(lake.uri(spec), spec, rows, mode="error", partitioned=True)


@dataclass(frozen=True)
class Sample:
    customers_now: int
    customers_prev: int
    segment_sizes: dict[int, int]


def seg_now(i: int) -> int:
    return SEG_NOW[i % 40]


# Of each 40 customers, these joined since the previous as-of (one per segment).
NEW = (15, 27, 35, 39)


def seg_prev(i: int) -> int:
    # A few customers of each 40 moved: three digital ones came from payroll, one payroll
    # customer was digital, one investor was a dormant saver, two dormant ones had payroll.
    j = i % 40
    if j in (16, 17, 18):
        return 0
    if j == 2:
        return 1
    if j == 28:
        return 3
    if j in (36, 37):
        return 0
    return seg_now(i)


def write_sample(lake: Lakehouse, *, scale: int = 1) -> Sample:
    """Write every gold/ops table for PREV and AS_OF plus model metadata; return counts."""
    n_now, n_prev = 40 * scale, 36 * scale + 2  # 2 customers left, 4*scale joined
    now = {f"c{i:05d}": seg_now(i) for i in range(n_now)}
    prev = {f"c{i:05d}": seg_prev(i) for i in range(n_now) if i % 40 not in NEW}
    prev.update({"gone1": 0, "gone2": 3})
    assert len(prev) == n_prev

    def seg_rows(assign: dict[str, int], as_of: dt.date) -> list[tuple[object, ...]]:
        return [(cid, s, *NAMES[s], 0.5 + (n % 10) / 10, 1, as_of)
                for n, (cid, s) in enumerate(sorted(assign.items()))]

    put(lake, SEGMENTS, seg_rows(prev, PREV) + seg_rows(now, AS_OF))

    sizes = {d: {s: sum(1 for v in a.values() if v == s) for s in NAMES}
             for d, a in ((PREV, prev), (AS_OF, now))}
    prof = [(d, s, 1, n, n / sum(sz.values()), *NAMES[s])
            for d, sz in sizes.items() for s, n in sz.items()]
    put(lake, PROFILES, prof)

    stats = [(d, s, f, base * (1 + z[s] / 4), base * (1 + z[s] / 4) * 0.9, z[s])
             for d in (PREV, AS_OF) for f, (base, z) in LIFTS.items() for s in NAMES]
    put(lake, FEATURE_STATS, stats)

    moves: dict[tuple[int | None, int | None], int] = {}
    for cid in set(prev) | set(now):
        key = (prev.get(cid), now.get(cid))
        moves[key] = moves.get(key, 0) + 1
    mig = [(AS_OF, PREV, a, b, n) for (a, b), n in moves.items()]
    put(lake, MIGRATION, mig)

    def tags_of(cid: str, s: int, as_of: dt.date) -> list[tuple[object, ...]]:
        i = int(cid[1:]) if cid[1:].isdigit() else 0
        out = []
        if s == 0 or (s == 1 and i % 3 == 0):
            out.append(("payroll", "true", "asset"))
        if s == 1 or (s == 0 and i % 5 == 0):
            out.append(("digital_active", "true", "behaviour"))
        if s == 2 or (s == 0 and i % 7 == 0 and as_of == AS_OF):
            out.append(("wealth_holder", "true", "asset"))
        if s == 3:
            out.append(("dormant", "true", "lifecycle"))
        habit = {0: "branch", 1: "mobile_app", 2: "mobile_app" if i % 2 else "wechat",
                 3: "branch"}[s]
        out.append(("channel_habit", habit, "channel"))
        return [(cid, t, v, c, as_of, "r1") for t, v, c in out]

    tag_rows = [r for d, a in ((PREV, prev), (AS_OF, now)) for cid, s in sorted(a.items())
                for r in tags_of(cid, s, d)]
    put(lake, CUSTOMER_TAGS, tag_rows)

    def counts(as_of: dt.date) -> dict[tuple[str, str], int]:
        c: dict[tuple[str, str], int] = {}
        for r in tag_rows:
            if r[4] == as_of:
                key = (str(r[1]), str(r[2]))
                c[key] = c.get(key, 0) + 1
        return c

    c_now, c_prev = counts(AS_OF), counts(PREV)
    tc = [(AS_OF, t, v, c_now.get((t, v), 0), c_prev.get((t, v)),
           c_now.get((t, v), 0) - c_prev.get((t, v), 0))
          for t, v in sorted(set(c_now) | set(c_prev))]
    put(lake, TAG_COUNTS, tc)

    members = []
    for cid, s in sorted(now.items()):
        i = int(cid[1:])
        group = "control" if i % 4 == 3 else "target"
        if s == 2 or (s == 0 and i % 4 == 0):
            members.append(("wealth_upsell", cid, group, AS_OF))
        if s == 3:
            members.append(("reactivation", cid, group, AS_OF))
        if s == 1:
            members.append(("digital_onboarding", cid, group, AS_OF))
    put(lake, AUDIENCE_MEMBERS, members)

    # as_of_date is the audience's date; the response window [start, end) follows it.
    sep = dt.date(2026, 9, 1)
    ev = [
        ("wealth_upsell", PREV, PREV, AS_OF, "wealth_purchase", 1200, 96, 0.08, 300, 12, 0.04,
         0.04, 0.011, 0.069),
        ("reactivation", PREV, PREV, AS_OF, "any_transaction", 400, 60, 0.15, 100, 13, 0.13,
         0.02, -0.055, 0.095),
        # An older audience of the same name and metric: the report shows the latest.
        ("reactivation", sep, sep, PREV, "any_transaction", 380, 30, 0.079,
         95, 9, 0.095, -0.016, -0.08, 0.05),
    ]
    put(lake, CAMPAIGN_EVALUATION, ev)

    start = dt.datetime(2026, 11, 1, 2, 0, 0)
    stage_rows: list[tuple[object, ...]] = []
    plan = [
        ("ingest", {"raw/customers": 0, "raw/transactions": 0, "raw/events": 0},
         {"silver/customers": n_now, "silver/transactions": 46 * n_now,
          "silver/events": 130 * n_now, "ops/quarantine": 12}),
        ("identity", {"silver/events": 1, "silver/identity_links": 1},
         {"silver/identity_map": 3 * n_now}),
        ("features", {"silver/customers": 1, "silver/transactions": 1, "silver/events": 1},
         {"silver/customer_features": n_now}),
        ("train", {"silver/customer_features": 1}, {}),
        ("score", {"silver/customer_features": 1}, {"gold/segments": n_now}),
        ("profile", {"gold/segments": 0, "silver/customer_features": 1},
         {"gold/segment_profiles": 4, "gold/segment_feature_stats": 4 * len(LIFTS),
          "gold/segment_migration": len(mig)}),
        ("tags", {"silver/customer_features": 1, "gold/segments": 0},
         {"gold/customer_tags": len(tag_rows), "gold/tag_counts": len(tc)}),
        ("audiences", {"gold/customer_tags": 0, "gold/segments": 0},
         {"gold/audience_members": len(members)}),
    ]
    for i, (stage, inputs, rows) in enumerate(plan):
        t = start + dt.timedelta(minutes=2 * i)
        if stage == "features":  # a failed attempt, then the retry that succeeded
            stage_rows.append((f"run{i}a", stage, AS_OF, "failed", "cfg1", "offline", t, 3.2,
                               inputs, {}, {}, "out of memory"))
            t += dt.timedelta(minutes=1)
        stage_rows.append((f"run{i}", stage, AS_OF, "succeeded", "cfg1", "offline", t,
                           12.5 + i, inputs, {k: 1 for k in rows}, rows, ""))
    stage_rows.append(("old", "ingest", PREV, "succeeded", "cfg0", "offline",
                       dt.datetime(2026, 10, 1, 2), 10.0, {}, {}, {"silver/customers": 1}, ""))
    put(lake, OPS_RUNS, stage_rows)

    q_at = dt.datetime(2026, 11, 1, 2, 1)
    quarantine = (
        [("raw/transactions", "amount_not_positive", "{}", "run0", q_at, AS_OF)] * 5
        + [("raw/transactions", "unknown_channel", "{}", "run0", q_at, AS_OF)] * 4
        + [("raw/events", "null_key", "{}", "run0", q_at, AS_OF)] * 2
        + [("raw/customers", "duplicate_key", "{}", "run0", q_at, AS_OF)]
        + [("raw/customers", "duplicate_key", "{}", "old", q_at, PREV)] * 3
    )
    put(lake, OPS_QUARANTINE, quarantine)

    write_metadata(lake)
    return Sample(n_now, n_prev, sizes[AS_OF])


SCORES = [
    ("kmeans", 4, 9_100.0, 0.41), ("kmeans", 5, 8_200.0, 0.37), ("kmeans", 6, 7_600.0, 0.33),
    ("kmeans", 7, 7_200.0, 0.30), ("kmeans", 8, 6_950.0, 0.28),
    ("bisecting_kmeans", 4, 9_600.0, 0.36), ("bisecting_kmeans", 5, 8_900.0, 0.34),
    ("bisecting_kmeans", 6, 8_100.0, 0.31), ("bisecting_kmeans", 7, 7_700.0, 0.29),
    ("bisecting_kmeans", 8, 7_400.0, 0.26),
]


def metadata(version: int = 1, *, k: int = 4, algorithm: str = "kmeans") -> ModelMetadata:
    """A model's metadata as train writes it (sparkseg.segment.model_store.ModelMetadata):
    the k-selection scores of :data:`SCORES` (the chosen pair flagged) and the four
    segments of :data:`NAMES` with their lifts. ``k`` and ``algorithm`` are the choice."""
    features = list(LIFTS)
    sizes = [SEG_NOW.count(s) for s in NAMES]
    return ModelMetadata(
        model_name="customer_segments", version=version,
        created_at=dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC), as_of_date=AS_OF,
        algorithm=algorithm, k=k, seed=1, max_iter=20, kmeans_solver="auto",
        features=features, preprocessing=[], impute_values={f: base for f, (base, _) in
                                                            LIFTS.items()},
        choice_rule="silhouette", min_segment_share=0.05, rule_satisfied=True,
        scores=[
            CandidateScore(algorithm=a, k=n, cost=c, silhouette=s, min_share=0.1, sizes=[],
                           fit_seconds=1.0, eligible=True, chosen=(a, n) == (algorithm, k))
            for a, n, c, s in SCORES
        ],
        input_versions={"silver/customer_features": 0}, training_rows=sum(sizes),
        population={f: {"mean": base, "std": base / 4} for f, (base, _) in LIFTS.items()},
        segments=[
            SegmentInfo(cluster=s, segment_id=s, size=sizes[s], share=sizes[s] / sum(sizes),
                        centroid={f: base * (1 + z[s] / 4) for f, (base, z) in LIFTS.items()},
                        lifts={f: z[s] for f, (_, z) in LIFTS.items()}, name_en=en,
                        name_zh=zh, matched=version > 1, match_distance=None)
            for s, (en, zh) in NAMES.items()
        ],
        previous_version=version - 1 or None, match_threshold=0.5,
        max_segment_id=max(NAMES), spark_version="4.1.1",
    )


def write_metadata(lake: Lakehouse, meta: ModelMetadata | None = None) -> Path:
    """Publish ``meta`` (default :func:`metadata`) where the model store keeps it, as
    ``ModelStore.save`` writes it (without the fitted pipeline, which the report never
    reads)."""
    meta = metadata() if meta is None else meta
    store = ModelStore(lake, lake.cfg.segment.model_name)
    folder = Path(store.path(meta.version))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / METADATA_FILE
    path.write_text(json.dumps(meta.model_dump(mode="json"), indent=2, ensure_ascii=False),
                    encoding="utf-8")
    return path
