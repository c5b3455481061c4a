"""`complaints site serve`: generates the site from the repository, serves it on the given
address, and rebuilds when a page under site/ changes."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import ROOT, copy_repo

# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
COMPLAINTS = Path(sys.executable).parent / "complaints"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, deadline: float, proc: subprocess.Popen[bytes]) -> str:
    """The body at url, retrying until the server answers or the deadline passes."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
            raise AssertionError(f"the server stopped with exit {proc.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode("utf-8"))
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in time: {last}")


def test_serve_builds_serves_and_rebuilds(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo", with_cases=True)
    shutil.copy2(TEMPLATE / "mkdocs.yml", repo / "mkdocs.yml")
    shutil.copytree(TEMPLATE / "site", repo / "site", ignore=shutil.ignore_patterns("generated"))
    port = _free_port()
    proc = subprocess.Popen(
        [str(COMPLAINTS), "site", "serve", "--dev-addr", f"127.0.0.1:{port}", "--today", "2026-11-28", "--repo", str(repo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        home = _get(base, time.monotonic() + 120, proc)
        assert "效能投诉" in home
        # The generated tables are there: the time limits come from policy.yml.
        limits = _get(base + "time-limits/", time.monotonic() + 30, proc)
        assert "调查办结" in limits
        # Editing a page is picked up without a restart.
        page = repo / "site" / "zh" / "rights.md"
        page.write_text(page.read_text(encoding="utf-8") + "\n\n测试标记-服务重建\n", encoding="utf-8")
        deadline = time.monotonic() + 60
        while "测试标记-服务重建" not in _get(base + "rights/", deadline, proc):
            assert time.monotonic() < deadline, "the edited page was not rebuilt"
            time.sleep(1)
        assert proc.poll() is None, "the server stopped by itself"
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert b"Traceback" not in output
