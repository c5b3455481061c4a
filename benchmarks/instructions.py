"""The work each cold command does, counted in machine instructions: the figure that does not
move with the machine's load. On this project's virtual machine wall and CPU times move by
10-25% from one run to the next, more than the margins of the goals that are ratios (cold
`overdue` and `stats` at most 1.2x a cold `validate`, `validate` at most 0.9x the parse floor);
an instruction count is the same from one run to the next, so it says whether a change made
the work smaller, and how the work of two commands compares, without that noise.

    .venv/bin/python benchmarks/instructions.py                 # 10k cases
    .venv/bin/python benchmarks/instructions.py --size 1k --commands validate stats

Each command runs cold (cache folder removed first) under valgrind's cachegrind without cache
simulation (`--cache-sim=no`, about 20 times slower than a plain run), following every process
it starts: the command, its forked workers and git. A forked process's count starts from its
parent's count at the fork (valgrind copies the counters with the process), so each forked
process is charged only what it did after: the command is run again, stopped where it forks
its workers, and, for `stats`, where it forks its child for the past years
(engine/forked.py), and those counts are taken off its forked processes'. (Before 2026-12-03
they were not: the workers of every command and the child of `stats` were each charged the
command's start-up again, and `stats` its whole scan once more.) The table gives each kind of
process its share and the ratios the goals name. An instruction count is not a time: a command
whose data misses the processor's caches more often takes longer per instruction (the
wall-time figures of run.py remain the goals').
Needs valgrind (Debian: `apt-get install valgrind`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import CACHE, SIZES, TODAY, VENV, archive  # noqa: E402

HERE = Path(__file__).resolve().parent
COMMANDS = {
    "floor": None,  # reading and parsing every file with CSafeLoader on all cores (run.py --floor parse)
    "validate": ["validate"],
    "overdue": ["overdue", "--format", "json", "--accept-unconfirmed"],
    "stats": ["stats", "--format", "json", "--accept-unconfirmed"],
}
# The ratios the goals name: (command, baseline, the goal's limit).
RATIOS = [("validate", "floor", 0.9), ("overdue", "validate", 1.2), ("stats", "validate", 1.2)]


# Runs `complaints` as its console script does, and with INSTRUCTIONS_STOP_AT set, stops it
# where it would fork: "workers" where the scan forks its workers (engine/scan._stream, when it
# runs them), "aside" where a command forks a child for work beside it (engine/forked.Aside).
ENTRY = r"""
import os, sys
stop = os.environ.get("INSTRUCTIONS_STOP_AT", "")
if stop == "workers":
    from complaints.engine import scan
    real = scan._stream
    def stream(task, files, jobs, fold=None):
        if (jobs or os.cpu_count() or 1) > 1 and len(files) >= scan.PARALLEL_THRESHOLD:
            os._exit(0)
        yield from real(task, files, jobs, fold)
    scan._stream = stream
elif stop == "aside":
    from complaints.engine import forked
    def start(self):
        os._exit(0)
    forked.Aside._start = start
sys.argv = ["complaints", *sys.argv[1:]]
from complaints.cli.app import main
main()
"""


def processes(argv: list[str], cwd: Path, stop: str = "") -> list[tuple[int, str, int]]:
    """(pid, command line, instructions) of ``argv`` and every process it started, in the
    order they were started (the first is the command itself). Run cold: the cache folder is
    removed first."""
    shutil.rmtree(CACHE, ignore_errors=True)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        env = {**os.environ, "PYTHONHASHSEED": "0", "INSTRUCTIONS_STOP_AT": stop}
        done = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
             f"--cachegrind-out-file={out}/cg.%p", *argv],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited with {done.returncode}:\n{done.stderr[-2000:]}")
        found = []
        for path in sorted(out.glob("cg.*"), key=lambda p: int(p.suffix[1:])):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            cmd = next((line[5:].strip() for line in lines if line.startswith("cmd:")), "")
            summary = next((line for line in lines if line.startswith("summary:")), "summary: 0")
            found.append((int(path.suffix[1:]), cmd, int(summary.split()[1])))
        return found


def counted(argv: list[str], cwd: Path, *, aside: bool = False) -> dict[str, int]:
    """Instructions executed by ``argv`` and every process it started, by kind of process:
    the command itself, its workers (forked: the same command line, started first), the child
    forked for work beside it (``aside``: started after the workers), and any other program
    (git). Each forked process is charged what it did after the fork only."""
    run = processes(argv, cwd)
    command = run[0]
    forks = [p for p in run[1:] if p[1] == command[1]]
    others = [p for p in run[1:] if p[1] != command[1]]
    jobs = os.cpu_count() or 1
    workers, asides = forks[:jobs], forks[jobs:]
    if asides and not aside:
        raise SystemExit(f"{' '.join(argv)} forked {len(forks)} processes, more than its {jobs} workers")
    # Each kind of fork happens at one point of the command's run: its count there.
    at_workers = processes(argv, cwd, "workers")[0][2] if workers else 0
    at_aside = processes(argv, cwd, "aside")[0][2] if asides else 0
    return {
        "command": command[2],
        "workers": sum(count - at_workers for _pid, _cmd, count in workers),
        "aside": sum(count - at_aside for _pid, _cmd, count in asides),
        "other": sum(count for _pid, _cmd, count in others),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=list(SIZES), default="10k")
    parser.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    os.environ["COMPLAINTS_CACHE_DIR"] = str(CACHE)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules kept
    root = archive(args.size, SIZES[args.size])
    count = SIZES[args.size]
    results: dict[str, dict[str, int]] = {}
    for name in args.commands:
        argv = COMMANDS[name]
        if argv is None:
            full = [str(VENV / "python"), str(HERE / "run.py"), "--floor", "parse", str(root)]
        else:
            full = [str(VENV / "python"), "-c", ENTRY, *argv, "--today", TODAY]
        # One plain run first, so that no module is compiled in the counted one.
        subprocess.run(full, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(CACHE, ignore_errors=True)
        print(f"  {args.size} {name} ...", file=sys.stderr, flush=True)
        results[name] = counted(full, root, aside=name == "stats")
    print(f"instructions (valgrind cachegrind), {count:,} cases, cold")
    print(f"{'command':<10} {'total':>16} {'per case':>10} {'command':>16} {'workers':>16} {'child':>14} {'git/other':>14}")
    for name, parts in results.items():
        total = sum(parts.values())
        print(f"{name:<10} {total:>16,} {total / count:>10,.0f} {parts['command']:>16,} {parts['workers']:>16,} "
              f"{parts['aside']:>14,} {parts['other']:>14,}")
    for name, base, limit in RATIOS:
        if name in results and base in results:
            ratio = sum(results[name].values()) / sum(results[base].values())
            print(f"{name} / {base}: {ratio:.3f}x (the time goal: <= {limit}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
