"""The built site in headless Chromium: pages render with their content and charts, the language
switch works, and no request leaves 127.0.0.1 (search: test_site_readers.py)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def _assert_local(page: Any, site_url: str) -> None:
    host = urlsplit(site_url).netloc
    assert page.requested, "no request recorded"
    outside = [url for url in page.requested if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != host]
    assert outside == []


def _h1(page: Any) -> str:
    return str(page.locator("article h1").inner_text()).rstrip("¶").strip()


def test_home_renders_in_chinese(page: Any, site_url: str, artifacts: Path) -> None:
    page.goto(site_url + "/")
    assert page.locator("html").get_attribute("lang") == "zh"
    assert _h1(page) == "效能投诉"
    article = page.locator("article").inner_text()
    assert "示例市行政服务中心" in article  # the organisation's name comes from policy.yml
    assert "如何投诉" in article
    page.screenshot(path=str(artifacts / "site-home-zh.png"), full_page=True)
    _assert_local(page, site_url)


def test_process_page_shows_steps_and_policy_limits(page: Any, site_url: str, artifacts: Path) -> None:
    page.goto(site_url + "/process/")
    headings = page.locator("article h2").all_inner_texts()
    steps = ["登记", "告知", "受理", "交办", "调查", "延期", "办结", "回访", "复核", "归档"]
    for step in steps:
        assert any(step in h for h in headings), step
    # The limits under the steps are the policy's: 5 working days to acknowledge, 30 days to resolve.
    text = page.locator("article").inner_text()
    assert re.search(r"告知回执，自收到投诉次日起 5个工作日", text)
    assert re.search(r"调查办结，自决定受理次日起 30个自然日；紧急投诉 10个自然日", text)
    # Readable Chinese anchors.
    assert page.locator('[id="1-登记"]').count() == 1
    page.screenshot(path=str(artifacts / "site-process-zh.png"), full_page=True)
    _assert_local(page, site_url)


def test_statistics_pages_render_charts_and_tables(page: Any, site_url: str, artifacts: Path) -> None:
    page.goto(site_url + "/statistics/")
    assert _h1(page) == "统计数据"
    # Charts are page text (HTML and CSS), not images: the three rates' trend and the on-time rates.
    titles = page.locator("figure.cx-chart .cx-title").all_inner_texts()
    assert "趋势" in titles and "各环节按时率" in titles, titles
    assert page.locator("article table").count() >= 3
    text = page.locator("article").inner_text()
    for word in ("响应率", "解决率", "满意率", "各环节按时率"):
        assert word in text
    # Withheld figures say so and link to the rule.
    assert page.locator('article a[href$="methods/#suppression"]').count() >= 1
    page.screenshot(path=str(artifacts / "site-statistics-zh.png"), full_page=True)
    charted = {"channels": "按渠道的投诉量", "categories": "按类别的投诉量",
               "departments": "按被投诉部门的投诉量", "timeliness": "各环节用时中位数"}
    for name in ("channels", "categories", "departments", "timeliness", "satisfaction"):
        page.goto(f"{site_url}/statistics/{name}/")
        if name in charted:
            assert charted[name] in page.locator("figure.cx-chart .cx-title").all_inner_texts(), name
        assert page.locator("article table").count() >= 1, name
        assert page.locator('article a[href*="methods/#formula-"]').count() >= 1, name
    page.screenshot(path=str(artifacts / "site-statistics-satisfaction-zh.png"), full_page=True)
    _assert_local(page, site_url)


def test_language_switch_goes_to_english_and_back(page: Any, site_url: str, artifacts: Path) -> None:
    page.goto(site_url + "/process/")
    page.locator(".md-header__option .md-select").hover()
    page.locator('.md-select__link[hreflang="en"]').click()
    page.wait_for_url(re.compile(r"/en/process/$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert _h1(page) == "The process"
    page.screenshot(path=str(artifacts / "site-process-en.png"), full_page=True)
    page.locator(".md-header__option .md-select").hover()
    page.locator('.md-select__link[hreflang="zh"]').click()
    page.wait_for_url(re.compile(r"/process/$"))
    assert page.locator("html").get_attribute("lang") == "zh"
    assert _h1(page) == "处理流程"
    _assert_local(page, site_url)
