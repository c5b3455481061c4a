"""The "check my complaint" page in headless Chromium: a typed receipt code shows its case's
coarse state and next-step month, a wrong code finds nothing, and no request leaves 127.0.0.1
(the code itself is never sent anywhere)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from complaints.core import receipt
from complaints.adapters.repository import Repository
from complaints.render.site import build_site
from complaints.commands.event import append_event, build_event
from complaints.commands.new import NewCase, create_case

from conftest import TEST_DATA

from .conftest import SITE_TODAY, TODAY
from .support import copy_repository, recording_page, serve

pytestmark = pytest.mark.browser

ACCEPTED_CODE = receipt.new_code()
WAITING_CODE = receipt.new_code()


@pytest.fixture(scope="module")
def lookup_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = copy_repository(tmp_path_factory.mktemp("receipt-repo") / "repo")
    repo = Repository.open(root)
    received = TODAY - dt.timedelta(days=1)
    complaint = NewCase("online_form", "delay", ("permits",), "normal", received, anonymous=True)
    accepted = create_case(repo, complaint, None, TODAY, code_source=lambda: ACCEPTED_CODE)
    append_event(repo, accepted.case_id, build_event("accept", TODAY, {}), TODAY)
    create_case(repo, complaint, None, TODAY, code_source=lambda: WAITING_CODE)
    out = tmp_path_factory.mktemp("receipt-public")
    # Sample cases received after TODAY do not validate as of TODAY: left out, and counted.
    build_site(root, out, TODAY, skip_invalid=True)
    with serve(out) as url:
        yield url


@pytest.fixture
def lookup_page(browser: Any) -> Iterator[Any]:
    with recording_page(browser) as page:
        yield page


def check(page: Any, code: str) -> tuple[str, str]:
    page.fill("#receipt-code", code)
    page.click("[data-receipt-check] button[type=submit]")
    output = page.locator("[data-receipt-output]")
    page.wait_for_function(
        "() => { const o = document.querySelector('[data-receipt-output]');"
        " return o.dataset.result && o.dataset.result !== 'working'; }",
        timeout=30_000,
    )
    return str(output.get_attribute("data-result")), str(output.inner_text())


def assert_local(page: Any, base: str, code: str) -> None:
    host = urlsplit(base).netloc
    assert page.requested
    assert [u for u in page.requested if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != host] == []
    normalized = receipt.normalize_code(code)
    assert not any(normalized in u or code in u for u in page.requested)  # the code goes nowhere


def test_code_shows_its_case_state_in_chinese(lookup_page: Any, lookup_url: str, tmp_path: Path) -> None:
    lookup_page.goto(lookup_url + "/check/")
    result, text = check(lookup_page, ACCEPTED_CODE.lower().replace("-", " "))
    assert result == "accepted"
    assert "已受理" in text and "2026年6月" in text  # accepted 2026-05-05 + 30 calendar days
    result, text = check(lookup_page, WAITING_CODE)
    assert result == "received" and "已登记" in text and "2026年5月" in text
    assert_local(lookup_page, lookup_url, ACCEPTED_CODE)


def test_wrong_code_finds_nothing(lookup_page: Any, lookup_url: str) -> None:
    lookup_page.goto(lookup_url + "/check/")
    wrong = receipt.new_code()
    result, text = check(lookup_page, wrong)
    assert result == "not-found" and "没有找到" in text
    result, _ = check(lookup_page, "1234-5678")
    assert result == "malformed"
    assert_local(lookup_page, lookup_url, wrong)


def test_english_page_uses_the_same_table(lookup_page: Any, lookup_url: str) -> None:
    lookup_page.goto(lookup_url + "/en/check/")
    result, text = check(lookup_page, ACCEPTED_CODE)
    assert result == "accepted" and "Accepted" in text and "June 2026" in text
    assert_local(lookup_page, lookup_url, ACCEPTED_CODE)


SAMPLE_CODES = TEST_DATA / "sample-receipt-codes.json"


@pytest.fixture(scope="module")
def sharded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The sample cases' site with shards of about four rows (as a large archive's would be,
    in proportion), so that the page must pick the right one of many."""
    root = copy_repository(tmp_path_factory.mktemp("sharded-repo") / "repo")
    out = tmp_path_factory.mktemp("sharded-public")
    rows = receipt.SHARD_ROWS
    receipt.SHARD_ROWS = 4
    try:
        build_site(root, out, SITE_TODAY)  # every sample case received by then
    finally:
        receipt.SHARD_ROWS = rows
    with serve(out) as url:
        yield url, out


def test_every_sample_code_is_found_through_its_shard(lookup_page: Any, sharded_url: tuple[str, Path]) -> None:
    import json

    url, out = sharded_url
    index = json.loads((out / "generated" / "receipts.json").read_text(encoding="utf-8"))
    assert index["format"] == 2 and index["shards"]["bits"] >= 3
    shards = sorted((out / "generated" / "receipts").glob("*.json"))
    assert len(shards) == 2 ** index["shards"]["bits"]
    codes: dict[str, str] = json.loads(SAMPLE_CODES.read_text(encoding="utf-8"))
    assert len(codes) == 80
    lookup_page.goto(url + "/en/check/")
    for case_id, code in sorted(codes.items()):
        result, _ = check(lookup_page, code)
        assert result in receipt.COARSE_STATES, case_id
    # Each lookup fetched the index once and only the shard its hash falls in.
    fetched = [u for u in lookup_page.requested if "/generated/receipts" in u]
    shard_requests = [u for u in fetched if "/generated/receipts/" in u]
    assert len([u for u in fetched if u.endswith("/generated/receipts.json")]) == 1
    assert 1 < len(set(shard_requests)) < len(shards) + 1
    assert_local(lookup_page, url, next(iter(codes.values())))
