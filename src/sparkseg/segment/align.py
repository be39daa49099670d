"""Stable segment ids: match a new model's clusters to the previous model's segments.

Centroids are compared in the ORIGINAL feature space (per-cluster means of the imputed
raw features), because each model has its own scaler: scaled spaces of two models are
not comparable, original units are. Each feature difference is divided by the
population standard deviation of that feature, and the distance is the root mean
square over the features both models share, so that the threshold reads as "about
this many standard deviations per feature" whatever the number of features.

The optimal assignment is scipy's ``linear_sum_assignment`` (a Jonker-Volgenant
shortest augmenting path solver; rectangular matrices allowed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

Centroids = Mapping[int, Mapping[str, float]]


def centroid_distances(
    new: Centroids, previous: Centroids, scale: Mapping[str, float]
) -> tuple[list[int], list[int], np.ndarray]:
    """RMS standardized distance between every new cluster and previous segment.

    Returns (new cluster keys, previous segment keys, matrix[new, previous]). Features
    missing on either side or with zero/absent scale are left out.
    """
    new_keys, prev_keys = sorted(new), sorted(previous)
    shared = set.intersection(*(set(c) for c in [*new.values(), *previous.values()]))
    feats = sorted(f for f in shared if scale.get(f) and math.isfinite(scale[f]) and scale[f] > 0)
    if not feats:
        return new_keys, prev_keys, np.full((len(new_keys), len(prev_keys)), np.inf)
    s = np.array([scale[f] for f in feats])
    a = np.array([[new[k][f] for f in feats] for k in new_keys]) / s
    b = np.array([[previous[k][f] for f in feats] for k in prev_keys]) / s
    diff = a[:, None, :] - b[None, :, :]
    return new_keys, prev_keys, np.sqrt((diff**2).mean(axis=2))


@dataclass(frozen=True)
class Assignment:
    """The segment id a cluster of the new model gets, and how."""

    cluster: int
    segment_id: int
    matched: bool  # True: inherited from the previous model's segment of the same id
    distance: float | None  # to the matched previous segment


def assign_segment_ids(
    new: Centroids,
    sizes: Mapping[int, int],
    previous: Centroids | None,
    scale: Mapping[str, float],
    *,
    threshold: float,
    next_id: int,
) -> dict[int, Assignment]:
    """Segment id per new cluster.

    ``new``: cluster -> feature -> centroid; ``previous``: segment id -> feature ->
    centroid (None for the first model). Clusters matched (optimal assignment,
    distance <= ``threshold``) keep the previous segment's id; the others get
    ``next_id``, ``next_id + 1``, ... in order of decreasing size (then cluster number),
    so the first model's ids do not depend on the algorithm's cluster numbering.
    """
    out: dict[int, Assignment] = {}
    if previous and new:
        new_keys, prev_keys, dist = centroid_distances(new, previous, scale)
        if np.isfinite(dist).all():
            # Capping at the threshold makes "leave unmatched" cost the same as any
            # too-distant match, so the assignment maximises good matches, not total fit.
            rows, cols = linear_sum_assignment(np.minimum(dist, threshold))
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                if dist[i, j] <= threshold:
                    out[new_keys[i]] = Assignment(
                        new_keys[i], int(prev_keys[j]), True, float(dist[i, j])
                    )
    rest = sorted((c for c in new if c not in out), key=lambda c: (-sizes.get(c, 0), c))
    for offset, cluster in enumerate(rest):
        out[cluster] = Assignment(cluster, next_id + offset, False, None)
    return dict(sorted(out.items()))
