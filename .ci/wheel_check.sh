#!/usr/bin/env bash
# The wheel as a user gets it: built from this checkout, installed with a plain `pip install`
# (no extras) into a fresh venv, it must read every input format and run the options that need
# no extra. The test venv cannot show a missing runtime dependency: a test extra may pull it in.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
unset PYTHONPATH  # the installed package, never this checkout
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
bin=$work/venv/bin
"$bin/python" -m pip wheel --quiet --no-deps -w "$work/dist" .
"$bin/python" -m pip install --quiet "$work"/dist/cleaner-*.whl

# One small input of each format: txt, HTML, gzip JSONL, Parquet.
mkdir "$work/in"
"$bin/python" - "$work/in" <<'PY'
import gzip, json, sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

root = Path(sys.argv[1])
body = ("Der Stadtrat hat am Dienstagabend den Haushalt für das kommende Jahr beschlossen. Die Mehrheit stimmte "
        "nach einer langen Debatte für den Entwurf der Verwaltung, der deutliche Investitionen in Schulen vorsieht.")
more = ("Die Opposition kritisierte die hohe Neuverschuldung und kündigte an, den Haushalt weiter genau zu "
        "beobachten. Der Kämmerer verteidigte die Pläne als notwendig für die Zukunft der Stadt.")
(root / "a.txt").write_text(f"{body}\nAnzeige\n{more}\n", encoding="utf-8")
(root / "page.html").write_text(
    "<html><head><title>Stadtrat beschließt Haushalt</title></head><body><nav>Startseite | Politik</nav>"
    f"<article><h1>Stadtrat beschließt Haushalt</h1><p>12. März 2024, 14:30 Uhr</p><p>{body}</p><p>{more}</p>"
    "</article></body></html>", encoding="utf-8")
(root / "dump.jsonl.gz").write_bytes(gzip.compress(json.dumps({"text": f"{body}\n{more}\n"}).encode() + b"\n"))
pq.write_table(pa.table({"text": [f"{more}\n{body}\n"]}), root / "table.parquet")
PY

cd "$work"
# --strict: an input that cannot be read (say, HTML without its extractor's dependencies) fails the check.
"$bin/cleaner" clean in -o out --format jsonl,txt --strict -q --no-dedup  # the four inputs share their text
"$bin/python" - <<'PY'
import json
records = [json.loads(line) for line in open("out/documents.jsonl", encoding="utf-8")]
formats = sorted(r["metadata"]["source"]["format"] for r in records)
assert formats == ["html", "jsonl", "parquet", "txt"], formats
assert all("Stadtrat" in r["text"] for r in records)
PY
"$bin/cleaner" clean in/page.html -o out-generic --generic --strict -q
"$bin/cleaner" clean in -o out-training --preset training --strict -q --no-dedup
"$bin/cleaner" explain in/page.html --color never | grep -q "de.date.stamp"
echo "wheel check: a plain install of $(basename "$work"/dist/cleaner-*.whl) reads txt, HTML, JSONL.gz and Parquet"
