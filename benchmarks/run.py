#!/usr/bin/env python3
"""Benchmark `complaints validate`, `overdue` and `stats` against the floor and the obvious
alternative, on generated archives of 1k, 10k and (on request) 100k cases.

    .venv/bin/python benchmarks/run.py                      # 1k and 10k, 3 runs each
    .venv/bin/python benchmarks/run.py --sizes 100k --runs 1
    .venv/bin/python benchmarks/run.py --sizes 1k --json results.json

For each size it prints, in one table, every figure with its baseline and the ratio:

* floor-read: reading every case file; floor-parse: reading and parsing them all with
  libyaml's C loader (yaml.CSafeLoader) on all cores, in the same process-pool shape as
  `complaints validate` (batches of 250 files);
* check-jsonschema with schema/case.schema.json on the same files (the alternative a user
  would reach for; it checks the schema only — none of the lifecycle, date, vocabulary,
  personal-data or repository-wide rules `complaints validate` applies);
* `complaints validate`, `overdue` and `stats`, cold (cache folder removed first, so the run
  also writes the cache) and warm (nothing changed), and `validate --changed-since HEAD`
  after 10 files were modified (cache warm);
* the peak memory of each: the largest sum of the proportional set sizes (PSS) of the
  command's whole process tree (the command and its worker processes), sampled with psutil
  every 10 ms: pages the forked workers share are divided among them, not counted in each.
  The sampling itself costs CPU, so it is done in one extra run; the times are unobserved.

Every command runs as a subprocess (`.venv/bin/complaints ...`), the median of --runs runs
is shown. Archives are generated with benchmarks/synth.py under benchmarks/data/ (git-ignored)
and made git repositories with one commit; they are reused by later runs.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
VENV = ROOT / ".venv" / "bin"
TODAY = "2026-09-30"  # synth.py make_repository's generation date: cases run up to it, and no due date reaches 2027, whose official calendar is not yet known
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
CJS_CHUNK = 4000  # files per check-jsonschema invocation (the argument list has a limit)
MB = 1024 * 1024


# ---- the floor (run as `run.py --floor read|parse DIR`) ------------------------------------


def _files(root: Path) -> list[str]:
    out = []
    for folder, _, names in os.walk(root / "cases"):
        out.extend(os.path.join(folder, n) for n in names if n.endswith(".yml"))
    return sorted(out)


def _read_batch(files: list[str]) -> int:
    total = 0
    for name in files:
        with open(name, "rb") as handle:
            total += len(handle.read())
    return total


def _parse_batch(files: list[str]) -> int:
    import yaml

    for name in files:
        with open(name, "rb") as handle:
            yaml.load(handle.read(), Loader=yaml.CSafeLoader)
    return len(files)


def floor(kind: str, root: Path) -> int:
    files = _files(root)
    if kind == "read":
        return 0 if _read_batch(files) >= 0 else 1
    batches = [files[i : i + 250] for i in range(0, len(files), 250)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        parsed = sum(pool.map(_parse_batch, batches))
    return 0 if parsed == len(files) else 1


# ---- measuring ------------------------------------------------------------------------------


def measure(argv: list[str], cwd: Path, sample: bool = True) -> tuple[float, float, int]:
    """(seconds, peak MB of the process tree, exit status) of one run; without ``sample``
    only the time (reading every process's memory map costs CPU the command then lacks)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    if not sample:
        status = proc.wait()
        return time.perf_counter() - start, 0.0, status
    try:
        parent = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                used = 0
                for p in tree:
                    try:
                        # PSS: pages shared between the command and its forked workers are
                        # divided among them rather than counted once per process.
                        used += getattr(p.memory_full_info(), "pss", 0) or p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, used)
            except psutil.Error:
                pass
            time.sleep(0.01)
    finally:
        status = proc.wait()
    return time.perf_counter() - start, peak / MB, status


def median_run(argv: list[str], cwd: Path, runs: int, before: Any = None) -> dict[str, Any]:
    """The median time of ``runs`` unobserved runs, and the peak memory of one more run
    sampled for it (``before`` prepares each run, e.g. removes the cache for a cold one)."""
    times, statuses = [], []
    for _ in range(runs):
        if before is not None:
            before()
        seconds, _, status = measure(argv, cwd, sample=False)
        times.append(seconds)
        statuses.append(status)
    if before is not None:
        before()
    _, peak, status = measure(argv, cwd)
    statuses.append(status)
    return {"seconds": statistics.median(times), "peak_mb": peak, "status": max(statuses), "runs": runs}


def check_jsonschema(root: Path, runs: int) -> dict[str, Any]:
    files = [os.path.relpath(f, root) for f in _files(root)]
    chunks = [files[i : i + CJS_CHUNK] for i in range(0, len(files), CJS_CHUNK)]
    times, peaks, failed = [], [], 0
    for _ in range(runs):
        total = 0.0
        peak = 0.0
        for chunk in chunks:
            seconds, mb, status = measure([str(VENV / "check-jsonschema"), "--schemafile", "schema/case.schema.json", *chunk], root)
            total += seconds
            peak = max(peak, mb)
            failed += status != 0
        times.append(total)
        peaks.append(peak)
    return {"seconds": statistics.median(times), "peak_mb": max(peaks), "status": 1 if failed else 0, "runs": runs,
            "note": f"{len(chunks)} invocation(s) of at most {CJS_CHUNK} files"}


# ---- the archives ------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=bench@example.org", *args],
                          check=True, capture_output=True, text=True).stdout


