"""The published site: generate its tables, charts and downloads, then build it with MkDocs.

The prose lives in ``site/zh/`` and ``site/en/`` (Chinese first; mkdocs-static-i18n pairs the
pages for the language switch). Everything that is a number or a vocabulary — the channels,
categories, departments, outcomes, the time-limits table, every statistic — is generated here
from policy.yml and the `complaints stats` document into ``site/<lang>/generated/`` (kept out of
git) and reaches the pages as pymdownx.snippets includes. Nothing on the site copies a number by
hand.

Safety: every string that comes from data (policy labels, statistics labels) is escaped for
Markdown and HTML before it is written, so generated Markdown never carries raw HTML or
Markdown syntax from data; every generated file is scanned for personal-data patterns before
it is written; the statistics document only holds aggregates (see core/stats/).
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import logging
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from complaints.adapters.crypto import load_recipients
from complaints.adapters.outdir import check_output_folder, fresh_output_folder
from complaints.adapters.memory import give_back
from complaints.adapters.repository import Repository
from complaints.checker.site_sources import check_sources, output_problems
from complaints.commands.intake import form_snippets, published_strings
from complaints.commands.stats import compute, compute_with_receipts
from complaints.core.receipt import SHARD_FOLDER, ReceiptTable
from complaints.core.stats.periods import Period
from complaints.render.datapackage import build_package
from complaints.render.receipts import write_lookup_table
from complaints.render.site_pages import META_FILE, SiteMeta, reader_date
from complaints.render.stats import render_csv, render_json
from complaints.render import charts
from complaints.render import stats_pages as statspages
from complaints.render.markdown import md_escape
from complaints.errors import ConfigError, PublicationError
from complaints.core.events import PROCESS_STEPS, site_words
from complaints.core.pii import check_publishable, check_text_publishable
from complaints.adapters.config import load_policy
from complaints.core.policy import Policy
from complaints.core.stats.metrics import METRICS, PAGES

CONFIG_FILE = "mkdocs.yml"
DOCS_DIR = "site"
GENERATED = "generated"
LANGUAGES: tuple[str, ...] = ("zh", "en")  # the first is the default language
DEFAULT_OUT = "public"
# MkDocs loads the hooks by path from the installed package, so a case repository need not carry
# tools/ (and the site builder does not import the module MkDocs runs).
HOOKS = str(Path(__file__).resolve().parent.parent / "mkdocs_hooks.py")

# ---------------------------------------------------------------------------------------------
# Escaping


def _attr_escape(text: object) -> str:
    """For a Markdown link title or image alt text (inside quotes or brackets)."""
    return md_escape(text).replace('"', "&quot;")


# ---------------------------------------------------------------------------------------------
# Words the pages need that are not in the policy (interface text, not data)

UI: dict[str, dict[str, str]] = {
    "zh": {
        "working_days": "个工作日",
        "calendar_days": "个自然日",
        "days": "日",
        "stage": "环节",
        "starts": "起算",
        "limit": "时限",
        "overrides": "特殊规定",
        "extension": "延期",
        "pause": "中止计时",
        "applies": "适用范围",
        "source": "依据",
        "none": "无",
        "yes": "可以",
        "no": "不可以",
        "all_cases": "全部投诉",
        "named_only": "仅实名投诉（匿名投诉人无法回访）",
        "ext_rule": "{times}，累计不超过 {days} 日{approval}",
        "ext_approval": "，须经批准并告知投诉人理由",
        "limit_line": "**时限**：{stage}，自{start}次日起 {limit}{unit}{extra}。",
        "limit_line_overrides": "；{overrides}",
        "extension_line": "**{stage}**：可以延期{rule}。",
        "pause_line": "**{stage}**：可以中止计时，中止期间不计入时限。",
        "no_extension": "各环节均不延期、不中止计时。",
        "priority_override": "{label}投诉 {limit}{unit}",
        "category_override": "“{label}”类投诉 {limit}{unit}",
        "organisation": "**{name}** 效能投诉机制 · 投诉政策第 {version} 版",
        "committee": "复核由**{name}**负责。",
        "stats_missing": "统计数据尚未生成。",
        "period": "统计期间",
        "generated": "数据日期",
        "commit": "数据版本",
        "formula_version": "统计口径版本",
        "suppressed_cells": "隐去的数字",
        "invalid_left_out": "未计入的无效案件文件",
        "suppressed": "已隐去",
        "suppressed_title": "数字过小，为保护投诉人已隐去",
        "no_data": "—",
        "formula_link": "计算方法（第 {version} 版）",
        "total": "合计",
        "value": "数值",
        "numerator": "分子",
        "denominator": "分母",
        "observations": "样本数",
        "month": "月份",
        "item": "项目",
        "chart_alt": "图表：{label}（数据见下表）",
        "trend_alt": "趋势图：{label}（数据见下表）",
        "trend_title": "逐月数据",
        "figure": "指标",
        "definition": "定义",
        "open_cases": "未办结的投诉",
        "anonymous_cases": "匿名投诉",
        "transfers": "转办的投诉",
        "version": "版本",
        "downloads": "下载本页数据：",
        "download_json": "JSON（统计文件全文）",
        "download_csv": "CSV（开放数据表格）",
        "download_package": "开放数据包（Frictionless Data Package，每个期间一个 CSV 文件）",
        "threshold": "隐去门槛：小于 **{threshold}** 且大于 0 的数字不公布。",
        "overview_rates": "核心指标",
        "overview_trend": "趋势",
        "other_metrics": "其他指标",
        "working_days_value": "{value} 个工作日",
        "no_metrics": "本期没有这一类统计。",
        "contact_phone": "电话",
        "contact_web": "网址",
        "contact_address": "地址",
        "contact_location": "位置",
        "contact_hours": "时间",
        "contact_accessibility": "无障碍",
        "uncommitted": "未提交的工作副本",
        "unknown": "未知",
        "all": "全部",
        "axis_cases": "投诉件数（件）",
        "axis_case_departments": "投诉件数（件；一件投诉可涉及多个部门）",
        "axis_percent": "百分比（%）",
        "axis_working_days": "用时（工作日）",
        "axis_measures": "措施数（项）",
        "axis_suggestions": "建议数（条）",
        "axis_value": "数值",
        "chart_withheld": "已隐去",
        "chart_withheld_note": "斜线：数字过小，为保护投诉人已隐去（见下表）",
        "chart_summary": "{title}：最高为{high}（{high_value}），最低为{low}（{low_value}）。",
        "chart_summary_withheld": "另有 {count} 项已隐去。",
        "chart_summary_empty": "{title}：所有数字均已隐去或暂无数据。",
        "chart_months": "月份（{span}）",
        "chart_quarters": "季度（{span}）",
        "period_year": "{year}年{first}月至{last}月",
        "period_month": "{year}年{first}月",
        "ext_once": "最多 1 次",
        "ext_times": "最多 {count} 次",
    },
    "en": {
        "working_days": " working days",
        "calendar_days": " calendar days",
        "days": " days",
        "stage": "Step",
        "starts": "Starts at",
        "limit": "Time limit",
        "overrides": "Special rules",
        "extension": "Extension",
        "pause": "Clock can pause",
        "applies": "Applies to",
        "source": "Basis",
        "none": "none",
        "yes": "yes",
        "no": "no",
        "all_cases": "all complaints",
        "named_only": "named complaints only (anonymous complainants cannot be contacted)",
        "ext_rule": " {times}, {days} days in total{approval}",
        "ext_approval": ", with approval and the complainant told why",
        "limit_line": "**Time limit**: {stage}, {limit}{unit} from the day after {start}{extra}.",
        "limit_line_overrides": "; {overrides}",
        "extension_line": "**{stage}**: may be extended{rule}.",
        "pause_line": "**{stage}**: the clock can be paused; a pause does not count towards the limit.",
        "no_extension": "No step may be extended or paused.",
        "priority_override": "{label} complaints {limit}{unit}",
        "category_override": "complaints about \u201c{label}\u201d {limit}{unit}",
        "organisation": "**{name}**: efficiency complaint mechanism, complaint policy version {version}",
        "committee": "Reviews are handled by the **{name}**.",
        "stats_missing": "No statistics have been generated yet.",
        "period": "Period",
        "generated": "Data as of",
        "commit": "Data version",
        "formula_version": "Definitions version",
        "suppressed_cells": "Hidden figures",
        "invalid_left_out": "Invalid case files left out",
        "suppressed": "hidden",
        "suppressed_title": "Too small to publish without risk to complainants",
        "no_data": "—",
        "formula_link": "How it is computed (version {version})",
        "total": "Total",
        "value": "Value",
        "numerator": "Numerator",
        "denominator": "Denominator",
        "observations": "Observations",
        "month": "Month",
        "item": "Item",
        "chart_alt": "Chart: {label} (data in the table below)",
        "trend_alt": "Trend chart: {label} (data in the table below)",
        "trend_title": "Month by month",
        "figure": "Figure",
        "definition": "Definition",
        "open_cases": "Open complaints",
        "anonymous_cases": "Anonymous complaints",
        "transfers": "Transferred complaints",
        "version": "Version",
        "downloads": "Download this data: ",
        "download_json": "JSON (the whole statistics file)",
        "download_csv": "CSV (open data table)",
        "download_package": "Open data package (Frictionless Data Package, one CSV per period)",
        "threshold": "Threshold: figures above 0 and below **{threshold}** are not published.",
        "overview_rates": "Key figures",
        "overview_trend": "Trend",
        "other_metrics": "Other figures",
        "working_days_value": "{value} working days",
        "no_metrics": "There are no figures of this kind for this period.",
        "contact_phone": "Phone",
        "contact_web": "Web",
        "contact_address": "Address",
        "contact_location": "Where",
        "contact_hours": "Hours",
        "contact_accessibility": "Accessibility",
        "uncommitted": "uncommitted working copy",
        "unknown": "unknown",
        "all": "All complaints",
        "axis_cases": "Number of complaints",
        "axis_case_departments": "Number of complaints (one may concern several departments)",
        "axis_percent": "Percent (%)",
        "axis_working_days": "Time taken (working days)",
        "axis_measures": "Number of measures",
        "axis_suggestions": "Number of suggestions",
        "axis_value": "Value",
        "chart_withheld": "hidden",
        "chart_withheld_note": "Hatched: hidden, too small to publish without risk to complainants (see the table)",
        "chart_summary": "{title}: highest {high} ({high_value}), lowest {low} ({low_value}).",
        "chart_summary_withheld": " {count} more hidden.",
        "chart_summary_empty": "{title}: every figure is hidden or not available.",
        "chart_months": "Month ({span})",
        "chart_quarters": "Quarter ({span})",
        "period_year": "{first_name} to {last_name} {year}",
        "period_month": "{first_name} {year}",
        "ext_once": "at most once",
        "ext_times": "at most {count} times",
    },
}

# Steps of the process page that carry a time limit: the event that completes them. The page
# shows, under each step, every stage of the policy that this event stops.
STEP_EVENTS: tuple[str, ...] = PROCESS_STEPS


def _label(value: Any, lang: str) -> str:
    """A policy or statistics label: {zh, en} or plain text."""
    if isinstance(value, Mapping):
        text = value.get(lang) or value.get(LANGUAGES[0])
        return str(text) if text is not None else ""
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Policy pages


def _vocabulary_list(policy: Policy, vocabulary: str, lang: str) -> str:
    entries = policy.raw.get(vocabulary) or {}
    lines = [f"- {md_escape(_label(entry, lang))}" for entry in entries.values()]
    return "\n".join(lines) + "\n"


CONTACT_FIELDS: tuple[str, ...] = ("phone", "web", "address", "location", "hours", "accessibility")
# The home page lists how to reach each channel in brief: where and how, not every note.
BRIEF_FIELDS: tuple[str, ...] = ("phone", "web", "address", "location", "hours")


def _contact_value(field_name: str, value: Any, lang: str) -> str:
    if field_name == "phone":
        text = md_escape(value)
        digits = re.sub(r"[^0-9+]", "", str(value))
        return f"[{text}](tel:{digits})"
    if field_name == "web":
        # The schema admits only https addresses without spaces, quotes or brackets.
        return f"[{md_escape(value)}]({value})"
    return md_escape(_label(value, lang))


def channel_contacts(policy: Policy, lang: str, fields: Sequence[str] = CONTACT_FIELDS) -> str:
    """Every channel with how to reach it (policy.yml `channel_contacts`), as a Markdown list."""
    ui = UI[lang]
    contacts = policy.raw.get("channel_contacts") or {}
    colon = "：" if lang == "zh" else ": "
    lines = []
    for key, entry in (policy.raw.get("channels") or {}).items():
        lines.append(f"- **{md_escape(_label(entry, lang))}**")
        details = contacts.get(key) or {}
        for name in fields:
            if details.get(name):
                lines.append(f"    - {ui['contact_' + name]}{colon}{_contact_value(name, details[name], lang)}")
    return "\n".join(lines) + "\n"


def _unit(unit: str, lang: str) -> str:
    return UI[lang].get(unit, UI[lang]["days"])


def _limit(limit: Any, lang: str) -> str:
    # Numbers from the policy are shown as written; escaping keeps odd input inert.
    return md_escape(limit)


def _overrides(stage: Mapping[str, Any], policy: Policy, lang: str) -> list[str]:
    out = []
    unit = stage.get("unit", "calendar_days")
    for rule in stage.get("overrides") or []:
        if not isinstance(rule, Mapping):
            continue
        rule_unit = _unit(str(rule.get("unit", unit)), lang)
        if "priority" in rule:
            label = policy.label("priorities", str(rule["priority"]), lang)
            out.append(UI[lang]["priority_override"].format(label=md_escape(label), limit=_limit(rule.get("limit"), lang), unit=rule_unit))
        elif "category" in rule:
            label = policy.label("categories", str(rule["category"]), lang)
            out.append(UI[lang]["category_override"].format(label=md_escape(label), limit=_limit(rule.get("limit"), lang), unit=rule_unit))
    return out


def _extension(stage: Mapping[str, Any], lang: str) -> str | None:
    ext = stage.get("extension")
    if not isinstance(ext, Mapping):
        return None
    approval = UI[lang]["ext_approval"] if ext.get("approver_required") else ""
    count = ext.get("max_count", 1)
    times = UI[lang]["ext_once"] if count == 1 else UI[lang]["ext_times"].format(count=md_escape(count))
    return UI[lang]["ext_rule"].format(times=times, days=md_escape(ext.get("max_days", "")), approval=approval)


def _stages(policy: Policy) -> list[tuple[str, Mapping[str, Any]]]:
    stages = (policy.raw.get("time_limits") or {}).get("stages") or {}
    return [(key, value) for key, value in stages.items() if isinstance(value, Mapping)]


def _stage_name(key: str, stage: Mapping[str, Any], lang: str) -> str:
    return _label(stage.get("label"), lang) or key


def _event_word(kind: Any, lang: str) -> str:
    return site_words(kind, lang)


def _unescape_md(text: str) -> str:
    """md_escape's output for use inside raw HTML: HTML-escaped, without Markdown backslashes."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", text)


