"""The site publishes only what was checked: a number planted in a page, in an HTML comment or
in a stray file under site/ never reaches the built site; raw HTML that could run code stops
the build naming the file and line; the value is never printed; HTML comments are stripped and
every page's HTML is sanitised."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.cli import cli
from complaints.checker.site_sources import check_markup, sanitise_page, source_problems, strip_comments
from conftest import TEMPLATE, copy_repo

TODAY = "2026-11-27"
PHONE = "13812345678"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = copy_repo(tmp_path / "repo", with_cases=True)
    shutil.copy2(TEMPLATE / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(TEMPLATE / "site", root / "site")
    return root


def append(path: Path, text: str) -> int:
    """Append text to a page; the 1-based line it starts on."""
    old = path.read_text(encoding="utf-8")
    path.write_text(old + ("" if old.endswith("\n") else "\n") + text, encoding="utf-8")
    return old.count("\n") + (0 if old.endswith("\n") else 1) + 1


def build(root: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["site", "build", "--repo", str(root), "--today", TODAY, "--out", str(out)])
    return result.exit_code, result.output


def published(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file()) if out.exists() else ""


@pytest.mark.parametrize(
    "where, text",
    [
        ("site/zh/rights.md", f"如有疑问请致电 {PHONE}。\n"),
        ("site/zh/rights.md", f"<!-- 联系人：张三 {PHONE} -->\n"),
        ("site/en/index.md", f"Call 138-1234-5678 or write to zhang.san@example.com\n"),
        ("site/zh/assets/notes.css", f"/* {PHONE} */\nbody {{ color: black; }}\n"),
    ],
    ids=["page", "comment", "english-page", "asset"],
)
def test_a_planted_number_stops_the_build_naming_file_and_line(repo: Path, tmp_path: Path, where: str, text: str) -> None:
    path = repo / where
    if path.exists():
        line = append(path, text)
    else:
        path.write_text(text, encoding="utf-8")
        line = 1
    code, output = build(repo, tmp_path / "public")
    assert code == 1
    assert f"{where}:{line}: looks like personal data" in output
    assert PHONE not in output and "1234-5678" not in output and "zhang.san" not in output
    assert not (tmp_path / "public").exists()


def test_a_stray_file_under_site_is_refused(repo: Path, tmp_path: Path) -> None:
    (repo / "site" / "zh" / "leak.yaml").write_text(f"phone: {PHONE}\n", encoding="utf-8")
    (repo / "site" / "en" / "raw.html").write_text("<p>hello</p>\n", encoding="utf-8")
    (repo / "site" / "fr" / "generated").mkdir(parents=True)
    (repo / "site" / "fr" / "generated" / "x.json").write_text("{}\n", encoding="utf-8")
    code, output = build(repo, tmp_path / "public")
    assert code == 1
    assert "site/zh/leak.yaml: is neither a page (.md) nor an asset of a known type" in output
    assert "site/en/raw.html: is neither a page" in output
    assert "site/fr/generated/x.json: is neither a page" in output  # only the site's own languages generate
    assert PHONE not in output and PHONE not in published(tmp_path / "public")


@pytest.mark.parametrize(
    "html, complaint",
    [
        ("<script>alert(1)</script>", "<script> is not allowed"),
        ('<img src="x.png" onerror="alert(1)">', "<img onerror=...>: event handler"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:, vbscript: and data: addresses"),
        ('<a href="&#106;ava&#x73;cript:alert(1)">x</a>', "javascript:, vbscript: and data: addresses"),
        ('<a href=" java\tscript:alert(1)">x</a>', "javascript:, vbscript: and data: addresses"),
        ('<img src="data:image/svg+xml;base64,PHN2Zz4=">', "javascript:, vbscript: and data: addresses"),
        ("[click](javascript:alert(1))", "a link to a javascript:"),
        ("[click]: javascript:alert(1)", "a link to a javascript:"),
        ("<javascript:alert(1)>", "a link to a javascript:"),
        ('<iframe src="https://example.org"></iframe>', "<iframe> is not allowed"),
        ('<form action="https://example.org/collect"><input name="code"></form>', "<form action=...>"),
        ('<div style="background: url(https://example.org/t.png)">x</div>', "url(), expression()"),
        ('<svg><script>alert(1)</script></svg>', "<script> is not allowed"),
    ],
)
def test_unsafe_raw_html_stops_the_build_naming_file_and_line(repo: Path, tmp_path: Path, html: str, complaint: str) -> None:
    line = append(repo / "site" / "zh" / "rights.md", "\n" + html + "\n") + 1
    code, output = build(repo, tmp_path / "public")
    assert code == 1, output
    assert f"site/zh/rights.md:{line}: " in output and complaint in output


def test_code_examples_are_not_raw_html() -> None:
    page = "Text `<script>alert(1)</script>` inline.\n\n```html\n<script>alert(1)</script>\n<!-- not a comment here -->\n```\n"
    assert check_markup(page, "site/zh/x.md") == []
    assert "not a comment here" in strip_comments(page)


def test_the_receipt_form_is_allowed_and_an_svg_asset_is_checked(tmp_path: Path) -> None:
    docs = tmp_path / "site"
    shutil.copytree(TEMPLATE / "site", docs)
    assert source_problems(docs) == []
    (docs / "zh" / "assets" / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>\n')
    assert [str(p) for p in source_problems(docs)] == ["site/zh/assets/logo.svg:1: <svg onload=...>: event handler attributes are not allowed in a page"]


def test_comments_are_stripped_and_pages_sanitised_in_the_built_site(repo: Path, tmp_path: Path) -> None:
    append(repo / "site" / "zh" / "rights.md", "<!-- 内部备注：仅供编辑参考 -->\n\n<b>加粗</b>\n")
    out = tmp_path / "public"
    code, output = build(repo, out)
    assert code == 0, output
    page = (out / "rights" / "index.html").read_text(encoding="utf-8")
    assert "内部备注" not in page and "<b>加粗</b>" in page
    assert "内部备注" not in (out / "search" / "search_index.json").read_text(encoding="utf-8")
    # The one script a page gets is the receipt lookup's, added by the tool, not by the page.
    assert '<script src="../assets/receipt-check.js"></script>' in (out / "check" / "index.html").read_text(encoding="utf-8")
    assert '<script src="../../assets/receipt-check.js"></script>' in (out / "en" / "check" / "index.html").read_text(encoding="utf-8")


def test_the_sanitiser_removes_what_runs_code() -> None:
    dirty = ('<p onclick="x()">a</p><script>alert(1)</script><a href="javascript:alert(1)">b</a>'
             '<img src="x.png" onerror="alert(1)"><!-- note --><iframe src="https://e.org"></iframe>'
             '<table><tr><td style="text-align: right; background: url(x)">1</td></tr></table><div data-receipt-check aria-live="polite">c</div>')
    clean = sanitise_page(dirty)
    for bad in ("onclick", "<script", "alert(1)", "javascript:", "onerror", "note", "iframe", "url("):
        assert bad not in clean
    assert "text-align" in clean and "data-receipt-check" in clean and 'aria-live="polite"' in clean


def test_sanitiser_keeps_the_charts_geometry() -> None:
    # The charts are drawn by site.css from these two numbers; without them every bar has no length.
    clean = sanitise_page('<span class="cx-cols" style="--n:3"><span class="cx-col" style="--v:0.5000; --x: url(a)"></span></span>')
    assert "--n:3" in clean and "--v:0.5" in clean and "url(" not in clean
