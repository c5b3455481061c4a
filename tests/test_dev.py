"""dev.py, the quick start's set-up script: how `python3 dev.py test` runs pytest."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quickstart_dev", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["quickstart_dev"] = module
    spec.loader.exec_module(module)
    return module


def test_the_suite_runs_on_every_core_a_file_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = load_dev()
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    command = dev.pytest_command(["-q", "tests/core"])
    assert command[1:3] == ["-m", "pytest"]
    assert command[3:] == ["-n", "auto", "--maxprocesses", "4", "--dist", "loadfile", "-q", "tests/core"]


@pytest.mark.parametrize(
    ("args", "addopts"),
    [(["-n", "0"], ""), (["-n3"], ""), (["--numprocesses=1"], ""), (["-p", "no:xdist"], ""), (["-pno:xdist"], ""), ([], "-q -n 1"), ([], "-p no:xdist")],
)
def test_workers_chosen_by_the_caller_are_left_alone(monkeypatch: pytest.MonkeyPatch, args: list[str], addopts: str) -> None:
    dev = load_dev()
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    command = dev.pytest_command(args)
    assert "--dist" not in command and command[3:] == args


def test_xdist_is_pinned_with_the_test_tools() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"pytest-xdist==' in text and '"execnet==' in text
