"""Finishing touches on the built site's HTML pages, applied by the MkDocs hooks.

The theme (mkdocs-material) is used as shipped; what it lacks for this site's readers is added
here, page by page, and by one stylesheet and one script from ``site_assets/``:

- search answers in the reader's language and analyses English queries like the index (the
  theme turns every typed word into a prefix query, which skips the stemmer the index was built
  with, so "complaints" found nothing in an index holding "complaint");
- tables scroll visibly and can be scrolled from the keyboard (the theme wraps them in its
  script; site.js makes each scroll area a named, focusable region), first column in view;
- the search dialog has a name; the "last updated" date is in the footer;
- no page asks for a file that does not exist (the theme fetches a sitemap next to every
  alternate-language link, so those links are dropped: the language switch carries the pairs);
- a "page not found" page in each language.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urljoin

ASSET_DIR = "assets/complaints"
ASSETS = ("site.css", "site.js")
# Next to the theme's search worker, whose relative imports must resolve from the same folder.
WORKER_DIR = "assets/javascripts/workers"
WORKER = "complaints-search.js"
META_FILE = "site-meta.json"  # written by the site generation, read by the hooks

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "search": "搜索本站",
        "updated": "本站更新于 {date}",
        "not_found_title": "页面不存在",
        "not_found": "您要找的页面不存在，可能已经移动或删除。",
        "home": "返回首页",
        "other": "English: page not found — go to the English home page",
    },
    "en": {
        "search": "Search this site",
        "updated": "Last updated {date}",
        "not_found_title": "Page not found",
        "not_found": "The page you are looking for does not exist. It may have been moved or removed.",
        "home": "Go to the home page",
        "other": "中文：页面不存在，返回中文首页",
    },
}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def reader_date(day: dt.date, lang: str) -> str:
    """A date as readers of LANG write it."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def page_language(url: str, languages: tuple[str, ...]) -> str:
    """The language of a page from its URL (the default language has no prefix)."""
    first = url.lstrip("/").split("/", 1)[0]
    return first if first in languages[1:] else languages[0]


def is_statistics_page(url: str, languages: tuple[str, ...]) -> bool:
    """A page of the statistics section (statistics/..., en/statistics/...)."""
    parts = url.lstrip("/").split("/")
    if parts and parts[0] in languages[1:]:
        parts = parts[1:]
    return bool(parts) and parts[0] == "statistics"


_FIGURE_START = re.compile(r"<(table|svg)(?=[\s>])")


def exclude_figures_from_search(html: str) -> str:
    """The statistics pages' tables and charts marked to stay out of the search index: the
    index flattens a table's cells into one line of numbers, where the cells of a large
    archive's table can read as a telephone number and stop the publication; a reader finds
    these figures through the page, and the prose around them stays searchable."""
    return _FIGURE_START.sub(lambda m: f"<{m.group(1)} data-search-exclude", html)


@dataclass(frozen=True)
class SiteMeta:
    """What the generation knows that every page shows: the day the site was built for."""

    updated: dt.date | None

    def to_json(self) -> str:
        return json.dumps({"updated": self.updated.isoformat() if self.updated else None})

    @classmethod
    def read(cls, path: Path) -> SiteMeta:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(dt.date.fromisoformat(data["updated"]) if data.get("updated") else None)
        except (OSError, ValueError, KeyError, TypeError):
            return cls(None)


def _relative(target: str, page_url: str) -> str:
    """TARGET (a path from the site root) as a link from the page at PAGE_URL."""
    # MkDocs page URLs are folders ("statistics/channels/"): one "../" per folder level.
    return "../" * page_url.count("/") + target


_ALTERNATE = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')
_SEARCH_DIALOG = re.compile(r'(<div class="md-search" data-md-component="search" role="dialog")>')
_COPYRIGHT = re.compile(r'(<div class="md-copyright">)')
_WORKER = re.compile(r'("search": "[^"]*workers/)(search\.[0-9a-f]+\.min\.js)(")')


