"""Editing a case file in place: what `complaints new`, `event` and `rekey` share.

Every change is made to the text, not by re-dumping parsed data, so a file keeps its comments,
key order and layout: an event is inserted as new lines after the last timeline item, a
ciphertext replaces only its own lines. The result is parsed again and must equal the old
data plus exactly the intended change, and must pass the full validator, before it replaces
the file. The replacement is atomic (a temporary file in the same folder, fsync, os.replace),
so a crash leaves either the old file or the new one, never half of each.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from complaints.adapters.atomic import clear_stale_temp_files
from complaints.adapters.atomic import create as atomic_create, write as atomic_write
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import YamlError, load_yaml
from complaints.checker.casefile import check_case_bytes
from complaints.checker.result import problem_line
from complaints.errors import CaseError

_PLAIN = re.compile(r"[a-z][a-z0-9_-]{0,39}|[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ---------------------------------------------------------------------------------------------
# YAML text


def yaml_scalar(value: str | int | bool) -> str:
    """``value`` as a YAML scalar that reads back as exactly the same value, on one line.

    Keys and dates stay plain (as people write them); anything else, free text above all, is
    double-quoted with every special character escaped, so newlines, ``#``, ``: ``, quotes,
    ``---`` or control characters can never change the document's structure."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN.fullmatch(value) and value not in ("true", "false", "null"):
        try:
            back = yaml.safe_load(value)
        except (yaml.YAMLError, ValueError):  # e.g. 2026-13-45 looks like a date but is not one
            back = None
        if back == value or (isinstance(back, dt.date) and back.isoformat() == value):
            return value
    dumped = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=1 << 30)
    dumped = dumped.rstrip("\n")
    if dumped.endswith("\n..."):
        dumped = dumped[: -len("\n...")]
    if "\n" in dumped:  # pragma: no cover - PyYAML escapes line breaks inside double quotes
        raise CaseError("internal error: a scalar did not fit on one line")
    return dumped


def flow_list(values: Sequence[str]) -> str:
    """A list on one line, ``[a, b]``: how case files write departments and measures."""
    return "[" + ", ".join(yaml_scalar(v) for v in values) + "]"


def _field_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return flow_list(value)
    if isinstance(value, (str, int, bool)):
        return yaml_scalar(value)
    raise CaseError(f"internal error: cannot write a {type(value).__name__} value")


def compose_mapping(text: str, source: str) -> MappingNode:
    """The node tree of a case file, whose marks say where each value's text is."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, MappingNode):
        raise CaseError(f"{source}: a case file must be a mapping")
    return node


def child(node: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    """The (key, value) nodes of ``key`` in a mapping node, or None."""
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def last_line(node: Node) -> int:
    """The 0-based line holding the last character of ``node``'s text."""
    if isinstance(node, MappingNode) and node.flow_style is False and node.value:
        return last_line(node.value[-1][1])
    if isinstance(node, SequenceNode) and node.flow_style is False and node.value:
        return last_line(node.value[-1])
    end = node.end_mark
    # A block scalar's end is the start of the line after it.
    return int(end.line) - 1 if end.column == 0 else int(end.line)


def newline_of(text: str) -> str:
    """The line ending a file uses, so inserted lines match it."""
    return "\r\n" if "\r\n" in text else "\n"


def render_event_lines(event: Mapping[str, Any], dash_prefix: str, newline: str = "\n") -> str:
    """A timeline item in block style: ``dash_prefix`` is the text before the first key,
    e.g. ``"  - "``; later keys line up under the first."""
    indent = " " * len(dash_prefix)
    lines = []
    for index, (key, value) in enumerate(event.items()):
        lines.append(f"{dash_prefix if index == 0 else indent}{key}: {_field_text(value)}")
    return newline.join(lines) + newline


def replace_node_text(text: str, node: Node, replacement: str) -> str:
    """``text`` with exactly the characters of ``node`` replaced."""
    return text[: node.start_mark.index] + replacement + text[node.end_mark.index :]


def block_scalar(value: str, indent: int, newline: str) -> str:
    """A literal block (``|``), as the armoured ciphertext is written."""
    pad = " " * indent
    return "|" + newline + "".join(f"{pad}{line}{newline}" for line in value.rstrip("\n").split("\n"))


# ---------------------------------------------------------------------------------------------
# Checking before writing


def refuse_if_invalid(data: bytes, relpath: str, repo: Repository, today: dt.date) -> None:
    """Raise with the validator's own messages unless the new text passes it as it stands."""
    result = check_case_bytes(data, relpath, repo.policy, today)
    if not result.ok:
        lines = [problem_line(p) for p in result.problems]
        raise CaseError("the result would not validate; nothing was written:\n" + "\n".join(lines))


def load_case(data: bytes, relpath: str) -> dict[str, Any]:
    """A case file read strictly; a file that is not a mapping cannot be edited."""
    try:
        case = load_yaml(data, relpath)
    except YamlError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise CaseError(f"{relpath}{where}: {exc.message}") from None
    if not isinstance(case, dict):
        raise CaseError(f"{relpath}: a case file must be a mapping")
    return case


def verify(new_text: str, relpath: str, expected: Mapping[str, Any]) -> bytes:
    """The edited text as bytes, once it reads back as exactly the intended data."""
    data = new_text.encode("utf-8")
    if load_case(data, relpath) != expected:
        raise CaseError(f"{relpath}: internal error: the edited text does not read back as intended; nothing was written")
    return data


def repo_relpath(repo: Repository, path: Path) -> str:
    """``path`` relative to the repository, as every message names a file."""
    try:
        return path.resolve().relative_to(Path(repo.root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def edit_case(repo: Repository, case_id: str, today: dt.date, edit: Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]) -> Path:
    """Apply ``edit`` (text, data, relpath) -> (new text, expected data) to a case file:
    verified, validated and replaced atomically; returns the file."""
    path = Path(repo.find_case(case_id))
    relpath = repo_relpath(repo, path)
    try:
        old = path.read_bytes()
    except OSError as exc:
        raise CaseError(f"{relpath}: cannot be read ({type(exc).__name__})") from None
    case = load_case(old, relpath)
    new_text, expected = edit(old.decode("utf-8-sig"), case, relpath)
    data = verify(new_text, relpath, expected)
    refuse_if_invalid(data, relpath, repo, today)
    atomic_write(path, data)
    return path
