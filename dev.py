#!/usr/bin/env python3
"""Set up and run the project with nothing but Python installed.

    python3 dev.py demo   # install, then run the main job on the cases in cases/ (the samples as of their snapshot day)
    python3 dev.py test   # install everything the tests need, then run the whole test suite

Both create (or reuse) a virtual environment in .venv and install the project into it with
the pinned dependencies from pyproject.toml. `test` also installs the system packages the
tests drive (Debian's chromium, for the browser tests) when they are missing and this user
may install them.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"

SYSTEM_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    # A Chinese font, so that the browser tests' screenshots show the pages' text, not boxes.
    "fonts-wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}


def run(*cmd: str | os.PathLike[str], check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=check).returncode


def ensure_venv(extra: str) -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'core'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    spec = f".[{extra}]" if extra else "."
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", spec)
    stamp.write_text(digest)


def ensure_system_packages() -> None:
    missing = [pkg for pkg, path in SYSTEM_PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if shutil.which("apt-get") is None or (hasattr(os, "geteuid") and os.geteuid() != 0):
        sys.exit(f"dev.py: the tests need {', '.join(missing)}; install them (Debian: apt-get install {' '.join(missing)})")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


def demo() -> int:
    ensure_venv("")
    complaints = BIN / "complaints"
    for args in demo_steps(ROOT):
        code = run(complaints, *args, check=False)
        if code != 0:
            return code
    print(f"\nThe site is built in {ROOT / 'public'}; preview it with: {complaints} site serve")
    return 0


# The sample cases are a snapshot taken on this day; the demo looks at them as of that day so
# it shows the same late stages and statistics whenever it runs (and never needs a year's
# official calendar that was not announced when the snapshot was made). Once the organisation
# has removed them and recorded its own cases, the demo looks at those as of today, in the
# organisation's time zone (the commands' default).
DEMO_TODAY = "2026-11-28"
# The shipped sample cases, as frozen with the tests (tests/fixtures/template/cases).
SAMPLES = ROOT / "tests" / "fixtures" / "template" / "cases"

# The main job, in the order a handling team runs it: check every case, list what is late,
# compute the publishable statistics, build the site.
DEMO_STEPS: list[tuple[str, ...]] = [
    ("validate",),
    ("overdue",),
    ("stats", "--format", "markdown"),
    ("site", "build"),
]


def only_samples(root: Path) -> bool:
    """Whether cases/ holds the shipped sample cases and nothing else."""
    names = {p.name for p in (root / "cases").glob("*/*.yml")}
    samples = {p.name for p in SAMPLES.glob("*/*.yml")}
    return bool(names) and names <= samples


def demo_steps(root: Path) -> list[tuple[str, ...]]:
    """DEMO_STEPS, as of the sample snapshot's day while only the samples are there."""
    if not only_samples(root):
        return list(DEMO_STEPS)
    return [(*step, "--today", DEMO_TODAY) for step in DEMO_STEPS]


# The suite runs on every core (pytest-xdist), a test file per worker at a time: the tests
# of one file share their module fixtures (a built site, a synthetic archive), and most of
# the suite waits on subprocesses (git, the command, Chromium), so two workers on two cores
# halve its time. At most four: each worker builds the session fixtures again.
PARALLEL = ["-n", "auto", "--maxprocesses", "4", "--dist", "loadfile"]


def pytest_command(pytest_args: list[str]) -> list[str]:
    """The pytest command line: in parallel unless the arguments choose the workers (`-n`,
    `--numprocesses`) or turn xdist off (`-p no:xdist`)."""
    given = pytest_args + os.environ.get("PYTEST_ADDOPTS", "").split()
    chosen = any(a.startswith(("-n", "--numprocesses")) or a.endswith("no:xdist") for a in given)
    return [str(PY), "-m", "pytest", *([] if chosen else PARALLEL), *pytest_args]


def test(pytest_args: list[str]) -> int:
    ensure_venv("test")
    ensure_system_packages()
    return subprocess.run(pytest_command(pytest_args), cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__.strip())
        return 2
    if argv[0] == "demo":
        return demo()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
