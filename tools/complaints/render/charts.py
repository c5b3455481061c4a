"""Charts for the published statistics, drawn in HTML and CSS at build time.

Why not SVG images: an image is scaled as a whole, so a chart drawn for a desktop column shrinks
its text below reading size on a phone, and its labels are placed by an estimate of their width
that Chinese characters defeat (labels came out clipped). Here every word of a chart is page text:
the browser sets it at the page's size, wraps long labels and measures them itself, the reader
can zoom it, and the stylesheet (`site_assets/site.css`) lays the chart out for the screen it is on.

Each chart is a `<figure>`: a caption with the title and the axis (what is counted, in which
unit), the marks, and a sentence for screen readers that says what the chart shows; the same
figures are in the table under every chart. Axes start at zero and end at a round number just
above the largest value. A withheld figure is drawn as a hatched mark labelled as withheld,
never as an empty bar that would read as zero. No script, no request to another host.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Callable, Sequence

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One set of bars or columns: a name and a value per label (None where withheld or absent)."""

    name: str
    values: Sequence[float | None]
    withheld: Sequence[bool] = ()

    def is_withheld(self, index: int) -> bool:
        return index < len(self.withheld) and self.withheld[index]


@dataclass(frozen=True)
class Axis:
    """What a chart's values are: the axis title (with its unit) and how to write a value."""

    title: str
    format: Formatter
    percent: bool = False


@dataclass(frozen=True)
class Words:
    """The chart's words in the reader's language."""

    withheld: str          # a withheld mark's label, e.g. "已隐去"
    withheld_note: str     # the legend of the hatched mark
    no_data: str           # an absent value, e.g. "—"
    summary: str           # "{title}: highest {high} ({high_value}), lowest {low} ({low_value})."
    summary_withheld: str  # " {count} withheld."
    summary_empty: str     # "{title}: every figure is withheld or absent."
    months_title: str      # the x axis of a month chart, e.g. "Month ({span})"
    quarters_title: str = "{span}"  # the x axis of a quarter chart, e.g. "Quarter ({span})"


def nice_max(value: float, percent: bool = False) -> float:
    """The axis end: a round number (1, 2, 2.5 or 5 times a power of ten) at or above VALUE."""
    if value <= 0:
        return 100.0 if percent else 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10 ** exponent
        if candidate >= value - 1e-9:
            end = float(candidate)
            return min(end, 100.0) if percent and value <= 100 else end
    return float(10 ** (exponent + 1))  # pragma: no cover - the loop always returns


def _ticks(end: float) -> list[float]:
    return [0.0, end / 2, end]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fraction(value: float, end: float) -> str:
    return f"{max(0.0, min(1.0, value / end)):.4f}"


def _summary(title: str, labels: Sequence[str], series: Series, axis: Axis, words: Words) -> str:
    shown = [(label, value) for i, (label, value) in enumerate(zip(labels, series.values))
             if value is not None and not series.is_withheld(i)]
    withheld = sum(1 for i in range(len(labels)) if series.is_withheld(i))
    if not shown:
        return words.summary_empty.format(title=title)
    high = max(shown, key=lambda item: item[1])
    low = min(shown, key=lambda item: item[1])
    text = words.summary.format(title=title, high=high[0], high_value=axis.format(high[1]),
                                low=low[0], low_value=axis.format(low[1]))
    if withheld:
        text += words.summary_withheld.format(count=withheld)
    return text


def _legend(words: Words, any_withheld: bool) -> str:
    if not any_withheld:
        return ""
    return (f'<p class="cx-legend"><span class="cx-swatch cx-swatch--withheld" aria-hidden="true"></span> '
            f"{_e(words.withheld_note)}</p>")


