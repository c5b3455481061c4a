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

from complaints.render import charts

from complaints.render import site
from complaints.adapters.config import load_policy
from complaints.core.policy import Policy

from conftest import ROOT
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
    rows = [line for line in table.splitlines() if line.startswith("<tr><th scope=\"row\"")]
    assert "**依据**" in table
    assert len(rows) == len(stages)
    for row, (key, stage) in zip(rows, stages.items()):
        assert row.startswith(f'<tr><th scope="row" data-label="环节">{stage["label"]["zh"]}</th>')
        unit = "个工作日" if stage["unit"] == "working_days" else "个自然日"
        assert f'<td data-label="时限">{stage["limit"]}{unit}</td>' in row, key
    # Every cell names its column, so that a phone can show each row as a card.
    assert all(row.count("data-label=") == 7 for row in rows)


def test_time_limits_table_reads_as_public_wording(policy: Policy) -> None:
    en = site.time_limits_table(policy, "en")
    assert "at most once, 30 days in total" in en
    assert "time(s)" not in en and "DOMAIN.md" not in en
    raw = copy.deepcopy(policy.raw)
    raw["time_limits"]["stages"]["resolve"]["extension"]["max_count"] = 2
    assert "at most 2 times" in site.time_limits_table(dataclasses.replace(policy, raw=raw), "en")


def test_changing_the_policy_changes_the_pages(policy: Policy) -> None:
    raw = copy.deepcopy(policy.raw)
    raw["time_limits"]["stages"]["acknowledge"]["limit"] = 7
    raw["channels"]["wechat"] = {"zh": "微信公众号 <b>", "en": "WeChat <b>"}
    changed = dataclasses.replace(policy, raw=raw)
    zh = site.policy_snippets(changed, "zh")
    en = site.policy_snippets(changed, "en")
    assert ">7个工作日</td>" in zh["time-limits.md"]
    assert "7 working days" in en["time-limits.md"]
    assert "7个工作日" in zh["step-acknowledged.md"]
    assert "- **微信公众号 &lt;b&gt;**" in zh["channels.md"].splitlines()
    assert "- **WeChat &lt;b&gt;**" in en["channels.md"].splitlines()


def test_every_stage_is_shown_under_exactly_one_step(policy: Policy) -> None:
    snippets = site.policy_snippets(policy, "en")
    shown = "".join(snippets[f"step-{event}.md"] for event in site.STEP_EVENTS)
    for stage in policy.raw["time_limits"]["stages"].values():
        assert shown.count(f"Time limit**: {stage['label']['en']},") == 1


def test_vocabularies_list_every_policy_entry(policy: Policy) -> None:
    for lang in site.LANGUAGES:
        snippets = site.policy_snippets(policy, lang)
        for vocabulary, name in (("categories", "categories.md"), ("departments", "departments.md")):
            items = snippets[name].splitlines()
            assert items == [f"- {site.md_escape(v[lang])}" for v in policy.raw[vocabulary].values()]
        channels = [line for line in snippets["channels.md"].splitlines() if line.startswith("- ")]
        assert channels == [f"- **{site.md_escape(v[lang])}**" for v in policy.raw["channels"].values()]


