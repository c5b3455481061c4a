"""`complaints --help` (and a command's --help) loads neither the native age binding nor MkDocs:
help is asked for often, and must be quick and work where neither is installed."""
from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from complaints.cli import main
sys.argv = ["complaints", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"pyrage", "mkdocs"})
print("heavy:", ",".join(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["event", "--help"], ["new", "--help"], ["site", "build", "--help"]])
def test_help_imports_neither_pyrage_nor_mkdocs(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "heavy:"
