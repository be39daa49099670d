"""The report page: one self-contained HTML document (inline CSS, inline SVG, no network).

A Content-Security-Policy forbids every external load, so a file that renders at all
renders the same offline. A small inline script records script errors, policy
violations and console errors into ``<html data-errors>`` and checks on load that every
chart has a non-empty drawing (``data-charts`` / ``data-charts-ok``); the browser test
reads both from the DOM.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from typing import Any

from sparkseg.report import charts
from sparkseg.report.charts import Chart, tag_label
from sparkseg.report.config import ReportConfig
from sparkseg.report.data import (
    FeatureStat,
    Missing,
    ReportData,
    Segment,
    SegmentTag,
    StageRun,
)
from sparkseg.tables import SILVER_TABLES

_SILVER_COPIES = frozenset(spec.name for spec in SILVER_TABLES.values())

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; font-src data:"
)

SECTIONS = (
    ("overview", "Overview"),
    ("k-selection", "k selection"),
    ("segments", "Segments"),
    ("change", "Change"),
    ("audiences", "Audiences"),
    ("data-quality", "Data quality"),
)

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #dfe3ea; --bg: #f6f7f9; --accent: #4e79a7; }
* { box-sizing: border-box; }
body { margin: 0; font-family: FONT_STACK; color: var(--fg); background: var(--bg);
       font-size: 14px; line-height: 1.45; }
header { background: #1d2330; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: #c5cad6; font-size: 13px; }
header .incomplete { margin-top: 10px; background: #fde8e8; color: #7a1010; padding: 8px 12px;
  border-radius: 6px; font-size: 14px; }
nav { position: sticky; top: 0; z-index: 1; background: #fff; border-bottom: 1px solid var(--line);
      padding: 8px 32px; }
nav a { margin-right: 18px; color: var(--accent); text-decoration: none; font-weight: 600; }
main { padding: 8px 32px 40px; max-width: 1280px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 18px 0;
          padding: 14px 20px; }
h2 { margin: 4px 0 12px; font-size: 18px; }
h3 { margin: 16px 0 8px; font-size: 15px; }
.na { color: var(--muted); font-style: italic; background: var(--bg); padding: 8px 12px;
      border-radius: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .v { font-size: 22px; font-weight: 700; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
         vertical-align: top; white-space: nowrap; }
td .small { white-space: normal; max-width: 360px; }
th { background: var(--bg); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.chosen td { background: #fff4d6; font-weight: 600; }
figure.chart { margin: 10px 0 18px; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figure.chart svg text { font-family: FONT_STACK !important; }
figcaption { color: var(--muted); font-size: 12px; }
.segs { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 12px; }
.seg { border: 1px solid var(--line); border-left: 6px solid var(--c); border-radius: 6px;
       padding: 8px 14px; }
.seg h3 { margin: 4px 0; }
.seg .zh { font-size: 16px; }
.seg .size { color: var(--muted); }
.pos { color: #b8312f; } .neg { color: #2e6aa6; }
.tags { margin: 4px 0; padding-left: 18px; }
.status-failed { color: #b8312f; font-weight: 700; }
.small { color: var(--muted); font-size: 12px; }
code { font-size: 12px; }
""".strip()

# Runs before anything else: collect every error the page could raise while loading.
ERROR_HOOK = """
(function () {
  var errors = [];
  function note(msg) {
    errors.push(String(msg));
    document.documentElement.setAttribute('data-errors', JSON.stringify(errors));
  }
  document.documentElement.setAttribute('data-errors', '[]');
  window.addEventListener('error', function (e) { note('error: ' + (e.message || e.type)); }, true);
  window.addEventListener('unhandledrejection', function (e) { note('rejection: ' + e.reason); });
  document.addEventListener('securitypolicyviolation', function (e) {
    note('blocked by policy: ' + e.blockedURI + ' (' + e.violatedDirective + ')');
  });
  var consoleError = console.error;
  console.error = function () {
    note('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
})();
""".strip()

