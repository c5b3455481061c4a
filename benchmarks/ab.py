"""Two versions of the tool, taken in turns on one archive: the honest comparison on a machine
whose speed moves from minute to minute (a virtual machine's neighbours), where two runs of
run.py ten minutes apart can differ by 20%.

    .venv/bin/python benchmarks/ab.py --base 86702a8 --archive benchmarks/data/r100k --rounds 2 \\
        stats --format json --accept-unconfirmed --today 2026-09-30

`--base` is a commit of this repository (checked out once into benchmarks/data/ab-BASE, a git
worktree) or a folder holding a `tools/` tree; the other side is this checkout. Each round runs
the command cold (cache folder removed first) with the base's tools, then with this
checkout's, and prints the wall time and the CPU of the parent process and of its workers
(os.times of the command's process); the last lines give each side's medians and the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run inside the measured process: the command, then its own and its children's CPU.
PROBE = """
import json, os, sys, time
sys.argv = ["complaints", *sys.argv[1:]]
start = time.perf_counter()
from complaints.cli import cli
try:
    cli.main(standalone_mode=False)
except SystemExit:
    pass
t = os.times()
print(json.dumps({"wall": time.perf_counter() - start, "parent": t.user + t.system,
                  "children": t.children_user + t.children_system}), file=sys.stderr)
"""


def tools_of(base: str) -> Path:
    folder = Path(base)
    if (folder / "tools").is_dir():
        return folder / "tools"
    tree = ROOT / "benchmarks" / "data" / f"ab-{base}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), base], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return tree / "tools"


def run_once(tools: Path, archive: Path, command: list[str], cache: Path) -> dict[str, float]:
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(tools), "COMPLAINTS_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", PROBE, *command], cwd=archive, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "{}"
    try:
        return dict(json.loads(last))
    except json.JSONDecodeError:
        sys.exit(f"the command failed: {done.stderr.strip()[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="a commit of this repository, or a folder with tools/")
    parser.add_argument("--archive", required=True, type=Path, help="the case repository to run in")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the complaints command and its options")
    args = parser.parse_args()
    sides = {"base": tools_of(args.base), "this": ROOT / "tools"}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(1, args.rounds + 1):
            for name, tools in sides.items():
                figures = run_once(tools, args.archive.resolve(), args.command, Path(scratch) / "cache")
                results[name].append(figures)
                print(f"round {round_} {name:4}: wall {figures['wall']:.2f} s, parent CPU {figures['parent']:.2f} s, "
                      f"workers' CPU {figures['children']:.2f} s", flush=True)  # fmt: skip
    medians = {name: {k: statistics.median(r[k] for r in runs) for k in ("wall", "parent", "children")}
               for name, runs in results.items()}  # fmt: skip
    for name, m in medians.items():
        print(f"median {name:4}: wall {m['wall']:.2f} s, parent CPU {m['parent']:.2f} s, workers' CPU {m['children']:.2f} s")
    base, this = medians["base"], medians["this"]
    print(f"this / base: wall {this['wall'] / base['wall']:.2f}x, parent CPU {this['parent'] / base['parent']:.2f}x, "
          f"workers' CPU {this['children'] / base['children']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
