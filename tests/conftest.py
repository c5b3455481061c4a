"""Shared pytest settings and what every test module needs: the checkout's root, the frozen
template repository, tests/data, an in-process command runner and synthetic archives."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from click.testing import Result


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


@pytest.fixture
def sample_repo(tmp_path: Path) -> Path:
    """A copy of the frozen template with its sample cases, at tmp_path / "repo"."""
    return copy_repo(tmp_path / "repo", with_cases=True)


def cli_invoke(*args: str, **kwargs: Any) -> Result:
    """`complaints ARGS` in-process through Click's runner (stdout and stderr kept apart);
    keyword arguments go to ``CliRunner.invoke`` (input, env, prog_name, ...)."""
    from click.testing import CliRunner

    from complaints.cli import cli

    return CliRunner().invoke(cli, list(args), **kwargs)


@pytest.fixture
def cli_run() -> Callable[..., Result]:
    """cli_run(*args, **kwargs) -> cli_invoke(*args, **kwargs)."""
    return cli_invoke


def synth() -> ModuleType:
    """benchmarks/synth.py, the synthetic-archive generator of the benchmarks, loaded once."""
    module = sys.modules.get("bench_synth")
    if module is None:
        spec = importlib.util.spec_from_file_location("bench_synth", ROOT / "benchmarks" / "synth.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_synth"] = module  # before running it: its dataclasses look it up
        spec.loader.exec_module(module)
    return module


def make_synthetic_archive(root: Path, count: int, *, seed: int = 1, encrypt: bool = False, **kwargs: Any) -> Path:
    """A complete case repository at ``root`` (the template's policy, schemas, calendar and
    recipients) holding ``count`` generated cases; ``kwargs`` go to synth.make_repository."""
    synth().make_repository(root, count, seed=seed, encrypt=encrypt, **kwargs)
    return root


def git(root: Path, *args: str) -> str:
    """``git -C root args...`` with a throwaway identity; its standard output."""
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True, capture_output=True, text=True,
    ).stdout


def committed_synthetic_archive(root: Path, count: int, *, seed: int = 1) -> Path:
    """make_synthetic_archive(root, count, seed=seed), made a git repository with one commit."""
    make_synthetic_archive(root, count, seed=seed)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    return root


@pytest.fixture(scope="session")
def synthetic_archive() -> Callable[..., Path]:
    """synthetic_archive(root, count, seed=1, encrypt=False) -> make_synthetic_archive(...)."""
    return make_synthetic_archive


def json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a parsed YAML/JSON value (keys and list indexes), the root's () first."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += json_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += json_paths(v, (*prefix, i))
    return out