def time_limits_table(policy: Policy, lang: str) -> str:
    """The time-limits table, one row per stage of the policy. Written as HTML so each cell
    carries its column's name: on a phone the rows become cards (see site_assets/site.css)."""
    ui = UI[lang]
    head = [ui["stage"], ui["starts"], ui["limit"], ui["overrides"], ui["extension"], ui["pause"], ui["applies"]]
    rows = []
    for key, stage in _stages(policy):
        overrides = ("；" if lang == "zh" else "; ").join(_overrides(stage, policy, lang))
        ext = _extension(stage, lang)
        cells = [
            md_escape(_stage_name(key, stage, lang)),
            md_escape(_event_word(stage.get("starts"), lang)),
            f"{_limit(stage.get('limit'), lang)}{_unit(str(stage.get('unit')), lang)}",
            overrides or ui["none"],
            ext.strip().lstrip(",，") if ext else ui["no"],
            ui["yes"] if stage.get("pausable") else ui["no"],
            ui["named_only"] if stage.get("applies_to") == "named" else ui["all_cases"],
        ]
        cells = [_unescape_md(cell) for cell in cells]
        row = [f'<th scope="row" data-label="{html.escape(head[0])}">{cells[0]}</th>']
        row += [f'<td data-label="{html.escape(name)}">{cell}</td>' for name, cell in zip(head[1:], cells[1:])]
        rows.append("<tr>" + "".join(row) + "</tr>")
    table = (
        '<div class="cx-limits-wrap" markdown="0">\n<table class="cx-limits">\n<thead><tr>'
        + "".join(f'<th scope="col">{html.escape(name)}</th>' for name in head)
        + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</div>\n"
    )
    # The basis of each limit is prose; as a list under the table it keeps the table narrow.
    sources = [
        f"- **{md_escape(_stage_name(key, stage, lang))}**{'：' if lang == 'zh' else ': '}{md_escape(_label(stage.get('source'), lang))}"
        for key, stage in _stages(policy)
        if _label(stage.get("source"), lang)
    ]
    basis = f"\n**{ui['source']}**\n\n" + "\n".join(sources) + "\n" if sources else ""
    return table + basis