def test_channels_show_how_to_reach_them(policy: Policy) -> None:
    contacts = policy.raw["channel_contacts"]
    zh = site.policy_snippets(policy, "zh")
    en = site.policy_snippets(policy, "en")
    phone = contacts["hotline"]["phone"]
    digits = phone.replace("-", "")
    assert f"    - 电话：[{site.md_escape(phone)}](tel:{digits})" in zh["channels.md"].splitlines()
    assert f"    - Web: [{site.md_escape(contacts['online_form']['web'])}]({contacts['online_form']['web']})" in en["channels.md"]
    for key in ("address", "location", "hours", "accessibility"):
        for channel, details in contacts.items():
            if key in details:
                assert site.md_escape(details[key]["en"]) in en["channels.md"], (channel, key)
                assert site.md_escape(details[key]["zh"]) in zh["channels.md"], (channel, key)
    # The home page's brief list: how to reach each channel, without the longer notes.
    brief = en["channels-brief.md"]
    assert f"tel:{digits}" in brief and site.md_escape(contacts["in_person"]["address"]["en"]) in brief
    assert site.md_escape(contacts["hotline"]["accessibility"]["en"]) not in brief
    # A channel without details is still listed, by name.
    raw = copy.deepcopy(policy.raw)
    del raw["channel_contacts"]
    bare = site.policy_snippets(dataclasses.replace(policy, raw=raw), "zh")["channels.md"]
    assert bare.splitlines() == [f"- **{site.md_escape(v['zh'])}**" for v in policy.raw["channels"].values()]


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


def _figures(text: str) -> list[str]:
    return re.findall(r'<figure class="cx-chart.*?</figure>', text, re.S)


def test_charts_match_their_tables(document: dict[str, Any]) -> None:
    snippets, _ = site.stats_snippets(document, "en", {"json": "s.json", "csv": "s.csv"})
    channels = snippets["stats-channels.md"]
    (bars, *_trend) = _figures(channels)
    for label in ("Online complaint form", "Complaint hotline", "Anonymous complaint box"):
        assert f'<span class="cx-label">{label}</span>' in bars
    # The two withheld channels are marked as withheld, not drawn as empty bars.
    assert bars.count("cx-bar--withheld") == 2 and bars.count(">hidden</span>") == 2
    assert "Hatched: hidden" in bars
    # Honest axis: starts at zero, titled with what is counted.
    assert '<span class="cx-axis-title">Number of complaints</span>' in bars
    assert '<span class="cx-tick" style="--v:0.0000">0</span>' in bars
    # A specific description for screen readers, and the table right after the chart.
    assert 'aria-label="Complaints by channel: highest Online complaint form (20), lowest ' in bars
    assert channels.index("</figure>") < channels.index("| Channel | Value |")
    overview = snippets["stats-overview.md"]
    trend = _figures(overview)[0]
    assert trend.count('class="cx-panel"') == 3  # the three rates, one panel each
    assert "Percent (%)" in trend and "Month (2026-01 – 2026-" in trend


def test_no_raw_keys_or_hashes_on_the_pages(document: dict[str, Any]) -> None:
    for lang in site.LANGUAGES:
        snippets, _ = site.stats_snippets(document, lang, {"json": "s.json", "csv": "s.csv"})
        for name, text in snippets.items():
            assert not re.search(r"\| all \||>all<", text), name
            commit = str(document.get("data_commit", ""))
            if len(commit) >= 12:
                assert commit[:12] not in text, name
    meta, _ = site.stats_snippets(document, "zh", {"json": "s.json", "csv": "s.csv"})
    assert "数据版本" not in meta["stats-meta.md"]
    assert site.period_text({"id": "2026", "months": ["2026-01", "2026-09"]}, "zh") == "2026年1月至9月"
    assert site.period_text({"id": "2026", "months": ["2026-01", "2026-09"]}, "en") == "January to September 2026"


def test_missing_statistics_are_announced_not_invented() -> None:
    snippets, out = site.stats_snippets(None, "zh", {})
    assert out.charts == {}
    assert set(snippets.values()) == {"统计数据尚未生成。\n"}


_WORDS = charts.Words("withheld", "hatched: withheld", "—", "{title}: top {high} ({high_value}), bottom {low} ({low_value}).",
                      " {count} withheld.", "{title}: nothing shown.", "Month ({span})")


