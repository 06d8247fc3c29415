"""Inline SVG bar charts: no script, no library, readable when printed or opened offline."""

from __future__ import annotations

from html import escape

LABEL_WIDTH = 170
BAR_WIDTH = 330
VALUE_WIDTH = 80
ROW = 24


def bar_chart(rows: list[tuple[str, int, str]], *, chart_id: str, unit: str) -> str:
    """Horizontal bars, one row per ``(label, value, colour)``, longest first as given.

    Every bar carries ``data-label``/``data-value`` so tests and scripts can read the figures.
    """
    if not rows:
        return '<p class="empty">Nothing to show.</p>'
    top = max(value for _, value, _ in rows) or 1
    height = ROW * len(rows) + 4
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(unit)} by {escape(chart_id)}">'
    ]
    for index, (label, value, colour) in enumerate(rows):
        y = index * ROW + 2
        length = max(1.0, BAR_WIDTH * value / top) if value else 0.0
        shown = label if len(label) <= 28 else label[:27] + "…"
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {value:,} {escape(unit)}</title>"
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end" class="label">{escape(shown)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" rx="3" fill="{colour}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}" class="value">{value:,}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)
