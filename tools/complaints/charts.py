"""SVG charts for the published statistics, drawn at build time with pygal.

The SVG files are self-contained: pygal's tooltip script (fetched from kozea.github.io by
default) is switched off, its inline configuration script and its comments (which carry the
render date and pygal's web addresses) are removed, and the chart id is derived from the chart's
name instead of a random UUID, so the same data always gives the same bytes. Text is set in
fonts the reader already has; no web font is referenced.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import pygal
from pygal.style import Style

# Local fonts only, Chinese-capable first; the browser picks the first one it has.
FONT_FAMILY = '"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",sans-serif'

STYLE = Style(
    font_family=FONT_FAMILY,
    background="#ffffff",
    plot_background="#ffffff",
    foreground="rgba(0,0,0,.87)",
    foreground_strong="rgba(0,0,0,1)",
    foreground_subtle="rgba(0,0,0,.54)",
    colors=("#3f51b5", "#e65100", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037"),
    title_font_size=18,
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=14,
    value_font_size=14,
)


@dataclass(frozen=True)
class Series:
    """One line or one set of bars: a name and a value per label (None where withheld)."""

    name: str
    values: Sequence[float | None]


def _chart_id(name: str) -> str:
    return "chart-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _scrub(chart_id: str) -> Callable[[Any], Any]:
    """An xml filter: drop scripts, comments and the tooltip data only pygal's script reads
    (`desc` elements), use a stable id."""

    def scrub(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag is ET.Comment or str(child.tag).rsplit("}", 1)[-1] in ("script", "desc"):
                    parent.remove(child)
        root.set("id", chart_id)
        return root

    return scrub


def _render(chart: Any, name: str) -> str:
    chart_id = _chart_id(name)
    chart.uuid = chart_id[len("chart-"):]
    chart.add_xml_filter(_scrub(chart_id))
    svg: str = chart.render(is_unicode=True)
    return svg


def _config(title: str, **extra: Any) -> dict[str, Any]:
    return dict(
        title=title,
        style=STYLE,
        js=[],
        disable_xml_declaration=False,
        width=800,
        height=extra.pop("height", 420),
        print_values=False,
        show_y_guides=True,
        truncate_label=-1,
        truncate_legend=-1,
        no_data_text="—",
        **extra,
    )


def bar_chart(name: str, title: str, labels: Sequence[str], series: Sequence[Series], *, percent: bool = False) -> str:
    """A horizontal bar chart (one bar per label and series), as SVG text."""
    height = max(260, 90 + 34 * len(labels) * max(1, len(series)))
    chart = pygal.HorizontalBar(
        **_config(
            title,
            height=height,
            show_legend=len(series) > 1,
            legend_at_bottom=True,
            range=(0, 100) if percent else None,
            value_formatter=(lambda v: f"{v:.1f}%") if percent else (lambda v: f"{v:g}"),
        )
    )
    # pygal draws the first label at the bottom; reverse so the chart reads like the table.
    chart.x_labels = list(reversed(labels))
    for s in series:
        chart.add(s.name, list(reversed(list(s.values))))
    return _render(chart, name)


def line_chart(name: str, title: str, x_labels: Sequence[str], series: Sequence[Series], *, percent: bool = False) -> str:
    """A line chart over months (one line per series), as SVG text; gaps where withheld."""
    chart = pygal.Line(
        **_config(
            title,
            show_legend=True,
            legend_at_bottom=True,
            range=(0, 100) if percent else None,
            allow_interruptions=True,
            dots_size=4,
            value_formatter=(lambda v: f"{v:.1f}%") if percent else (lambda v: f"{v:g}"),
        )
    )
    chart.x_labels = list(x_labels)
    for s in series:
        chart.add(s.name, list(s.values))
    return _render(chart, name)
