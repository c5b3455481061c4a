"""`complaints event`: a timeline event appended to a case (or an improvement suggestion added
or marked), in place and atomically, after the lifecycle allows it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping, Sequence

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from complaints.adapters.locks import case_lock
from complaints.adapters.repository import Repository
from complaints.adapters.atomic import clear_stale_temp_files
from complaints.adapters.atomic import write as atomic_write
from complaints.commands.case_edit import (
    child, compose_mapping, edit_case, last_line, load_case, newline_of, refuse_if_invalid, render_event_lines, replace_node_text, repo_relpath, verify, yaml_scalar,
)  # fmt: skip
from complaints.core import events, lifecycle
from complaints.core.textrules import text_problem
from complaints.errors import CaseError, ComplaintsError, TransitionError, UsageMistake


class EventFieldError(ComplaintsError):
    """The options given do not fit the event kind (missing or not applicable)."""


def event_kind(command: str) -> str:
    try:
        return events.EVENT_COMMANDS[command]
    except KeyError:
        raise EventFieldError(f"unknown event {command!r}; one of: {', '.join(events.EVENT_COMMANDS)}") from None


def build_event(command: str, date: dt.date, given: Mapping[str, Any]) -> dict[str, Any]:
    """The timeline item for `complaints event COMMAND`: kind, date, then the given fields in
    the schema's order (note last). Refuses a missing required field or one the kind lacks."""
    kind = event_kind(command)
    spec = events.EVENTS[kind]
    required, optional = spec.required, spec.optional
    present = {k: v for k, v in given.items() if v not in (None, (), [], "")}
    unknown = [k for k in present if k not in required and k not in optional]
    if unknown:
        names = ", ".join(events.option_name(k) for k in unknown)
        raise EventFieldError(f"'{command}' does not take {names}")
    missing = [k for k in required if k not in present]
    if missing:
        names = ", ".join(events.option_name(k) for k in missing)
        raise EventFieldError(f"'{command}' needs {names}")
    free_text = events.text_fields(kind)
    for name, value in present.items():
        problem = text_problem(value) if isinstance(value, str) and name in free_text else None
        if problem is not None:
            # The value is not echoed: free text may hold what must not reach a terminal log.
            raise EventFieldError(f"{events.option_name(name)}: {problem}")
    event: dict[str, Any] = {"kind": kind, "date": date.isoformat()}
    for name in (*required, *optional):
        if name in present and name != "note":
            value = present[name]
            event[name] = list(value) if isinstance(value, (list, tuple)) else value
    if "note" in present:
        event["note"] = present["note"]
    return event


def append_event(repo: Repository, case_id: str, event: Mapping[str, Any], today: dt.date) -> Path:
    """Append ``event`` to a case's timeline, in place and atomically; returns the file."""
    path = Path(repo.find_case(case_id))
    relpath = repo_relpath(repo, path)
    # Read, check and replace under the case's lock: a writer that got in first is read
    # here, so its event is kept and the transition is checked against it.
    with case_lock(Path(repo.root), relpath):
        if not path.is_file():
            raise CaseError(f"{relpath}: was removed or moved by another command meanwhile; nothing was written")
        clear_stale_temp_files(path)
        return _append_event_locked(repo, path, relpath, event, today)


def _append_event_locked(repo: Repository, path: Path, relpath: str, event: Mapping[str, Any], today: dt.date) -> Path:
    try:
        old = path.read_bytes()
    except OSError as exc:
        raise CaseError(f"{relpath}: cannot be read ({type(exc).__name__})") from None
    case = load_case(old, relpath)
    timeline = case.get("timeline")
    if not isinstance(timeline, list):
        raise CaseError(f"{relpath}::$.timeline: missing; the file must be fixed by hand first")
    reason = lifecycle.transition_problem(timeline, event)
    if reason is not None:
        raise TransitionError(f"{relpath}: cannot record '{event.get('kind')}': {reason}")
    old_text = old.decode("utf-8-sig")
    new_text = insert_event_text(old_text, event, relpath)
    expected = dict(case)
    expected["timeline"] = [*timeline, dict(event)]
    if "status" in case:
        # The optional status must agree with the timeline, so it moves with it.
        new_text, expected["status"] = _update_status(new_text, expected["timeline"], relpath)
    data = verify(new_text, relpath, expected)
    refuse_if_invalid(data, relpath, repo, today)
    atomic_write(path, data)
    return path


def _update_status(text: str, timeline: Sequence[Mapping[str, Any]], relpath: str) -> tuple[str, str]:
    state = lifecycle.derive_state(timeline)
    found = child(compose_mapping(text, relpath), "status")
    if found is None or not isinstance(found[1], ScalarNode) or found[1].start_mark.line != found[1].end_mark.line:
        raise CaseError(f"{relpath}::$.status: write it as one plain line (status: STATE) or remove it")
    return replace_node_text(text, found[1], state), state


