"""Deterministic dump corpus for the full-pipeline benchmark, in three layouts of a requested size.

Documents look like scraped news articles (German and English, 3-6 KB typical): a title, long
paragraphs, a few subheadings, and boilerplate where scrapers leave it. The boilerplate is not
invented here: it is every run of lines the site fixtures (`tests/fixtures/sites/tune`) and the
seeds (`seeds/` against `tests/golden/seeds`) lose when cleaned exactly, kept as whole runs
(a "Weitere Informationen ... Ende der weiteren Informationen" box stays one unit) and put back
where it was found: runs from the top of a page go to the top, closing runs go to the end.

Paragraph text comes from the dedup benchmark's Zipf writer (`corpus_gen._Writer`), with the
function words of one language at the top ranks so language detection sees German or English.
To generate hundreds of MB in seconds, a pool of writer paragraphs is built once per language
and article paragraphs are joins of 1-3 pool paragraphs. Planted duplicates: about 5% of
documents repeat an earlier document whole, and about 3% of paragraphs are near copies
(`_Writer.mutate`, Jaccard target 0.7-1.0) of a recent paragraph.

Layouts, each under its own directory with a `corpus.json` summary:
- `txt`: one article per `.txt` file, 1000 files per subdirectory;
- `jsonl`: one `corpus.jsonl` of `{"id", "url", "text"}` records (and `corpus.jsonl.zst` with
  `--zst`);
- `html`: one page per `.html` file, the article wrapped in a page with the weight and parts of a
  news site's (inline CSS and scripts, JSON-LD, mega menu, teaser grid, related links, footer:
  see `PageChrome`); the requested size counts HTML bytes.

    python benchmarks/pipeline_corpus.py txt 200MB .bench/txt-200MB
"""

from __future__ import annotations

import argparse
import difflib
import html
import json
import random
import re
import shutil
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus_gen import ENGLISH, GERMAN, _Writer  # noqa: E402

# Bump a layout's version when its output for a given seed and size changes; names the cache directories.
# html 2: pages with the weight of real news pages (see PageChrome), not 8 KB of mostly text.
VERSIONS = {"txt": 1, "jsonl": 1, "html": 2}
LAYOUTS = ("txt", "jsonl", "html")
POOL_PARAGRAPHS = 40_000  # per language
DUPLICATE_DOCUMENT_RATE = 0.05
NEAR_PARAGRAPH_RATE = 0.03
FILES_PER_DIR = 1000
FLUSH_BYTES = 8 << 20
SITES = {
    "de": ["hessenfunk.de", "rheinische-landeszeitung.de", "weser-nachrichten.de", "technikzeit.de",
           "boltwise.it"],
    "en": ["dailybugle.com", "globalwire.com", "maple-grove-gazette.com", "northern-review.co.uk"],
}
NAV = {
    "de": ["Startseite", "Politik", "Wirtschaft", "Kultur", "Sport", "Wissen", "Regional", "Video", "Podcasts"],
    "en": ["Home", "News", "Politics", "Business", "Culture", "Sport", "Science", "Opinion", "Video"],
}
FIRST_NAMES = ["Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sarah", "Tom", "Emily", "James", "Olivia", "Ben"]
LAST_NAMES = ["Müller", "Schmidt", "Weber", "Wagner", "Becker", "Hoffmann", "Smith", "Jones", "Taylor", "Brown"]
FOOTER = {
    "de": ["Impressum", "Datenschutz", "Cookie-Einstellungen", "Kontakt", "Barrierefreiheit", "AGB",
           "Mediadaten", "Karriere"],
    "en": ["About us", "Privacy policy", "Cookie settings", "Contact", "Accessibility", "Terms of use",
           "Advertise", "Careers"],
}


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """A run of consecutive lines a site fixture loses when cleaned, and where it sat."""

    lines: tuple[str, ...]
    place: str  # "top", "middle" or "end"


@dataclass(frozen=True, slots=True)
class Article:
    """One generated document: its lines in order, each tagged title/heading/paragraph/boilerplate."""

    id: str
    lang: str
    site: str
    lines: tuple[tuple[str, str], ...]
    duplicate_of: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines) + "\n"

    @property
    def url(self) -> str:
        return f"https://www.{self.site}/{self.lang}/artikel/{self.id}"


