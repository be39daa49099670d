"""Stable segment ids: match a new model's clusters to the previous model's segments.

Centroids are compared in the ORIGINAL feature space (per-cluster means of the imputed
raw features), because each model has its own scaler: scaled spaces of two models are
not comparable, original units are. Each feature difference is divided by the
population standard deviation of that feature, and the distance is the root mean
square over the features both models share, so that the threshold reads as "about
this many standard deviations per feature" whatever the number of features.

The optimal assignment is the Hungarian algorithm (O(n^3), numpy only).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

Centroids = Mapping[int, Mapping[str, float]]


def linear_assignment(cost: np.ndarray) -> list[tuple[int, int]]:
    """Row/column pairs of minimum total cost (rectangular allowed: min(n, m) pairs).

    Shortest-augmenting-path Hungarian algorithm with potentials (Kuhn-Munkres,
    Jonker-Volgenant form), O(n^2 m) for n rows <= m columns. Costs must be finite.
    """
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"cost must be a 2-d matrix, got shape {c.shape}")
    if c.size and not np.isfinite(c).all():
        raise ValueError("cost must be finite")
    n, m = c.shape
    if n == 0 or m == 0:
        return []
    transposed = n > m
    if transposed:
        c = c.T
        n, m = m, n
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, dtype=int)  # p[j]: row (1-based) matched to column j; 0 = free
    way = np.zeros(m + 1, dtype=int)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            free = ~used[1:]
            reduced = c[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            candidates = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[~used] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    pairs = [(int(p[j]) - 1, j - 1) for j in range(1, m + 1) if p[j] != 0]
    if transposed:
        pairs = [(b, a) for a, b in pairs]
    return sorted(pairs)


def brute_force_assignment(cost: np.ndarray) -> float:
    """Minimum total cost over all assignments (for tests of :func:`linear_assignment`)."""
    c = np.asarray(cost, dtype=float)
    if c.shape[0] > c.shape[1]:
        c = c.T
    n, m = c.shape
    if n == 0:
        return 0.0
    return min(
        float(sum(c[i, j] for i, j in enumerate(cols)))
        for cols in itertools.permutations(range(m), n)
    )


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
            for i, j in linear_assignment(np.minimum(dist, threshold)):
                if dist[i, j] <= threshold:
                    out[new_keys[i]] = Assignment(
                        new_keys[i], int(prev_keys[j]), True, float(dist[i, j])
                    )
    rest = sorted((c for c in new if c not in out), key=lambda c: (-sizes.get(c, 0), c))
    for offset, cluster in enumerate(rest):
        out[cluster] = Assignment(cluster, next_id + offset, False, None)
    return dict(sorted(out.items()))
