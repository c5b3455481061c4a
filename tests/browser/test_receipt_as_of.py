"""The "check my complaint" page near the year's end: it says as of which day the states are,
says a step past its due date is overdue (instead of promising a past month), and marks a month
in a year whose official calendar is not announced yet as provisional."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from complaints.core import receipt
from complaints.adapters.repository import Repository
from complaints.render.site import build_site
from complaints.commands.event import append_event, build_event
from complaints.commands.new import NewCase, create_case

from .support import copy_repository, recording_page, serve
from .test_receipt_lookup import check

pytestmark = pytest.mark.browser

BUILT = dt.date(2026, 12, 30)
LATE_CODE = receipt.new_code()
NEXT_YEAR_CODE = receipt.new_code()


@pytest.fixture(scope="module")
def lookup_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = copy_repository(tmp_path_factory.mktemp("as-of-repo") / "repo")
    repo = Repository.open(root)
    # Received 12-01 and never decided: the decision was due 12-04.
    late = NewCase("online_form", "delay", ("permits",), "normal", dt.date(2026, 12, 1), anonymous=True)
    create_case(repo, late, None, dt.date(2026, 12, 1), code_source=lambda: LATE_CODE)
    # Accepted 12-29: resolved within 30 days, by 2027-01-28, a year not announced yet.
    soon = NewCase("online_form", "delay", ("permits",), "normal", dt.date(2026, 12, 28), anonymous=True)
    made = create_case(repo, soon, None, dt.date(2026, 12, 28), code_source=lambda: NEXT_YEAR_CODE)
    append_event(repo, made.case_id, build_event("accept", dt.date(2026, 12, 29), {}), dt.date(2026, 12, 29))
    out = tmp_path_factory.mktemp("as-of-public")
    build_site(root, out, BUILT)
    with serve(out) as url:
        yield url


@pytest.fixture
def lookup_page(browser: Any) -> Iterator[Any]:
    with recording_page(browser) as page:
        yield page


def test_chinese_page_says_as_of_overdue_and_provisional(lookup_page: Any, lookup_url: str) -> None:
    lookup_page.goto(lookup_url + "/check/")
    result, text = check(lookup_page, LATE_CODE)
    assert result == "received" and "已超过承诺时限" in text and "2026年12月" not in text
    assert "截至 2026-12-30" in text
    result, text = check(lookup_page, NEXT_YEAR_CODE)
    assert result == "accepted" and "2027年1月" in text and "暂定" in text and "截至 2026-12-30" in text


def test_english_page_says_the_same(lookup_page: Any, lookup_url: str) -> None:
    lookup_page.goto(lookup_url + "/en/check/")
    _, text = check(lookup_page, LATE_CODE)
    assert "past its promised date" in text and "Status as of 2026-12-30." in text
    _, text = check(lookup_page, NEXT_YEAR_CODE)
    assert "January 2027 (provisional" in text