def removed_runs(dump: list[str], clean: list[str]) -> list[Boilerplate]:
    """Runs of `dump` lines missing from `clean`, each placed by whether it touched the top or end."""
    runs = []
    matcher = difflib.SequenceMatcher(a=dump, b=clean, autojunk=False)
    for tag, a0, a1, _, _ in matcher.get_opcodes():
        if tag not in ("delete", "replace"):
            continue
        lines = tuple(line for line in dump[a0:a1] if line.strip())
        if not lines:
            continue
        place = "top" if a0 <= 2 else "end" if a1 >= len(dump) - 1 else "middle"
        runs.append(Boilerplate(lines, place))
    return runs


def load_boilerplate(root: Path = ROOT) -> dict[str, list[Boilerplate]]:
    """Every removed run of the tune fixtures and the seeds, by language (from the file name / seeds: de)."""
    pairs = [(p, p.with_name(p.name.replace(".txt", ".expected.txt")), p.name[:2])
             for p in sorted((root / "tests" / "fixtures" / "sites" / "tune").glob("*.txt"))
             if not p.name.endswith(".expected.txt")]
    pairs += [(p, root / "tests" / "golden" / "seeds" / p.name, "de") for p in sorted((root / "seeds").glob("*.txt"))]
    found: dict[str, list[Boilerplate]] = {"de": [], "en": []}
    for dump, clean, lang in pairs:
        if clean.is_file():
            found[lang] += removed_runs(dump.read_text(encoding="utf-8").splitlines(),
                                        clean.read_text(encoding="utf-8").splitlines())
    for lang, runs in found.items():
        if not runs:
            raise SystemExit(f"pipeline_corpus: no {lang} boilerplate found under {root}/tests/fixtures/sites/tune")
    return found


class ArticleWriter:
    """Articles from precomputed pieces; one seeded random.Random drives every choice."""

    def __init__(self, seed: int, root: Path = ROOT, pool: int = POOL_PARAGRAPHS) -> None:
        self.rng = random.Random(seed)
        self.writer = _Writer(seed)
        self.boilerplate = {lang: {place: [b for b in runs if b.place == place] for place in ("top", "middle", "end")}
                            for lang, runs in load_boilerplate(root).items()}
        self.vocab = {lang: self._vocab(words) for lang, words in (("de", GERMAN), ("en", ENGLISH))}
        self.pool = {lang: self._pool(lang, pool) for lang in self.vocab}
        self.recent_paragraphs: deque[str] = deque(maxlen=4000)
        self.recent_articles: deque[Article] = deque(maxlen=2000)
        self.count = 0
        self.duplicates = 0
        self.near = 0
        self.boilerplate_lines = 0

    def _vocab(self, function_words: list[str]) -> list[str]:
        """The writer's vocabulary with one language's function words at the top ranks.

        The writer's word ids are ranks of a Zipf stream; mapping the top ranks to one
        language's function words (and the rest to the shared synthetic words, wrapping round
        to fill the same number of ids) gives text a language detector reads as that language.
        """
        mixed = self.writer.vocab
        synthetic = mixed[len(GERMAN) + len(ENGLISH):]
        return ((function_words + synthetic) * 2)[: len(mixed)]

    def _pool(self, lang: str, size: int) -> list[str]:
        self.writer.vocab = self.vocab[lang]
        return [self.writer.paragraph() for _ in range(size)]

    def _words(self, lang: str, low: int, high: int) -> str:
        pool = self.pool[lang]
        words = pool[self.rng.randrange(len(pool))].rstrip(".!?").split()
        start = self.rng.randrange(max(len(words) - high, 1))
        return " ".join(words[start: start + self.rng.randint(low, high)]).strip(",").capitalize()

    def _paragraph(self, lang: str) -> str:
        rng = self.rng
        if self.recent_paragraphs and rng.random() < NEAR_PARAGRAPH_RATE:
            self.near += 1
            source = self.recent_paragraphs[rng.randrange(len(self.recent_paragraphs))]
            self.writer.vocab = self.vocab[lang]  # words the mutation inserts are in the language too
            return self.writer.mutate(source, rng.uniform(0.7, 1.0))
        pool = self.pool[lang]
        text = " ".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(1, 3)))
        self.recent_paragraphs.append(text)
        return text

    def _boilerplate(self, lang: str, place: str) -> list[tuple[str, str]]:
        runs = self.boilerplate[lang][place] or self.boilerplate[lang]["middle"]
        run = runs[self.rng.randrange(len(runs))]
        self.boilerplate_lines += len(run.lines)
        return [("boilerplate", line) for line in run.lines]

    def next(self) -> Article:
        rng = self.rng
        doc_id = f"d{self.count:08d}"
        self.count += 1
        if self.recent_articles and rng.random() < DUPLICATE_DOCUMENT_RATE:
            source = self.recent_articles[rng.randrange(len(self.recent_articles))]
            self.duplicates += 1
            return Article(doc_id, source.lang, source.site, source.lines, duplicate_of=source.id)
        lang = "de" if rng.random() < 0.6 else "en"
        lines: list[tuple[str, str]] = [("title", self._words(lang, 5, 11))]
        if rng.random() < 0.7:
            lines += self._boilerplate(lang, "top")
        paragraphs = rng.randint(4, 8)
        for k in range(paragraphs):
            if k >= 2 and rng.random() < 0.3:
                lines.append(("heading", self._words(lang, 2, 6)))
            lines.append(("paragraph", self._paragraph(lang)))
            if k < paragraphs - 1 and rng.random() < 0.15:
                lines += self._boilerplate(lang, "middle")
        for _ in range(rng.choice((0, 1, 1, 2))):
            lines += self._boilerplate(lang, "end")
        article = Article(doc_id, lang, rng.choice(SITES[lang]), tuple(lines))
        self.recent_articles.append(article)
        return article

    def summary(self) -> dict[str, int]:
        return {"documents": self.count, "duplicate_documents": self.duplicates,
                "near_duplicate_paragraphs": self.near, "boilerplate_lines": self.boilerplate_lines}


