"""Open data: the statistics as a Frictionless Data Package (https://datapackage.org/),
the form data portals (CKAN and others) accept.

One CSV file per period — the year, each begun quarter, each begun month — in long format
(one row per figure), every file described by the same Table Schema, plus the history of
past years and quarters. Every row carries its formula version and whether the value is
withheld (`suppressed`), rounded (`rounded`: rates and quantiles, to one decimal) or stands
for its quarter (`fallback_period`). The files are cut from one report, so from one
suppression pattern that passed the audit; each text passes the personal-data scan.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from complaints.adapters.csvfile import csv_text
from complaints.core.pii import check_text_publishable
from complaints.core.stats.metrics import FORMULA_VERSION
from complaints.core.stats.tables import Cell, StatsReport

PACKAGE_NAME = "complaint-statistics"
_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("metric", "string", "Metric id (see the formula on the methods page)."),
    ("formula_version", "integer", "Version of the metric's written formula."),
    ("unit", "string", "cases, percent, working_days, measures, suggestions or case_departments."),
    ("dimension", "string", "What the rows are broken down by; empty for a single figure."),
    ("key", "string", "Row key within the dimension ('all' or 'total' for a single figure or a total)."),
    ("label_zh", "string", "Row label in Chinese."),
    ("label_en", "string", "Row label in English."),
    ("period", "string", "YYYY, YYYY-Qn or YYYY-MM."),
    ("value", "number", "The figure; empty when withheld or when there is nothing to measure."),
    ("suppressed", "boolean", "true: withheld to protect complainants (see the methods page)."),
    ("rounded", "boolean", "true: the value is rounded to one decimal (rates and quantiles)."),
    ("fallback_period", "string", "A month's rate withheld: the value given is this quarter's."),
    ("numerator", "integer", "Rates: cases meeting the condition."),
    ("denominator", "integer", "Rates: cases the rate is taken over."),
    ("observations", "integer", "Quantiles: completed stages measured."),
)
_HISTORY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("period", "string", "YYYY or YYYY-Qn."),
    ("kind", "string", "year or quarter."),
    ("complete", "boolean", "false for the year or quarter still running on the generation date."),
    ("metric", "string", "Metric id."),
    ("key", "string", "Row key."),
    ("value", "number", "The figure as that year's statistics publish it; empty when withheld."),
    ("suppressed", "boolean", "true: withheld to protect complainants."),
    ("change", "number", "Against the same period a year before; empty unless both are complete and published."),
    ("change_unit", "string", "percent (counts) or points (rates: percentage points)."),
)


def _schema(columns: tuple[tuple[str, str, str], ...], keys: list[str]) -> dict[str, Any]:
    fields = []
    for name, kind, description in columns:
        field: dict[str, Any] = {"name": name, "type": kind, "description": description}
        if kind == "boolean":
            field["trueValues"] = ["true"]
            field["falseValues"] = ["false"]
        if name in keys:
            field["constraints"] = {"required": True}
        fields.append(field)
    return {"fields": fields, "missingValues": [""], "primaryKey": keys}


def _num(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _csv(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    # The one CSV writer: a label that begins like a formula stays text in a spreadsheet.
    return csv_text(header, rows, lineterminator="\n")


def _rows(report: StatsReport, period: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for m in report.metrics:
        d = m.definition
        slices = [s for s in (*m.periods, *m.trend) if s.month == period]
        if not slices:
            continue
        s = slices[0]
        cells: list[Cell] = [*s.rows, *([s.total] if s.total else [])]
        for c in cells:
            label = c.label or d.label
            out.append(
                (
                    d.id, d.version, d.unit, d.dimension or "", c.key, label.zh, label.en, period,
                    _num(c.value),
                    "true" if c.suppressed else "false",
                    "true" if (c.is_rate or c.is_quantile) and c.value is not None else "false",
                    c.fallback or "",
                    "" if c.numerator is None else c.numerator,
                    "" if c.denominator is None else c.denominator,
                    "" if c.observations is None else c.observations,
                )
            )
    return out


def periods_of(report: StatsReport) -> list[str]:
    """The periods the package has a file for: the year, its begun quarters, its begun months."""
    seen: list[str] = []
    for m in report.metrics:
        for s in (*m.periods, *m.trend):
            if s.month not in seen:
                seen.append(s.month)
        break
    year = [p for p in seen if len(p) == 4]
    quarters = sorted(p for p in seen if "-Q" in p)
    months = sorted(p for p in seen if len(p) == 7 and "-Q" not in p)
    return year + quarters + months


def build_package(report: StatsReport) -> dict[str, str]:
    """The package's files, by path relative to its folder: datapackage.json first."""
    header = tuple(name for name, _, _ in _COLUMNS)
    files: dict[str, str] = {}
    resources: list[dict[str, Any]] = []
    schema = _schema(_COLUMNS, ["metric", "key", "period"])
    for period in periods_of(report):
        path = f"data/stats-{period}.csv"
        files[path] = _csv(_rows(report, period), header)
        resources.append(
            {
                "name": f"stats-{period.lower()}",
                "path": path,
                "title": f"Complaint statistics {period}",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": schema,
            }
        )
    if report.history:
        hist_rows = [
            (h.period, h.kind, "true" if h.complete else "false", f.metric, f.key, _num(f.value),
             "true" if f.suppressed else "false", _num(f.change), f.change_unit)
            for h in report.history
            for f in h.figures
        ]
        files["data/history.csv"] = _csv(hist_rows, tuple(n for n, _, _ in _HISTORY_COLUMNS))
        resources.append(
            {
                "name": "history",
                "path": "data/history.csv",
                "title": "Past years and quarters with the change on a year before",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": _schema(_HISTORY_COLUMNS, ["period", "metric", "key"]),
            }
        )
    org = report.organisation
    descriptor = {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": f"{org.en or org.zh} complaint statistics {report.period.id}".strip(),
        "description": (
            f"{org.zh} 投诉统计 {report.period.id}. Aggregates of the efficiency-complaint mechanism, "
            f"data as of {report.generated.isoformat()}, next update "
            f"{report.next_update.isoformat() if report.next_update else 'not scheduled'}; protected by "
            f"{report.method} (threshold {report.threshold}, minimum base {report.min_base}); "
            "formulas and the protection rule on the site's methods page."
        ),
        "version": f"{FORMULA_VERSION}.0.0",
        "created": f"{report.generated.isoformat()}T00:00:00Z",
        "keywords": ["complaints", "效能投诉", "三率", "official statistics"],
        "formula_version": FORMULA_VERSION,
        "data_commit": report.data_commit,
        "resources": resources,
    }
    text = json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n"
    out = {"datapackage.json": text, **files}
    for path, body in out.items():
        check_text_publishable(
            body.replace(report.data_commit, ""), f"stats {report.period.id} (data package {path})", "csv",
            allow=frozenset(report.allow),
        )
    return out


def write_package(report: StatsReport, out_dir: Path) -> Path:
    """Write the package into `out_dir` (datapackage.json and data/); returns the descriptor's path."""
    files = build_package(report)
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    return out_dir / "datapackage.json"