def insert_event_text(text: str, event: Mapping[str, Any], source: str = "case") -> str:
    """``text`` with ``event`` added as new lines after the last item of the top-level
    ``timeline`` list. Nothing else changes."""
    root = compose_mapping(text, source)
    found = child(root, "timeline")
    if found is None or not isinstance(found[1], SequenceNode) or not found[1].value:
        raise CaseError(f"{source}::$.timeline: missing or empty; cannot append an event")
    sequence = found[1]
    if sequence.flow_style:
        raise CaseError(f"{source}::$.timeline: written as a [flow, list]; rewrite it as a block list (one '- ' item per event) to append events")
    last = sequence.value[-1]
    lines = text.splitlines(keepends=True)
    start_line = lines[last.start_mark.line]
    dash_prefix = start_line[: last.start_mark.column]
    if dash_prefix.strip() != "-":
        raise CaseError(f"{source}:{last.start_mark.line + 1}: the last timeline item is not laid out as '- key: value'; cannot append safely")
    insert_after = last_line(last)
    newline = newline_of(text)
    head = "".join(lines[: insert_after + 1])
    if not head.endswith("\n"):
        head += newline
    return head + render_event_lines(event, dash_prefix, newline) + "".join(lines[insert_after + 1 :])


# ---------------------------------------------------------------------------------------------
# Improvement suggestions (改进建议): added with `complaints event ID suggest`, adopted or
# rewarded later with `complaints event ID adopt`.


def _suggestion_item(suggestion: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"summary": suggestion["summary"], "adopted": bool(suggestion.get("adopted"))}
    if suggestion.get("rewarded"):
        item["rewarded"] = True
    return item


def add_suggestion(repo: Repository, case_id: str, suggestion: Mapping[str, Any], today: dt.date) -> Path:
    """Append an improvement suggestion to a case (a ``suggestions:`` list is started at the
    end of the file when there is none), in place and atomically; returns the file."""

    def edit(text: str, case: dict[str, Any], relpath: str) -> tuple[str, dict[str, Any]]:
        item = _suggestion_item(suggestion)
        expected = dict(case)
        existing = case.get("suggestions")
        if existing is None:
            newline = newline_of(text)
            body = text if text.endswith(("\n", "\r")) else text + newline
            new_text = body + "suggestions:" + newline + render_event_lines(item, "  - ", newline)
            expected["suggestions"] = [item]
            return new_text, expected
        if not isinstance(existing, list):
            raise CaseError(f"{relpath}::$.suggestions: must be a list; fix it by hand first")
        root = compose_mapping(text, relpath)
        found = child(root, "suggestions")
        assert found is not None
        sequence = found[1]
        if not isinstance(sequence, SequenceNode) or sequence.flow_style or not sequence.value:
            raise CaseError(f"{relpath}::$.suggestions: write it as a block list (one '- ' item per suggestion) to add one")
        last = sequence.value[-1]
        lines = text.splitlines(keepends=True)
        dash_prefix = lines[last.start_mark.line][: last.start_mark.column]
        if dash_prefix.strip() != "-":
            raise CaseError(f"{relpath}:{last.start_mark.line + 1}: the last suggestion is not laid out as '- key: value'; cannot add safely")
        after = last_line(last)
        newline = newline_of(text)
        head = "".join(lines[: after + 1])
        if not head.endswith("\n"):
            head += newline
        expected["suggestions"] = [*existing, item]
        return head + render_event_lines(item, dash_prefix, newline) + "".join(lines[after + 1 :]), expected

    return edit_case(repo, case_id, today, edit)


def mark_suggestion(repo: Repository, case_id: str, number: int, today: dt.date, *, adopted: bool, rewarded: bool) -> Path:
    """Set whether suggestion ``number`` (1-based) was adopted and rewarded; only its
    ``adopted`` and ``rewarded`` lines change (``rewarded`` is added when missing)."""

    def edit(text: str, case: dict[str, Any], relpath: str) -> tuple[str, dict[str, Any]]:
        existing = case.get("suggestions")
        count = len(existing) if isinstance(existing, list) else 0
        if not 1 <= number <= count:
            raise UsageMistake(f"--suggestion: {case_id} has {count} suggestion(s); give a number from 1 to {count}" if count
                               else f"--suggestion: {case_id} has no suggestions; add one with `complaints event {case_id} suggest --summary TEXT`")  # fmt: skip
        assert isinstance(existing, list)
        root = compose_mapping(text, relpath)
        found = child(root, "suggestions")
        assert found is not None and isinstance(found[1], SequenceNode)
        node = found[1].value[number - 1]
        if not isinstance(node, MappingNode) or node.flow_style:
            raise CaseError(f"{relpath}::$.suggestions[{number - 1}]: write it in block style (key: value lines) to change it")
        new_text = text
        # Edit from the end of the text backwards so earlier positions stay valid.
        edits: list[tuple[int, int, str]] = []
        for key, value in (("adopted", adopted), ("rewarded", rewarded)):
            present = child(node, key)
            if present is not None:
                edits.append((present[1].start_mark.index, present[1].end_mark.index, yaml_scalar(value)))
            elif value:
                end_line = last_line(node)
                lines = new_text.splitlines(keepends=True)
                offset = sum(len(line) for line in lines[: end_line + 1])
                indent = " " * node.value[0][0].start_mark.column
                prefix = "" if new_text[:offset].endswith("\n") else newline_of(text)
                edits.append((offset, offset, f"{prefix}{indent}{key}: true{newline_of(text)}"))
        for start, end, replacement in sorted(edits, reverse=True):
            new_text = new_text[:start] + replacement + new_text[end:]
        expected = dict(case)
        items = [dict(s) for s in existing]
        items[number - 1]["adopted"] = adopted
        if rewarded or "rewarded" in items[number - 1]:
            items[number - 1]["rewarded"] = rewarded
        expected["suggestions"] = items
        return new_text, expected

    return edit_case(repo, case_id, today, edit)