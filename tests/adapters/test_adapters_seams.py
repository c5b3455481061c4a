"""The adapters the engine stands on: the one git wrapper, the one atomic writer, the cache's
codec (which stores only registered records) and the cache's fingerprint of the tool's source."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

import complaints
from complaints.adapters import atomic, git
from complaints.adapters.datacodec import DataFormatError, decode, encode, register
from complaints.errors import ComplaintsError, ConfigError


def _init(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


# --- git --------------------------------------------------------------------------------------

def test_a_failing_git_command_is_a_config_error_naming_the_subcommand(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        git.run(tmp_path, "rev-parse", "HEAD")  # not a work tree
    message = str(caught.value)
    assert message.startswith("git rev-parse failed: ") and "\n" not in message


def test_listings_are_read_nul_separated(tmp_path: Path) -> None:
    _init(tmp_path)
    names = ["cases/2026/案件.yml", "cases/2026/a b.yml", 'cases/2026/it"s.yml', "cases/2026/back\\slash.yml"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    untracked = git.names(git.run(tmp_path, "ls-files", "-z", "--others", "--", "cases"))
    assert sorted(untracked) == sorted(names)


def test_ref_helpers_answer_outside_a_work_tree(tmp_path: Path) -> None:
    assert git.commit_of(tmp_path, "HEAD") is None
    assert git.merge_base(tmp_path, "main") == "main"


# --- atomic writes ----------------------------------------------------------------------------

def test_atomic_write_refuses_a_symbolic_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"keep\n")
    link = tmp_path / "out.txt"
    link.symlink_to(elsewhere)
    with pytest.raises(ComplaintsError, match="symbolic link"):
        atomic.write(link, b"new\n")
    assert elsewhere.read_bytes() == b"keep\n" and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "out.txt"]


def test_atomic_write_creates_with_the_mode_asked_for(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.bin"
    atomic.write(target, b"data", mode=0o600)
    assert target.read_bytes() == b"data" and target.stat().st_mode & 0o777 == 0o600


# --- the cache's codec ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Kept:
    name: str
    count: int


class _Pair(NamedTuple):
    left: int
    right: _Kept


@dataclasses.dataclass(frozen=True)
class _Unregistered:
    name: str


def test_registered_records_round_trip() -> None:
    register(_Kept, _Pair)
    value = _Pair(1, _Kept("a", 2))
    assert decode(encode(value)) == value


def test_an_unregistered_record_is_neither_written_nor_read() -> None:
    with pytest.raises(DataFormatError):
        encode(_Unregistered("x"))
    with pytest.raises(DataFormatError):
        decode(["o", "_Unregistered", "x"])


def test_two_record_classes_of_one_name_are_refused() -> None:
    register(_Kept)
    Other = dataclasses.make_dataclass("_Kept", [("name", str)], frozen=True)
    with pytest.raises(ValueError):
        register(Other)


# --- the cache's fingerprint ------------------------------------------------------------------

def _fingerprint(package_parent: Path) -> str:
    code = "import complaints; from complaints.adapters.cache import tool_fingerprint; print(complaints.__file__, tool_fingerprint())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                          cwd=package_parent, env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"})
    where, fingerprint = done.stdout.split()
    assert Path(where).is_relative_to(package_parent)  # the copy, not the installed package
    return fingerprint


def test_the_fingerprint_covers_every_sub_package(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(Path(complaints.__file__).parent, copy / "complaints", ignore=shutil.ignore_patterns("__pycache__"))
    before = _fingerprint(copy)
    assert before == _fingerprint(copy)
    ids = copy / "complaints" / "core" / "ids.py"
    ids.write_text(ids.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _fingerprint(copy) != before
