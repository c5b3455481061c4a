"""The result cache holds data, never code: a cache file committed to the repository (a
pickle that would write a marker file when loaded) runs nothing through validate, overdue,
stats, notify or site build in a fresh clone, whether the cache folder is the default one or
$COMPLAINTS_CACHE_DIR points into the work tree; a forged or foreign cache outside the work
tree is discarded and the answers equal a --no-cache run."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaints.adapters import cache
from complaints.cli import cli
from githubstub import REPOSITORY, WRITE_TOKEN, GitHubStub, github_stub  # noqa: F401 - fixture

from conftest import TEMPLATE, copy_repo, git as _git

TODAY = "2026-11-27"
NAMES = ("validate", "validate-few", "validate-report", "deadlines", "facts", "receipts", "overdue-report", "stats-report", "site-publication",
         "accepted-policy", "accepted-calendar")


class _Payload:
    """Unpickling this writes the marker file: what a hostile committed cache would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))



def _forged(marker: Path, key: bytes, secret: bytes | None, fmt: int) -> bytes:
    payload = pickle.dumps({"cases/2026/x.yml": _Payload(marker)})
    digest = hmac.new(secret, payload, hashlib.sha256).digest() if secret else hashlib.sha256(payload).digest()
    return cache._HEADER.pack(cache.MAGIC, fmt, key, len(payload), digest) + payload


def _plant(folder: Path, marker: Path, root: Path, secret: bytes | None, fmt: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    key = bytes.fromhex(cache.environment_key(root, "validate"))
    for name in NAMES:
        (folder / f"{name}.cache").write_bytes(_forged(marker, key, secret, fmt))


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh clone of a repository whose author committed hostile caches (with `git add -f`)
    in the old in-tree folder and in a folder that a CI variable might point at, secret
    included; and the marker file they would write."""
    origin = copy_repo(tmp_path / "origin", with_cases=True)
    shutil.copy2(TEMPLATE / "mkdocs.yml", origin / "mkdocs.yml")
    shutil.copytree(TEMPLATE / "site", origin / "site")
    marker = tmp_path / "PWNED"
    secret = bytes(range(32))
    _plant(origin / ".cache" / "complaints", marker, origin, None, 1)
    in_tree = origin / "ci-cache"
    in_tree.mkdir()
    (in_tree / "secret").write_text(secret.hex())
    digest = hashlib.sha256(os.fsencode(str((tmp_path / "clone").resolve()))).hexdigest()[:24]
    _plant(in_tree / f"clone-{digest}", marker, origin, secret, cache.FORMAT)
    _git(origin, "init", "-q")
    _git(origin, "add", "-A")
    _git(origin, "add", "-f", ".cache", "ci-cache")
    _git(origin, "commit", "-qm", "hostile caches")
    subprocess.run(["git", "clone", "-q", str(origin), str(tmp_path / "clone")], check=True)
    return tmp_path / "clone", marker


def _every_command(root: Path, env: dict[str, str], out: Path) -> dict[str, tuple[int, str]]:
    runner = CliRunner()
    commands = {
        "validate": ["validate", "--format", "json"],
        "overdue": ["overdue", "--format", "json", "--accept-unconfirmed"],
        "stats": ["stats", "--format", "json", "--accept-unconfirmed"],
        "notify": ["notify", "--dry-run", "--format", "json", "--accept-unconfirmed"],
    }
    outputs = {}
    for name, args in commands.items():
        result = runner.invoke(cli, [*args, "--repo", str(root), "--today", TODAY], env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        outputs[name] = (result.exit_code, result.stdout)
    built = runner.invoke(cli, ["site", "build", "--out", str(out), "--repo", str(root), "--today", TODAY], env=env)
    assert built.exit_code == 0, built.output
    outputs["site"] = (built.exit_code, (out / "generated" / "receipts.json").read_text(encoding="utf-8"))
    return outputs


@pytest.mark.parametrize("where", ["default", "in-tree"])
def test_committed_cache_runs_nothing(
    clone: tuple[Path, Path], where: str, github_stub: GitHubStub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, marker = clone
    env = {"GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_stub.url}
    if where == "in-tree":
        # A CI variable pointing into the checkout: the committed folder is never read.
        monkeypatch.setenv(cache.ENV_VAR, str(root / "ci-cache"))
        assert cache.cache_dir(root) is None
    assert (root / ".cache" / "complaints" / "validate.cache").exists()
    first = _every_command(root, env, tmp_path / "site1")
    second = _every_command(root, env, tmp_path / "site2")
    assert not marker.exists()
    assert first == second
    assert json.loads(first["validate"][1])["ok"] is True
    # No cache was written into the work tree either.
    status = _git(root, "status", "--porcelain", "--ignored", "--untracked-files=all")
    assert ".cache" not in status and "ci-cache" not in status and "secret" not in status


def test_forged_cache_outside_the_work_tree_is_discarded(make_repo: Any, tmp_path: Path) -> None:
    root = make_repo(with_cases=True)
    runner = CliRunner()
    args = ["validate", "--format", "json", "--repo", str(root), "--today", TODAY]
    expected = runner.invoke(cli, [*args, "--no-cache"]).stdout
    assert runner.invoke(cli, args).stdout == expected  # writes the cache and its secret
    folder = cache.cache_dir(root)
    assert folder is not None and (folder / "validate.cache").exists()
    secret = bytes.fromhex((folder.parent / "secret").read_text())
    marker = tmp_path / "PWNED"
    key = bytes.fromhex(cache.environment_key(root, "validate"))
    # Even authenticated with the user's own secret, a pickle is never loaded.
    for forged in (_forged(marker, key, secret, cache.FORMAT), _forged(marker, key, None, cache.FORMAT)):
        (folder / "validate.cache").write_bytes(forged)
        assert cache.ResultCache(root, "validate", key.hex()).load() == {}
        assert runner.invoke(cli, args).stdout == expected
        assert not marker.exists()
    # Well-formed JSON naming a class outside the list of records, under a valid HMAC.
    payload = b'"cases/x.yml"\t\t["o","Popen",["l","touch","x"]]\n'
    digest = hmac.new(secret, payload, hashlib.sha256).digest()
    (folder / "validate.cache").write_bytes(cache._HEADER.pack(cache.MAGIC, cache.FORMAT, key, len(payload), digest) + payload)
    assert cache.ResultCache(root, "validate", key.hex()).load() == {}
    assert runner.invoke(cli, args).stdout == expected


def test_cache_lives_outside_the_work_tree_one_folder_per_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    one, two = tmp_path / "a" / "repo", tmp_path / "b" / "repo"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    first, second = cache.cache_dir(one), cache.cache_dir(two)
    assert first is not None and second is not None and first != second
    assert tmp_path / "xdg" in first.parents
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "ci"))
    chosen = cache.cache_dir(one)
    assert chosen is not None and chosen.parent == tmp_path / "ci"
    monkeypatch.setenv(cache.ENV_VAR, str(one / ".cache"))
    assert cache.cache_dir(one) is None
    monkeypatch.setenv(cache.ENV_VAR, str(one))
    assert cache.cache_dir(one) is None
