"""Charts of the report: matplotlib figures rendered as inline SVG with text kept as text.

Why SVG text rather than PNG pixels: a PNG can show Chinese only if the machine that
*writes* the report has a CJK font (a bank's batch server often has none), while SVG
text is drawn by the browser that *opens* the report, with whatever CJK font that
desktop has (Microsoft YaHei on Windows, PingFang on macOS, Noto/WenQuanYi on Linux).
The page's CSS gives every chart one font stack (:data:`CSS_FONT_STACK`). Matplotlib
still measures text for layout: it uses a CJK font when one is installed here (better
label widths) and DejaVu Sans otherwise, silencing its missing-glyph warnings.

Each function takes the small aggregates of :mod:`sparkseg.report.data` and returns a
:class:`Chart`; no Spark here. Matplotlib is imported lazily (the CLI starts faster).
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sparkseg.report.data import (
        AudienceSize,
        Evaluation,
        FeatureStat,
        KScore,
        MigrationCell,
        QuarantineCount,
        Segment,
        TagCount,
    )

# Fonts with Chinese glyphs, in order of preference, for matplotlib's text measurement.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "SimHei",
    "Noto Sans CJK JP",
)
# What the browser uses for every chart and the page: Latin first, then the CJK fonts
# of each desktop family, then whatever sans-serif the system falls back to.
CSS_FONT_STACK = (
    '"DejaVu Sans", "Segoe UI", "Helvetica Neue", Arial, "Noto Sans CJK SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Noto Sans SC", sans-serif'
)

# Diverging map for z-scores (blue below the base, red above), clipped at +-Z_CLIP.
Z_CLIP = 3.0
SEGMENT_COLORS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
    "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c",
)
TARGET_COLOR, CONTROL_COLOR = "#4e79a7", "#bab0ac"


@dataclass(frozen=True)
class Chart:
    """One figure: an id unique in the page, a caption and the ``<svg>`` element."""

    chart_id: str
    caption: str
    svg: str


@functools.cache
def layout_fonts() -> tuple[str, ...]:
    """DejaVu Sans plus the installed CJK fonts matplotlib can measure Chinese with."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *[name for name in CJK_FONTS if name in installed])


def has_cjk_font() -> bool:
    return len(layout_fonts()) > 1


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    rc: Any = {
        "svg.fonttype": "none",  # text stays <text>, drawn by the viewer's fonts
        "font.family": list(layout_fonts()),
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "figure.dpi": 100,
    }
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # Without a CJK font here, matplotlib warns per missing glyph; the browser draws them.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r".*missing from font")
        yield


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    # Figure() without pyplot: no global state, no GUI backend, safe in a long-lived driver.
    return Figure(figsize=(width, height), layout="constrained")


_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')