class PageChrome:
    """What a news site repeats on every page around the article, built once per site.

    Real article pages weigh far more than their text: the pages a crawl stores carry inline
    critical CSS, an SVG icon sprite, consent and analytics scripts, a mega menu and a long
    footer, and per page a JSON-LD block, a client-side state blob and teaser grids. Pages of
    40-60 KB with about a tenth of it article text are typical of news sites; a page that is
    mostly text would understate what the HTML reader gets through in MB of HTML. Like news pages,
    they state author, publication date, site name and section in meta tags and JSON-LD, where
    trafilatura and htmldate look first; without them both search the whole page.
    """

    def __init__(self, site: str, lang: str, vocab: list[str]) -> None:
        rng = random.Random(f"chrome:{site}")
        self.site, self.lang, self.vocab = site, lang, vocab
        self.css = "".join(
            f".c-{k}{{margin:{rng.randint(0, 32)}px {rng.randint(0, 32)}px;padding:{rng.randint(0, 24)}px;"
            f"color:#{rng.randrange(16**6):06x};font-size:{rng.randint(11, 28)}px;"
            f"line-height:{rng.randint(12, 20) / 10};display:{rng.choice(('block', 'flex', 'grid'))}}}"
            f"@media (min-width:{rng.choice((480, 768, 1024))}px){{.c-{k}{{flex-basis:{rng.randint(10, 90)}%}}}}"
            for k in range(120))
        self.sprite = "".join(
            f'<symbol id="icon-{name}" viewBox="0 0 24 24"><path d="'
            + " ".join(f"{rng.choice('MLCQ')}{rng.randint(0, 24)} {rng.randint(0, 24)}" for _ in range(40))
            + '"/></symbol>'
            for name in ("menu", "search", "close", "share", "mail", "print", "play", "user", "arrow", "clock"))
        sections = NAV[lang]
        self.menu = "".join(
            f'<li class="c-{k % 120}"><a href="/{lang}/{section.lower()}/">{html.escape(section)}</a><ul class="sub">'
            + "".join(f'<li><a href="/{lang}/{section.lower()}/{word}/">{word.capitalize()}</a></li>'
                      for word in self._words(rng, 9))
            + "</ul></li>"
            for k, section in enumerate(sections))
        links = FOOTER[lang] + [w.capitalize() for w in self._words(rng, 24)]
        self.footer = "".join(f'<li><a href="/{item.lower().replace(" ", "-")}/">{html.escape(item)}</a></li>'
                              for item in links)
        self.consent = ("Wir und unsere Partner verwenden Cookies. Mit Ihrer Zustimmung verarbeiten wir Daten "
                        "zu Werbe- und Analysezwecken." if lang == "de" else
                        "We and our partners use cookies. With your consent we process data for advertising "
                        "and analytics.")

    def _words(self, rng: random.Random, n: int) -> list[str]:
        return [self.vocab[rng.randrange(20, min(len(self.vocab), 2000))] for _ in range(n)]

    def title(self, rng: random.Random) -> str:
        return " ".join(self._words(rng, rng.randint(4, 9))).capitalize()