def step_limits(policy: Policy, event: str, lang: str) -> str:
    """Under a step of the process page: the limits of the stages this step's event completes."""
    lines = []
    for key, stage in _stages(policy):
        stops = stage.get("stops") or []
        # A stage is shown once, under the first step of the page that can complete it.
        first = next((e for e in STEP_EVENTS if e in stops), None)
        if first != event:
            continue
        overrides = _overrides(stage, policy, lang)
        extra = UI[lang]["limit_line_overrides"].format(overrides=("；" if lang == "zh" else "; ").join(overrides)) if overrides else ""
        line = UI[lang]["limit_line"].format(
            stage=md_escape(_stage_name(key, stage, lang)),
            start=md_escape(_event_word(stage.get("starts"), lang)),
            limit=_limit(stage.get("limit"), lang),
            unit=_unit(str(stage.get("unit")), lang),
            extra=extra,
        )
        if lang == "en":
            line = line.replace(" from the day after", " counted from the day after")
        lines.append(f"!!! info \"\"\n    {line}\n")
    return "\n".join(lines)


def extension_rules(policy: Policy, lang: str) -> str:
    lines = []
    for key, stage in _stages(policy):
        ext = _extension(stage, lang)
        name = md_escape(_stage_name(key, stage, lang))
        if ext:
            lines.append("- " + UI[lang]["extension_line"].format(stage=name, rule=ext))
        if stage.get("pausable"):
            lines.append("- " + UI[lang]["pause_line"].format(stage=name))
    return ("\n".join(lines) if lines else UI[lang]["no_extension"]) + "\n"


