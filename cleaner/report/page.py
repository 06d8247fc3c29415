"""Assembling report.html from a run's stats, manifest and a sample of its documents.

Every figure on the page comes from stats.json; the document view is the only part built
from records, and it says that it is a sample. The page is one file with inline CSS, SVG and
a little script (a sortable rule table and a file-name filter), so it opens offline and can
be attached to a CI run or mailed as is.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from cleaner.remote import filesystem, is_url, join, local_path
from cleaner.report.charts import bar_chart
from cleaner.report.colours import DUPLICATE, category_colours
from cleaner.report.documents import DocumentView
from cleaner.report.load import REJECTED_SAMPLE, SAMPLE, RunOutput, load_run

TOP_RULES_CHART = 15
MAX_ERRORS = 100

# (data-stat id, section, key, label): the summary cards, in page order.
CARDS = (
    ("documents_in", "documents", "in", "documents in"),
    ("documents_out", "documents", "out", "documents out"),
    ("documents_rejected", "documents", "rejected", "documents rejected"),
    ("characters_in", "characters", "in", "characters in"),
    ("characters_kept", "characters", "kept", "characters kept"),
    ("characters_removed", "characters", "removed", "characters removed"),
    ("lines_in", "lines", "in", "lines in"),
    ("lines_kept", "lines", "kept", "lines kept"),
    ("lines_removed", "lines", "removed", "lines removed"),
    ("duplicate_clusters", "duplicates", "clusters", "duplicate clusters"),
    ("duplicate_paragraphs", "duplicates", "paragraphs", "duplicate paragraphs"),
    ("duplicate_chars", "duplicates", "chars", "duplicate characters"),
    ("recurring_lines", "duplicates", "recurring_lines", "recurring lines"),
)


def write_report(out: str | Path, *, sample: int = SAMPLE) -> Path | str:
    """Write ``report.html`` into the run output `out` (a directory or an fsspec URL) from the
    output found there, and return where it went. Into a URL it is one object written whole."""
    run = load_run(out, sample=sample)
    page = render(run, sample)
    name = local_path(str(out))
    if is_url(name):
        fs, root = filesystem(name)
        fs.pipe_file(f"{root}/report.html", page.encode("utf-8"))
        return join(name, "report.html")
    path = Path(name) / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def render(run: RunOutput, sample: int = SAMPLE) -> str:
    stats = run.stats
    by_category = _section(stats, "removed_by_category")
    by_rule = _section(stats, "removed_by_rule")
    seen = set(by_category) | {str(v.get("category", "")) for v in by_rule.values()}
    for record in run.documents + run.rejected:
        seen |= {str(r.get("category", "")) for r in record.get("metadata", {}).get("removed", [])}
    colours = category_colours(seen)
    template = resources.files("cleaner.report").joinpath("template.html").read_text(encoding="utf-8")
    slots = {
        "subtitle": escape(_subtitle(run.manifest, run.documents)),
        "cards": _cards(stats),
        "share": _share(stats),
        "category_chart": _category_chart(by_category, colours),
        "rule_chart": _rule_chart(by_rule, colours),
        "cluster_chart": _cluster_chart(_section(stats, "duplicates").get("cluster_sizes", {})),
        "language_chart": _language_chart(_section(stats, "languages")),
        "rejections": _rejections(_section(stats, "documents").get("rejected_by_reason", {})),
        "errors": _errors(stats.get("errors") or []),
        "legend": _legend(colours),
        "sample_note": escape(_sample_note(stats, run, sample)),
        "documents": _documents(run, colours),
        "settings": escape(json.dumps(run.manifest.get("settings", {}), ensure_ascii=False, indent=2, sort_keys=True)),
        "data": _script_json({"removed_by_rule": by_rule, "colours": colours}),
    }
    for name, value in slots.items():
        template = template.replace("{{" + name + "}}", value)
    return template


def _section(stats: dict[str, Any], key: str) -> dict[str, Any]:
    value = stats.get(key)
    return value if isinstance(value, dict) else {}


def _stat(stats: dict[str, Any], section: str, key: str) -> int | None:
    value = _section(stats, section).get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _subtitle(manifest: dict[str, Any], documents: list[dict[str, Any]]) -> str:
    version = manifest.get("version") or manifest.get("cleaner")
    if not version and documents:
        version = documents[0].get("metadata", {}).get("pipeline", {}).get("cleaner")
    parts = [f"cleaner {version}" if version else "cleaner"]
    for key in ("finished", "started", "created"):
        if isinstance(manifest.get(key), str):
            parts.append(manifest[key])
            break
    return " · ".join(parts)


def _cards(stats: dict[str, Any]) -> str:
    out = []
    for stat_id, section, key, label in CARDS:
        value = _stat(stats, section, key)
        if value is None:
            continue
        out.append(
            f'<div class="card card-{section}"><div class="num" data-stat="{stat_id}" data-value="{value}">'
            f'{value:,}</div><div class="lbl">{escape(label)}</div></div>'
        )
    errors = stats.get("errors")
    if isinstance(errors, list):
        out.append(
            f'<div class="card card-errors"><div class="num" data-stat="errors" data-value="{len(errors)}">'
            f'{len(errors):,}</div><div class="lbl">input errors</div></div>'
        )
    return "".join(out)


def _share(stats: dict[str, Any]) -> str:
    total = _stat(stats, "characters", "in")
    kept = _stat(stats, "characters", "kept")
    removed = _stat(stats, "characters", "removed")
    if not total or kept is None or removed is None:
        return ""
    kept_pct = 100 * kept / total
    removed_pct = 100 * removed / total
    return (
        '<div class="share" role="img" aria-label="share of characters kept and removed">'
        f'<div class="kept" style="width:{kept_pct:.2f}%" title="kept: {kept:,} characters"></div>'
        f'<div class="removed" style="width:{removed_pct:.2f}%" title="removed: {removed:,} characters"></div></div>'
        f'<p class="share-caption"><span class="dot kept"></span>kept <b data-stat="kept_percent">{kept_pct:.1f}%</b>'
        f' <span class="dot removed"></span>removed <b data-stat="removed_percent">{removed_pct:.1f}%</b> of characters</p>'
    )


def _chars(value: Any) -> int:
    return int(value.get("chars", 0)) if isinstance(value, dict) else 0


def _category_chart(by_category: dict[str, Any], colours: dict[str, str]) -> str:
    rows = sorted(((name, _chars(v), colours.get(name, "#888")) for name, v in by_category.items()), key=lambda r: (-r[1], r[0]))
    return bar_chart(rows, chart_id="chart-category", unit="characters")


def _rule_chart(by_rule: dict[str, Any], colours: dict[str, str]) -> str:
    rows = sorted(
        ((name, _chars(v), colours.get(str(v.get("category", "")), "#888")) for name, v in by_rule.items()),
        key=lambda r: (-r[1], r[0]),
    )
    note = ""
    if len(rows) > TOP_RULES_CHART:
        note = f'<p class="hint">Top {TOP_RULES_CHART} of {len(rows)} rules; all are in the table below.</p>'
    return bar_chart(rows[:TOP_RULES_CHART], chart_id="chart-rule", unit="characters") + note


def _cluster_chart(sizes: dict[str, Any]) -> str:
    rows = sorted(((str(k), int(v), DUPLICATE) for k, v in sizes.items()), key=lambda r: int(r[0]) if r[0].isdigit() else 0)
    rows = [(f"{label} copies", value, colour) for label, value, colour in rows]
    return bar_chart(rows, chart_id="chart-clusters", unit="clusters")


def _language_chart(languages: dict[str, Any]) -> str:
    rows = sorted(((str(k), int(v), "#0072b2") for k, v in languages.items()), key=lambda r: (-r[1], r[0]))
    return bar_chart(rows, chart_id="chart-languages", unit="documents")


def _rejections(reasons: dict[str, Any]) -> str:
    if not reasons:
        return '<p class="empty">No document was rejected.</p>'
    rows = sorted(reasons.items(), key=lambda item: (-int(item[1]), item[0]))
    body = "".join(
        f'<tr data-reason="{escape(str(r))}"><td>{escape(str(r))}</td><td class="n" data-value="{int(n)}">{int(n):,}</td></tr>'
        for r, n in rows
    )
    return f'<table class="grid" id="rejections"><thead><tr><th>reason</th><th class="n">documents</th></tr></thead><tbody>{body}</tbody></table>'


def _errors(errors: list[Any]) -> str:
    if not errors:
        return '<p class="empty">All inputs were read.</p>'
    items = []
    for error in errors[:MAX_ERRORS]:
        if isinstance(error, dict):
            items.append(f'<li><code>{escape(str(error.get("path", "")))}</code> {escape(str(error.get("message", "")))}</li>')
        else:
            items.append(f"<li>{escape(str(error))}</li>")
    more = f'<p class="hint">Showing {MAX_ERRORS} of {len(errors):,} errors; all are in stats.json.</p>' if len(errors) > MAX_ERRORS else ""
    return f'<ul class="errors">{"".join(items)}</ul>{more}'


def _legend(colours: dict[str, str]) -> str:
    return "".join(
        f'<span class="key"><span class="swatch" style="background:{colour}"></span>{escape(name)}</span>'
        for name, colour in sorted(colours.items())
        if name
    )


def _sample_note(stats: dict[str, Any], run: RunOutput, sample: int) -> str:
    out = _stat(stats, "documents", "out")
    rejected = _stat(stats, "documents", "rejected")
    note = f"Showing the first {len(run.documents):,} of {out if out is not None else len(run.documents):,} output documents"
    if out is not None and out > sample:
        note += f" (a deterministic sample: the first {sample:,} in output order)"
    if run.rejected:
        note += f" and the first {len(run.rejected):,} of {rejected if rejected is not None else len(run.rejected):,} rejected ones"
        if rejected is not None and rejected > REJECTED_SAMPLE:
            note += " (sampled the same way)"
    return note + "."


def _documents(run: RunOutput, colours: dict[str, str]) -> str:
    if not run.documents and not run.rejected:
        return '<p class="empty">The run wrote no documents.</p>'
    view = DocumentView(run.documents + run.rejected, colours)
    kept = "".join(view.render(record) for record in run.documents)
    rejected = "".join(view.render(record) for record in run.rejected)
    if rejected:
        rejected = f'<h3 class="group">Rejected documents</h3>{rejected}'
    return kept + rejected


def _script_json(value: Any) -> str:
    """JSON safe to embed in a <script> element (no "</script>" can end it early)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
