"""The published site as its readers meet it, in headless Chromium at 1280x900 and 390x844, on
the sample site and on a synthetic 2,000-case archive: every page passes axe-core with no
serious or critical violation, logs no console error, draws no chart text under 11 CSS px and
clips no chart label, lets every table's last column be reached (by keyboard too), and is
screenshotted into test-artifacts/site/ for review. Search answers in the reader's language,
for words typed and pasted; the 404 page speaks both languages; focus is visible."""
from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from complaints.render.site import build_site

from .support import ROOT, copy_repository, recording_page, serve
from conftest import synth

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = ["", "complain/", "process/", "time-limits/", "rights/", "check/", "statistics/", "statistics/channels/",
         "statistics/categories/", "statistics/departments/", "statistics/timeliness/", "statistics/satisfaction/",
         "statistics/methods/"]
STATISTICS = [p for p in PAGES if p.startswith("statistics/")]
LANG_PREFIX = {"zh": "/", "en": "/en/"}
SYNTH_TODAY = dt.date(2026, 9, 30)
MIN_TEXT_PX = 11


# ---------------------------------------------------------------------------------------------
# Fixtures: the synthetic archive's site, one page per screen size


@pytest.fixture(scope="session")
def synth_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site of a 2,000-case synthetic archive (the template's policy, generated cases)."""
    repo = copy_repository(tmp_path_factory.mktemp("synth") / "repo")
    shutil.rmtree(repo / "cases")
    synth().generate(repo, repo, 2000, 20260305, dt.date(2025, 10, 1), SYNTH_TODAY - dt.timedelta(days=2), SYNTH_TODAY, encrypt=False)
    out = tmp_path_factory.mktemp("synth-public")
    build_site(repo, out, SYNTH_TODAY)
    with serve(out) as url:
        yield url


@pytest.fixture(scope="session")
def shared_page(browser: Any) -> Iterator[Any]:
    """One page for the page reviews, resized between the two screen sizes."""
    context = browser.new_context(service_workers="block", viewport=SIZES["desktop"])
    yield context.new_page()
    context.close()


@pytest.fixture
def sized_pages(browser: Any) -> Iterator[dict[str, Any]]:
    """A fresh page per screen size."""
    contexts = {name: browser.new_context(service_workers="block", viewport=viewport) for name, viewport in SIZES.items()}
    yield {name: context.new_page() for name, context in contexts.items()}
    for context in contexts.values():
        context.close()


# ---------------------------------------------------------------------------------------------
# What is checked on every page

_CHART_TEXT = """() => {
  const small = [], clipped = [];
  for (const figure of document.querySelectorAll('figure.cx-chart')) {
    const box = figure.getBoundingClientRect();
    const walker = document.createTreeWalker(figure, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const el = node.parentElement;
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < %d) small.push(`${node.textContent.trim()} (${size}px)`);
      const range = document.createRange(); range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1) clipped.push(`${node.textContent.trim()} outside its chart`);
      if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
        clipped.push(`${node.textContent.trim()} cut off`);
    }
  }
  return {small, clipped, charts: document.querySelectorAll('figure.cx-chart').length};
}""" % MIN_TEXT_PX

_TABLES = """() => {
  const out = [];
  for (const d of document.querySelectorAll('details')) d.open = true;
  for (const wrap of document.querySelectorAll('.md-typeset__scrollwrap')) {
    const rows = wrap.querySelectorAll('tr');
    if (!rows.length) continue;
    out.push({overflows: wrap.scrollWidth > wrap.clientWidth + 1, focusable: wrap.tabIndex === 0,
              named: !!wrap.getAttribute('aria-label')});
  }
  return out;
}"""

_LAST_COLUMNS_VISIBLE = """() => {
  const hidden = [];
  for (const wrap of document.querySelectorAll('.md-typeset__scrollwrap')) {
    wrap.scrollLeft = wrap.scrollWidth;
    const box = wrap.getBoundingClientRect();
    for (const row of wrap.querySelectorAll('tr')) {
      const last = row.lastElementChild.getBoundingClientRect();
      if (last.right > box.right + 1 || last.left < box.left - 1) { hidden.push(row.lastElementChild.textContent.trim()); break; }
    }
  }
  return hidden;
}"""


def _axe_source() -> str:
    """axe-core as bundled in the pinned axe-playwright-python wheel: nothing is downloaded."""
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


_AXE = _axe_source()


def _serious(page: Any) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=_AXE)
    violations = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [f"{v['id']} ({v['impact']}): {len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']}"
            for v in violations if v.get("impact") in ("serious", "critical")]