def test_charts_are_self_contained_deterministic_and_escaped() -> None:
    axis = charts.Axis("Percent (%)", lambda v: f"{v:g}%", percent=True)
    series = [charts.Series("满意率 <&>", [90.0, None, 80.5], [False, True, False])]
    first = charts.month_columns("趋势 <b>", ["2026-01", "2026-02", "2026-03"], series, axis, _WORDS)
    again = charts.month_columns("趋势 <b>", ["2026-01", "2026-02", "2026-03"], series, axis, _WORDS)
    assert first == again
    assert "<script" not in first and "<img" not in first and "url(" not in first and "http" not in first
    assert "趋势 &lt;b&gt;" in first and "满意率 &lt;&amp;&gt;" in first
    assert "cx-col--withheld" in first and " 1 withheld." in first
    bar = charts.bar_chart("t <i>", ["a", "b\"c"], charts.Series("n", [3, 4]), charts.Axis("n", lambda v: f"{v:g}"), _WORDS)
    assert "<i>" not in bar and "b&quot;c" in bar and "@import" not in bar


@pytest.mark.parametrize(("value", "percent", "end"), [(0, False, 1), (4, False, 5), (13, False, 20), (23, False, 25),
                                                       (60.5, True, 100), (12.0, True, 20), (0, True, 100), (130, False, 200)])
def test_axes_end_at_a_round_number_just_above_the_largest_value(value: float, percent: bool, end: float) -> None:
    assert charts.nice_max(value, percent) == end


def test_personal_data_in_a_statistics_label_stops_generation(tmp_path: Path, policy: Policy, document: dict[str, Any]) -> None:
    from complaints.errors import PublicationError

    bad = copy.deepcopy(document)
    bad["metrics"][4]["rows"][0]["label"]["zh"] = "联系 13812345678"
    publication = site.StatsPublication(bad, json.dumps(bad), "")
    with pytest.raises(PublicationError) as caught:
        site.generate(tmp_path, policy, publication)
    assert "13812345678" not in str(caught.value)
    assert "mobile" in str(caught.value)


def test_quarter_charts_label_quarters_not_months() -> None:
    words = charts.Words(*[getattr(_WORDS, f) for f in ("withheld", "withheld_note", "no_data", "summary", "summary_withheld",
                                                        "summary_empty", "months_title")], quarters_title="Quarter ({span})")
    axis = charts.Axis("Percent (%)", lambda v: f"{v:g}%", percent=True)
    chart = charts.month_columns("t", ["2025-Q4", "2026-Q1"], [charts.Series("s", [50.0, 60.0])], axis, words)
    assert "Quarter (2025-Q4 – 2026-Q1)" in chart and "Month" not in chart
    assert "<span>Q4</span> <span>Q1</span>" in chart  # apart in the page text: test_charts_text.py


def test_the_provisional_note_counts_the_published_rows_shard_by_shard(tmp_path: Path) -> None:
    """The build tells how many published lookup rows carry a provisional date, and in which
    years, read back from the shards as written (one at a time)."""
    folder = tmp_path / "generated"
    (folder / "receipts").mkdir(parents=True)
    table = folder / "receipts.json"
    table.write_text("{}", encoding="utf-8")
    shards = {
        "00": {"a" * 64: ["received", "2027-01", 0, 1], "b" * 64: ["accepted", "2026-12"]},
        "01": {"c" * 64: ["in_progress", "2028-03", 1, 1], "d" * 64: ["closed", None, 0, 0]},
        "02": {},
        "03": {"e" * 64: ["received", "2027-02", 0, 1]},
    }
    for name, rows in shards.items():
        (folder / "receipts" / f"{name}.json").write_text(json.dumps({"cases": rows}), encoding="utf-8")
    notes = site._provisional_notes(table)
    assert len(notes) == 1 and notes[0].startswith("3 receipt lookup date(s) in 2027, 2028 are provisional")
    for name in ("00", "01", "03"):
        (folder / "receipts" / f"{name}.json").write_text(json.dumps({"cases": {}}), encoding="utf-8")
    assert site._provisional_notes(table) == ()
