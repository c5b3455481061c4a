"""Writers for a StatsReport: the JSON document (schema/stats.schema.json), a tidy CSV for
open data and the Markdown the site includes.

Every writer's output passes the personal-data scan before it is returned: a hit raises
PublicationError naming the output and the field, never the value. The CSV is UTF-8 with a
byte-order mark so that spreadsheet programs read the Chinese labels right; one row per
figure: metric, formula version, unit, dimension, key, labels, period (the period's id or a
month), value, suppressed, numerator, denominator, observations, generated, data commit.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from complaints.adapters.csvfile import csv_text
from complaints.adapters.outdir import write_into_output_folder
from complaints.core.pii import check_publishable, check_text_publishable
from complaints.render.jsontext import pretty_json
from complaints.core.stats.metrics import DIMENSIONS, DISCLOSURE_RULE, FORMULA_VERSION, METRICS, Label
from complaints.core.stats.tables import Cell, MetricResult, StatsReport

SCHEMA_VERSION = 1
SUPPRESSED_MARK = "‡"
CSV_COLUMNS = (
    "metric",
    "formula_version",
    "unit",
    "dimension",
    "key",
    "label_zh",
    "label_en",
    "period",
    "value",
    "suppressed",
    "rounded",
    "fallback_period",
    "numerator",
    "denominator",
    "observations",
    "generated",
    "data_commit",
)


def _cell(c: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"key": c.key}
    if c.label is not None:
        out["label"] = c.label.to_json()
    out["value"] = c.value
    out["suppressed"] = c.suppressed
    if c.is_rate:
        out["numerator"] = c.numerator
        out["denominator"] = c.denominator
    if c.is_quantile:
        out["observations"] = c.observations
    if c.fallback:
        out["fallback"] = c.fallback
    return out


def _metric(m: MetricResult) -> dict[str, Any]:
    d = m.definition
    return {
        "id": d.id,
        "label": d.label.to_json(),
        "kind": d.kind,
        "unit": d.unit,
        "formula": {
            "id": d.id,
            "version": d.version,
            "text": d.text.to_json(),
            "open_cases": d.open_cases.to_json(),
            "anonymous_cases": d.anonymous_cases.to_json(),
            "transfers": d.transfers.to_json(),
        },
        "dimension": None if d.dimension is None else {"id": d.dimension, "label": DIMENSIONS[d.dimension].to_json()},
        "rows": [_cell(c) for c in m.rows],
        "total": None if m.total is None else _cell(m.total),
        "trend": [
            {"month": s.month, "rows": [_cell(c) for c in s.rows], "total": None if s.total is None else _cell(s.total)}
            for s in m.trend
        ],
    }


def to_json_document(report: StatsReport) -> dict[str, Any]:
    """The document schema/stats.schema.json describes."""
    return {
        "schema_version": SCHEMA_VERSION,
        "organisation": report.organisation.to_json(),
        "period": {"id": report.period.id, "kind": report.period.kind, "months": list(report.months)},
        "generated": report.generated.isoformat(),
        "release": {
            "data_as_of": report.generated.isoformat(),
            "next_update": report.next_update.isoformat() if report.next_update else None,
        },
        "data_commit": report.data_commit,
        "formula_version": FORMULA_VERSION,
        "disclosure": {
            "method": report.method,
            "threshold": report.threshold,
            "min_base": report.min_base,
            "suppressed_cells": report.suppressed_cells,
            "audited_cells": report.audited_cells,
            "rule": DISCLOSURE_RULE.to_json(),
        },
        "metrics": [_metric(m) for m in report.metrics],
        "history": [
            {
                "period": h.period,
                "kind": h.kind,
                "complete": h.complete,
                "figures": [
                    {"metric": f.metric, "key": f.key, "value": f.value, "suppressed": f.suppressed,
                     "change": f.change, "change_unit": f.change_unit}
                    for f in h.figures
                ],
            }
            for h in report.history
        ],
        # Only with --skip-invalid: without it, a run with an invalid case file stops instead.
        **({"invalid_cases_left_out": report.invalid_left_out} if report.invalid_left_out is not None else {}),
    }


def _source(report: StatsReport, fmt: str) -> str:
    return f"stats {report.period.id} ({fmt})"


def render_json(report: StatsReport) -> str:
    doc = to_json_document(report)
    check_publishable(doc, _source(report, "json"), skip=frozenset({"$.data_commit"}), allow=frozenset(report.allow))
    return pretty_json(doc) + "\n"


def _fmt_number(v: float | None) -> str:
    if v is None:
        return ""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.1f}"


def render_csv(report: StatsReport) -> str:
    rows: list[tuple[Any, ...]] = []
    gen = report.generated.isoformat()
    for m in report.metrics:
        d = m.definition
        seen: set[tuple[str, str]] = set()
        blocks: list[tuple[str, list[Cell]]] = [(report.period.id, [*m.rows, *([m.total] if m.total else [])])]
        blocks += [(s.month, [*s.rows, *([s.total] if s.total else [])]) for s in m.trend]
        for period, cells in blocks:
            for c in cells:
                if (period, c.key) in seen or (report.period.kind == "month" and period != report.period.id):
                    continue
                seen.add((period, c.key))
                rows.append(
                    (
                        d.id,
                        d.version,
                        d.unit,
                        d.dimension or "",
                        c.key,
                        (c.label or d.label).zh,
                        (c.label or d.label).en,
                        period,
                        _fmt_number(c.value),
                        "true" if c.suppressed else "false",
                        "true" if (c.is_rate or c.is_quantile) and c.value is not None else "false",
                        c.fallback or "",
                        "" if c.numerator is None else c.numerator,
                        "" if c.denominator is None else c.denominator,
                        "" if c.observations is None else c.observations,
                        gen,
                        report.data_commit,
                    )
                )
    text = csv_text(CSV_COLUMNS, rows, bom=True)
    check_text_publishable(text.replace(report.data_commit, ""), _source(report, "csv"), "csv", allow=frozenset(report.allow))
    return text


def _show(c: Cell | None, lang: str) -> str:
    if c is None:
        return ""
    if c.suppressed:
        return SUPPRESSED_MARK
    if c.value is None:
        return "–"
    if c.is_rate and c.fallback:
        return f"{_fmt_number(c.value)}% ({c.fallback})"
    if c.is_rate:
        return f"{_fmt_number(c.value)}% ({c.numerator}/{c.denominator})"
    if c.is_quantile:
        return f"{_fmt_number(c.value)} (n={c.observations})"
    return _fmt_number(c.value)


def render_markdown(report: StatsReport, lang: str = "zh") -> str:
    """The statistics page body: one section per metric with its formula."""
    zh = lang == "zh"

    def t(label: Label) -> str:
        return label.zh if zh else label.en

    org = t(report.organisation)
    lines = [
        f"# {org} {'投诉统计' if zh else 'complaint statistics'} {report.period.id}",
        "",
        (
            f"统计期 {report.period.id}；生成日期 {report.generated.isoformat()}（数据截至该日）；"
            f"下次更新 {report.next_update.isoformat() if report.next_update else '–'}；数据版本 `{report.data_commit}`；"
            f"公式版本 {FORMULA_VERSION}；小计数隐去阈值 {report.threshold}，最小基数 {report.min_base}。"
            if zh
            else f"Period {report.period.id}; generated {report.generated.isoformat()} (data as of that date); "
            f"next update {report.next_update.isoformat() if report.next_update else '–'}; data commit `{report.data_commit}`; "
            f"formula version {FORMULA_VERSION}; small-count threshold {report.threshold}, minimum base {report.min_base}."
        ),
        "",
        f"{SUPPRESSED_MARK} " + t(DISCLOSURE_RULE),
        "",
    ]
    months = list(report.months) if report.period.kind != "month" else []
    for m in report.metrics:
        d = m.definition
        lines += [f"## {t(d.label)}", ""]
        dim = t(DIMENSIONS[d.dimension]) if d.dimension else ("指标" if zh else "Figure")
        header = [dim, report.period.id, *months]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        trend_by_month = {s.month: s for s in m.trend}
        rows = list(m.rows) + ([m.total] if m.total else [])
        for i, c in enumerate(rows):
            name = t(c.label) if c.label else t(d.label)
            cells = [name, _show(c, lang)]
            for month in months:
                s = trend_by_month[month]
                mc = (s.rows[i] if i < len(s.rows) else s.total)
                cells.append(_show(mc, lang))
            lines.append("| " + " | ".join(cells) + " |")
        lines += [
            "",
            f"{'公式' if zh else 'Formula'} `{d.id}` v{d.version}: {t(d.text)}",
            f"{'在办案件' if zh else 'Open cases'}: {t(d.open_cases)} "
            f"{'匿名投诉' if zh else 'Anonymous cases'}: {t(d.anonymous_cases)} "
            f"{'转办' if zh else 'Transfers'}: {t(d.transfers)}",
            "",
        ]
    text = "\n".join(lines)
    check_text_publishable(text.replace(report.data_commit, ""), _source(report, f"markdown {lang}"), "markdown", allow=frozenset(report.allow))
    return text


# The Markdown page in Chinese; `render` gives the other language.
FORMATS: dict[str, Callable[[StatsReport], str]] = {
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
}
_EXTENSIONS = {"json": "json", "csv": "csv", "markdown": "md"}


def render(report: StatsReport, fmt: str, lang: str = "zh") -> str:
    if fmt == "markdown":
        return render_markdown(report, lang)
    return FORMATS[fmt](report)


def output_name(report: StatsReport, fmt: str, lang: str = "zh") -> str:
    ext = _EXTENSIONS[fmt]
    suffix = f".{lang}" if fmt == "markdown" and lang != "zh" else ""
    return f"stats-{report.period.id}{suffix}.{ext}"


def write(report: StatsReport, fmt: str, out_dir: Path, lang: str = "zh", *, repo_root: Path) -> Path:
    """Render (checking for personal data first) and write one file into `out_dir`, a folder
    of this tool's own output (see outdir.py: the repository's own folders and other people's
    folders are refused)."""
    text = render(report, fmt, lang)
    return write_into_output_folder(out_dir, repo_root, output_name(report, fmt, lang), text.encode("utf-8"))


def formulas_markdown(lang: str = "en") -> str:
    """Every metric's written definition, from the registry: what the README and the site's
    methods page show."""
    zh = lang == "zh"
    lines = []
    for d in METRICS.values():
        other = d.label.en if zh else d.label.zh
        label = d.label.zh if zh else d.label.en
        text = d.text.zh if zh else d.text.en
        lines.append(f"- **`{d.id}` v{d.version} — {label} ({other}).** {text}")
        lines.append(
            f"  *{'在办案件' if zh else 'Open cases'}:* {d.open_cases.zh if zh else d.open_cases.en} "
            f"*{'匿名投诉' if zh else 'Anonymous cases'}:* {d.anonymous_cases.zh if zh else d.anonymous_cases.en} "
            f"*{'转办' if zh else 'Transfers'}:* {d.transfers.zh if zh else d.transfers.en}"
        )
    return "\n".join(lines) + "\n"
