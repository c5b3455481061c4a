"""Output folders: the tool writes only into folders it made, and never deletes anything else.

Every command that writes a folder (`site build --out`, `stats --out`, ...) goes through
`output_folder`. It refuses the repository itself, the folders the repository is made of
(`.git`, `.github`, `cases/`, `tools/`, `schema/`, `site/`) and anything inside them, any folder
above the repository, a file, and any folder that holds something but was not made by this tool.
A folder the tool made carries a marker file, so a later run may replace it.

A whole-folder output (the site) is built in a fresh sibling folder and swapped in by renaming
only once it is complete: a failed build leaves the previous output as it was, and nothing but
the tool's own earlier output is ever deleted. A single-file output (a statistics file) is
written to a temporary file in the folder and renamed over its one file, leaving the tool's
other files there as they were.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from complaints.adapters import atomic
from complaints.errors import UsageMistake

MARKER = ".complaints-output"
MARKER_TEXT = "This folder was written by `complaints`; the next run may replace everything in it.\n"
# Folders of the repository that hold its data, code or history: never an output folder.
PROTECTED: tuple[str, ...] = (".git", ".github", "cases", "tools", "schema", "site")


class OutputRefused(UsageMistake):
    """An output folder the tool must not write into (exit 2)."""


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def made_by_tool(folder: Path) -> bool:
    return (folder / MARKER).is_file() and not (folder / MARKER).is_symlink()


def check_output_folder(target: Path, repo_root: Path, option: str = "--out") -> Path:
    """The resolved output folder, or OutputRefused saying why it may not be written."""
    shown = str(target)
    try:
        resolved = target.expanduser().resolve()
    except (OSError, RuntimeError):
        raise OutputRefused(f"{option} {shown}: the path cannot be resolved (a symbolic link loop?)") from None
    root = repo_root.resolve()
    if resolved == root:
        raise OutputRefused(f"{option} {shown}: is the repository itself; choose a new folder such as public/")
    if _is_within(root, resolved):
        raise OutputRefused(f"{option} {shown}: is a folder above the repository; choose a new folder such as public/")
    if _is_within(resolved, root):
        top = resolved.relative_to(root).parts[0]
        if top in PROTECTED:
            raise OutputRefused(f"{option} {shown}: is inside {top}/, which belongs to the repository; choose a new folder such as public/")
    if resolved.exists() or resolved.is_symlink():
        if not resolved.is_dir():
            raise OutputRefused(f"{option} {shown}: exists and is not a folder")
        if not made_by_tool(resolved) and any(resolved.iterdir()):
            raise OutputRefused(
                f"{option} {shown}: is not empty and was not written by complaints (no {MARKER} file); "
                "nothing in it was changed. Choose a new or empty folder"
            )
    return resolved


def _mark(folder: Path) -> None:
    (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


@contextlib.contextmanager
def fresh_output_folder(target: Path, repo_root: Path, option: str = "--out") -> Iterator[Path]:
    """Yield a new, empty, marked folder beside ``target``; when the block ends without an
    error, it replaces ``target`` (which was the tool's own output, or empty, or absent).
    On an error the new folder is removed and ``target`` is left as it was."""
    final = check_output_folder(target, repo_root, option)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".new", dir=final.parent))
    except OSError as exc:
        raise OutputRefused(f"{option} {target}: cannot be created ({type(exc).__name__})") from None
    try:
        _mark(staging)
        yield staging
        # Checked again: the folder may have changed while the output was being built.
        check_output_folder(final, repo_root, option)
        if final.exists():
            old = final.with_name(f".{final.name}.{secrets.token_hex(6)}.old")
            os.rename(final, old)
            try:
                os.rename(staging, final)
            except BaseException:
                os.rename(old, final)
                raise
            # Only the tool's own earlier output (marked) or an empty folder gets here.
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_into_output_folder(target: Path, repo_root: Path, name: str, data: bytes, option: str = "--out") -> Path:
    """Write one file ``name`` into the output folder ``target`` (created and marked when
    new), replacing only that file, atomically."""
    if Path(name).name != name or name in ("", ".", "..", MARKER):
        raise OutputRefused(f"{name!r} is not a plain file name")
    folder = check_output_folder(target, repo_root, option)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not made_by_tool(folder):
            _mark(folder)
    except OSError as exc:
        raise OutputRefused(f"{option} {target}: cannot be created ({type(exc).__name__})") from None
    atomic.write(folder / name, data, mode=0o644)
    return folder / name