def finish_page(text: str, page_url: str, lang: str, meta: SiteMeta, languages: tuple[str, ...]) -> str:
    """One built page with the additions above."""
    words = WORDS.get(lang, WORDS["en"])
    text = _ALTERNATE.sub("", text)
    text = _SEARCH_DIALOG.sub(rf'\1 aria-label="{html.escape(words["search"])}">', text)
    if meta.updated is not None:
        line = f'<p class="cx-updated">{html.escape(words["updated"].format(date=reader_date(meta.updated, lang)))}</p>'
        text = _COPYRIGHT.sub(lambda m: m.group(1) + line, text, count=1)
    # The search worker learns the reader's language from its address.
    text = _WORKER.sub(lambda m: f"{m.group(1)}{WORKER}?lang={lang}&langs={','.join(languages)}&worker={m.group(2)}{m.group(3)}", text)
    head = f'<link rel="stylesheet" href="{_relative(ASSET_DIR + "/site.css", page_url)}">'
    text = text.replace("</head>", head + "\n</head>", 1)
    script = f'<script src="{_relative(ASSET_DIR + "/site.js", page_url)}"></script>'
    text = text.replace("</body>", script + "\n</body>", 1)
    return text


def write_assets(site_dir: Path) -> None:
    """Copy the stylesheet and scripts into the built site."""
    target = site_dir / ASSET_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        data = resources.files("complaints").joinpath("site_assets", name).read_bytes()
        (target / name).write_bytes(data)
    worker = resources.files("complaints").joinpath("site_assets", WORKER).read_bytes()
    (site_dir / WORKER_DIR).mkdir(parents=True, exist_ok=True)
    (site_dir / WORKER_DIR / WORKER).write_bytes(worker)


_URL_ATTR = re.compile(r'\b(href|src)="([^"#][^"]*)"')
_ARTICLE = re.compile(r'(<article class="md-content__inner md-typeset">).*?(</article>)', re.S)
_TOC = re.compile(r'<nav class="md-nav md-nav--secondary".*?</nav>', re.S)
_BASE = re.compile(r'"base": "[^"]*"')
_FOOTER_NAV = re.compile(r'<nav class="md-footer__inner md-grid".*?</nav>', re.S)


def _absolute(page: str, page_path: str) -> str:
    """PAGE's links made absolute: a 404 page is served at whatever address was asked for."""

    def fix(match: re.Match[str]) -> str:
        url = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", url):
            return match.group(0)
        return f'{match.group(1)}="{urljoin(page_path, url)}"'

    page = _URL_ATTR.sub(fix, page)
    page = _WORKER_REL.sub(lambda m: f'"search": "{urljoin(page_path, m.group(1))}"', page)
    return _BASE.sub(f'"base": "{urljoin(page_path, ".")}"', page, count=1)


_WORKER_REL = re.compile(r'"search": "([^"/][^"]*)"')


def not_found_pages(site_dir: Path, languages: tuple[str, ...], base_path: str = "/") -> list[Path]:
    """A "page not found" page per language, made from that language's built home page (so it
    has the language's navigation and switch): the default language's at the site root as
    404.html (what GitHub Pages serves for any missing address), the others' as LANG/404.html.
    BASE_PATH is where the site is published (e.g. /REPO/ on GitHub Pages)."""
    base_path = base_path if base_path.endswith("/") else base_path + "/"
    written = []
    for lang in languages:
        prefix = "" if lang == languages[0] else f"{lang}/"
        home = site_dir / prefix / "index.html"
        if not home.is_file():
            continue
        words = WORDS.get(lang, WORDS["en"])
        body = [f"<h1>{html.escape(words['not_found_title'])}</h1>",
                f"<p>{html.escape(words['not_found'])}</p>",
                f'<p><a href="{base_path}{prefix}">{html.escape(words["home"])}</a></p>']
        for other in languages:
            if other != lang:
                other_prefix = "" if other == languages[0] else f"{other}/"
                body.append(f'<p lang="{other}"><a href="{base_path}{other_prefix}" hreflang="{other}">'
                            f"{html.escape(words['other'])}</a></p>")
        page = home.read_text(encoding="utf-8")
        page = _ARTICLE.sub(lambda m: m.group(1) + "\n" + "\n".join(body) + "\n" + m.group(2), page, count=1)
        page = _TOC.sub("", page)
        # Not the home page: no navigation entry is the current one, no "next page" to read on.
        page = page.replace(" md-nav__link--active", "").replace(" md-nav__item--active", "")
        page = re.sub(r'<label class="md-nav__link" for="__toc">.*?</label>', "", page, flags=re.S)
        page = _FOOTER_NAV.sub("", page)
        page = re.sub(r"<title>[^<]*</title>", f"<title>{html.escape(words['not_found_title'])}</title>", page, count=1)
        page = re.sub(r'\s*<link rel="canonical"[^>]*>', "", page)
        page = _absolute(page, base_path + prefix)
        path = site_dir / prefix / "404.html"
        path.write_text(page, encoding="utf-8")
        written.append(path)
    return written