# Runs on load: every chart must have a drawing with a non-empty box and marks in it.
SELF_CHECK = """
window.addEventListener('load', function () {
  var figures = document.querySelectorAll('figure.chart');
  var ok = 0, bad = [];
  figures.forEach(function (f) {
    var svg = f.querySelector('svg');
    var box = svg ? svg.getBoundingClientRect() : null;
    var marks = svg ? svg.querySelectorAll('path, rect, text, use, image').length : 0;
    var drawn = svg ? svg.getBBox() : null;
    if (box && box.width > 0 && box.height > 0 && drawn && drawn.width > 0 &&
        drawn.height > 0 && marks > 0) { ok += 1; } else { bad.push(f.id); }
  });
  var root = document.documentElement;
  root.setAttribute('data-charts', String(figures.length));
  root.setAttribute('data-charts-ok', String(ok));
  root.setAttribute('data-charts-bad', bad.join(' '));
  root.setAttribute('data-page-height', String(root.scrollHeight));
  root.setAttribute('data-selfcheck', 'done');
});
""".strip()


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def num(value: float | int | None, *, digits: int = 2) -> str:
    """Readable number: thousands separators, fewer decimals for big values, '-' for null."""
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          numeric: Sequence[int] = (), row_class: Sequence[str] | None = None) -> str:
    """An HTML table; cells are escaped unless wrapped in :class:`Raw`."""
    head = "".join(
        f'<th class="n">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r_i, row in enumerate(rows):
        cells = "".join(
            (f'<td class="n">{_cell(c)}</td>' if i in numeric else f"<td>{_cell(c)}</td>")
            for i, c in enumerate(row)
        )
        cls = f' class="{row_class[r_i]}"' if row_class and row_class[r_i] else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Raw(str):
    """Markup that :func:`table` must not escape."""


def _cell(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return esc(value)


def not_available(what: str, missing: Missing) -> str:
    return f'<p class="na">{esc(what)}: not available ({esc(missing.reason)}).</p>'


def figure(chart: Chart) -> str:
    return (f'<figure class="chart" id="{esc(chart.chart_id)}">{chart.svg}'
            f"<figcaption>{esc(chart.caption)}</figcaption></figure>")


def _card(key: str, value: str, note: str = "") -> str:
    small = f'<div class="small">{esc(note)}</div>' if note else ""
    return f'<div class="card"><div class="k">{esc(key)}</div><div class="v">{esc(value)}</div>{small}</div>'


# --- sections ---------------------------------------------------------------------------


def overview(data: ReportData) -> str:
    segs = data.segments
    customers = "–" if isinstance(segs, Missing) else f"{sum(s.size for s in segs):,}"
    n_segments = "–" if isinstance(segs, Missing) else str(len(segs))
    if not isinstance(data.tag_counts, Missing):
        n_tags = str(len({t.tag for t in data.tag_counts}))
    elif not isinstance(data.segment_tags, Missing):
        n_tags = str(len({t.tag for t in data.segment_tags}))
    else:
        n_tags = "–"
    n_aud = ("–" if isinstance(data.audiences, Missing)
             else str(len({a.audience for a in data.audiences})))
    model = data.model
    if isinstance(model, Missing):
        versions = set() if isinstance(segs, Missing) else {
            s.model_version for s in segs if s.model_version is not None}
        model_value = f"v{max(versions)}" if versions else "–"
        model_note = ""
    else:
        model_value = f"v{model.version}" if model.version is not None else "–"
        model_note = f"{model.name}: {model.algorithm or '?'}, k={model.k or '?'}"
    quarantined = ("–" if isinstance(data.quarantine, Missing)
                   else f"{sum(q.rows for q in data.quarantine):,}")
    cards = "".join([
        _card("Customers", customers, "segmented at this as-of"),
        _card("Segments", n_segments),
        _card("Tags", n_tags),
        _card("Audiences", n_aud),
        _card("Model version", model_value, model_note),
        _card("Rows quarantined", quarantined),
    ])
    parts = [f'<div class="cards">{cards}</div>', "<h3>Stage runs and input table versions</h3>"]
    if isinstance(data.runs, Missing):
        parts.append(not_available("Stage runs", data.runs))
    else:
        parts.append(_runs_table(data.runs))
    return "".join(parts)


def _versions(versions: dict[str, int] | Any) -> Raw:
    items = sorted(dict(versions).items())
    if not items:
        return Raw("–")
    return Raw("<br>".join(f"<code>{esc(t)}</code> v{esc(v)}" for t, v in items))


def _runs_table(runs: Sequence[StageRun]) -> str:
    rows = []
    for r in runs:
        status = Raw(f'<span class="status-{esc(r.status)}">{esc(r.status)}</span>'
                     + (f'<div class="small">{esc(r.message)}</div>' if r.message else ""))
        started = r.started_at.strftime("%Y-%m-%d %H:%M:%S") if r.started_at else "–"
        rows.append([r.stage, status, started, num(r.seconds, digits=1), r.attempts,
                     _versions(r.input_versions), _versions(r.output_versions)])
    return table(["stage", "status (latest run)", "started (UTC)", "seconds", "runs",
                  "input table versions", "output table versions"], rows, numeric=(3, 4))


def k_selection(data: ReportData) -> str:
    model = data.model
    if isinstance(model, Missing):
        return not_available("k selection", model)
    intro = (f"<p>Model <code>{esc(model.name)}</code> version {esc(model.version)}: "
             f"chosen algorithm <b>{esc(model.algorithm or '?')}</b> with "
             f"<b>k = {esc(model.k if model.k is not None else '?')}</b>. "
             f'<span class="small">({esc(model.path)})</span></p>')
    if not model.scores:
        return intro + not_available("k-selection scores",
                                     Missing("metadata.json has no scores list"))
    chosen = [(s.algorithm == model.algorithm and s.k == model.k) for s in model.scores]
    rows = [[s.algorithm, s.k, num(s.silhouette, digits=3), num(s.cost), pct(s.min_share),
             {True: "yes", False: "no", None: "–"}[s.eligible], "chosen" if c else ""]
            for s, c in zip(model.scores, chosen, strict=True)]
    return (intro + figure(charts.k_selection_chart(model.scores, model.algorithm, model.k))
            + table(["algorithm", "k", "silhouette", "cost", "smallest segment", "eligible",
                     ""], rows, numeric=(1, 2, 3, 4),
                    row_class=["chosen" if c else "" for c in chosen]))


def segments_section(data: ReportData, cfg: ReportConfig) -> str:
    segs = data.segments
    if isinstance(segs, Missing):
        return not_available("Segments", segs)
    parts = [figure(charts.segment_size_chart(segs))]
    stats = data.feature_stats
    if isinstance(stats, Missing):
        parts.append(not_available("Feature lift heatmap", stats))
        stats_list: list[FeatureStat] = []
    else:
        stats_list = stats
        features = charts.top_lift_features(stats, cfg.heatmap_features)
        if features:
            parts.append(figure(charts.lift_heatmap(stats, segs, features)))
        else:
            parts.append(not_available("Feature lift heatmap", Missing("no lift_z values")))
    tags = data.segment_tags
    if isinstance(tags, Missing) and cfg.top_tags:
        parts.append(not_available("Top tags per segment", tags))
    tag_list: list[SegmentTag] = [] if isinstance(tags, Missing) else tags
    cards = [_segment_card(s, stats_list, tag_list, cfg) for s in segs]
    parts.append(f'<h3>Segment profiles</h3><div class="segs">{"".join(cards)}</div>')
    return "".join(parts)


def _segment_card(seg: Segment, stats: Sequence[FeatureStat], tags: Sequence[SegmentTag],
                  cfg: ReportConfig) -> str:
    own = {s.feature: s for s in stats if s.segment_id == seg.segment_id}
    color = charts.SEGMENT_COLORS[seg.segment_id % len(charts.SEGMENT_COLORS)]
    head = (f'<h3>{esc(seg.segment_id)} · {esc(seg.name_en or "(unnamed)")}</h3>'
            f'<div class="zh" lang="zh-CN">{esc(seg.name_zh or "")}</div>'
            f'<div class="size">{seg.size:,} customers · {pct(seg.share)} of all</div>')
    body = []
    key_rows = [[f, num(own[f].mean), num(own[f].median), _z(own[f].lift_z)]
                for f in cfg.key_features if f in own]
    if key_rows:
        body.append(table(["key figure", "mean", "median", "lift z"], key_rows,
                          numeric=(1, 2, 3)))
    ranked = sorted((s for s in own.values() if s.lift_z is not None),
                    key=lambda s: -abs(s.lift_z or 0.0))[:4]
    if ranked:
        items = ", ".join(f"{esc(s.feature)} {_z(s.lift_z)}" for s in ranked)
        body.append(f'<div class="small">Most distinctive: {items}</div>')
    if cfg.top_tags:
        top = top_tags(tags, seg.segment_id, cfg.top_tags, cfg.min_tag_share)
        if top:
            lis = "".join(
                f"<li><b>{esc(tag_label(t.tag, t.value))}</b> {pct(t.share)} "
                f'<span class="small">(×{t.lift:.1f} the base rate)</span></li>'
                for t in top
            )
            body.append(f'<div>Top tags:</div><ul class="tags">{lis}</ul>')
    return f'<div class="seg" style="--c: {color}">{head}{"".join(body)}</div>'


def _z(z: float | None) -> Raw:
    if z is None:
        return Raw("–")
    cls = "pos" if z > 0 else "neg"
    return Raw(f'<span class="{cls}">{z:+.2f}</span>')


def top_tags(tags: Sequence[SegmentTag], segment_id: int, n: int, min_share: float
             ) -> list[SegmentTag]:
    """The tag values that set a segment apart: highest lift among those covering at
    least ``min_share`` of the segment (ties: larger share first)."""
    own = [t for t in tags if t.segment_id == segment_id and t.share >= min_share]
    return sorted(own, key=lambda t: (-t.lift, -t.share, t.tag, t.value or ""))[:n]


def change(data: ReportData, cfg: ReportConfig) -> str:
    parts = ["<h3>Segment migration</h3>"]
    mig = data.migration
    if isinstance(mig, Missing):
        parts.append(not_available("Migration matrix", mig))
    else:
        prev = sorted({c.prev_as_of for c in mig if c.prev_as_of is not None})
        stayed = sum(c.customers for c in mig
                     if c.from_segment is not None and c.from_segment == c.to_segment)
        before = sum(c.customers for c in mig if c.from_segment is not None)
        segs = [] if isinstance(data.segments, Missing) else data.segments
        parts.append(
            f"<p>Against the previous as-of {esc(', '.join(str(p) for p in prev) or '?')}: "
            f"{pct(stayed / before if before else None)} of the customers stayed in their "
            f"segment; {sum(c.customers for c in mig if c.from_segment is None):,} are new and "
            f"{sum(c.customers for c in mig if c.to_segment is None):,} are gone.</p>"
        )
        parts.append(figure(charts.migration_chart(mig, segs)))
    parts.append("<h3>Tag count changes</h3>")
    counts = data.tag_counts
    if isinstance(counts, Missing):
        parts.append(not_available("Tag count changes", counts))
    else:
        changed = sorted((c for c in counts if c.change),
                         key=lambda c: (-abs(c.change or 0), c.tag, c.value or ""))
        top = changed[: cfg.tag_changes]
        if not top:
            parts.append('<p class="na">No tag count changed against the previous as-of.</p>')
        else:
            parts.append(figure(charts.tag_change_chart(top)))
        rows = [[tag_label(c.tag, c.value), c.customers, num(c.prev_customers),
                 Raw(_signed(c.change))]
                for c in sorted(counts, key=lambda c: (c.tag, c.value or ""))]
        parts.append(table(["tag", "customers", "previous", "change"], rows,
                           numeric=(1, 2, 3)))
    return "".join(parts)


def _signed(v: int | None) -> str:
    if v is None:
        return "–"
    cls = "pos" if v > 0 else "neg" if v < 0 else ""
    return f'<span class="{cls}">{v:+,}</span>'


def audiences_section(data: ReportData) -> str:
    parts = []
    sizes = data.audiences
    if isinstance(sizes, Missing):
        parts.append(not_available("Audiences", sizes))
    else:
        parts.append(figure(charts.audience_chart(sizes)))
        n = {(s.audience, s.group): s.customers for s in sizes}
        rows = []
        for a in sorted({s.audience for s in sizes}):
            t, c = n.get((a, "target"), 0), n.get((a, "control"), 0)
            rows.append([a, t, c, pct(c / (t + c) if t + c else None)])
        parts.append(table(["audience", "target", "control", "control share"], rows,
                           numeric=(1, 2, 3)))
    parts.append("<h3>Post-campaign evaluation</h3>")
    ev = data.evaluation
    if isinstance(ev, Missing):
        parts.append(not_available("Evaluation", ev))
    else:
        parts.append(figure(charts.evaluation_chart(ev)))
        parts.append('<p class="small">Per audience and metric, the latest audience date '
                     "whose response window had closed by this as-of; the window end is "
                     "exclusive.</p>")
        rows = [[e.audience, e.metric, str(e.as_of),
                 f"{e.window_start or '?'} – {e.window_end or '?'}",
                 num(e.target_n), pct(e.target_rate), num(e.control_n), pct(e.control_rate),
                 pct(e.diff), f"[{pct(e.ci_low)}, {pct(e.ci_high)}]"] for e in ev]
        parts.append(table(["audience", "metric", "audience as-of", "response window",
                            "target n", "target rate", "control n", "control rate",
                            "difference", "confidence interval"],
                           rows, numeric=(4, 5, 6, 7, 8)))
    return "".join(parts)


def data_quality(data: ReportData) -> str:
    parts = ["<h3>Rows per table</h3>"]
    runs = data.runs
    # Quarantine names its source as raw/<t> (or <t>); ingest writes silver/<t>.
    quarantined: dict[str, int] | None = None
    if not isinstance(data.quarantine, Missing):
        quarantined = {}
        for q in data.quarantine:
            short = q.source_table.rsplit("/", 1)[-1]
            quarantined[short] = quarantined.get(short, 0) + q.rows
    if isinstance(runs, Missing):
        parts.append(not_available("Row counts", runs))
    else:
        rows = []
        for r in runs:
            for t, n in sorted(r.row_counts.items()):
                bad = (quarantined.get(t.rsplit("/", 1)[-1], 0)
                       if quarantined is not None and t in _SILVER_COPIES else None)
                rows.append([r.stage, t, n, num(bad),
                             pct(bad / (n + bad) if bad is not None and n + bad else None)])
        if rows:
            parts.append(
                '<p class="small">Rows each stage wrote (ops/runs row_counts). For validated '
                "copies of raw tables, rows read = rows kept + rows quarantined.</p>"
            )
            parts.append(table(["stage", "table", "rows", "quarantined", "quarantined share"],
                               rows, numeric=(2, 3, 4)))
        else:
            parts.append('<p class="na">No row counts recorded for this as-of.</p>')
    parts.append("<h3>Quarantined rows by reason</h3>")
    reasons = data.quarantine
    if isinstance(reasons, Missing):
        parts.append(not_available("Quarantine", reasons))
    elif not reasons:
        parts.append('<p class="na">No row was quarantined at this as-of.</p>')
    else:
        parts.append(figure(charts.quarantine_chart(reasons)))
        parts.append(table(["source table", "reason", "rows"],
                           [[x.source_table, x.reason, x.rows] for x in reasons], numeric=(2,)))
    return "".join(parts)


def completeness_banner(data: ReportData) -> str:
    """Whether the page shows a complete as-of (ops/completions ``pipeline`` row)."""
    c = data.completeness
    if c.complete:
        return (f'<div class="meta complete">Complete as-of: {esc(c.detail)}; tables read at '
                "the versions it recorded.</div>")
    return (f'<div class="incomplete" role="alert"><strong>Incomplete as-of</strong>: '
            f"{esc(c.detail)}. Figures come from the latest table versions and may miss a "
            "stage or mix two runs; do not hand this as-of to a marketing system.</div>")


def render(data: ReportData, cfg: ReportConfig, *, generated_at: dt.datetime) -> str:
    """The whole page for ``data``."""
    bodies = {
        "overview": overview(data),
        "k-selection": k_selection(data),
        "segments": segments_section(data, cfg),
        "change": change(data, cfg),
        "audiences": audiences_section(data),
        "data-quality": data_quality(data),
    }
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS)
    sections = "".join(
        f'<section id="{key}"><h2>{esc(title)}</h2>{bodies[key]}</section>'
        for key, title in SECTIONS
    )
    title = f"{cfg.title} · {data.as_of.isoformat()}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="sparkseg report">'
        f"<title>{esc(title)}</title>"
        f"<script>{ERROR_HOOK}</script>"
        f"<style>{CSS.replace('FONT_STACK', charts.CSS_FONT_STACK)}</style>"
        "</head><body>"
        f"<header><h1>{esc(title)}</h1>"
        f'<div class="meta">as-of {esc(data.as_of)} · generated '
        f"{esc(generated_at.strftime('%Y-%m-%d %H:%M UTC'))} · warehouse "
        f"<code>{esc(data.warehouse)}</code></div>{completeness_banner(data)}</header>"
        f"<nav>{nav}</nav><main>{sections}</main>"
        f"<script>{SELF_CHECK}</script>"
        "</body></html>\n"
    )
