"""The library is typed: mypy --strict (the pyproject configuration) over tools/complaints."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_mypy_strict_over_the_library(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "mypy-cache"), "tools/complaints"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    failing = sorted({line.split(":", 1)[0] for line in proc.stdout.splitlines() if ": error:" in line})
    assert proc.returncode == 0, f"mypy fails in {failing}:\n{proc.stdout}{proc.stderr}"