def review(page: Any, base: str, path: str, lang: str, artifacts: Path, site: str) -> list[str]:
    """Load one page, look at it at each screen size, and return what is wrong with it (empty
    when nothing is)."""
    errors: list[str] = []
    listener = lambda message: errors.append(message.text) if message.type == "error" else None  # noqa: E731
    crash = lambda exc: errors.append(str(exc))  # noqa: E731
    page.on("console", listener)
    page.on("pageerror", crash)
    try:
        page.set_viewport_size(SIZES["desktop"])
        response = page.goto(base + LANG_PREFIX[lang] + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        problems = []
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            # The theme animates some changes of layout (e.g. its navigation's colours, 250 ms):
            # let them end, or axe measures colours half-way.
            page.wait_for_timeout(400)
            problems += [f"{size}: {p}" for p in _review_size(page, path, lang, size, artifacts, site)]
        return [f"console: {e}" for e in errors] + problems
    finally:
        page.remove_listener("console", listener)
        page.remove_listener("pageerror", crash)


def _review_size(page: Any, path: str, lang: str, size: str, artifacts: Path, site: str) -> list[str]:
    problems = [f"axe: {v}" for v in _serious(page)]
    charts = page.evaluate(_CHART_TEXT)
    problems += [f"chart text under {MIN_TEXT_PX}px: {t}" for t in charts["small"]]
    problems += [f"chart label clipped: {t}" for t in charts["clipped"]]
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
        problems.append("the page scrolls sideways")
    name = (path.strip("/").replace("/", "-") or "home")
    folder = artifacts / "site" / site / size
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{lang}-{name}.png"), full_page=True)
    for table in page.evaluate(_TABLES):
        if not (table["focusable"] and table["named"]):
            problems.append("a table's scroll area cannot be reached by keyboard")
    problems += [f"last column out of reach: {t}" for t in page.evaluate(_LAST_COLUMNS_VISIBLE)]
    return problems


# ---------------------------------------------------------------------------------------------
# Every page, both sizes, both languages


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_sample_site_page_reads_well(shared_page: Any, site_url: str, artifacts: Path, path: str, lang: str) -> None:
    problems = review(shared_page, site_url, path, lang, artifacts, "sample")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", [p for p in STATISTICS if p != "statistics/methods/"])  # methods: no data drawn
def test_synthetic_archive_page_reads_well(shared_page: Any, synth_url: str, artifacts: Path, path: str, lang: str) -> None:
    problems = review(shared_page, synth_url, path, lang, artifacts, "synthetic")
    assert not problems, "\n".join(problems)


def test_charts_are_drawn_on_the_statistics_pages(sized_pages: dict[str, Any], synth_url: str) -> None:
    page = sized_pages["phone"]
    page.goto(synth_url + "/en/statistics/channels/")
    figure = page.locator("figure.cx-chart").first
    # Bars for the shown figures, an axis title, a description naming the largest channel.
    assert figure.locator(".cx-bar:not(.cx-bar--withheld)").count() >= 3
    assert figure.locator(".cx-axis-title").first.inner_text() == "Number of complaints"
    assert figure.locator("[role=img]").get_attribute("aria-label").startswith("Complaints by channel: highest ")
    # The data table follows the chart.
    assert page.locator("figure.cx-chart + .md-typeset__scrollwrap table, figure.cx-chart + * table").count() >= 1
    page.goto(synth_url + "/statistics/")
    text = page.locator("article").inner_text()
    assert "2025年10月" not in text and "统计期间" in text and "2026年1月至9月" in text
    assert "数据版本" not in text


def test_withheld_figures_are_marked_not_drawn_as_empty_bars(sized_pages: dict[str, Any], site_url: str) -> None:
    page = sized_pages["phone"]
    page.goto(site_url + "/statistics/channels/")
    figure = page.locator("figure.cx-chart").first
    withheld = figure.locator(".cx-bar--withheld")
    assert withheld.count() >= 1
    assert figure.locator(".cx-row:has(.cx-bar--withheld) .cx-value").first.inner_text() == "已隐去"
    assert "斜线" in figure.locator(".cx-legend").inner_text()


def test_a_tables_last_column_is_reached_by_keyboard(sized_pages: dict[str, Any], site_url: str) -> None:
    page = sized_pages["phone"]
    page.goto(site_url + "/statistics/")
    page.evaluate("() => { for (const d of document.querySelectorAll('details')) d.open = true; }")
    wraps = page.locator(".md-typeset__scrollwrap")
    index = page.evaluate("""() => [...document.querySelectorAll('.md-typeset__scrollwrap')]
        .findIndex(w => w.scrollWidth > w.clientWidth + 40)""")
    assert index >= 0, "no table wider than a phone on the statistics overview"
    wrap = wraps.nth(index)
    wrap.focus()
    first_cell = wrap.locator("tr").first.locator("th, td").first
    # Chromium scrolls smoothly: a key press starts an animation, so the end is awaited, not
    # read at once (under load 60 presses may still be animating).
    at_end = "w => w.scrollLeft + w.clientWidth >= w.scrollWidth - 1"
    for _ in range(120):
        page.keyboard.press("ArrowRight")
        if wrap.evaluate(at_end):
            break
    page.wait_for_function(at_end, arg=wrap.element_handle(), timeout=10_000)
    last = wrap.locator("tr").first.locator("th, td").last.bounding_box()
    box = wrap.bounding_box()
    assert last["x"] + last["width"] <= box["x"] + box["width"] + 1
    # The first column stays in view while the table scrolls.
    first = first_cell.bounding_box()
    assert first["x"] >= box["x"] - 1 and first["x"] + first["width"] <= box["x"] + box["width"]
    # The focused scroll area shows that it has focus.
    assert wrap.evaluate("w => getComputedStyle(w).outlineStyle") != "none"


def test_time_limits_read_as_cards_on_a_phone(sized_pages: dict[str, Any], site_url: str) -> None:
    page = sized_pages["phone"]
    page.goto(site_url + "/en/time-limits/")
    table = page.locator("table.cx-limits")
    box = table.bounding_box()
    assert box["width"] <= 390
    # Every cell is on screen and says which column it belongs to.
    cell = table.locator("td[data-label='Extension']").nth(2)
    assert cell.is_visible()
    assert "Extension" in cell.evaluate("c => getComputedStyle(c, '::before').content")
    assert "at most once" in cell.inner_text()


def test_channels_show_contact_details(sized_pages: dict[str, Any], site_url: str) -> None:
    page = sized_pages["desktop"]
    page.goto(site_url + "/complain/")
    text = page.locator("article").inner_text()
    for words in ("电话：0000-0000000", "网址：https://complaints.example.org/", "位置：", "时间：", "无障碍：", "地址："):
        assert words in text, words
    assert page.locator('article a[href="tel:00000000000"]').count() == 1
    page.goto(site_url + "/en/")
    text = page.locator("article").inner_text()
    assert "Phone: 0000-0000000" in text and "Address: " in text


# ---------------------------------------------------------------------------------------------
# Search in the reader's language

EN_WORDS = {
    "anonymous": "/en/complain/",
    "complaints": "/en/complain/",
    "statistics": "/en/statistics/",
    "departments": "/en/statistics/departments/",
    "rights": "/en/rights/",
    "satisfied": "/en/statistics/satisfaction/",
    "receipt code": "/en/check/",
}
ZH_WORDS = {"调查": "/process/", "时限": "/time-limits/", "匿名": "/complain/", "回执码": "/check/", "满意率": "/statistics/"}


def _search(page: Any, query: str, typed: bool) -> list[str]:
    """Search on the open page, as a reader would: type QUERY, or paste it (one input event, no
    key pressed); the result links' paths."""
    box = page.locator(".md-search__input")
    if not box.is_visible():
        page.locator("label.md-search__icon, .md-search__input").first.click()
    box.fill("")
    page.locator(".md-search-result__meta").wait_for()
    if typed:
        box.press_sequentially(query)
    else:
        box.evaluate("(el, text) => { el.value = text; el.dispatchEvent(new InputEvent('input', {bubbles: true, inputType: 'insertFromPaste'})); }", query)
    results = page.locator(".md-search-result__item a")
    try:
        results.first.wait_for(timeout=10000)
    except Exception:
        return []
    page.wait_for_timeout(200)  # the last keystroke's results replace the previous ones
    return [urlsplit(h).path for h in results.evaluate_all("links => links.map(a => a.href)")]


def _search_words(page: Any, base: str, home: str, words: dict[str, str], in_language: Any) -> list[str]:
    page.goto(base + home)
    problems = []
    for query, expected in words.items():
        for typed in (True, False):
            hrefs = _search(page, query, typed)
            how = "typed" if typed else "pasted"
            if expected not in hrefs:
                problems.append(f"{query!r} {how}: {expected} not in {hrefs}")
            other = [h for h in hrefs if not in_language(h)]
            if other:
                problems.append(f"{query!r} {how}: answers from the other language {other}")
    return problems


def test_english_search_finds_the_pages(page: Any, site_url: str) -> None:
    problems = _search_words(page, site_url, "/en/", EN_WORDS, lambda h: h.startswith("/en/"))
    assert not problems, "\n".join(problems)


def test_chinese_search_finds_the_pages(page: Any, site_url: str) -> None:
    problems = _search_words(page, site_url, "/", ZH_WORDS, lambda h: not h.startswith("/en/"))
    assert not problems, "\n".join(problems)


def test_a_pasted_chinese_sentence_finds_its_words(page: Any, site_url: str) -> None:
    page.goto(site_url + "/")
    hrefs = _search(page, "我想匿名投诉，怎么查询办理进度？", typed=False)
    assert "/complain/" in hrefs and "/check/" in hrefs, hrefs


def test_search_in_one_language_does_not_answer_from_the_other(page: Any, site_url: str) -> None:
    page.goto(site_url + "/en/")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator(".md-search__input").fill("匿名")
    page.wait_for_timeout(1500)
    hrefs = page.locator(".md-search-result__item a").evaluate_all("links => links.map(a => a.href)")
    assert [h for h in hrefs if not urlsplit(h).path.startswith("/en/")] == []


# ---------------------------------------------------------------------------------------------
# 404, focus, contrast


@pytest.mark.parametrize(("address", "lang", "heading"), [("/no/such/page/", "zh", "页面不存在"), ("/en/404.html", "en", "Page not found")])
def test_page_not_found_is_localised(page: Any, site_url: str, artifacts: Path, address: str, lang: str, heading: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
    page.goto(site_url + address)
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("article h1").inner_text() == heading
    # Styled (the stylesheet loaded from the site root, wherever the address was).
    assert page.locator(".md-header").evaluate("h => getComputedStyle(h).position") in ("sticky", "fixed")
    other = "en" if lang == "zh" else "zh"
    link = page.locator(f'article a[hreflang="{other}"]')
    link.click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == other
    assert urlsplit(page.url).path == LANG_PREFIX[other]
    assert errors == []
    page.goto(site_url + address)
    page.screenshot(path=str(artifacts / f"site-404-{lang}.png"))


def _contrast(page: Any, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("""el => {
      const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
      const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                         return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const s = getComputedStyle(el);
      const [a, b] = [lum(rgb(s.color)), lum(rgb(s.backgroundColor))].sort((x, y) => y - x);
      return (a + 0.05) / (b + 0.05);
    }"""))


def test_receipt_input_has_a_border_and_a_visible_focus(page: Any, site_url: str) -> None:
    page.goto(site_url + "/check/")
    field = page.locator("#receipt-code")
    style = field.evaluate("el => { const s = getComputedStyle(el); return [s.borderTopWidth, s.borderTopStyle, s.borderTopColor]; }")
    assert float(style[0].rstrip("px")) >= 1 and style[1] != "none"
    page.keyboard.press("Tab")
    field.focus()
    outline = field.evaluate("el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }")
    assert outline[0] != "none" and float(outline[1].rstrip("px")) >= 2
    button = page.locator(".receipt-check button")
    button.hover()
    assert _contrast(page, ".receipt-check button") >= 4.5


def test_links_in_text_are_underlined(page: Any, site_url: str) -> None:
    page.goto(site_url + "/complain/")
    decoration = page.locator("article p a").first.evaluate("a => getComputedStyle(a).textDecorationLine")
    assert "underline" in decoration


def test_footer_says_when_the_site_was_last_updated(page: Any, site_url: str) -> None:
    page.goto(site_url + "/en/rights/")
    assert page.locator(".md-footer .cx-updated").inner_text() == "Last updated 27 November 2026"
