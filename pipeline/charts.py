"""Server-rendered SVG charts for the dashboard: no JavaScript, no external assets.

Pure functions: data in, an SVG string out (every label escaped). Each chart carries
``role="img"``, an ``aria-label`` and a ``<title>`` per bar, so values show on hover and to
screen readers.
"""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

STATUS_COLORS = {
    "candidate": "#8c99a6",
    "approved": "#2f9e6e",
    "rejected": "#d0525a",
    "merged": "#7b61c9",
    "stale": "#c9a227",
}
ACTION_COLORS = {
    "approve": "#2f9e6e",
    "reject": "#d0525a",
    "edit": "#3b7dd8",
    "merge": "#7b61c9",
    "unmerge": "#a58be0",
    "stale": "#c9a227",
    "widen_visibility": "#e07b39",
}
KIND_COLORS = {"faq": "#3b7dd8", "pattern": "#1f7a52"}
FALLBACK_COLORS = ["#3b7dd8", "#e07b39", "#2aa3a3", "#b5487f", "#6b8e23", "#8c564b"]


def color_for(name: str, palette: dict[str, str], index: int) -> str:
    """The palette colour of a series, or a stable fallback."""
    return palette.get(name) or FALLBACK_COLORS[index % len(FALLBACK_COLORS)]


def nice_max(value: float) -> int:
    """A round axis maximum at or above value (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exp >= value:
            return int(step * exp)
    return int(10 * exp)


def _empty(label: str, width: int, height: int = 80, message: str = "No data yet") -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(label)}: no data" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><text x="{width / 2}" y="{height / 2}" '
        f'text-anchor="middle" class="chart-empty">{escape(message)}</text></svg>'
    )


def stacked_bars(
    label: str,
    categories: list[str],
    series: dict[str, list[int]],
    palette: dict[str, str] | None = None,
    width: int = 560,
    height: int = 230,
    empty: str = "No data yet",
) -> Markup:
    """Vertical bars, one per category (e.g. a week), stacked by series (e.g. status); `empty` is
    what an empty chart says."""
    palette = palette or {}
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(categories))]
    if not categories or not any(totals):
        return _empty(label, width, message=empty)
    left, right, top, bottom = 36, 10, 30, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = nice_max(max(totals))
    slot = plot_w / len(categories)
    bar_w = max(4.0, min(48.0, slot * 0.7))
    out = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    # legend
    x = left
    for i, name in enumerate(series):
        c = color_for(name, palette, i)
        out.append(f'<rect x="{x}" y="6" width="10" height="10" rx="2" fill="{c}"/>')
        out.append(f'<text x="{x + 14}" y="15" class="chart-legend">{escape(name)}</text>')
        x += 22 + 7 * len(name)
    # grid and y axis
    ticks = next(n for n in (4, 5, 2, 1) if ymax % n == 0)  # whole-number gridlines
    for j in range(ticks + 1):
        v = ymax * j / ticks
        y = top + plot_h - plot_h * j / ticks
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">{v:g}</text>')
    label_every = max(1, math.ceil(len(categories) / 12))
    for i, cat in enumerate(categories):
        cx = left + slot * i + slot / 2
        y = top + plot_h
        for s, (name, vals) in enumerate(series.items()):
            v = vals[i]
            if not v:
                continue
            h = plot_h * v / ymax
            y -= h
            out.append(
                f'<rect x="{cx - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{color_for(name, palette, s)}"><title>{escape(cat)} · {escape(name)}: {v}</title></rect>'
            )
        if i % label_every == 0:
            out.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="chart-axis">{escape(cat)}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def hbars(
    label: str,
    rows: list[tuple[str, float, str | None]],
    color: str = "#3b7dd8",
    width: int = 560,
    value_format: str = "{:g}",
    label_width: int = 250,
) -> Markup:
    """Horizontal bars: (label, value, link or None) per row, biggest first as given.

    Labels longer than fit in `label_width` pixels are shortened (the full text is the tooltip).
    """
    if not rows:
        return _empty(label, width)
    row_h, top = 26, 6
    label_w = label_width
    label_chars = int(label_w / 6.4)
    bar_left = label_w + 8
    bar_span = width - bar_left - 40
    vmax = max(v for _, v, _ in rows) or 1
    height = top * 2 + row_h * len(rows)
    # An image's content is presentational: a chart whose labels are links is a group of them instead.
    role = "group" if any(href for _, _, href in rows) else "img"
    out = [
        f'<svg class="chart" role="{role}" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, value, href) in enumerate(rows):
        y = top + i * row_h
        short = name if len(name) <= label_chars else name[: label_chars - 1] + "…"
        text = f'<text x="{label_w}" y="{y + 17}" text-anchor="end" class="chart-label">{escape(short)}<title>{escape(name)}</title></text>'
        if href:
            text = f'<a href="{escape(href)}">{text}</a>'
        out.append(text)
        w = max(2.0, bar_span * value / vmax)
        out.append(
            f'<rect x="{bar_left}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" rx="3" fill="{color}">'
            f"<title>{escape(name)}: {value_format.format(value)}</title></rect>"
        )
        out.append(f'<text x="{bar_left + w + 6:.1f}" y="{y + 17}" class="chart-value">{value_format.format(value)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
