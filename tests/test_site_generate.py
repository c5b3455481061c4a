"""Generation of the site's data-derived pieces: escaping, the policy tables, the statistics
snippets and the SVG charts (no MkDocs build here; see test_site_build.py)."""
from __future__ import annotations

import copy
import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

import markdown
import pytest

from complaints import charts, site
from complaints.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[1]
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
FIXTURE = ROOT / "tests" / "data" / "site" / "stats.json"

HOSTILE = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](http://evil.example/t.png)",
    "a | b | c",
    "**bold** _it_ `code` # heading",
    "<img src=x onerror=alert(1)>",
    "&lt;already&gt; & more",
    "line one\nline two\n\n- item",
    "{#id .class} ~~strike~~ \\ backslash",
]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(TEMPLATE)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text(encoding="utf-8")))


def _render(text: str) -> str:
    return markdown.markdown(text, extensions=["tables", "attr_list", "md_in_html", "def_list"])


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_text_renders_as_itself_and_never_as_markup(value: str) -> None:
    out = _render(site.md_escape(value))
    assert re.findall(r"<(?!/?p>)[^>]*>", out) == []  # nothing but the paragraph
    assert html.unescape(re.sub(r"</?p>", "", out)) == " ".join(value.split())


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_text_stays_inside_its_table_cell(value: str) -> None:
    table = f"| a | b |\n|---|---|\n| {site.md_escape(value)} | x |\n"
    out = _render(table)
    assert out.count("<td>") == 2
    assert "<script" not in out and "<img" not in out and "<a " not in out


def test_time_limits_table_has_a_row_per_policy_stage_with_its_numbers(policy: Policy) -> None:
    stages = policy.raw["time_limits"]["stages"]
    table = site.time_limits_table(policy, "zh")
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    assert "**依据**" in table
    assert len(rows) == len(stages)
    for row, (key, stage) in zip(rows, stages.items()):
        assert row.startswith(f"| {site.md_escape(stage['label']['zh'])} |")
        unit = "个工作日" if stage["unit"] == "working_days" else "个自然日"
        assert f"| {stage['limit']}{unit} |" in row, key


def test_changing_the_policy_changes_the_pages(policy: Policy) -> None:
    raw = copy.deepcopy(policy.raw)
    raw["time_limits"]["stages"]["acknowledge"]["limit"] = 7
    raw["channels"]["wechat"] = {"zh": "微信公众号 <b>", "en": "WeChat <b>"}
    changed = dataclasses.replace(policy, raw=raw)
    zh = site.policy_snippets(changed, "zh")
    en = site.policy_snippets(changed, "en")
    assert "| 7个工作日 |" in zh["time-limits.md"]
    assert "7 working days" in en["time-limits.md"]
    assert "7个工作日" in zh["step-acknowledged.md"]
    assert "- 微信公众号 &lt;b&gt;" in zh["channels.md"].splitlines()
    assert "- WeChat &lt;b&gt;" in en["channels.md"].splitlines()


def test_every_stage_is_shown_under_exactly_one_step(policy: Policy) -> None:
    snippets = site.policy_snippets(policy, "en")
    shown = "".join(snippets[f"step-{event}.md"] for event in site.STEP_EVENTS)
    for stage in policy.raw["time_limits"]["stages"].values():
        assert shown.count(f"Time limit**: {stage['label']['en']},") == 1


def test_vocabularies_list_every_policy_entry(policy: Policy) -> None:
    for lang in site.LANGUAGES:
        snippets = site.policy_snippets(policy, lang)
        for vocabulary, name in (("channels", "channels.md"), ("categories", "categories.md"), ("departments", "departments.md")):
            items = snippets[name].splitlines()
            assert items == [f"- {site.md_escape(v[lang])}" for v in policy.raw[vocabulary].values()]


