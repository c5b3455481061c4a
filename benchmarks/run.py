#!/usr/bin/env python3
"""Benchmark `complaints validate`, `overdue` and `stats` against the floor and the obvious
alternative, on generated archives of 1k, 10k and (on request) 100k cases.

    .venv/bin/python benchmarks/run.py                      # 1k and 10k, 3 runs each
    .venv/bin/python benchmarks/run.py --sizes 100k --runs 1
    .venv/bin/python benchmarks/run.py --sizes 1k --json results.json

For each size it prints, in one table, every figure with its baseline and the ratio:

* floor-read: reading every case file; floor-parse: reading and parsing them all with
  libyaml's C loader (yaml.CSafeLoader) on all cores, in the same process-pool shape as
  `complaints validate` (batches of 250 to 1,000 files);
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
is shown. The figures whose goals are ratios of one another (the parse floor and the cold
`validate`, `overdue` and `stats`) are run in turns, one of each per round, so that a change in
the machine's speed over the minutes a benchmark takes falls on both sides of each ratio. Archives are generated with benchmarks/synth.py under benchmarks/data/ (git-ignored)
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
import resource

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
CACHE = DATA / "cache"  # COMPLAINTS_CACHE_DIR for every command run here
VENV = ROOT / ".venv" / "bin"
TODAY = "2026-09-30"  # synth.py make_repository's generation date: cases run up to it, and no due date reaches 2027, whose official calendar is not yet known
SIZES = {"1k": 1_000, "10k": 10_000, "20k": 20_000, "100k": 100_000, "1m": 1_000_000}
CJS_CHUNK = 4000  # files per check-jsonschema invocation (the argument list has a limit)
MB = 1024 * 1024
LAST_CPU = 0.0  # CPU seconds of the last measured command (see measure)
SAMPLE_EVERY = 0.01  # seconds between two memory samples (--sample-every)
ONE_PASS = False  # --one-pass: memory sampled in the timed runs instead of one extra run


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
    jobs = os.cpu_count() or 1
    # The batches `complaints validate` makes (engine/scan.py: BATCH 250, MAX_BATCH 1000,
    # BATCHES_EACH 16), written out rather than imported: importing the tool would be timed too.
    size = max(250, min(1000, len(files) // (jobs * 16)))
    batches = [files[i : i + size] for i in range(0, len(files), size)]
    if os.environ.get("INSTRUCTIONS_STOP_AT") == "workers":
        os._exit(0)  # benchmarks/instructions.py: this process's count where its workers are forked
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parsed = sum(pool.map(_parse_batch, batches))
    return 0 if parsed == len(files) else 1


# ---- measuring ------------------------------------------------------------------------------


def measure(argv: list[str], cwd: Path, sample: bool = True) -> tuple[float, float, int]:
    """(seconds, peak MB of the process tree, exit status) of one run; without ``sample``
    only the time (reading every process's memory map costs CPU the command then lacks)."""
    global LAST_CPU
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0

    def cpu() -> float:
        # CPU seconds of the command and every worker it waited for: on a shared machine,
        # the figure that does not grow with other people's load.
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    if not sample:
        status = proc.wait()
        LAST_CPU = cpu()
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
            time.sleep(SAMPLE_EVERY)
    finally:
        status = proc.wait()
    LAST_CPU = cpu()
    return time.perf_counter() - start, peak / MB, status


def median_run(argv: list[str], cwd: Path, runs: int, before: Any = None) -> dict[str, Any]:
    """The median time of ``runs`` unobserved runs, and the peak memory of one more run
    sampled for it (``before`` prepares each run, e.g. removes the cache for a cold one)."""
    times, statuses, cpus = [], [], []
    if ONE_PASS:
        # Time and memory from the same runs (the sampling's own CPU then counts in the time).
        peaks = []
        for _ in range(runs):
            if before is not None:
                before()
            seconds, peak, status = measure(argv, cwd)
            times.append(seconds)
            cpus.append(LAST_CPU)
            peaks.append(peak)
            statuses.append(status)
        return {"seconds": statistics.median(times), "cpu": statistics.median(cpus), "peak_mb": max(peaks),
                "status": max(statuses), "runs": runs}
    for _ in range(runs):
        if before is not None:
            before()
        seconds, _, status = measure(argv, cwd, sample=False)
        times.append(seconds)
        cpus.append(LAST_CPU)
        statuses.append(status)
    if before is not None:
        before()
    _, peak, status = measure(argv, cwd)
    statuses.append(status)
    return {"seconds": statistics.median(times), "cpu": statistics.median(cpus), "peak_mb": peak,
            "status": max(statuses), "runs": runs}


def interleaved(jobs: dict[str, tuple[list[str], Any]], cwd: Path, runs: int) -> dict[str, dict[str, Any]]:
    """The median times of ``runs`` rounds in which each job runs once in turn (``jobs``:
    name -> argv and what prepares each run), and the peak memory of one more sampled run of
    each. Figures that are compared as ratios are measured side by side, so that a change in
    the machine's load over the minutes a benchmark takes falls on both sides of a ratio."""
    if ONE_PASS:
        return {name: median_run(argv, cwd, runs, before) for name, (argv, before) in jobs.items()}
    times: dict[str, list[float]] = {name: [] for name in jobs}
    cpus: dict[str, list[float]] = {name: [] for name in jobs}
    statuses: dict[str, list[int]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, (argv, before) in jobs.items():
            if before is not None:
                before()
            seconds, _, status = measure(argv, cwd, sample=False)
            times[name].append(seconds)
            cpus[name].append(LAST_CPU)
            statuses[name].append(status)
    out = {}
    for name, (argv, before) in jobs.items():
        if before is not None:
            before()
        _, peak, status = measure(argv, cwd)
        out[name] = {"seconds": statistics.median(times[name]), "cpu": statistics.median(cpus[name]), "peak_mb": peak,
                     "status": max([*statuses[name], status]), "runs": runs}
    return out


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


PARSE = "floor: parse all (CSafeLoader, all cores)"
CJS = "check-jsonschema (schema only)"
# The goals (README "Performance"): (figure, kind, baseline or None, limit). kind "ratio":
# seconds / the baseline's seconds <= limit; "seconds": at most limit seconds, start-up
# included. Every command's peak memory must also stay at most MEMORY_GOAL MB.
GOALS: dict[str, tuple[str, str | None, float]] = {
    "validate cold": ("ratio", PARSE, 0.9),
    "validate warm": ("seconds", None, 1.0),
    "overdue cold": ("ratio", "validate cold", 1.2),
    "overdue warm": ("seconds", None, 1.0),
    "stats cold": ("ratio", "validate cold", 1.2),
    "stats warm": ("seconds", None, 1.0),
    "validate --changed-since (10 files)": ("seconds", None, 1.0),
    "site build cold": ("ratio", "stats cold", 1.5),
}
MEMORY_GOAL = 200.0
SHARD_GOAL_KB = 64.0


def bench(label: str, runs: int, skip_cjs: bool, memory_only: bool = False,
          memory_commands: tuple[str, ...] = ("validate", "overdue", "stats")) -> list[dict[str, Any]]:
    root = archive(label, SIZES[label])
    py = str(VENV / "python")
    complaints = str(VENV / "complaints")
    common = ["--today", TODAY]
    wide = [*common, "--accept-unconfirmed"]  # due dates run into 2027, whose calendar is not yet official
    site_out = DATA / f"site-{label}"
    commands = {
        "validate": [complaints, "validate", *common],
        "overdue": [complaints, "overdue", "--format", "json", *wide],
        "stats": [complaints, "stats", "--format", "json", *wide],
        "site build": [complaints, "site", "build", "--out", str(site_out), *common],
    }

    def clear() -> None:
        shutil.rmtree(CACHE, ignore_errors=True)
        shutil.rmtree(site_out, ignore_errors=True)

    rows: list[dict[str, Any]] = []

    def row(name: str, result: dict[str, Any], baseline: str | None = None) -> None:
        kind, goal_base, limit = GOALS.get(name, ("", None, 0.0))
        rows.append({"size": label, "name": name, **result, "baseline": goal_base or baseline, "goal_kind": kind, "limit": limit})
        print(f"  {label} {name}: {result['seconds']:.2f} s, {result['peak_mb']:.0f} MB", file=sys.stderr)

    if memory_only:
        # One run of each cold command, sampled for memory (a 1,000,000-case archive on request).
        for name in memory_commands:
            clear()
            seconds, peak, status = measure(commands[name], root)
            row(f"{name} cold", {"seconds": seconds, "peak_mb": peak, "status": status, "runs": 1})
        return rows
    row("floor: read every file", median_run([py, __file__, "--floor", "read", str(root)], root, runs))
    # The floor and the cold commands, whose goals are ratios of one another, in turns.
    cold = interleaved({
        PARSE: ([py, __file__, "--floor", "parse", str(root)], None),
        "validate cold": (commands["validate"], clear),
        "overdue cold": (commands["overdue"], clear),
        "stats cold": (commands["stats"], clear),
    }, root, runs)
    row(PARSE, cold[PARSE])
    if not skip_cjs:
        row(CJS, check_jsonschema(root, 1 if SIZES[label] >= 100_000 else runs))
    row("validate cold", cold["validate cold"])
    if not skip_cjs:
        rows[-1]["baseline2"] = CJS
    # Each cold run started from no cache: one run fills it again before the warm ones.
    measure(commands["validate"], root, sample=False)
    row("validate warm", median_run(commands["validate"], root, runs), "validate cold")
    for name in ("overdue", "stats"):
        row(f"{name} cold", cold[f"{name} cold"])
        rows[-1]["baseline2"] = PARSE
        measure(commands[name], root, sample=False)
        row(f"{name} warm", median_run(commands[name], root, runs), f"{name} cold")
    # Ten files changed since HEAD (a trailing comment: still valid), the cache warm.
    median_run(commands["validate"], root, 1)
    changed = sorted((root / "cases").glob("*/*.yml"))[:: max(1, SIZES[label] // 10)][:10]
    originals = {p: p.read_bytes() for p in changed}
    try:
        for p in changed:
            p.write_bytes(originals[p] + b"# touched by benchmarks/run.py\n")
        row("validate --changed-since (10 files)",
            median_run([complaints, "validate", "--changed-since", "HEAD", *common], root, runs), "validate warm")
    finally:
        for p, data in originals.items():
            p.write_bytes(data)
    # The site from nothing (no cache) against a cold `stats`, and again with the cache warm.
    row("site build cold", median_run(commands["site build"], root, runs, before=clear))
    row("site build warm", median_run(commands["site build"], root, runs), "site build cold")
    shards = sorted((site_out / "generated" / "receipts").glob("*.json"))
    index = site_out / "generated" / "receipts.json"
    sizes = [p.stat().st_size for p in shards] or [0]
    rows.append({"size": label, "name": "receipt lookup download", "seconds": 0.0, "peak_mb": 0.0, "status": 0, "runs": 1,
                 "baseline": None, "goal_kind": "shard", "limit": SHARD_GOAL_KB,
                 "shard_kb": (max(sizes) + (index.stat().st_size if index.exists() else 0)) / 1024,
                 "shards": len(shards), "mean_shard_kb": statistics.mean(sizes) / 1024})
    print(f"  {label} receipt lookup: {len(shards)} shards, largest {max(sizes) / 1024:.1f} KB", file=sys.stderr)
    return rows


def verdict(row: dict[str, Any], by: dict[tuple[str, str], dict[str, Any]]) -> tuple[str, bool | None]:
    """The goal as text, and whether it is met (None: no goal)."""
    kind, limit = row.get("goal_kind"), row.get("limit")
    if kind == "ratio":
        base = by.get((row["size"], row["baseline"]))
        if not base or not base["seconds"]:
            return "", None
        ratio = row["seconds"] / base["seconds"]
        cpu = ""
        if row.get("cpu") and base.get("cpu"):
            cpu = f", CPU {row['cpu'] / base['cpu']:.2f}x"
        return f"{ratio:.2f}x{cpu} (goal <= {limit}x)", ratio <= limit
    if kind == "seconds":
        return f"{row['seconds']:.2f} s (goal <= {limit:.0f} s)", row["seconds"] <= limit
    if kind == "shard":
        return f"{row['shard_kb']:.1f} KB per lookup, {row['shards']} shards (goal <= {limit:.0f} KB)", row["shard_kb"] <= limit
    return "", None


def table(rows: list[dict[str, Any]]) -> str:
    by = {(r["size"], r["name"]): r for r in rows}
    lines = [f"{'size':>5}  {'measure':<38} {'time':>9} {'CPU':>9} {'peak MB':>8}  {'vs baseline':<50} {'goal':<44} met"]
    for r in rows:
        ratios = []
        for key in ("baseline", "baseline2"):
            base = by.get((r["size"], r.get(key)))
            if base and r["goal_kind"] != "shard":
                ratio = r["seconds"] / base["seconds"] if base["seconds"] else float("nan")
                text = f"{ratio:.2f}x {base['name'].split(' (')[0]} ({base['seconds']:.2f} s)"
                if ratio < 1:
                    text = f"{1 / ratio:.1f}x faster than {base['name'].split(' (')[0]} ({base['seconds']:.2f} s)"
                ratios.append(text)
        goal, met = verdict(r, by)
        memory_ok = r["peak_mb"] <= MEMORY_GOAL or not r["name"].startswith(("validate", "overdue", "stats", "site"))
        if r["name"].startswith(("validate", "overdue", "stats", "site")):
            goal = f"{goal}{'; ' if goal else ''}<= {MEMORY_GOAL:.0f} MB"
            met = (met is not False) and memory_ok
        status = "" if r["status"] == 0 else f" (exit {r['status']})"
        mark = "" if met is None else ("yes" if met else "NO")
        time_text = "" if r["goal_kind"] == "shard" else f"{r['seconds']:>7.2f} s"
        cpu_text = "" if "cpu" not in r else f"{r['cpu']:>7.2f} s"
        mem_text = "" if r["goal_kind"] == "shard" else f"{r['peak_mb']:>8.0f}"
        lines.append(f"{r['size']:>5}  {r['name']:<38} {time_text:>9} {cpu_text:>9} {mem_text:>8}  {'; '.join(ratios):<50} {goal:<44} {mark}{status}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k, 10k, 100k (default: 1k,10k)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown (default 3)")
    parser.add_argument("--skip-check-jsonschema", action="store_true", help="leave out the check-jsonschema baseline")
    parser.add_argument("--check-jsonschema-100k", action="store_true",
                        help="run check-jsonschema at 100k too (about half an hour on 2 cores; left out by default)")
    parser.add_argument("--one-pass", action="store_true",
                        help="sample memory during the timed runs instead of one extra run (half the time; slightly slower figures)")
    parser.add_argument("--memory-only", action="store_true",
                        help="one sampled cold run of validate, overdue and stats per size (for --sizes 1m)")
    parser.add_argument("--commands", default="validate,overdue,stats",
                        help="with --memory-only: the cold commands to sample, comma-separated: validate, overdue, stats, \"site build\" (default: the first three)")
    parser.add_argument("--sample-every", type=float, default=0.01, metavar="SECONDS",
                        help="seconds between two memory samples (default 0.01; each sample reads every process's "
                             "memory map, so a long run sampled often loses much of a core to it)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--floor", choices=["read", "parse"], help=argparse.SUPPRESS)
    parser.add_argument("dir", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        return floor(args.floor, args.dir)
    os.environ["COMPLAINTS_CACHE_DIR"] = str(CACHE)
    # Measure the tool as installed: Python keeps its compiled modules (a shell that sets
    # PYTHONDONTWRITEBYTECODE would have every run compile the package from source again).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    global ONE_PASS, SAMPLE_EVERY
    ONE_PASS = args.one_pass
    if not args.sample_every > 0:
        parser.error("--sample-every must be a positive number of seconds")
    SAMPLE_EVERY = args.sample_every
    memory_commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    wrong = [c for c in memory_commands if c not in ("validate", "overdue", "stats", "site build")]
    if wrong or not memory_commands:
        parser.error(f"--commands: choose among validate, overdue, stats, site build (not {', '.join(wrong) or 'none'})")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    rows = []
    args._load = os.getloadavg()[0]
    for label in sizes:
        skip = args.skip_check_jsonschema or (SIZES[label] >= 100_000 and not args.check_jsonschema_100k)
        rows += bench(label, args.runs, skip, args.memory_only, tuple(memory_commands))
    cores = os.cpu_count()
    load_start = getattr(args, "_load", None)
    print(f"complaints benchmarks: {cores} cores, median of {args.runs} run(s), load average {load_start:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(table(rows))
    print("check-jsonschema checks the JSON Schema only; complaints validate also checks the lifecycle, dates, policy vocabularies, personal data in free text and repository-wide rules.")
    print(f"peak MB: largest sum of PSS over the command's process tree (psutil, samples every {SAMPLE_EVERY * 1000:g} ms).")
    if args.json:
        args.json.write_text(json.dumps({"cores": cores, "runs": args.runs, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