def archive(label: str, count: int) -> Path:
    root = DATA / f"r{label}"
    marker = root / ".bench-complete"
    if marker.exists() and marker.read_text().strip() == f"{count} {TODAY}":
        return root
    if root.exists():
        shutil.rmtree(root)
    print(f"generating {count} cases under {root} ...", file=sys.stderr)
    subprocess.run([str(VENV / "python"), str(HERE / "synth.py"), "--out", str(root), "--count", str(count), "--seed", "1"], check=True)
    (root / ".gitignore").write_text("/.cache/\n/.bench-complete\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "generated archive")
    marker.write_text(f"{count} {TODAY}\n")
    return root


# ---- one size --------------------------------------------------------------------------------


def bench(label: str, runs: int, skip_cjs: bool) -> list[dict[str, Any]]:
    root = archive(label, SIZES[label])
    py = str(VENV / "python")
    complaints = str(VENV / "complaints")
    common = ["--today", TODAY]
    wide = [*common, "--accept-unconfirmed"]  # due dates run into 2027, whose calendar is not yet official
    commands = {
        "validate": [complaints, "validate", *common],
        "overdue": [complaints, "overdue", "--format", "json", *wide],
        "stats": [complaints, "stats", "--format", "json", *wide],
    }

    def clear() -> None:
        shutil.rmtree(root / ".cache", ignore_errors=True)

    rows: list[dict[str, Any]] = []

    def row(name: str, result: dict[str, Any], baseline: str | None = None, goal: str = "") -> None:
        rows.append({"size": label, "name": name, **result, "baseline": baseline, "goal": goal})
        print(f"  {label} {name}: {result['seconds']:.2f} s, {result['peak_mb']:.0f} MB", file=sys.stderr)

    row("floor: read every file", median_run([py, __file__, "--floor", "read", str(root)], root, runs))
    row("floor: parse all (CSafeLoader, all cores)", median_run([py, __file__, "--floor", "parse", str(root)], root, runs))
    if not skip_cjs:
        row("check-jsonschema (schema only)", check_jsonschema(root, 1 if SIZES[label] >= 100_000 else runs))
    row("validate cold", median_run(commands["validate"], root, runs, before=clear),
        "floor: parse all (CSafeLoader, all cores)", "<= 1.3x floor")
    if not skip_cjs:
        rows[-1]["baseline2"] = "check-jsonschema (schema only)"
    row("validate warm", median_run(commands["validate"], root, runs), "validate cold", "< 2 s")
    for name in ("overdue", "stats"):
        row(f"{name} cold", median_run(commands[name], root, runs, before=clear), "floor: parse all (CSafeLoader, all cores)")
        row(f"{name} warm", median_run(commands[name], root, runs), f"{name} cold", "< 2 s")
    # Ten files changed since HEAD (a trailing comment: still valid), the cache warm.
    median_run(commands["validate"], root, 1)
    changed = sorted((root / "cases").glob("*/*.yml"))[:: max(1, SIZES[label] // 10)][:10]
    originals = {p: p.read_bytes() for p in changed}
    try:
        for p in changed:
            p.write_bytes(originals[p] + b"# touched by benchmarks/run.py\n")
        row("validate --changed-since (10 files)",
            median_run([complaints, "validate", "--changed-since", "HEAD", *common], root, runs), "validate warm", "< 2 s")
    finally:
        for p, data in originals.items():
            p.write_bytes(data)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    by = {(r["size"], r["name"]): r for r in rows}
    lines = [f"{'size':>5}  {'measure':<42} {'time':>9} {'peak MB':>8}  {'vs baseline':<52} goal"]
    for r in rows:
        ratios = []
        for key in ("baseline", "baseline2"):
            base = by.get((r["size"], r.get(key)))
            if base:
                ratio = r["seconds"] / base["seconds"] if base["seconds"] else float("nan")
                text = f"{ratio:.2f}x {base['name'].split(' (')[0]} ({base['seconds']:.2f} s)"
                if ratio < 1:
                    text = f"{1 / ratio:.1f}x faster than {base['name'].split(' (')[0]} ({base['seconds']:.2f} s)"
                ratios.append(text)
        status = "" if r["status"] == 0 else f" (exit {r['status']})"
        lines.append(f"{r['size']:>5}  {r['name']:<42} {r['seconds']:>7.2f} s {r['peak_mb']:>8.0f}  {'; '.join(ratios):<52} {r['goal']}{status}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k, 10k, 100k (default: 1k,10k)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown (default 3)")
    parser.add_argument("--skip-check-jsonschema", action="store_true", help="leave out the check-jsonschema baseline")
    parser.add_argument("--check-jsonschema-100k", action="store_true",
                        help="run check-jsonschema at 100k too (about half an hour on 2 cores; left out by default)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--floor", choices=["read", "parse"], help=argparse.SUPPRESS)
    parser.add_argument("dir", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        return floor(args.floor, args.dir)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    rows = []
    for label in sizes:
        skip = args.skip_check_jsonschema or (SIZES[label] >= 100_000 and not args.check_jsonschema_100k)
        rows += bench(label, args.runs, skip)
    cores = os.cpu_count()
    print(f"complaints benchmarks: {cores} cores, median of {args.runs} run(s), load average at the end {os.getloadavg()[0]:.1f}")
    print(table(rows))
    print("check-jsonschema checks the JSON Schema only; complaints validate also checks the lifecycle, dates, policy vocabularies, personal data in free text and repository-wide rules.")
    print("peak MB: largest sum of PSS over the command's process tree (psutil, 10 ms samples).")
    if args.json:
        args.json.write_text(json.dumps({"cores": cores, "runs": args.runs, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