def test_statistics_snippets_link_every_figure_to_its_formula(document: dict[str, Any]) -> None:
    snippets, out = site.stats_snippets(document, "zh", {"json": "s.json", "csv": "s.csv"})
    methods = snippets["stats-methods.md"]
    for metric in document["metrics"]:
        assert f"{{#formula-{metric['id']}}}" in methods
    for page in site.STATS_PAGES:
        text = snippets[f"stats-{page}.md"]
        for anchor in re.findall(r"\(methods\.md#formula-([a-z0-9_-]+)\)", text):
            assert f"{{#formula-{anchor}}}" in methods
    for metric in document["metrics"]:
        page = site.page_of(metric)
        assert f"#formula-{metric['id']})" in snippets[f"stats-{page}.md"]


def test_suppressed_cells_say_so_and_link_to_the_rule(document: dict[str, Any]) -> None:
    snippets, _ = site.stats_snippets(document, "zh", {"json": "s.json", "csv": "s.csv"})
    channels = snippets["stats-channels.md"]
    assert channels.count("[已隐去](methods.md#suppression") == 2  # mailbox and letter
    assert "| 网上投诉平台 | 20 |" in channels
    en, _ = site.stats_snippets(document, "en", {"json": "s.json", "csv": "s.csv"})
    assert en["stats-channels.md"].count("[hidden](methods.md#suppression") == 2
    assert "below **5**" in en["stats-disclosure.md"]


def test_rates_show_numerator_and_denominator(document: dict[str, Any]) -> None:
    snippets, _ = site.stats_snippets(document, "zh", {"json": "s.json", "csv": "s.csv"})
    assert "| [响应率](methods.md#formula-response_rate) | 95.2%（40/42） |" in snippets["stats-overview.md"]


def test_charts_match_their_tables(document: dict[str, Any]) -> None:
    snippets, out = site.stats_snippets(document, "en", {"json": "s.json", "csv": "s.csv"})
    assert "rates-trend.svg" in out.charts and "by_channel.svg" in out.charts
    assert "](../generated/charts/by_channel.svg)" in snippets["stats-channels.md"]
    svg = out.charts["by_channel.svg"]
    for label in ("Online complaint form", "Complaint hotline", "Anonymous complaint box"):
        assert label in svg


def test_missing_statistics_are_announced_not_invented() -> None:
    snippets, out = site.stats_snippets(None, "zh", {})
    assert out.charts == {}
    assert set(snippets.values()) == {"统计数据尚未生成。\n"}


def test_charts_are_self_contained_and_deterministic() -> None:
    series = [charts.Series("满意率 <&>", [90.0, None, 80.5])]
    first = charts.line_chart("t", "趋势 <b>", ["2026-01", "2026-02", "2026-03"], series, percent=True)
    again = charts.line_chart("t", "趋势 <b>", ["2026-01", "2026-02", "2026-03"], series, percent=True)
    assert first == again
    assert "<script" not in first and "<!--" not in first and "<desc" not in first
    assert re.findall(r"https?://[^\"'\s<>]+", first) == ["http://www.w3.org/2000/svg"]
    assert "趋势 &lt;b&gt;" in first and "满意率 &lt;&amp;&gt;" in first
    bar = charts.bar_chart("b", "t", ["a", "b"], [charts.Series("n", [3, 4])])
    assert 'id="chart-b"' in bar and "@import" not in bar and "url(" not in bar


def test_personal_data_in_a_statistics_label_stops_generation(tmp_path: Path, policy: Policy, document: dict[str, Any]) -> None:
    from complaints.errors import PublicationError

    bad = copy.deepcopy(document)
    bad["metrics"][4]["rows"][0]["label"]["zh"] = "联系 13812345678"
    publication = site.StatsPublication(bad, json.dumps(bad), "")
    with pytest.raises(PublicationError) as caught:
        site.generate(tmp_path, policy, publication)
    assert "13812345678" not in str(caught.value)
    assert "mobile" in str(caught.value)
