"""The case repository on disk: where it is, which files are cases, and which changed."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from complaints.adapters import git
from complaints.core.ids import CASE_ID_PATTERN
from complaints.adapters.config import load_policy
from complaints.adapters.names import FileNames, NamesBuilder
from complaints.core.policy import POLICY_FILE, Policy
from complaints.errors import CaseError, ConfigError, UsageMistake

CASES_DIR = "cases"


@dataclass(frozen=True)
class Repository:
    root: Path
    policy: Policy
    use_cache: bool = True  # answer unchanged files from the result cache (see engine/scan.py)

    @classmethod
    def open(cls, root: Path | None = None, *, use_cache: bool = True, remember: bool = False) -> "Repository":
        """The repository at ``root``, or the nearest folder upwards from the current one
        that holds a policy.yml; ``use_cache``: as the attribute; ``remember``: the policy's
        schema verdict may come from and go to the cache too (adapters/accepted.py) — for the
        commands that read the cache anyway, so that no other one writes to it."""
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
        return cls(root, load_policy(root, remember=remember and use_cache), use_cache)

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

    def case_files(self) -> FileNames:
        """Every file under cases/ (misplaced ones included), relative, sorted: held compactly
        (adapters/names.py), for the listing of a large archive is the largest thing a run
        keeps."""
        builder = NamesBuilder()
        if not self.cases_dir.is_dir():
            return builder.build()
        # Each folder's entries are sorted as the full paths sort, then visited in that order,
        # so that the names come out in order with no sort of them all: a folder sorts as its
        # name followed by "/" (what its files' paths continue with), and a folder named like
        # a case is listed itself at its bare name. os.scandir reads each folder once and
        # needs no stat per file.
        stack: list[Iterator[tuple[str, str, bool]]] = [self._folder(str(self.cases_dir), CASES_DIR)]
        run: list[str] = []
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                continue
            path, name, is_dir = step
            if is_dir:
                builder.extend(run)
                run.clear()
                stack.append(self._folder(path, name))
            else:
                run.append(name)
                if len(run) >= 4096:
                    builder.extend(run)
                    run.clear()
        builder.extend(run)
        return builder.build()

    @staticmethod
    def _folder(folder: str, rel: str) -> Iterator[tuple[str, str, bool]]:
        """(path, relative name, visit as a folder) of a folder's entries, in the order of
        their full relative paths."""
        try:
            with os.scandir(folder) as entries:
                keys = []
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        keys.append(entry.name + "/")
                        if entry.name.endswith((".yml", ".yaml")):
                            keys.append(entry.name)  # a folder named like a case: reported, not skipped
                    else:
                        # Regular files, symbolic links, FIFOs, sockets, devices: every one is
                        # listed, and the checker says what is wrong with those that are not files.
                        keys.append(entry.name)
        except OSError:
            return
        keys.sort()
        for key in keys:
            if key.endswith("/"):
                yield f"{folder}/{key[:-1]}", f"{rel}/{key[:-1]}", True
            else:
                yield "", f"{rel}/{key}", False

    def case_paths(self) -> list[Path]:
        return [self.root / f for f in self.case_files() if f.endswith(".yml")]

    def find_case(self, case_id: str) -> Path:
        """The file of case ``case_id``. Raises CaseError when there is none or several."""
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

    def changed_files(self, ref: str) -> list[str]:
        """Files under cases/ added, copied, modified or renamed since ``ref`` (committed,
        staged, unstaged or untracked)."""
        if ref.startswith("-"):
            raise UsageMistake(f"{ref!r} is not a git revision")
        if git.commit_of(self.root, ref) is None:
            raise UsageMistake(f"--changed-since: unknown git revision {ref!r} (fetch it first, e.g. `git fetch origin main`)")
        names = git.changed_since(self.root, git.merge_base(self.root, ref), [CASES_DIR], diff_filter="ACMRT")
        return [n for n in names if (self.root / n).exists()]

    def changes_since(self, ref: str) -> "Changes":
        """:meth:`changed_files` and :meth:`changed_configuration` of ``ref``, their git calls
        started now, side by side, and collected by ``Changes.result()``: the caller can list
        the files meanwhile."""
        if ref.startswith("-"):
            raise UsageMistake(f"{ref!r} is not a git revision")
        if git.commit_of(self.root, ref) is None:
            raise UsageMistake(f"--changed-since: unknown git revision {ref!r} (fetch it first, e.g. `git fetch origin main`)")
        base = git.merge_base(self.root, ref)
        return Changes(self.root, git.ChangedSince(self.root, base, [CASES_DIR], diff_filter="ACMRT"), git.ChangedSince(self.root, base, _CONFIGURATION))

    def changed_configuration(self, ref: str) -> list[str]:
        """The files every case is checked against (policy.yml, calendar.yml, recipients.txt,
        schema/) that changed since ``ref``: a change there can break a case nobody touched.
        Call after :meth:`changed_files` (which checks ``ref``)."""
        return git.changed_since(self.root, git.merge_base(self.root, ref), _CONFIGURATION)


@dataclass(frozen=True)
class Changes:
    root: Path
    cases: git.ChangedSince
    configuration: git.ChangedSince

    def result(self) -> tuple[list[str], list[str]]:
        """(the case files changed, as changed_files gives them; the configuration files
        changed, as changed_configuration gives them)."""
        try:
            names = self.cases.result()
        finally:
            changed = self.configuration.result()
        return [n for n in names if (self.root / n).exists()], changed


# What every case is checked against: a change there can break a case nobody touched.
_CONFIGURATION = (POLICY_FILE, "calendar.yml", "recipients.txt", "schema")