def policy_snippets(policy: Policy, lang: str) -> dict[str, str]:
    """Every generated piece of the policy pages, by snippet file name."""
    raw = policy.raw
    org = raw.get("organisation") or {}
    committee = raw.get("committee") or {}
    snippets = {
        "organisation.md": UI[lang]["organisation"].format(
            name=md_escape(_label(org.get("name"), lang)), version=md_escape(raw.get("policy_version", ""))
        ) + "\n",
        "channels.md": channel_contacts(policy, lang),
        "channels-brief.md": channel_contacts(policy, lang, BRIEF_FIELDS),
        "categories.md": _vocabulary_list(policy, "categories", lang),
        "departments.md": _vocabulary_list(policy, "departments", lang),
        "not-accepted-reasons.md": _vocabulary_list(policy, "not_accepted_reasons", lang),
        "outcomes.md": _vocabulary_list(policy, "outcomes", lang),
        "measures.md": _vocabulary_list(policy, "measures", lang),
        "satisfaction-levels.md": _vocabulary_list(policy, "satisfaction", lang),
        "committee.md": UI[lang]["committee"].format(name=md_escape(_label(committee.get("name"), lang))) + "\n",
        "time-limits.md": time_limits_table(policy, lang),
        "extensions.md": extension_rules(policy, lang),
    }
    for event in STEP_EVENTS:
        snippets[f"step-{event}.md"] = step_limits(policy, event, lang)
    return snippets


# ---------------------------------------------------------------------------------------------
# Statistics pages

# Where each metric is shown (its page, and whether the overview repeats it) is part of its
# definition (core/stats/metrics.py); the document carries only ids.
# The "三率" (Beijing's 接诉即办 regulation, art. 32): the overview draws their trend together.
THREE_RATES: tuple[str, ...] = tuple(m.id for m in METRICS.values() if m.overview == "trend")
# Breakdowns the overview shows in full besides their own page.
OVERVIEW_BREAKDOWNS: tuple[str, ...] = tuple(m.id for m in METRICS.values() if m.overview == "breakdown")

STATS_PAGES: tuple[str, ...] = PAGES


# A metric this version does not define (a document from another formula version) goes
# where the defined metrics of its dimension go.
_PAGE_BY_DIMENSION: dict[str, str] = {m.dimension: m.page for m in reversed(METRICS.values()) if m.dimension is not None}


def page_of(metric: Mapping[str, Any]) -> str:
    """The statistics page a metric belongs on, from its definition (the overview takes a
    single figure it does not know)."""
    definition = METRICS.get(str(metric.get("id", "")))
    if definition is not None:
        return definition.page
    dimension = metric.get("dimension") or {}
    return _PAGE_BY_DIMENSION.get(str(dimension.get("id", "")), "overview")