def render_html(article: Article, chrome: PageChrome) -> str:
    """The article inside a page shaped like a news site's: see `PageChrome` for what surrounds it."""
    lang, esc, site = article.lang, html.escape, article.site
    rng = random.Random(article.id)
    title = article.lines[0][1]
    body = []
    for kind, text in article.lines[1:]:
        if kind == "heading":
            body.append(f"<h2>{esc(text)}</h2>")
        elif kind == "boilerplate":
            body.append(f'<p class="meta">{esc(text)}</p>')
        else:
            body.append(f"<p>{esc(text)}</p>")
    related_title = "Mehr zum Thema" if lang == "de" else "Related stories"
    # Related links reuse the title with a varying suffix: cheap, and shaped like real teaser lists.
    related = "".join(f'<li><a href="/{lang}/artikel/{article.id}-{k}">{esc(title)} ({k})</a></li>' for k in range(1, 5))
    teasers = [(f"t{rng.randrange(10**8):08d}", chrome.title(rng), chrome.title(rng)) for _ in range(14)]
    grid = "".join(
        f'<div class="teaser c-{k}"><a href="/{lang}/artikel/{tid}"><img src="/img/{tid}.jpg" alt="" loading="lazy" '
        f'width="320" height="180"><span class="kicker">{esc(kicker.split()[0])}</span><h3>{esc(head)}</h3></a></div>'
        for k, (tid, head, kicker) in enumerate(teasers))
    state = json.dumps({"page": {"id": article.id, "section": NAV[lang][1], "lang": lang},
                        "teasers": [{"id": tid, "title": head, "kicker": kicker, "url": f"/{lang}/artikel/{tid}",
                                     "image": {"src": f"/img/{tid}.jpg", "w": 320, "h": 180}}
                                    for tid, head, kicker in teasers],
                        "ads": [{"slot": f"slot-{k}", "sizes": [[300, 250], [728, 90]], "targeting": {"kw": kicker}}
                                for k, (_, _, kicker) in enumerate(teasers[:8])]},
                       ensure_ascii=False)
    author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    # Dated before the benchmark's SOURCE_DATE_EPOCH (2023-11-14): htmldate rejects later dates and
    # then searches the whole page for another one, which no crawl of real, past pages makes it do.
    published = (f"{rng.choice((2022, 2023))}-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
                 f"T{rng.randint(5, 22):02d}:{rng.randint(0, 59):02d}:00+01:00")
    section = NAV[lang][rng.randint(1, 6)]
    keywords = ", ".join(chrome.title(rng).split()[:4])
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                     "url": article.url, "inLanguage": lang, "datePublished": published, "dateModified": published,
                     "author": {"@type": "Person", "name": author}, "articleSection": section,
                     "publisher": {"@type": "Organization", "name": site}}, ensure_ascii=False)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} | {site}</title>"
        f'<meta name="description" content="{esc(title)}"><link rel="canonical" href="{article.url}">'
        f'<meta property="og:type" content="article"><meta property="og:title" content="{esc(title)}">'
        f'<meta property="og:site_name" content="{site}"><meta name="author" content="{author}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<meta property="article:section" content="{section}"><meta name="keywords" content="{esc(keywords)}">'
        f'<style>{chrome.css}</style>'
        f'<link rel="stylesheet" href="/static/main.css"><script async src="/static/analytics.js"></script>'
        f"<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}"
        f"gtag('js',new Date());gtag('config','G-BENCH');</script>"
        f'<script type="application/ld+json">{ld}</script></head>\n'
        f'<body class="article"><svg xmlns="http://www.w3.org/2000/svg" style="display:none">{chrome.sprite}</svg>'
        f'<div id="consent" class="c-1"><p>{chrome.consent}</p><button>OK</button></div>'
        f'<header class="site-header"><a class="logo" href="/">{site}</a>'
        f'<nav class="main-nav"><ul>{chrome.menu}</ul></nav></header>\n'
        f'<main><article><h1>{esc(title)}</h1>\n' + "\n".join(body) + "\n"
        f'<aside class="related"><h3>{related_title}</h3><ul>{related}</ul></aside></article>\n'
        f'<section class="teaser-grid">{grid}</section>'
        f'<aside class="sidebar"><div class="ad-slot" data-slot="sidebar-1"></div>'
        f'<div class="newsletter"><form action="/newsletter"><input type="email" name="email">'
        f'<button>{"Abonnieren" if lang == "de" else "Subscribe"}</button></form></div></aside></main>\n'
        f'<footer class="site-footer"><ul>{chrome.footer}</ul><p>&copy; 2025 {site}</p></footer>'
        f'<script id="__STATE__" type="application/json">{state}</script>'
        f'<div id="cookie-banner" hidden></div></body></html>\n'
    )


