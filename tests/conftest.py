"""Shared pytest settings."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    # Golden files (generated pages, statistics) are rewritten instead of compared.
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files under tests/data/*/golden instead of comparing against them.",
    )


@pytest.fixture(autouse=True)
def private_result_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's result cache lives in a folder of its own, never the user's cache folder
    (the tool keeps it outside the work tree: cache.py)."""
    folder = tmp_path_factory.mktemp("result-cache")
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


ROOT = Path(__file__).resolve().parent.parent
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
# Hand-made inputs and golden outputs (tests/data/<topic>/).
TEST_DATA = ROOT / "tests" / "data"
# What a case repository needs besides its cases.
REPO_FILES = ("policy.yml", "calendar.yml", "recipients.txt")


def copy_repo(root: Path, with_cases: bool = False) -> Path:
    """A fresh case repository at root from the frozen template (tests/fixtures/template):
    policy.yml, schema/, calendar.yml, recipients.txt and (optionally) the sample cases."""
    root.mkdir(parents=True)
    for file in REPO_FILES:
        if (TEMPLATE / file).exists():
            shutil.copy2(TEMPLATE / file, root / file)
    shutil.copytree(TEMPLATE / "schema", root / "schema")
    if with_cases:
        shutil.copytree(TEMPLATE / "cases", root / "cases")
    else:
        (root / "cases").mkdir()
    return root


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """make_repo(with_cases=False, name="repo") -> copy_repo(tmp_path / name, with_cases)."""

    def make(with_cases: bool = False, name: str = "repo") -> Path:
        return copy_repo(tmp_path / name, with_cases)

    return make