def bar_chart(title: str, labels: Sequence[str], series: Series, axis: Axis, words: Words) -> str:
    """Horizontal bars, one per label, with the value written at the end of each bar."""
    values = [v for i, v in enumerate(series.values) if v is not None and not series.is_withheld(i)]
    end = nice_max(max(values, default=0.0), axis.percent)
    rows = []
    for i, label in enumerate(labels):
        value = series.values[i] if i < len(series.values) else None
        if series.is_withheld(i):
            mark = f'<span class="cx-bar cx-bar--withheld"></span><span class="cx-value">{_e(words.withheld)}</span>'
        elif value is None:
            mark = f'<span class="cx-value">{_e(words.no_data)}</span>'
        else:
            mark = (f'<span class="cx-bar" style="--v:{_fraction(value, end)}"></span>'
                    f'<span class="cx-value">{_e(axis.format(value))}</span>')
        rows.append(f'<div class="cx-row"><span class="cx-label">{_e(label)}</span><span class="cx-track">{mark}</span></div>')
    ticks = " ".join(f'<span class="cx-tick" style="--v:{_fraction(t, end)}">{_e(axis.format(t))}</span>' for t in _ticks(end))
    scale = f'<div class="cx-row cx-row--scale" aria-hidden="true"><span class="cx-label"></span><span class="cx-scale">{ticks}</span></div>'
    any_withheld = any(series.is_withheld(i) for i in range(len(labels)))
    return (
        '<figure class="cx-chart cx-bars">\n'
        f'<figcaption><span class="cx-title">{_e(title)}</span> <span class="cx-axis-title">{_e(axis.title)}</span></figcaption>\n'
        f'<div class="cx-plot" role="img" aria-label="{_e(_summary(title, labels, series, axis, words))}">\n'
        + "\n".join(rows) + "\n" + scale + "\n</div>\n"
        + _legend(words, any_withheld) + "</figure>\n"
    )


def month_label(month: str) -> str:
    """"2026-03" -> "3", "2026-Q1" -> "Q1": the years are in the axis title."""
    if _is_quarter(month):
        return month[5:]
    try:
        return str(int(month.split("-")[1]))
    except (IndexError, ValueError):
        return month


def _is_quarter(period: str) -> bool:
    return len(period) == 7 and period[4:6] == "-Q" and period[:4].isdigit() and period[6] in "1234"


def month_span(months: Sequence[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} – {months[-1]}"


def month_columns(title: str, months: Sequence[str], series: Sequence[Series], axis: Axis, words: Words) -> str:
    """Small multiples: one panel of monthly columns per series, all on the same scale, so that
    each stays legible on a phone and no series hides another."""
    values = [v for s in series for i, v in enumerate(s.values) if v is not None and not s.is_withheld(i)]
    end = nice_max(max(values, default=0.0), axis.percent)
    labels = [month_label(m) for m in months]
    panels = []
    for s in series:
        cols = []
        for i, month in enumerate(months):
            value = s.values[i] if i < len(s.values) else None
            if s.is_withheld(i):
                cols.append('<span class="cx-col cx-col--withheld"></span>')
            elif value is None:
                cols.append('<span class="cx-col cx-col--none"></span>')
            else:
                cols.append(f'<span class="cx-col" style="--v:{_fraction(value, end)}"></span>')
        yticks = " ".join(f'<span class="cx-ytick" style="--v:{_fraction(t, end)}">{_e(axis.format(t))}</span>' for t in _ticks(end))
        xlabels = " ".join(f"<span>{_e(label)}</span>" for label in labels)
        summary = _summary(s.name, months, s, axis, words)
        panels.append(
            '<div class="cx-panel">'
            f'<p class="cx-panel-title">{_e(s.name)}</p>'
            f'<div class="cx-panel-plot" role="img" aria-label="{_e(summary)}">'
            f'<span class="cx-yaxis" aria-hidden="true">{yticks}</span>'
            f'<span class="cx-cols" style="--n:{len(months)}">{"".join(cols)}</span>'
            f'<span class="cx-xaxis" style="--n:{len(months)}" aria-hidden="true">{xlabels}</span>'
            "</div></div>"
        )
    any_withheld = any(s.is_withheld(i) for s in series for i in range(len(months)))
    periods_title = words.quarters_title if months and all(_is_quarter(m) for m in months) else words.months_title
    return (
        '<figure class="cx-chart cx-multiples">\n'
        f'<figcaption><span class="cx-title">{_e(title)}</span> <span class="cx-axis-title">{_e(axis.title)}</span> '
        f'<span class="cx-axis-title">{_e(periods_title.format(span=month_span(months)))}</span></figcaption>\n'
        f'<div class="cx-panels">\n' + "\n".join(panels) + "\n</div>\n"
        + _legend(words, any_withheld) + "</figure>\n"
    )
