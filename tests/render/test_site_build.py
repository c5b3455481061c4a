"""The built site: strict MkDocs build of the sample repository, nothing fetched from another
host, only the theme's own scripts, Chinese search and anchors, the policy as the one source of
the time limits, personal data never published, and the `complaints site` commands."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import material
from browser.support import AGE_BUNDLE_SHA256, copy_repository
from complaints.cli import cli
from complaints.errors import PublicationError
from complaints.core.pii import luhn_valid, resident_id_valid
from complaints.render import site_pages as sitepages
from complaints.render.site import build_site
from conftest import TEMPLATE

TODAY = dt.date(2026, 11, 27)
THEME = Path(material.__file__).resolve().parent / "templates"

# Plain <a href> links the pages make on purpose to other hosts (none so far).
ALLOWED_LINK_HOSTS: frozenset[str] = frozenset()
# The organisation's own channels (policy.yml channel_contacts): shown and linked on purpose,
# never fetched (test_html_loads_nothing_from_elsewhere and the browser tests watch that).
CHANNEL_HOSTS: frozenset[str] = frozenset(
    re.sub(r"^https://", "", str(entry["web"])).split("/")[0]
    for entry in (yaml.safe_load((TEMPLATE / "policy.yml").read_text(encoding="utf-8"))
                  .get("channel_contacts") or {}).values()
    if "web" in entry
)
# Namespace names, never fetched.
NAMESPACES = ("http://www.w3.org/", "http://www.sitemaps.org/schemas/sitemap/")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repository(tmp_path_factory.mktemp("site-repo") / "repo")


@pytest.fixture(scope="module")
def built(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site-public")
    result = build_site(repo, out, TODAY)
    assert result.warnings == ()
    assert result.stats_period == "2026"
    return out


def _texts(out: Path, *suffixes: str) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.suffix in suffixes}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_page_exists_in_both_languages(built: Path) -> None:
    pages = ["", "complain/", "complain/online/", "process/", "time-limits/", "rights/", "statistics/", "statistics/channels/",
             "statistics/categories/", "statistics/departments/", "statistics/timeliness/",
             "statistics/satisfaction/", "statistics/methods/"]
    for page in pages:
        zh = (built / page / "index.html").read_text(encoding="utf-8")
        en = (built / "en" / page / "index.html").read_text(encoding="utf-8")
        assert '<html lang="zh"' in zh and '<html lang="en"' in en, page
        assert 'hreflang="en"' in zh and 'hreflang="zh"' in en, page


def test_scripts_and_stylesheets_are_the_themes_or_our_own(built: Path, repo: Path) -> None:
    shipped = {_digest(p) for p in THEME.rglob("*") if p.is_file()}
    ours = {_digest(p) for p in (repo / "site").rglob("*") if p.is_file() and p.suffix in (".js", ".css")}
    ours |= {_digest(p) for p in (Path(sitepages.__file__).parent.parent / "site_assets").iterdir() if p.is_file()}
    assets = [p for p in built.rglob("*") if p.suffix in (".js", ".css")]
    assert assets
    foreign = [str(p.relative_to(built)) for p in assets if _digest(p) not in shipped | ours]
    assert foreign == []


def test_no_page_refers_to_another_host(built: Path) -> None:
    theme_files = {_digest(p) for p in THEME.rglob("*") if p.is_file()}
    # The vendored age library, pinned by hash: its minified string literals hold "//" that is no
    # address, and the browser tests watch every request the online form makes.
    theme_files.add(AGE_BUNDLE_SHA256)
    url = re.compile(r"""(?:(?:https?:)?//|\b(?:ftp|wss?):)[^\s"'<>()]+""", re.IGNORECASE)
    problems = []
    for path, text in _texts(built, ".html", ".svg", ".css", ".js", ".xml", ".json").items():
        if _digest(path) in theme_files:
            continue  # the theme's own code, byte for byte; the browser tests watch what it fetches
        for match in url.finditer(text):
            ref = match.group(0)
            if ref.startswith(NAMESPACES) or re.fullmatch(r"//\s*", ref):
                continue
            before = text[max(0, match.start() - 40):match.start()]
            host = re.sub(r"^(?:https?:)?//", "", ref).split("/")[0]
            if re.search(r"<a\b[^>]*href=[\"']?$", before) and host in ALLOWED_LINK_HOSTS:
                continue
            if host in CHANNEL_HOSTS:
                continue
            problems.append(f"{path.relative_to(built)}: {ref}")
    assert problems == []


def test_html_loads_nothing_from_elsewhere(built: Path) -> None:
    attr = re.compile(r"<(script|link|img|iframe|source|video|audio|object|embed)\b[^>]*?\b(?:src|href|data)=[\"']?([^\"'\s>]+)", re.I)
    for path, text in _texts(built, ".html").items():
        for tag, ref in attr.findall(text):
            assert not re.match(r"^(?:[a-z]+:)?//", ref, re.I), f"{path}: <{tag}> {ref}"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_search_index_segments_chinese_words(built: Path) -> None:
    index = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"])
    assert separator.search("\u200b")

    def tokens(location: str) -> set[str]:
        docs = [d for d in index["docs"] if d["location"].split("#")[0] == location]
        assert docs, location
        return {t for d in docs for t in separator.split(d["title"] + " " + re.sub(r"<[^>]+>", " ", d["text"])) if t}

    assert {"调查", "登记", "回访", "复核"} <= tokens("process/")
    assert {"时限", "工作日"} <= tokens("time-limits/")
    assert "匿名" in tokens("complain/")
    assert "anonymous" in {t.lower() for t in tokens("en/complain/")}


def test_chinese_headings_get_readable_anchors(built: Path) -> None:
    process = (built / "process" / "index.html").read_text(encoding="utf-8")
    for anchor in ("1-登记", "3-受理或不予受理", "9-复核"):
        assert f'id="{anchor}"' in process
    complain = (built / "complain" / "index.html").read_text(encoding="utf-8")
    assert 'id="匿名投诉"' in complain


def test_statistics_pages_offer_downloads_and_charts(built: Path) -> None:
    for lang_dir in (built, built / "en"):
        stats = (lang_dir / "statistics" / "index.html").read_text(encoding="utf-8")
        for name in ("statistics-2026.json", "statistics-2026.csv"):
            assert f'href="../generated/downloads/{name}"' in stats
            assert (lang_dir / "generated" / "downloads" / name).is_file()
        for src in re.findall(r'<img[^>]+src="([^"]+\.svg)"', stats):
            assert (lang_dir / "statistics" / src).resolve().is_file()
    document = json.loads((built / "generated" / "downloads" / "statistics-2026.json").read_text(encoding="utf-8"))
    assert document["period"]["id"] == "2026" and document["generated"] == TODAY.isoformat()


def test_the_time_limits_come_from_the_policy(repo: Path, tmp_path: Path) -> None:
    policy_file = repo / "policy.yml"
    original = policy_file.read_text(encoding="utf-8")
    try:
        changed = re.sub(r"(\n    decide:\n(?:      .*\n)*?      limit: )3\n", r"\g<1>4\n", original, count=1)
        assert changed != original
        changed = changed.replace("in_person: {zh: 当面投诉,", "in_person: {zh: 当面投诉<script>alert(1)</script>,")
        policy_file.write_text(changed, encoding="utf-8")
        build_site(repo, tmp_path / "out", TODAY)
    finally:
        policy_file.write_text(original, encoding="utf-8")
    limits = (tmp_path / "out" / "time-limits" / "index.html").read_text(encoding="utf-8")
    assert '<th scope="row" data-label="环节">受理决定</th><td data-label="起算">收到投诉</td><td data-label="时限">4个工作日</td>' in limits
    process = (tmp_path / "out" / "process" / "index.html").read_text(encoding="utf-8")
    assert "受理决定，自收到投诉次日起 4个工作日" in process
    complain = (tmp_path / "out" / "complain" / "index.html").read_text(encoding="utf-8")
    assert "当面投诉&lt;script&gt;alert(1)&lt;/script&gt;" in complain
    assert "<script>alert(1)" not in complain


def test_a_broken_link_fails_the_strict_build(repo: Path, tmp_path: Path) -> None:
    page = repo / "site" / "zh" / "rights.md"
    original = page.read_text(encoding="utf-8")
    try:
        page.write_text(original + "\n[坏链接](no-such-page.md)\n", encoding="utf-8")
        with pytest.raises(PublicationError) as caught:
            build_site(repo, tmp_path / "out", TODAY)
        assert "no-such-page.md" in str(caught.value)
        assert build_site(repo, tmp_path / "lenient", TODAY, strict=False).warnings
    finally:
        page.write_text(original, encoding="utf-8")


# --- personal data planted in every case field ------------------------------------------------


def _resident_id() -> str:
    body = "11010119900307123"
    check = next(c for c in "0123456789X" if resident_id_valid(body, c))
    return body + check


def _card() -> str:
    body = "622202123456789012"
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


PLANTED = {
    "id": _resident_id(),
    "mobile": "13912345678",
    "mobile_fullwidth": "１３９８７６５４３２１",
    "mobile_plus86": "+86 137-1234-5678",
    "email": "planted.person@example.com",
    "card": _card(),
}
PLANT = " ".join(PLANTED.values())


def _plant(node: Any, skip_keys: frozenset[str]) -> Any:
    """Every string in NODE with the patterns added (free text) or replaced by them (codes)."""
    if isinstance(node, dict):
        return {k: (v if k in skip_keys else _plant(v, skip_keys)) for k, v in node.items()}
    if isinstance(node, list):
        return [_plant(v, skip_keys) for v in node]
    if isinstance(node, str):
        return f"{node} {PLANT}"
    return node


def _needles() -> list[str]:
    """Each planted value as it could appear once normalised: digits only, or the address."""
    out = []
    for value in PLANTED.values():
        norm = unicodedata.normalize("NFKC", value)
        out.append(norm if "@" in norm else re.sub(r"[^0-9X]", "", norm)[-11:])
    return out


def test_personal_data_planted_in_every_case_field_never_reaches_the_site(tmp_path: Path) -> None:
    repo = copy_repository(tmp_path / "repo")
    cases = sorted((repo / "cases").rglob("*.yml"))
    assert len(cases) >= 3
    # One case with every string field carrying the patterns (ids and dates too), one with the
    # free text only (so that it stays a valid case and is counted), the rest untouched.
    everything = yaml.safe_load(cases[0].read_text(encoding="utf-8"))
    cases[0].write_text(yaml.safe_dump(_plant(everything, frozenset()), allow_unicode=True), encoding="utf-8")
    free_text = yaml.safe_load(cases[1].read_text(encoding="utf-8"))
    codes = frozenset({"id", "kind", "date", "channel", "category", "departments", "priority", "handler", "stage",
                       "department", "from", "to", "approver", "outcome", "measures", "satisfaction", "status",
                       "receipt", "contact", "anonymous", "sample", "adopted", "rewarded", "days", "committee"})
    cases[1].write_text(yaml.safe_dump(_plant(free_text, codes), allow_unicode=True), encoding="utf-8")

    out = tmp_path / "out"
    try:
        build_site(repo, out, TODAY, skip_invalid=True)  # the planted cases do not validate: left out, counted
    except PublicationError as refused:  # refusing to publish is safe too, if it says nothing
        for needle in _needles():
            assert needle not in unicodedata.normalize("NFKC", str(refused))
    files = [p for p in out.rglob("*") if p.is_file()] + [p for p in (repo / "site").rglob("*") if p.is_file()]
    assert (out / "search" / "search_index.json") in files or not out.exists()
    for path in files:
        text = unicodedata.normalize("NFKC", path.read_bytes().decode("utf-8", errors="ignore"))
        digits = re.sub(r"[\s\-+]", "", text)
        for needle in _needles():
            assert needle not in text and needle not in digits, f"{path}: planted {needle!r}"


# --- the commands -------------------------------------------------------------------------------


def test_site_build_command(repo: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["site", "build", "--repo", str(repo), "--out", str(tmp_path / "pub"), "--today", "2026-11-27"])
    assert result.exit_code == 0, result.output
    assert "into" in result.stdout and "(statistics 2026)" in result.stdout
    assert (tmp_path / "pub" / "index.html").is_file() and (tmp_path / "pub" / "en" / "index.html").is_file()


def test_site_build_command_rejects_a_bad_period(repo: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["site", "build", "--repo", str(repo), "--out", str(tmp_path / "pub"), "--period", "2026-13", "--today", "2026-11-27"])
    assert result.exit_code == 1
    assert "2026-13" in result.output and "Traceback" not in result.output


def test_site_commands_are_documented_with_an_example() -> None:
    for args in (["site", "--help"], ["site", "build", "--help"], ["site", "serve", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "Example" in result.output


def test_every_page_gets_the_sites_finishing_touches(built: Path) -> None:
    for path in [built / "index.html", built / "en" / "statistics" / "index.html", built / "time-limits" / "index.html"]:
        text = path.read_text(encoding="utf-8")
        assert "assets/complaints/site.css" in text and "assets/complaints/site.js" in text, path
        # The search worker is told the page's language; the theme's worker is wrapped, not changed.
        lang = "en" if "/en/" in path.as_posix() else "zh"
        assert re.search(rf'"search": "[^"]*workers/complaints-search\.js\?lang={lang}&langs=zh,en&worker=search\.[0-9a-f]+\.min\.js"', text)
        # No alternate links: the theme fetches a sitemap next to each, which does not exist.
        assert '<link rel="alternate"' not in text
        assert re.search(r'<div class="md-search" data-md-component="search" role="dialog" aria-label="[^"]+">', text)
    home = (built / "index.html").read_text(encoding="utf-8")
    assert '<p class="cx-updated">本站更新于 2026年11月27日</p>' in home
    assert "Last updated 27 November 2026" in (built / "en" / "index.html").read_text(encoding="utf-8")
    assert (built / "assets" / "javascripts" / "workers" / "complaints-search.js").is_file()


def test_the_page_not_found_page_exists_in_each_language(built: Path) -> None:
    zh = (built / "404.html").read_text(encoding="utf-8")
    en = (built / "en" / "404.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in zh and "<h1>页面不存在</h1>" in zh and 'href="/">返回首页</a>' in zh
    assert '<html lang="en"' in en and "<h1>Page not found</h1>" in en and 'href="/en/">Go to the home page</a>' in en
    for page in (zh, en):
        # Served at any missing address, so every link and asset is absolute.
        refs = re.findall(r'(?:href|src)="([^"#]+)"', page)
        assert refs and all(ref.startswith(("/", "https://", "tel:")) for ref in refs), [r for r in refs if not r.startswith("/")]
        assert '"base": "/' in page
        assert "md-nav__link--active" not in page and "md-footer__inner" not in page


def test_statistics_tables_and_charts_stay_out_of_the_search_index(built: Path) -> None:
    # The index flattens a table's cells into one line of numbers, which at a large archive's
    # counts can read as a telephone number: the statistics pages' figures are left out of it.
    page = (built / "statistics" / "index.html").read_text(encoding="utf-8")
    assert "<table data-search-exclude" in page
    index = json.loads((built / "search" / "search_index.json").read_text(encoding="utf-8"))
    stats_docs = [d for d in index["docs"] if d["location"].startswith(("statistics/", "en/statistics/"))]
    assert stats_docs and any("<p>" in d["text"] for d in stats_docs)  # the prose is still found
    assert not any("<table" in d["text"] or re.search(r"[0-9]+\.[0-9]%（[0-9]+/[0-9]+）", d["text"]) for d in stats_docs)
    other = (built / "time-limits" / "index.html").read_text(encoding="utf-8")
    assert "data-search-exclude" not in other