def _to_svg(fig: Figure, chart_id: str, caption: str) -> Chart:
    """Render ``fig`` as an ``<svg>`` element safe to inline next to other charts."""
    buf = io.StringIO()
    with _style():
        import matplotlib

        # Ids derive from this salt: stable output, and distinct per chart in one page.
        with matplotlib.rc_context({"svg.hashsalt": chart_id}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _XML_HEAD.sub("", buf.getvalue(), count=1)
    svg = _METADATA.sub("", svg, count=1)
    # Matplotlib names its groups figure_1, axes_1, ... in every figure: prefix every id
    # and reference so that several inline charts never share an id.
    prefix = f"{chart_id}-"
    svg = re.sub(r'\bid="', f'id="{prefix}', svg)
    svg = svg.replace("url(#", f"url(#{prefix}").replace('xlink:href="#', f'xlink:href="#{prefix}')
    # Scale with the page: keep the viewBox, drop the fixed size in points.
    svg = _SIZE.sub(
        lambda m: (f'<svg{m.group(1)} width="{float(m.group(2)) * 4 / 3:.0f}" '
                   f'height="{float(m.group(3)) * 4 / 3:.0f}" role="img" '
                   f'aria-label="{_attr(caption)}"'),
        svg, count=1,
    )
    return Chart(chart_id, caption, svg.strip())


def _attr(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _draw(chart_id: str, caption: str, width: float, height: float,
          paint: Callable[[Figure], None]) -> Chart:
    with _style():
        fig = _figure(width, height)
        paint(fig)
        return _to_svg(fig, chart_id, caption)


def segment_label(seg: Segment) -> str:
    """``3 High-value investors · 高净值投资客群`` (either name may be empty)."""
    names = " · ".join(n for n in (seg.name_en, seg.name_zh) if n)
    return f"{seg.segment_id} {names}".strip()


def _segment_color(segment_id: int | None) -> str:
    if segment_id is None:
        return "#999999"
    return SEGMENT_COLORS[segment_id % len(SEGMENT_COLORS)]


def _fmt_int(n: float) -> str:
    return f"{round(n):,}"


# --- k selection -----------------------------------------------------------------------


def k_selection_chart(scores: Sequence[KScore], algorithm: str | None, k: int | None) -> Chart:
    """Silhouette (higher is better) and training cost (elbow) against k per algorithm."""
    algorithms = sorted({s.algorithm for s in scores})

    def paint(fig: Figure) -> None:
        ax_sil, ax_cost = fig.subplots(1, 2)
        for i, alg in enumerate(algorithms):
            pts = sorted((s for s in scores if s.algorithm == alg), key=lambda s: s.k)
            color = SEGMENT_COLORS[i % len(SEGMENT_COLORS)]
            for ax, attr in ((ax_sil, "silhouette"), (ax_cost, "cost")):
                xy = [(s.k, getattr(s, attr)) for s in pts if getattr(s, attr) is not None]
                if not xy:
                    continue
                ax.plot([p[0] for p in xy], [p[1] for p in xy], marker="o", color=color,
                        label=alg)
                if alg == algorithm and k is not None:
                    chosen = [p for p in xy if p[0] == k]
                    if chosen:
                        ax.plot([k], [chosen[0][1]], marker="*", markersize=18, color=color,
                                markeredgecolor="black", linestyle="none",
                                label=f"chosen: {alg}, k={k}")
        for ax, title in ((ax_sil, "Silhouette (higher is better)"),
                          (ax_cost, "Training cost (look for the elbow)")):
            ax.set_title(title)
            ax.set_xlabel("k (number of segments)")
            if k is not None:
                ax.axvline(k, color="#888888", linestyle="--", linewidth=1)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.grid(alpha=0.3)
        handles, labels = ax_sil.get_legend_handles_labels()
        if handles:
            ax_sil.legend(handles, labels, fontsize=8, loc="best")

    caption = "Silhouette and training cost against k"
    if algorithm is not None and k is not None:
        caption += f"; chosen: {algorithm}, k={k}"
    return _draw("chart-k-selection", caption, 10, 3.6, paint)


# --- segments --------------------------------------------------------------------------


def segment_size_chart(segments: Sequence[Segment]) -> Chart:
    """Customers per segment, largest on top, labelled with count and share."""
    ordered = sorted(segments, key=lambda s: s.size)

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        y = range(len(ordered))
        ax.barh(list(y), [s.size for s in ordered],
                color=[_segment_color(s.segment_id) for s in ordered])
        ax.set_yticks(list(y), [segment_label(s) for s in ordered])
        top = max((s.size for s in ordered), default=1) or 1
        for i, s in enumerate(ordered):
            ax.text(s.size + top * 0.01, i, f"{_fmt_int(s.size)} ({s.share:.1%})",
                    va="center", fontsize=9)
        ax.set_xlim(0, top * 1.25)
        ax.set_xlabel("customers")
        ax.set_title("Segment sizes")

    return _draw("chart-segment-sizes", "Customers per segment", 10,
                 1.2 + 0.42 * max(1, len(ordered)), paint)


def top_lift_features(stats: Sequence[FeatureStat], n: int) -> list[str]:
    """The ``n`` features with the largest |lift_z| in any segment (heatmap rows)."""
    best: dict[str, float] = {}
    for s in stats:
        if s.lift_z is not None:
            best[s.feature] = max(best.get(s.feature, 0.0), abs(s.lift_z))
    return sorted(best, key=lambda f: (-best[f], f))[:n]


def lift_heatmap(stats: Sequence[FeatureStat], segments: Sequence[Segment],
                 features: Sequence[str]) -> Chart:
    """Feature x segment heatmap of lift z-scores, clipped at +-Z_CLIP, values written."""
    seg_ids = [s.segment_id for s in segments] or sorted({s.segment_id for s in stats})
    by_id = {s.segment_id: s for s in segments}
    z = {(s.feature, s.segment_id): s.lift_z for s in stats}
    grid = [[z.get((f, sid)) for sid in seg_ids] for f in features]

    def paint(fig: Figure) -> None:
        import numpy as np

        ax = fig.subplots()
        values = np.array([[np.nan if v is None else v for v in row] for row in grid], float)
        image = ax.imshow(np.clip(values, -Z_CLIP, Z_CLIP), cmap="RdBu_r", vmin=-Z_CLIP,
                          vmax=Z_CLIP, aspect="auto")
        ax.set_yticks(range(len(features)), list(features), fontsize=8)
        ax.set_xticks(
            range(len(seg_ids)),
            [segment_label(by_id[sid]) if sid in by_id else str(sid) for sid in seg_ids],
            rotation=30, ha="right", fontsize=8,
        )
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v is not None:
                    ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > Z_CLIP * 0.6 else "black")
        ax.spines[:].set_visible(False)
        ax.set_title("Feature lift per segment (z-score against all customers)")
        fig.colorbar(image, ax=ax, shrink=0.6, label="lift z")

    height = 1.8 + 0.28 * max(1, len(features))
    width = max(7.0, 3.0 + 1.1 * len(seg_ids))
    return _draw("chart-lift-heatmap", "Lift z-scores of the most distinctive features",
                 min(width, 14.0), height, paint)


# --- change ----------------------------------------------------------------------------


def migration_chart(cells: Sequence[MigrationCell], segments: Sequence[Segment]) -> Chart:
    """Matrix of customers from previous segment (rows) to current segment (columns).

    ``None`` on either side is a customer new at this as-of or gone since the last one.
    """
    ids = sorted({c.from_segment for c in cells if c.from_segment is not None}
                 | {c.to_segment for c in cells if c.to_segment is not None})
    rows: list[int | None] = [*ids, None]
    cols: list[int | None] = [*ids, None]
    count = {(c.from_segment, c.to_segment): c.customers for c in cells}
    names = {s.segment_id: segment_label(s) for s in segments}

    def label(sid: int | None, missing: str) -> str:
        return missing if sid is None else names.get(sid, str(sid))

    def paint(fig: Figure) -> None:
        import numpy as np

        ax = fig.subplots()
        grid = np.array([[count.get((r, c), 0) for c in cols] for r in rows], float)
        # Colour by share of the row, so small and large segments read alike.
        share = grid / np.maximum(grid.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(len(rows)):
            for j in range(len(cols)):
                if grid[i, j]:
                    ax.text(j, i, _fmt_int(grid[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if share[i, j] > 0.6 else "black")
        ax.set_xticks(range(len(cols)), [label(c, "(gone)") for c in cols], rotation=30,
                      ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)), [label(r, "(new)") for r in rows], fontsize=8)
        ax.set_xlabel("segment now")
        ax.set_ylabel("segment at previous as-of")
        ax.spines[:].set_visible(False)
        ax.set_title("Segment migration")

    side = 2.2 + 0.5 * len(rows)
    return _draw("chart-migration",
                 "Customers moving between segments (colour: share of the previous segment)",
                 min(side + 3, 14), min(side, 12), paint)


def tag_change_chart(counts: Sequence[TagCount]) -> Chart:
    """Tag values with the largest absolute change in customers (green up, red down)."""
    ordered = sorted(counts, key=lambda c: c.change or 0)

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        y = list(range(len(ordered)))
        changes = [c.change or 0 for c in ordered]
        ax.barh(y, changes, color=["#59a14f" if v >= 0 else "#e15759" for v in changes])
        ax.set_yticks(y, [tag_label(c.tag, c.value) for c in ordered], fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("change in customers against the previous as-of")
        ax.set_title("Largest tag count changes")

    return _draw("chart-tag-changes", "Tag values with the largest change", 10,
                 1.2 + 0.32 * max(1, len(ordered)), paint)


def tag_label(tag: str, value: str | None) -> str:
    """``tag`` for flags (value true/1/empty), else ``tag=value``."""
    if value is None or value.strip().lower() in ("", "true", "1", "yes", "y"):
        return tag
    return f"{tag}={value}"


# --- audiences -------------------------------------------------------------------------


def audience_chart(sizes: Sequence[AudienceSize]) -> Chart:
    """Target and control group sizes per audience (grouped horizontal bars)."""
    audiences = sorted({s.audience for s in sizes})
    n = {(s.audience, s.group): s.customers for s in sizes}

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        h = 0.38
        y = list(range(len(audiences)))
        for offset, group, color in ((-h / 2, "target", TARGET_COLOR),
                                     (h / 2, "control", CONTROL_COLOR)):
            values = [n.get((a, group), 0) for a in audiences]
            ax.barh([v + offset for v in y], values, height=h, color=color, label=group)
            for yi, v in zip(y, values, strict=True):
                ax.text(v, yi + offset, f" {_fmt_int(v)}", va="center", fontsize=8)
        ax.set_yticks(y, audiences, fontsize=9)
        ax.invert_yaxis()
        top = max(n.values(), default=1)
        ax.set_xlim(0, top * 1.2)
        ax.set_xlabel("customers")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title("Audience sizes: target and control")

    return _draw("chart-audiences", "Target and control customers per audience", 10,
                 1.3 + 0.55 * max(1, len(audiences)), paint)


def evaluation_chart(rows: Sequence[Evaluation]) -> Chart:
    """Response-rate difference (target - control) with its confidence interval."""
    ordered = list(rows)

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        y = list(range(len(ordered)))
        for i, r in enumerate(ordered):
            if r.diff is None:
                continue
            lo = r.diff - r.ci_low if r.ci_low is not None else 0.0
            hi = r.ci_high - r.diff if r.ci_high is not None else 0.0
            significant = r.ci_low is not None and (r.ci_low > 0 or (r.ci_high or 0) < 0)
            ax.errorbar([r.diff], [i], xerr=[[max(lo, 0.0)], [max(hi, 0.0)]], fmt="o",
                        color=TARGET_COLOR if significant else "#888888", capsize=4)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, [f"{r.audience} · {r.metric}" for r in ordered], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("target rate - control rate (with confidence interval)")
        ax.set_title("Campaign uplift against the control group")

    return _draw("chart-evaluation", "Uplift of each evaluated audience", 10,
                 1.3 + 0.45 * max(1, len(ordered)), paint)


# --- data quality ----------------------------------------------------------------------


def quarantine_chart(counts: Sequence[QuarantineCount]) -> Chart:
    """Quarantined rows per source table and reason."""
    ordered = sorted(counts, key=lambda q: q.rows)

    def paint(fig: Figure) -> None:
        ax = fig.subplots()
        y = list(range(len(ordered)))
        ax.barh(y, [q.rows for q in ordered], color="#e15759")
        ax.set_yticks(y, [f"{q.source_table}: {q.reason}" for q in ordered], fontsize=8)
        top = max((q.rows for q in ordered), default=1)
        for i, q in enumerate(ordered):
            ax.text(q.rows, i, f" {_fmt_int(q.rows)}", va="center", fontsize=8)
        ax.set_xlim(0, top * 1.2)
        ax.set_xscale("linear")
        ax.set_xlabel("rows quarantined")
        ax.set_title("Quarantined rows by reason")

    return _draw("chart-quarantine", "Rows quarantined by reason", 10,
                 1.2 + 0.32 * max(1, len(ordered)), paint)