def _anchor_id(metric_id: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", metric_id.lower())


def _formula_link(metric: Mapping[str, Any], lang: str, prefix: str = "") -> str:
    formula = metric.get("formula") or {}
    text = UI[lang]["formula_link"].format(version=md_escape(formula.get("version", "")))
    return f"[{text}]({prefix}methods.md#formula-{_anchor_id(str(metric.get('id')))})"


def _format_value(cell: Mapping[str, Any] | None, metric: Mapping[str, Any], lang: str, prefix: str = "") -> str:
    ui = UI[lang]
    if cell is None:
        return ui["no_data"]
    if cell.get("suppressed"):
        return f'[{ui["suppressed"]}]({prefix}methods.md#suppression "{_attr_escape(ui["suppressed_title"])}")'
    value = cell.get("value")
    fallback = cell.get("fallback")
    if fallback and isinstance(value, (int, float)) and not isinstance(value, bool):
        # the month's own rate is withheld: the quarter's stands in, and says so
        return f"{value:.1f}%" + (f" ({md_escape(fallback)})" if lang == "en" else f"（{md_escape(fallback)}）")
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ui["no_data"]
    unit = metric.get("unit")
    if unit == "percent":
        text = f"{value:.1f}%"
        num, den = cell.get("numerator"), cell.get("denominator")
        if isinstance(num, int) and isinstance(den, int):
            text += f" ({num}/{den})" if lang == "en" else f"（{num}/{den}）"
        return text
    if unit == "working_days":
        return ui["working_days_value"].format(value=f"{value:g}")
    return f"{value:g}"


def _numeric(cell: Mapping[str, Any] | None) -> float | None:
    if not cell or cell.get("suppressed"):
        return None
    value = cell.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _row_label(cell: Mapping[str, Any], lang: str) -> str:
    label = _label(cell.get("label"), lang)
    if label:
        return label
    key = str(cell.get("key", ""))
    # A single figure's one row is keyed "all"; readers see words, not keys.
    return UI[lang]["all"] if key in ("all", "") else key


def _is_withheld(cell: Mapping[str, Any] | None) -> bool:
    return bool(cell and cell.get("suppressed"))


def _axis(metric: Mapping[str, Any], lang: str) -> charts.Axis:
    ui = UI[lang]
    unit = str(metric.get("unit", ""))
    title = ui.get(f"axis_{unit}", ui["axis_value"])
    if unit == "percent":
        return charts.Axis(title, lambda v: f"{v:.0f}%" if float(v).is_integer() else f"{v:.1f}%", percent=True)
    return charts.Axis(title, lambda v: f"{v:g}")


def _chart_words(lang: str) -> charts.Words:
    ui = UI[lang]
    return charts.Words(
        withheld=ui["chart_withheld"],
        withheld_note=ui["chart_withheld_note"],
        no_data=ui["no_data"],
        summary=ui["chart_summary"],
        summary_withheld=ui["chart_summary_withheld"],
        summary_empty=ui["chart_summary_empty"],
        months_title=ui["chart_months"],
        quarters_title=ui["chart_quarters"],
    )


def _series(name: str, cells: Sequence[Mapping[str, Any] | None]) -> charts.Series:
    return charts.Series(name, [_numeric(c) for c in cells], [_is_withheld(c) for c in cells])


@dataclass
class StatsOutput:
    """What the statistics pages need written besides their snippets."""

    charts: dict[str, str] = field(default_factory=dict)  # file name -> SVG text


def _charted(cells: Sequence[Mapping[str, Any] | None]) -> bool:
    """Worth a chart: some figure is shown or withheld (a chart of nothing says nothing)."""
    return any(_numeric(c) is not None or _is_withheld(c) for c in cells)


def metric_section(metric: Mapping[str, Any], lang: str, out: StatsOutput, level: int = 2) -> str:
    """One metric: heading, link to its formula, a chart, the same data as a table, and its
    month-by-month figures."""
    ui = UI[lang]
    label = _label(metric.get("label"), lang)
    metric_id = _anchor_id(str(metric.get("id")))
    rows: list[Mapping[str, Any]] = list(metric.get("rows") or [])
    total = metric.get("total")
    dimension = metric.get("dimension")
    parts = [f"{'#' * level} {md_escape(label)} {{#metric-{metric_id}}}\n", _formula_link(metric, lang) + "\n"]

    labels = [_row_label(cell, lang) for cell in rows]
    if dimension and _charted(rows):
        parts.append(charts.bar_chart(label, labels, _series(label, rows), _axis(metric, lang), _chart_words(lang)))

    first = md_escape(_label(dimension.get("label"), lang)) if dimension else ui["item"]
    table = [f"| {first} | {ui['value']} |", "|---|---:|"]
    for cell, row_label in zip(rows, labels):
        table.append(f"| {md_escape(row_label)} | {_format_value(cell, metric, lang)} |")
    if total:
        table.append(f"| **{ui['total']}** | {_format_value(total, metric, lang)} |")
    parts.append("\n".join(table) + "\n")

    trend: list[Mapping[str, Any]] = list(metric.get("trend") or [])
    if trend:
        keys = [str(c.get("key")) for c in rows] or sorted({str(c.get("key")) for s in trend for c in s.get("rows") or []})
        key_labels = dict(zip([str(c.get("key")) for c in rows], labels))
        months = [str(s.get("month")) for s in trend]
        by_month = [{str(c.get("key")): c for c in s.get("rows") or []} for s in trend]
        # A single figure's trend is its chart, shown open; a breakdown's trend chart goes with
        # its month-by-month table into a collapsed block, to keep the page readable.
        inner: list[str] = []
        plotted = _charted([m.get(k) for m in by_month for k in keys])
        if len(months) > 1 and 0 < len(keys) and plotted:
            series = [_series(key_labels.get(k, k) if dimension else label, [m.get(k) for m in by_month]) for k in keys]
            figure = charts.month_columns(label, months, series, _axis(metric, lang), _chart_words(lang))
            (inner if dimension else parts).append(figure)
        head = [ui["month"], *(md_escape(key_labels.get(k, k)) for k in keys)]
        has_total = any(s.get("total") for s in trend)
        if has_total:
            head.append(ui["total"])
        table = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        for month, cells, slice_ in zip(months, by_month, trend):
            values = [_format_value(cells.get(k), metric, lang) for k in keys]
            if has_total:
                values.append(_format_value(slice_.get("total"), metric, lang))
            table.append("| " + " | ".join([md_escape(month), *values]) + " |")
        # Raw HTML (the chart) cannot sit in an indented block, so the collapsed block is HTML too.
        body = "\n\n".join([*inner, "\n".join(table)])
        parts.append(f'<details class="note" markdown="1">\n<summary>{html.escape(ui["trend_title"])}</summary>\n\n{body}\n\n</details>\n')
    return "\n".join(parts)


def _overview(metrics: Sequence[Mapping[str, Any]], lang: str, out: StatsOutput) -> str:
    """The overview: every single-figure metric in one table, the rates' trend in one chart."""
    ui = UI[lang]
    single = [m for m in metrics if not m.get("dimension")]
    parts = [f"## {ui['overview_rates']}\n"]
    table = [f"| {ui['figure']} | {ui['value']} |", "|---|---:|"]
    for m in single:
        cell = (m.get("rows") or [None])[0]
        name = md_escape(_label(m.get("label"), lang))
        table.append(f"| [{name}](methods.md#formula-{_anchor_id(str(m.get('id')))}) | {_format_value(cell, m, lang)} |")
    parts.append("\n".join(table) + "\n" if single else ui["no_metrics"] + "\n")

    by_id = {str(m.get("id")): m for m in single}
    rates = [by_id[i] for i in THREE_RATES if i in by_id and by_id[i].get("trend")]
    if rates:
        months = [str(s.get("month")) for s in rates[0].get("trend") or []]
        parts.append(f"## {ui['overview_trend']}\n")
        series = []
        for m in rates:
            by_month = {str(s.get("month")): (s.get("rows") or [None])[0] for s in m.get("trend") or []}
            series.append((m, [by_month.get(month) for month in months]))
        if len(months) > 1 and _charted([c for _, cells in series for c in cells]):
            parts.append(charts.month_columns(
                ui["overview_trend"], months, [_series(_label(m.get("label"), lang), cells) for m, cells in series],
                _axis(series[0][0], lang), _chart_words(lang),
            ))
        head = [ui["month"], *(f"[{md_escape(_label(m.get('label'), lang))}](methods.md#formula-{_anchor_id(str(m.get('id')))})" for m, _ in series)]
        table = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * len(series)]
        for i, month in enumerate(months):
            table.append("| " + " | ".join([md_escape(month), *(_format_value(cells[i], m, lang) for m, cells in series)]) + " |")
        parts.append("\n".join(table) + "\n")
    for metric in metrics:
        if metric.get("id") in OVERVIEW_BREAKDOWNS:
            parts.append(metric_section(metric, lang, out))
    return "\n".join(parts)