def parse_size(value: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(|k|kb|m|mb|g|gb)\s*", value.lower())
    if not match:
        raise argparse.ArgumentTypeError(f"size like 200MB or 2GB, not {value!r}")
    factor = {"": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9}[match[2]]
    return int(float(match[1]) * factor)


def generate(layout: str, size: int, out: Path, seed: int = 1, zst: bool = False, root: Path = ROOT,
             pool: int = POOL_PARAGRAPHS) -> dict:
    """Write a corpus of at least `size` bytes (of text, JSONL or HTML) into `out`; return its summary.

    The same seed always writes byte-identical files. `out` must not exist yet or be empty.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty")
    started = time.perf_counter()
    writer = ArticleWriter(seed, root, pool)
    languages = {"de": 0, "en": 0}
    written = files = 0
    if layout == "jsonl":
        with (out / "corpus.jsonl").open("wb") as stream:
            chunk: list[bytes] = []
            pending = 0
            while written < size:
                article = writer.next()
                languages[article.lang] += 1
                data = (json.dumps({"id": article.id, "url": article.url, "text": article.text},
                                   ensure_ascii=False) + "\n").encode()
                chunk.append(data)
                pending += len(data)
                written += len(data)
                if pending >= FLUSH_BYTES:
                    stream.write(b"".join(chunk))
                    chunk, pending = [], 0
            stream.write(b"".join(chunk))
        files = 1
        if zst:
            import zstandard

            with (out / "corpus.jsonl").open("rb") as source, (out / "corpus.jsonl.zst").open("wb") as target:
                zstandard.ZstdCompressor(level=3).copy_stream(source, target)
    else:
        suffix = ".txt" if layout == "txt" else ".html"
        chromes: dict[str, PageChrome] = {}
        while written < size:
            article = writer.next()
            languages[article.lang] += 1
            if layout == "txt":
                data = article.text.encode()
            else:
                if article.site not in chromes:
                    chromes[article.site] = PageChrome(article.site, article.lang, writer.vocab[article.lang])
                data = render_html(article, chromes[article.site]).encode()
            folder = out / f"{files // FILES_PER_DIR:04d}"
            if files % FILES_PER_DIR == 0:
                folder.mkdir()
            (folder / f"{article.id}{suffix}").write_bytes(data)
            written += len(data)
            files += 1
    summary = {"version": VERSIONS[layout], "layout": layout, "seed": seed, "bytes": written, "files": files,
               "languages": languages, **writer.summary(),
               "seconds": round(time.perf_counter() - started, 2)}
    (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def cached(layout: str, size: int, cache: Path, seed: int = 1) -> tuple[Path, dict]:
    """The corpus under `cache`, generated on first use; a half-written one is regenerated."""
    out = cache / f"{layout}-{size // 10**6}MB-seed{seed}-v{VERSIONS[layout]}"
    summary_path = out / "corpus.json"
    if summary_path.is_file():
        return out, json.loads(summary_path.read_text(encoding="utf-8"))
    if out.exists():
        shutil.rmtree(out)
    return out, generate(layout, size, out, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layout", choices=LAYOUTS)
    parser.add_argument("size", type=parse_size, help="e.g. 20MB, 200MB, 2GB")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--zst", action="store_true", help="also write corpus.jsonl.zst (jsonl layout)")
    args = parser.parse_args()
    summary = generate(args.layout, args.size, args.out, args.seed, args.zst)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
