"""The case repository on disk: where it is, which files are cases, and which changed."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, TypeVar

from complaints.errors import CaseError, ConfigError, UsageMistake
from complaints.adapters.config import load_policy
from complaints.core.policy import POLICY_FILE, Policy

if TYPE_CHECKING:
    from complaints.engine.scan import Derivation

CASES_DIR = "cases"
R = TypeVar("R")


@dataclass(frozen=True)
class Repository:
    root: Path
    policy: Policy
    use_cache: bool = True  # answer unchanged files from the result cache (see cache.py)

    @classmethod
    def open(cls, root: Path | None = None) -> "Repository":
        """The repository at ``root``, or the nearest folder upwards from the current one
        that holds a policy.yml."""
        if root is None:
            here = Path.cwd().resolve()
            for candidate in (here, *here.parents):
                if (candidate / POLICY_FILE).is_file():
                    root = candidate
                    break
            else:
                raise ConfigError(f"no {POLICY_FILE} found in {here} or any folder above it; run inside a case repository or pass --repo")
        root = root.resolve()
        if not (root / POLICY_FILE).is_file():
            raise ConfigError(f"{root}: not a case repository (no {POLICY_FILE})")
        return cls(root, load_policy(root))

    @property
    def cases_dir(self) -> Path:
        return self.root / CASES_DIR

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def without_cache(self) -> "Repository":
        """The same repository, read without the result cache (`--no-cache`)."""
        return replace(self, use_cache=False)

    def case_files(self) -> list[str]:
        """Every file under cases/ (misplaced ones included), relative, sorted."""
        if not self.cases_dir.is_dir():
            return []
        out: list[str] = []
        # os.scandir reads each folder once and needs no stat per file: a 100,000-case
        # archive is listed in a fraction of the time Path.rglob takes.
        pending = [(str(self.cases_dir), CASES_DIR)]
        while pending:
            folder, rel = pending.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                name = f"{rel}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, name))
                    if entry.name.endswith((".yml", ".yaml")):
                        out.append(name)  # a folder named like a case: reported, not skipped
                else:
                    # Regular files, symbolic links, FIFOs, sockets, devices: every one is
                    # listed, and the checker says what is wrong with those that are not files.
                    out.append(name)
        return sorted(out)

    def case_paths(self) -> list[Path]:
        return [self.root / f for f in self.case_files() if f.endswith(".yml")]

    def find_case(self, case_id: str) -> Path:
        """The file of case ``case_id``. Raises CaseError when there is none or several."""
        from complaints.core.ids import CASE_ID_PATTERN

        # Literal: an id typed on the command line is never a pattern. Checked before it
        # reaches any path, so no glob character, separator or `..` can select other files.
        if not CASE_ID_PATTERN.fullmatch(case_id):
            raise UsageMistake("CASE_ID must be a case id written out in full, PREFIX-YYYYMMDD-XXXXX (upper case; no wildcards)")
        hits = sorted(
            folder / f"{case_id}.yml"
            for folder in (self.cases_dir.iterdir() if self.cases_dir.is_dir() else ())
            if folder.is_dir() and (folder / f"{case_id}.yml").is_file()
        )
        if not hits:
            raise CaseError(f"no case {case_id} under {CASES_DIR}/ (expected {CASES_DIR}/YYYY/{case_id}.yml)")
        if len(hits) > 1:
            raise CaseError(f"case {case_id} exists twice: " + ", ".join(self.relative(h) for h in hits))
        return hits[0]

    def read_case(self, case_id: str, today: dt.date | None = None) -> tuple[str, dict[str, Any]]:
        """(relative path, mapping) of one case, which must be valid."""
        from complaints.checker.casefile import check_case_bytes

        path = self.find_case(case_id)
        rel = self.relative(path)
        data = path.read_bytes()
        result = check_case_bytes(data, rel, self.policy, today, keep=True)
        if result.case is None:  # kept only for a valid case
            first = result.problems[0]
            where = f":{first.line}" if first.line else ""
            raise CaseError(f"{rel}{where}: {first.field}: {first.message} (run `complaints validate {rel}`)")
        return rel, result.case

    def iter_valid_cases(self, today: dt.date | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """(relative path, mapping) of every case file that passes validation, in path order.
        Invalid files are skipped: `complaints validate` is where they are reported."""
        from complaints.engine.scan import iter_cases

        yield from iter_cases(self, today)

    def case_records(
        self, today: dt.date, derive: "Derivation[R]", skipped: list[str] | None = None
    ) -> Iterator[tuple[str, R, tuple[int, int] | None]]:
        """(relative path, record, date span) for every valid case, in path order, computed
        by ``derive`` in worker processes or read from the cache (see validate.case_records);
        invalid case files are listed in ``skipped`` when it is given."""
        from complaints.engine.scan import case_records

        yield from case_records(self, today, derive, use_cache=self.use_cache, skipped=skipped)

    def changed_files(self, ref: str) -> list[str]:
        """Files under cases/ added, copied, modified or renamed since ``ref`` (committed,
        staged, unstaged or untracked)."""
        if ref.startswith("-"):
            raise UsageMistake(f"{ref!r} is not a git revision")
        if not self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).strip():
            raise UsageMistake(f"--changed-since: unknown git revision {ref!r} (fetch it first, e.g. `git fetch origin main`)")
        base = self._git("merge-base", ref, "HEAD", check=False) or ref
        changed = self._git("diff", "--name-only", "--no-renames", "--diff-filter=ACMRT", base.strip(), "--", CASES_DIR)
        untracked = self._git("ls-files", "--others", "--exclude-standard", "--", CASES_DIR)
        names = {n for n in (changed + "\n" + untracked).splitlines() if n}
        return sorted(n for n in names if (self.root / n).exists())

    def changed_configuration(self, ref: str) -> list[str]:
        """The files every case is checked against (policy.yml, calendar.yml, recipients.txt,
        schema/) that changed since ``ref``: a change there can break a case nobody touched.
        Call after :meth:`changed_files` (which checks ``ref``)."""
        base = self._git("merge-base", ref, "HEAD", check=False).strip() or ref
        paths = [POLICY_FILE, "calendar.yml", "recipients.txt", "schema"]
        changed = self._git("diff", "--name-only", "--no-renames", base, "--", *paths)
        untracked = self._git("ls-files", "--others", "--exclude-standard", "--", *paths)
        return sorted({n for n in (changed + "\n" + untracked).splitlines() if n})

    def _git(self, *args: str, check: bool = True) -> str:
        try:
            proc = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"git could not be run ({type(exc).__name__})") from None
        if proc.returncode != 0:
            if not check:
                return ""
            detail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
            raise ConfigError(f"git {args[0]} failed: {detail}")
        return proc.stdout

    def head_commit(self) -> str | None:
        out = self._git("rev-parse", "HEAD", check=False).strip()
        return out or None