def _meta(document: Mapping[str, Any], lang: str) -> str:
    ui = UI[lang]
    period = document.get("period") or {}
    disclosure = document.get("disclosure") or {}
    # The data's commit stays in the downloads (it lets a reader check a figure against the
    # archive); on the page a bare hash means nothing, so the page gives the period and date.
    rows = [
        (ui["period"], md_escape(period_text(period, lang))),
        (ui["generated"], md_escape(_reader_date(document.get("generated"), lang))),
        (ui["formula_version"], f"[{md_escape(document.get('formula_version', ''))}](methods.md)"),
        (ui["suppressed_cells"], f"[{md_escape(disclosure.get('suppressed_cells', 0))}](methods.md#suppression)"),
    ]
    if document.get("invalid_cases_left_out") is not None:
        rows.append((ui["invalid_left_out"], md_escape(document.get("invalid_cases_left_out"))))
    head = "| " + " | ".join(name for name, _ in rows) + " |"
    return "\n".join([head, "|" + "---|" * len(rows), "| " + " | ".join(value for _, value in rows) + " |"]) + "\n"


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


def _reader_date(value: Any, lang: str) -> str:
    try:
        return reader_date(dt.date.fromisoformat(str(value)), lang)
    except ValueError:
        return str(value or "")


def period_text(period: Mapping[str, Any], lang: str) -> str:
    """The statistics period as readers say it: the months it covers, not its id ("2026" for
    data to September reads as the whole year)."""
    months = [str(m) for m in period.get("months") or []]
    try:
        first = dt.date.fromisoformat(months[0] + "-01")
        last = dt.date.fromisoformat(months[-1] + "-01")
    except (IndexError, ValueError):
        return str(period.get("id", ""))
    ui = UI[lang]
    if first.year != last.year:
        return f"{months[0]} – {months[-1]}"
    key = "period_month" if first == last else "period_year"
    return ui[key].format(year=first.year, first=first.month, last=last.month,
                          first_name=_MONTH_NAMES[first.month - 1], last_name=_MONTH_NAMES[last.month - 1])


def _downloads(files: Mapping[str, str], lang: str) -> str:
    ui = UI[lang]
    links = [f"[{ui['download_' + kind]}](../{GENERATED}/downloads/{name})" for kind, name in files.items()]
    return ui["downloads"] + (" · ".join(links)) + "\n"


def _methods(metrics: Sequence[Mapping[str, Any]], lang: str) -> str:
    ui = UI[lang]
    parts = []
    for m in metrics:
        formula = m.get("formula") or {}
        parts.append(f"### {md_escape(_label(m.get('label'), lang))} {{#formula-{_anchor_id(str(m.get('id')))}}}\n")
        parts.append(
            "\n".join(
                f"{name}\n:   {value}\n"
                for name, value in (
                    (ui["definition"], md_escape(_label(formula.get("text"), lang))),
                    (ui["open_cases"], md_escape(_label(formula.get("open_cases"), lang))),
                    (ui["anonymous_cases"], md_escape(_label(formula.get("anonymous_cases"), lang))),
                    (ui["transfers"], md_escape(_label(formula.get("transfers"), lang))),
                    (ui["version"], md_escape(f"{formula.get('id', m.get('id'))} v{formula.get('version', '')}")),
                )
            )
        )
    return "\n".join(parts)


def _disclosure(document: Mapping[str, Any], lang: str) -> str:
    disclosure = document.get("disclosure") or {}
    return (
        md_escape(_label(disclosure.get("rule"), lang))
        + "\n\n"
        + UI[lang]["threshold"].format(threshold=md_escape(disclosure.get("threshold", "")))
        + "\n"
    )


def stats_snippets(document: Mapping[str, Any] | None, lang: str, downloads: Mapping[str, str]) -> tuple[dict[str, str], StatsOutput]:
    """The statistics pages' snippets, by file name, and the charts they reference."""
    out = StatsOutput()
    ui = UI[lang]
    names = [f"stats-{page}.md" for page in STATS_PAGES] + ["stats-meta.md", "stats-methods.md", "stats-disclosure.md", "stats-downloads.md",
                                                          "stats-release.md", "stats-history.md", "stats-top-categories.md", "stats-protection.md"]
    if document is None:
        return {name: ui["stats_missing"] + "\n" for name in names}, out
    metrics: list[Mapping[str, Any]] = list(document.get("metrics") or [])
    snippets: dict[str, str] = {}
    pages: dict[str, list[Mapping[str, Any]]] = {page: [] for page in STATS_PAGES}
    for metric in metrics:
        pages[page_of(metric)].append(metric)
    for page in STATS_PAGES:
        if page == "overview":
            body = _overview(metrics, lang, out)
            # Breakdowns with no page of their own (measures, reasons, suggestions...).
            rest = [m for m in pages["overview"] if m.get("dimension") and m.get("id") not in OVERVIEW_BREAKDOWNS]
            if rest:
                body += f"\n## {ui['other_metrics']}\n\n" + "\n".join(metric_section(m, lang, out, level=3) for m in rest)
        else:
            body = "\n".join(metric_section(m, lang, out) for m in pages[page]) or ui["no_metrics"] + "\n"
        snippets[f"stats-{page}.md"] = body
    snippets["stats-meta.md"] = _meta(document, lang)
    snippets["stats-methods.md"] = _methods(metrics, lang)
    snippets["stats-disclosure.md"] = _disclosure(document, lang)
    snippets["stats-downloads.md"] = _downloads(downloads, lang)
    snippets["stats-release.md"] = statspages.release_line(document, lang)
    def draw(title: str, periods: Sequence[str], series: Sequence[charts.Series]) -> str:
        axis = _axis({"unit": "percent"}, lang)
        return charts.month_columns(title, periods, series, axis, _chart_words(lang))

    snippets["stats-history.md"] = statspages.history_section(document, lang, draw)
    snippets["stats-top-categories.md"] = statspages.top_categories_section(document, lang)
    snippets["stats-protection.md"] = statspages.protection_parameters(document, lang)
    return snippets, out


