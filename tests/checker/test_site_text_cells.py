"""The built pages' text is scanned for personal data with each table cell apart: a large
archive's counts in neighbouring cells must not read as one telephone number, while a number
written in one cell still does."""
from __future__ import annotations

from pathlib import Path

from complaints.checker.site_sources import output_problems, page_text
from complaints.render.site_pages import exclude_figures_from_search, is_statistics_page

ROW = "<table><tr><th>月份</th><th>受理</th><th>办结</th><th>超期</th></tr><tr><td>138</td><td>0013</td><td>8000</td><td>12</td></tr></table>"


def test_counts_in_neighbouring_cells_are_not_a_phone_number(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(f"<html><body>{ROW}</body></html>", encoding="utf-8")
    assert output_problems(tmp_path) == []
    assert "138 | " in page_text(ROW) or "138  | " in page_text(ROW)


def test_a_number_written_in_one_cell_is_still_found(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html><body><table><tr><td>电话 138 0013 8000</td></tr></table></body></html>", encoding="utf-8")
    problems = output_problems(tmp_path)
    assert [p.message for p in problems] == ["looks like personal data (mobile); nothing was published"]
    (tmp_path / "index.html").write_text("<html><body><p>138 0013 8000</p></body></html>", encoding="utf-8")
    assert len(output_problems(tmp_path)) == 1


def test_only_the_statistics_pages_keep_their_figures_out_of_the_search_index() -> None:
    languages = ("zh", "en")
    assert is_statistics_page("statistics/", languages) and is_statistics_page("en/statistics/timeliness/", languages)
    assert not is_statistics_page("time-limits/", languages) and not is_statistics_page("en/", languages)
    assert not is_statistics_page("statistics-help/", languages)
    html = '<p>x</p><table class="t"><tr><td>1</td></tr></table><svg viewBox="0 0 1 1"></svg><tbody>'
    assert exclude_figures_from_search(html) == '<p>x</p><table data-search-exclude class="t"><tr><td>1</td></tr></table><svg data-search-exclude viewBox="0 0 1 1"></svg><tbody>'
