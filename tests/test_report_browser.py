"""The report as a browser renders it: script-built values, the filter, and a screenshot.

Needs Debian's chromium (``apt-get install chromium``); skipped without it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from io_dom import Node, parse
from io_report_run import CARD_KEYS, write_run

from cleaner.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs a headless browser: apt-get install chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return result.stdout


def rendered(tmp_path: Path, url: str) -> Node:
    return parse(chromium(tmp_path, "--dump-dom", url))


def test_rendered_numbers_equal_stats(tmp_path: Path) -> None:
    stats = write_run(tmp_path / "out")
    report = write_report(tmp_path / "out")
    dom = rendered(tmp_path, report.as_uri())
    for stat, (section, key) in CARD_KEYS.items():
        node = dom.find(data_stat=stat)
        assert int(node.attrs["data-value"]) == stats[section][key]
        assert node.text() == f"{stats[section][key]:,}"
    # the rule table only exists once the page's script has run
    rows = dom.find("table", id="rule-table").find("tbody").find_all("tr")
    table = {r.attrs["data-rule"]: [td.text() for td in r.find_all("td")] for r in rows}
    assert table == {
        rule: [rule, v["category"], f"{v['lines']:,}", f"{v['chars']:,}"] for rule, v in stats["removed_by_rule"].items()
    }
    chars = [int(r.find_all("td")[3].attrs["data-value"]) for r in rows]
    assert chars == sorted(chars, reverse=True)
    assert dom.find(id="no-rules").attrs.get("hidden") is not None
    shown = dom.find(id="shown")
    assert shown.attrs["data-shown"] == "4" and shown.text() == "4 of 4 shown"


def test_filter_by_file_name_from_address(tmp_path: Path) -> None:
    write_run(tmp_path / "out")
    report = write_report(tmp_path / "out")
    dom = rendered(tmp_path, report.as_uri() + "?q=KOMMENTAR")
    visible = [a.find("h3").text() for a in dom.find_all("article", class_="doc") if "hidden" not in a.attrs]
    assert visible == ["lokal/kommentar.txt"]
    assert dom.find(id="shown").text() == "1 of 4 shown"


def test_screenshot(tmp_path: Path) -> None:
    write_run(tmp_path / "out")
    report = write_report(tmp_path / "out")
    png = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,2000", report.as_uri())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == 1280 and int.from_bytes(data[20:24], "big") == 2000
