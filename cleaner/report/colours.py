"""One colour per removal category, the same in charts, legend and document view."""

from __future__ import annotations

# Colour-blind-friendly qualitative palette (Okabe-Ito, then Tableau 10 for more categories).
PALETTE = (
    "#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c564b",
    "#b8860b", "#4e79a7", "#f28e2b", "#59a14f", "#af7aa1", "#76b7b2", "#9c755f",
)
DUPLICATE = "#6a3d9a"
DUPLICATE_CATEGORY = "duplicate"


def category_colours(categories: set[str]) -> dict[str, str]:
    """Colours by sorted category name, so the same categories always get the same colours."""
    colours = {DUPLICATE_CATEGORY: DUPLICATE}
    others = sorted(c for c in categories if c != DUPLICATE_CATEGORY)
    for index, category in enumerate(others):
        colours[category] = PALETTE[index % len(PALETTE)]
    return colours
