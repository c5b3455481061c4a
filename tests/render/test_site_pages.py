"""The finishing touches on built pages (complaints.render.site_pages), on small HTML samples: the
search worker told the page's language, no alternate links, a named search dialog, the footer's
date, the stylesheet and script linked at the right depth, and the 404 pages per language."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from complaints.render import site_pages as sitepages

LANGS = ("zh", "en")
PAGE = """<!doctype html>
<html lang="zh"><head><title>统计数据 - 效能投诉</title>
<link rel="canonical" href="https://example.org/statistics/">
<link rel="alternate" href="./" hreflang="zh">
<link rel="alternate" href="../en/statistics/" hreflang="en">
<link rel="stylesheet" href="../assets/stylesheets/main.css">
</head><body>
<div class="md-search" data-md-component="search" role="dialog">
<nav class="md-nav md-nav--secondary" aria-label="目录"><ul><li>x</li></ul></nav>
<article class="md-content__inner md-typeset"><h1>首页</h1><p>text</p></article>
<div class="md-copyright">
</div>
<script id="__config" type="application/json">{"base": "..", "search": "../assets/javascripts/workers/search.a7633da7.min.js"}</script>
<script src="../assets/javascripts/bundle.js"></script>
</body></html>"""


def test_page_language_and_reader_dates() -> None:
    assert sitepages.page_language("", LANGS) == "zh"
    assert sitepages.page_language("statistics/", LANGS) == "zh"
    assert sitepages.page_language("en/statistics/", LANGS) == "en"
    assert sitepages.reader_date(dt.date(2026, 9, 30), "zh") == "2026年9月30日"
    assert sitepages.reader_date(dt.date(2026, 9, 30), "en") == "30 September 2026"


def test_finish_page() -> None:
    out = sitepages.finish_page(PAGE, "statistics/", "zh", sitepages.SiteMeta(dt.date(2026, 11, 27)), LANGS)
    assert '<link rel="alternate"' not in out
    assert 'role="dialog" aria-label="搜索本站">' in out
    assert '<div class="md-copyright"><p class="cx-updated">本站更新于 2026年11月27日</p>' in out
    assert '"search": "../assets/javascripts/workers/complaints-search.js?lang=zh&langs=zh,en&worker=search.a7633da7.min.js"' in out
    assert '<link rel="stylesheet" href="../assets/complaints/site.css">\n</head>' in out
    assert '<script src="../assets/complaints/site.js"></script>\n</body>' in out
    en = sitepages.finish_page(PAGE, "en/statistics/channels/", "en", sitepages.SiteMeta(None), LANGS)
    assert 'href="../../../assets/complaints/site.css"' in en and "lang=en&" in en
    assert "cx-updated" not in en  # no date known, no claim made


def test_site_meta_round_trip(tmp_path: Path) -> None:
    path = tmp_path / sitepages.META_FILE
    path.write_text(sitepages.SiteMeta(dt.date(2026, 1, 2)).to_json(), encoding="utf-8")
    assert sitepages.SiteMeta.read(path).updated == dt.date(2026, 1, 2)
    path.write_text("{not json", encoding="utf-8")
    assert sitepages.SiteMeta.read(path).updated is None
    assert sitepages.SiteMeta.read(tmp_path / "missing.json").updated is None


def test_not_found_pages_per_language_with_absolute_links(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "index.html").write_text(PAGE.replace("../", ""), encoding="utf-8")
    (tmp_path / "en" / "index.html").write_text(PAGE.replace('lang="zh"', 'lang="en"'), encoding="utf-8")
    written = sitepages.not_found_pages(tmp_path, LANGS, "/complaints/")
    assert written == [tmp_path / "404.html", tmp_path / "en" / "404.html"]
    zh = (tmp_path / "404.html").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "404.html").read_text(encoding="utf-8")
    assert "<h1>页面不存在</h1>" in zh and '<a href="/complaints/">返回首页</a>' in zh
    assert '<p lang="en"><a href="/complaints/en/" hreflang="en">' in zh
    assert "<h1>Page not found</h1>" in en and '<a href="/complaints/en/">Go to the home page</a>' in en
    assert "<title>Page not found</title>" in en and "md-nav--secondary" not in en and "canonical" not in en
    # Served at any missing address: every relative link is made absolute under the site's path.
    assert 'href="/complaints/assets/stylesheets/main.css"' in zh
    assert 'href="/complaints/assets/stylesheets/main.css"' in en  # "../" from en/ resolves to the root
    assert '"base": "/complaints/"' in zh and '"search": "/complaints/assets/javascripts/workers/' in en
