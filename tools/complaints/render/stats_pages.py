"""Statistics-page sections built from the statistics document besides the per-metric ones
(site.py): the release line every statistics page carries ("data as of", "next update"),
past years and quarters with the change on a year before, the most frequent categories with
the measures taken, and the protection parameters the methods page states.

Every value comes from the published document (already protected and audited); charts go
through `charts` like every other chart on the site.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from complaints.render import charts
from complaints.render.markdown import md_escape

UI: dict[str, dict[str, str]] = {
    "zh": {
        "release": "数据截至 **{as_of}**（按该日的案件状态统计）· 下次更新 **{next}** · 统计期间 {period}",
        "not_scheduled": "未定",
        "period": "期间",
        "change": "同比",
        "points": "{value} 个百分点",
        "year_to_date": "（截至统计日）",
        "quarter_to_date": "（本季度截至统计日）",
        "history_chart": "历年与各季度：三率",
        "history_note": "每年的数字按当年的统计单独保护；同比只在两个完整期间的数字都公布时给出：投诉量为增减百分比，各项比率为百分点之差。",
        "top_categories": "投诉最多的类别与处理措施",
        "top_note": "按本期投诉量排序（隐去的类别不排名）；处理措施为全机构本期采取的措施，按种类分列。",
        "complaints": "投诉量",
        "share": "占比",
        "measures": "本期处理措施",
        "category_measures": "采取的处理措施（项）",
        "method": "保护方法",
        "threshold": "小数字门槛",
        "min_base": "最小基数",
        "audited": "经审计的隐去数字",
        "protection": "保护区间",
        "protection_value": "每个隐去的小数字，读者能推出的范围必须包含 0",
        "none": "—",
        "suppressed": "已隐去",
    },
    "en": {
        "release": "Data as of **{as_of}** (cases as they stood that day) · next update **{next}** · period {period}",
        "not_scheduled": "not scheduled",
        "period": "Period",
        "change": "vs a year before",
        "points": "{value} points",
        "year_to_date": " (to date)",
        "quarter_to_date": " (quarter to date)",
        "history_chart": "Years and quarters: the three rates",
        "history_note": "Each year's figures are protected on their own; a change is given only between two complete periods both published: per cent for complaints, percentage points for rates.",
        "top_categories": "Most frequent categories and the measures taken",
        "top_note": "Ranked by complaints in the period (withheld categories are not ranked); the measures are the organisation's in the period, by kind.",
        "complaints": "Complaints",
        "share": "Share",
        "measures": "Measures taken in the period",
        "category_measures": "Measures taken",
        "method": "Protection method",
        "threshold": "Small-count threshold",
        "min_base": "Minimum base",
        "audited": "Withheld figures audited",
        "protection": "Protection interval",
        "protection_value": "for every withheld small count, what a reader can infer must still include 0",
        "none": "—",
        "suppressed": "hidden",
    },
}

# Figures of the history table, in order: (metric, key) -> column heading by language
_HISTORY_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("volume_by_channel", "total", "投诉量", "Complaints"),
    ("response_rate", "all", "响应率", "Response rate"),
    ("resolution_rate", "all", "解决率", "Resolution rate"),
    ("satisfaction_rate", "all", "满意率", "Satisfaction rate"),
    ("on_time_rate", "resolve", "办结按时率", "On-time resolution"),
)


def _label(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("zh") or "")
    return "" if value is None else str(value)


def release_line(document: Mapping[str, Any] | None, lang: str) -> str:
    """'Data as of … · next update …': on every statistics page."""
    if document is None:
        return ""
    ui = UI[lang]
    release = document.get("release") or {}
    as_of = release.get("data_as_of") or document.get("generated", "")
    nxt = release.get("next_update") or ui["not_scheduled"]
    period = (document.get("period") or {}).get("id", "")
    return ui["release"].format(as_of=md_escape(as_of), next=md_escape(nxt), period=md_escape(period)) + "\n"


def _fmt(value: Any, rate: bool) -> str:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if rate:
        return f"{value:.1f}%"
    return f"{value:g}"


def _change(fig: Mapping[str, Any], lang: str) -> str:
    change = fig.get("change")
    if change is None or isinstance(change, bool) or not isinstance(change, (int, float)):
        return UI[lang]["none"]
    sign = "+" if change > 0 else ""
    if fig.get("change_unit") == "points":
        return UI[lang]["points"].format(value=f"{sign}{change:.1f}")
    return f"{sign}{change:.1f}%"


def history_section(
    document: Mapping[str, Any] | None, lang: str, draw: Callable[[str, Sequence[str], Sequence[charts.Series]], str]
) -> str:
    """Every year and quarter since the first case, newest first, with the change on a year
    before; a chart of the three rates over the complete periods. ``draw(title, periods,
    series)`` draws that chart as the site draws every chart (HTML, with its data table)."""
    if document is None:
        return ""
    ui = UI[lang]
    history: Sequence[Mapping[str, Any]] = list(document.get("history") or [])
    if not history:
        return ""
    columns = _HISTORY_COLUMNS
    # one column per figure, its change on a year before in the same cell, to keep the table narrow
    head = [ui["period"], *(zh if lang == "zh" else en for _, _, zh, en in columns)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for h in history:
        figs = {(str(f.get("metric")), str(f.get("key"))): f for f in h.get("figures") or []}
        label = md_escape(h.get("period", ""))
        if not h.get("complete"):
            label += ui["year_to_date"] if h.get("kind") == "year" else ui["quarter_to_date"]
        if h.get("kind") == "year":
            label = f"**{label}**"
        cells = [label]
        for metric, key, _, _ in columns:
            fig = figs.get((metric, key))
            if fig is None:
                cells.append(ui["none"])
                continue
            shown = ui["suppressed"] if fig.get("suppressed") else (_fmt(fig.get("value"), metric.endswith("_rate")) or ui["none"])
            change = _change(fig, lang)
            cells.append(shown if change == ui["none"] else f"{shown} · {ui['change']} {change}")
        lines.append("| " + " | ".join(cells) + " |")
    parts = ["\n".join(lines) + "\n", ui["history_note"] + "\n"]
    quarters = sorted((h for h in history if h.get("kind") == "quarter" and h.get("complete")), key=lambda h: str(h.get("period")))
    if len(quarters) > 1:
        series = []
        for metric, key, zh, en in columns[1:4]:
            values: list[float | None] = []
            withheld: list[bool] = []
            for h in quarters:
                fig = next((f for f in h.get("figures") or [] if f.get("metric") == metric and f.get("key") == key), None)
                v = None if fig is None or fig.get("suppressed") else fig.get("value")
                values.append(float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
                withheld.append(bool(fig is not None and fig.get("suppressed")))
            series.append(charts.Series(zh if lang == "zh" else en, values, withheld))
        if any(v is not None for s in series for v in s.values):
            parts.insert(0, draw(ui["history_chart"], [str(h.get("period")) for h in quarters], series))
    return "\n".join(parts)


def top_categories_section(document: Mapping[str, Any] | None, lang: str, limit: int = 5) -> str:
    """The most frequent categories of the period, with their share, and the measures taken."""
    if document is None:
        return ""
    ui = UI[lang]
    metrics = {str(m.get("id")): m for m in document.get("metrics") or []}
    volume = metrics.get("volume_by_category")
    if not volume:
        return ""
    total = (volume.get("total") or {}).get("value")
    rows = [c for c in volume.get("rows") or [] if not c.get("suppressed") and isinstance(c.get("value"), (int, float)) and c.get("value")]
    rows.sort(key=lambda c: (-float(c["value"]), str(c.get("key"))))
    by_category = {str(c.get("key")): c for c in (metrics.get("measures_by_category") or {}).get("rows") or []}
    lines = [f"| # | {md_escape(_label((volume.get('dimension') or {}).get('label'), lang))} | {ui['complaints']} | {ui['share']} | {ui['category_measures']} |",
             "|---:|---|---:|---:|---:|"]
    for i, c in enumerate(rows[:limit], 1):
        share = f"{100.0 * float(c['value']) / float(total):.1f}%" if isinstance(total, (int, float)) and total else ui["none"]
        m = by_category.get(str(c.get("key")))
        taken = ui["none"] if m is None else ui["suppressed"] if m.get("suppressed") else (_fmt(m.get("value"), False) or ui["none"])
        lines.append(f"| {i} | {md_escape(_label(c.get('label'), lang) or c.get('key'))} | {float(c['value']):g} | {share} | {taken} |")
    parts = [f"## {ui['top_categories']}\n", "\n".join(lines) + "\n"]
    measures = metrics.get("measures_by_kind")
    if measures:
        mlines = [f"| {ui['measures']} | # |", "|---|---:|"]
        for c in [*(measures.get("rows") or []), *([measures["total"]] if measures.get("total") else [])]:
            shown = ui["suppressed"] if c.get("suppressed") else (_fmt(c.get("value"), False) or ui["none"])
            mlines.append(f"| {md_escape(_label(c.get('label'), lang) or c.get('key'))} | {shown} |")
        parts.append("\n".join(mlines) + "\n")
    parts.append(ui["top_note"] + "\n")
    return "\n".join(parts)


def protection_parameters(document: Mapping[str, Any] | None, lang: str) -> str:
    """The method and its parameters, as the policy names them, for the methods page."""
    if document is None:
        return ""
    ui = UI[lang]
    d = document.get("disclosure") or {}
    rows = [
        # a code span shows escapes literally: the policy allows only the method's name here
        (ui["method"], "`" + str(d.get("method", "")).replace("`", "") + "`"),
        (ui["threshold"], md_escape(d.get("threshold", ""))),
        (ui["min_base"], md_escape(d.get("min_base", ""))),
        (ui["audited"], md_escape(d.get("audited_cells", ""))),
        (ui["protection"], ui["protection_value"]),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]) + "\n"
