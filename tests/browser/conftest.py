"""Fixtures for the browser tests: the site built from the sample data, served on 127.0.0.1,
and Debian's Chromium driven headless by Playwright (never `playwright install`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from complaints.render.site import build_site

from .support import ROOT, copy_repository, recording_page, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TODAY = dt.date(2026, 5, 5)
# The site tests look at the statistics late in the sample year, when most months have cases.
SITE_TODAY = dt.date(2026, 11, 27)
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    repo = copy_repository(tmp_path_factory.mktemp("repo") / "repo")
    out = tmp_path_factory.mktemp("public")
    build_site(repo, out, SITE_TODAY)
    with serve(out) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, site_url: str) -> Iterator[Any]:
    """A fresh page that records every request it makes (as `page.requested`)."""
    with recording_page(browser, viewport={"width": 1280, "height": 900}) as page:
        yield page


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
