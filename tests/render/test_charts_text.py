"""A chart's words and numbers stay apart in the page's text: the search index and the
publication check read a page with its tags removed, and numbers written side by side there
(a value, then the axis ticks 0, 500, 1000) must not run together into something that looks
like a telephone number, which would stop the site from being published."""
from __future__ import annotations

import re

from complaints.core.pii import scan_text
from complaints.render.charts import Axis, Series, Words, bar_chart, month_columns

WORDS = Words(withheld="withheld", withheld_note="hatched: withheld", no_data="-", summary="{title}: highest {high} ({high_value}), lowest {low} ({low_value}).",
              summary_withheld=" {count} withheld.", summary_empty="{title}: nothing to show.", months_title="Month ({span})")
AXIS = Axis("cases", lambda v: f"{v:g}")


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_bar_chart_ticks_do_not_run_into_a_number() -> None:
    html = bar_chart("Measures", ["Rewarded", "Warned"], Series("cases", [138.0, 902.0]), AXIS, WORDS)
    text = text_of(html)
    assert "0 500 1000" in text
    assert scan_text(text) == []


def test_month_chart_ticks_and_labels_do_not_run_into_a_number() -> None:
    months = ["2026-01", "2026-02", "2026-03"]
    html = month_columns("Received", months, [Series("cases", [138.0, 9.0, 1000.0])], AXIS, WORDS)
    text = text_of(html)
    assert not re.search(r"\d{11}", text.replace("\n", "")), text
    assert scan_text(text.replace("\n", "")) == []
