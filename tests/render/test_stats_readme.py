"""The README's list of metric formulas is rendered from the registry and must not go stale."""
from __future__ import annotations

from pathlib import Path

from complaints.core.stats.metrics import METRICS
from complaints.render.stats import formulas_markdown

from conftest import ROOT
README = ROOT / "README.md"
START, END = "<!-- stats-metrics:start -->\n", "<!-- stats-metrics:end -->"


def test_readme_metric_formulas_are_current(update_golden: bool) -> None:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    current, tail = rest.split(END, 1)
    fresh = formulas_markdown("en")
    if update_golden and current != fresh:
        README.write_text(head + START + fresh + END + tail, encoding="utf-8")
        current = fresh
    assert current == fresh, "README metric list is stale: run pytest tests/render/test_stats_readme.py --update-golden"
    for metric_id in METRICS:
        assert f"`{metric_id}` v" in current