# ---------------------------------------------------------------------------------------------
# Generation


@dataclass(frozen=True)
class Generated:
    """The files one generation wrote, relative to the docs folder."""

    files: tuple[str, ...]
    stats_period: str | None
    notes: tuple[str, ...] = ()  # what the caller should tell (e.g. provisional dates published)


def docs_dir(root: Path) -> Path:
    return root / DOCS_DIR


def _write(path: Path, text: str, source: str, known: Sequence[str] = ()) -> None:
    # Last line of defence: nothing that looks like personal data reaches the site. An SVG's
    # geometry is long runs of digits, so only its text nodes are read; `known` strings (the
    # data's commit hash, whose hex digits can look like a phone number) are left out.
    scanned = "\n".join(re.findall(r"<(?:text|tspan|title)\b[^>]*>([^<]*)<", text)) if path.suffix == ".svg" else text
    for token in known:
        scanned = scanned.replace(token, " ")
    check_text_publishable(scanned, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class StatsPublication:
    """The statistics as `complaints stats` publishes them: the JSON document (what the pages
    are built from) and the exact JSON and CSV texts offered for download."""

    document: Mapping[str, Any]
    json_text: str
    csv_text: str
    package: Mapping[str, str] = field(default_factory=dict)  # Frictionless Data Package files by path
    # The receipt lookup entries read in the same pass as the statistics (see statistics_for).
    receipts: ReceiptTable | None = None


def statistics_for(
    root: Path, period: str | None, today: dt.date, *, skip_invalid: bool = False, with_receipts: bool = False
) -> StatsPublication:
    """Compute the statistics of the repository at ROOT for PERIOD (default: the year to
    date), with disclosure control and the personal-data scan applied by commands/stats.py and render/stats.py.
    An invalid case file stops the build unless ``skip_invalid`` (see commands/stats.py).
    ``with_receipts``: the receipt lookup entries too, read in the same pass over the cases."""
    try:
        parsed = Period.parse(period) if period else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    receipts: ReceiptTable | None = None
    if with_receipts:
        report, receipts = compute_with_receipts(Repository.open(root), parsed, today, skip_invalid=skip_invalid)
    else:
        report = compute(Repository.open(root), parsed, today, skip_invalid=skip_invalid)
    json_text = render_json(report)
    return StatsPublication(json.loads(json_text), json_text, render_csv(report), build_package(report), receipts)


def generate(root: Path, policy: Policy, stats: StatsPublication | None) -> Generated:
    """Write site/<lang>/generated/ afresh from the policy and the statistics."""
    docs = docs_dir(root)
    written: list[str] = []
    period = None
    downloads: dict[str, str] = {}
    known: list[str] = []
    stats_document = stats.document if stats is not None else None
    if stats_document is not None:
        check_publishable(stats_document, "statistics document", skip=frozenset({"$.data_commit"}))
        commit = str(stats_document.get("data_commit", ""))
        known = [commit, commit[:12]] if commit else []
        period = str((stats_document.get("period") or {}).get("id", "all"))
        downloads = {"json": f"statistics-{period}.json", "csv": f"statistics-{period}.csv"}
        if stats is not None and stats.package:
            downloads["package"] = f"datapackage-{period}/datapackage.json"
    for lang in LANGUAGES:
        target = docs / lang / GENERATED
        if target.exists():
            shutil.rmtree(target)
        files: dict[str, str] = {f"snippets/{name}": text for name, text in policy_snippets(policy, lang).items()}
        snippets, out = stats_snippets(stats_document, lang, downloads)
        files.update({f"snippets/{name}": text for name, text in snippets.items()})
        files.update({f"charts/{name}": svg for name, svg in out.charts.items()})
        if stats is not None:
            files[f"downloads/{downloads['json']}"] = stats.json_text
            files[f"downloads/{downloads['csv']}"] = stats.csv_text
            for rel, text in stats.package.items():
                files[f"downloads/datapackage-{period}/{rel}"] = text
        for name, text in sorted(files.items()):
            rel = f"{lang}/{GENERATED}/{name}"
            _write(docs / rel, text, f"{DOCS_DIR}/{rel}", known)
            written.append(rel)
    return Generated(tuple(written), period)


# ---------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True)
class SiteBuild:
    """The outcome of `build_site`: where it went, how many pages, what MkDocs warned about."""

    out: Path
    pages: int
    generated: int
    stats_period: str | None
    warnings: tuple[str, ...]
    invalid_left_out: int | None = None  # invalid case files left out of the statistics (--skip-invalid)


class _Collect(logging.Handler):
    """Keeps MkDocs' log records instead of letting them reach stderr."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _with_mkdocs_log(action: Callable[[], None], handler: _Collect) -> None:
    logger = logging.getLogger("mkdocs")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # jieba (the search plugin's Chinese word segmenter) reports its dictionary loading on
    # stderr through a handler of its own; the library prints nothing.
    import jieba  # imported first: it resets its logger's level when imported

    segmenter = logging.getLogger(jieba.__name__)
    segmenter_level = segmenter.level
    segmenter.setLevel(logging.WARNING)
    try:
        action()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        segmenter.setLevel(segmenter_level)


def prepare(
    root: Path, today: dt.date, period: str | None = None, stats: StatsPublication | None = None, *, skip_invalid: bool = False
) -> Generated:
    """Load the policy and the statistics, then generate the site's data-derived pieces."""
    policy = load_policy(root)
    if stats is None:
        stats = statistics_for(root, period, today, skip_invalid=skip_invalid, with_receipts=True)
    generated = generate(root, policy, stats)
    # Receipt lookup (complaints.render.receipts): the table behind the "check my complaint"
    # page. Language-neutral, so written once, under the default language's generated folder.
    table = write_lookup_table(Repository.open(root), docs_dir(root) / LANGUAGES[0] / GENERATED, today, entries=stats.receipts)
    # The online form (complaints.commands.intake): its configuration and the policy's choices.
    recipients = load_recipients(root)
    form_files: list[str] = []
    for lang in LANGUAGES:
        for name, text in form_snippets(policy, recipients, lang).items():
            rel = f"{lang}/{GENERATED}/snippets/{name}"
            _write(docs_dir(root) / rel, text, f"{DOCS_DIR}/{rel}", published_strings(policy))
            form_files.append(rel)
    # The footer's "last updated" date (read by the MkDocs hooks): the day the site is built for.
    meta = docs_dir(root) / LANGUAGES[0] / GENERATED / META_FILE
    meta.write_text(SiteMeta(today).to_json(), encoding="utf-8")
    return Generated(
        (*generated.files, table.relative_to(docs_dir(root)).as_posix(), *form_files, meta.relative_to(docs_dir(root)).as_posix()),
        generated.stats_period, _provisional_notes(table),
    )


def _provisional_notes(table: Path) -> tuple[str, ...]:
    # The lookup page shows these dates as provisional; the person building the site is told
    # too, so that next year's calendar gets added.
    # One shard at a time: at a million cases the rows of all would take over 100 MB.
    provisional, found = 0, set()
    for shard in sorted((table.parent / SHARD_FOLDER).glob("*.json")):
        for row in json.loads(shard.read_text(encoding="utf-8")).get("cases", {}).values():
            if len(row) > 3 and row[3] == 1:
                provisional += 1
                found.add(str(row[1])[:4])
    years = sorted(found)
    if not years:
        return ()
    return (
        f"{provisional} receipt lookup date(s) in {', '.join(years)} are provisional: "
        f"the official calendar is not known yet (add it to calendar.yml once announced)",
    )


def published_url(policy: Policy) -> str | None:
    """Where the site is published: the policy's ``organisation.site_url``, else the GitHub
    Pages address of ``organisation.repository_url`` (https://github.com/OWNER/REPO is
    published at https://OWNER.github.io/REPO/; a repository named OWNER.github.io at its root)."""
    if policy.site_url is not None:
        return policy.site_url
    repository = policy.repository_url
    match = re.fullmatch(r"https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+?)(?:\.git)?/?", str(repository or ""))
    if match is None:
        return None
    owner, name = match.group(1), match.group(2)
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if name.lower() == host else f"https://{host}/{name}/"


def build_site(
    root: Path,
    out: Path,
    today: dt.date,
    *,
    strict: bool = True,
    period: str | None = None,
    stats: StatsPublication | None = None,
    site_url: str | None = None,
    skip_invalid: bool = False,
) -> SiteBuild:
    """Generate, then build the site with MkDocs into OUT. Raises PublicationError when MkDocs
    fails (in strict mode, on any warning), naming the warnings. SITE_URL is where the site
    will be published (e.g. a GitHub Pages project address): the language switch's links and
    the sitemap need its path."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config_file = root / CONFIG_FILE
    if not config_file.is_file():
        raise ConfigError(f"{config_file}: not found (the site's MkDocs configuration)")
    # Refused before anything is generated: a wrong --out must change nothing at all.
    check_output_folder(out, root)
    # The hand-written pages and assets: only pages and known assets, no personal data, no
    # raw HTML that runs code (sitecheck.py). Every problem is named with its file and line.
    check_sources(docs_dir(root), DOCS_DIR, LANGUAGES)
    if stats is None:
        stats = statistics_for(root, period, today, skip_invalid=skip_invalid, with_receipts=True)
    generated = prepare(root, today, period, stats)
    # The receipt rows are written: not held through the MkDocs build, which reuses the room,
    # and the room is given back to the system (at a million cases the scan and the rows
    # leave tens of megabytes of the heap free but held).
    stats = replace(stats, receipts=None)
    give_back()

    with fresh_output_folder(out, root) as staging:

        def run() -> None:
            overrides: dict[str, Any] = {"site_url": site_url} if site_url else {}
            # The hooks come from the installed package, so a case repository need not carry tools/.
            overrides["hooks"] = [HOOKS]
            config = load_config(config_file=str(config_file), site_dir=str(staging), strict=strict, **overrides)
            build(config)

        failure: str | None = None
        collected = _Collect()
        try:
            _with_mkdocs_log(run, collected)
        except MkDocsException as exc:
            failure = str(exc)
        except Exception as exc:  # a plugin's own error, e.g. a bad snippet path
            failure = f"{type(exc).__name__}: {exc}"
        warnings = tuple(r.getMessage() for r in collected.records if r.levelno >= logging.WARNING)
        if failure is not None:
            detail = "\n".join(warnings)
            raise PublicationError(f"the site did not build: {failure}" + (f"\n{detail}" if detail else ""))
        # The last line of defence: what MkDocs made of the pages (their text, the search
        # index, the sitemap) is scanned too; nothing is swapped in when a pattern is found.
        commit = str(stats.document.get("data_commit", ""))
        found = output_problems(staging, (commit, commit[:12]) if commit else ())
        if found:
            raise PublicationError("the site was not published:\n" + "\n".join(str(p) for p in found))
        pages = sum(1 for _ in staging.rglob("*.html"))
    left_out = stats.document.get("invalid_cases_left_out")
    return SiteBuild(
        out, pages, len(generated.files), generated.stats_period, (*warnings, *generated.notes),
        left_out if isinstance(left_out, int) else None,
    )


def serve_site(root: Path, today: dt.date, dev_addr: str = "127.0.0.1:8000", period: str | None = None) -> None:
    """Generate, then serve the site with MkDocs' development server (rebuilds on edits to the
    pages under site/; rerun to pick up changes to the policy or the cases). Blocks until
    interrupted."""
    from mkdocs.commands.serve import serve

    config_file = root / CONFIG_FILE
    if not config_file.is_file():
        raise ConfigError(f"{config_file}: not found (the site's MkDocs configuration)")
    check_sources(docs_dir(root), DOCS_DIR, LANGUAGES)
    prepare(root, today, period)
    # As for build_site: the hooks come from the installed package, not the repository.
    serve(config_file=str(config_file), dev_addr=dev_addr, livereload=True, hooks=[HOOKS])
