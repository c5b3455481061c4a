"""Writing case files: `complaints new` creates one, `complaints event` appends a timeline
event, `complaints rekey` re-encrypts contact details.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import crypto, ids, lifecycle, receipt
from .errors import CaseError, ComplaintsError, TransitionError
from .locks import case_lock
from .yamlload import YamlError, load_yaml

if TYPE_CHECKING:
    from .repository import Repository

MODELINE = "# yaml-language-server: $schema=../../schema/case.schema.json"
CONTACT_COMMENT = "# Contact details exist only as an age ciphertext to the handling team's keys (recipients.txt)."

# `complaints event KIND`: the word a person types -> the timeline kind written to the file.
EVENT_COMMANDS: dict[str, str] = {
    "acknowledge": "acknowledged",
    "accept": "accepted",
    "not-accept": "not_accepted",
    "assign": "assigned",
    "transfer": "transferred",
    "extend": "extended",
    "pause": "paused",
    "resume": "resumed",
    "resolve": "resolved",
    "follow-up": "followed_up",
    "review": "review_requested",
    "review-answer": "review_answered",
    "close": "closed",
    "protection-check": "protection_check",
}

# Fields given on the command line; which ones a kind takes comes from the case schema.
EVENT_FIELDS: tuple[str, ...] = (
    "reason", "department", "handler", "from", "to", "stage", "days",
    "approver", "outcome", "measures", "satisfaction", "summary", "note",
)  # fmt: skip

_PLAIN = re.compile(r"[a-z][a-z0-9_-]{0,39}|[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TEMP_SUFFIX = ".tmp"


class EventFieldError(ComplaintsError):
    """The options given do not fit the event kind (missing or not applicable)."""


# ---------------------------------------------------------------------------------------------
# Atomic writes


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def stale_temp_files(path: Path) -> list[Path]:
    """Temporary files an interrupted write of ``path`` left behind."""
    if not path.parent.is_dir():
        return []
    prefix = _temp_prefix(path)
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(_TEMP_SUFFIX))


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clear_stale_temp_files(path: Path) -> None:
    """Remove what interrupted writes of ``path`` left behind. Only for a caller holding the
    case's lock (locks.case_lock): every writer holds it while its temporary file exists, so
    any other temporary file is a dead writer's, never a live one's."""
    for leftover in stale_temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Its name starts with a dot, so no case glob ever picks it up; a crash between writing
    # and renaming leaves it, and the next locked write of the same file clears it.
    fd, name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=_TEMP_SUFFIX, dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    return temp


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new, never a mix."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    temp = _write_temp(path, data, mode)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_create(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create ``path`` with ``data`` in one step; FileExistsError if it already exists."""
    temp = _write_temp(path, data, mode)
    try:
        os.link(temp, path)  # a hard link never overwrites: the file appears whole or not at all
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    _fsync_dir(path.parent)


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


def _flow_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(yaml_scalar(v) for v in values) + "]"


def _field_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return _flow_list(value)
    if isinstance(value, (str, int, bool)):
        return yaml_scalar(value)
    raise CaseError(f"internal error: cannot write a {type(value).__name__} value")


def _compose(text: str, source: str) -> MappingNode:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(node, MappingNode):
        raise CaseError(f"{source}: a case file must be a mapping")
    return node


def _child(node: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _last_line(node: Node) -> int:
    """The 0-based line holding the last character of ``node``'s text."""
    if isinstance(node, MappingNode) and node.flow_style is False and node.value:
        return _last_line(node.value[-1][1])
    if isinstance(node, SequenceNode) and node.flow_style is False and node.value:
        return _last_line(node.value[-1])
    end = node.end_mark
    # A block scalar's end is the start of the line after it.
    return int(end.line) - 1 if end.column == 0 else int(end.line)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def render_event_lines(event: Mapping[str, Any], dash_prefix: str, newline: str = "\n") -> str:
    """A timeline item in block style: ``dash_prefix`` is the text before the first key,
    e.g. ``"  - "``; later keys line up under the first."""
    indent = " " * len(dash_prefix)
    lines = []
    for index, (key, value) in enumerate(event.items()):
        lines.append(f"{dash_prefix if index == 0 else indent}{key}: {_field_text(value)}")
    return newline.join(lines) + newline


def insert_event_text(text: str, event: Mapping[str, Any], source: str = "case") -> str:
    """``text`` with ``event`` added as new lines after the last item of the top-level
    ``timeline`` list. Nothing else changes."""
    root = _compose(text, source)
    found = _child(root, "timeline")
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
    insert_after = _last_line(last)
    newline = _newline(text)
    head = "".join(lines[: insert_after + 1])
    if not head.endswith("\n"):
        head += newline
    return head + render_event_lines(event, dash_prefix, newline) + "".join(lines[insert_after + 1 :])


def _replace_node_text(text: str, node: Node, replacement: str) -> str:
    return text[: node.start_mark.index] + replacement + text[node.end_mark.index :]


def _block_scalar(value: str, indent: int, newline: str) -> str:
    pad = " " * indent
    return "|" + newline + "".join(f"{pad}{line}{newline}" for line in value.rstrip("\n").split("\n"))


# ---------------------------------------------------------------------------------------------
# Checking before writing


def _refuse_if_invalid(data: bytes, relpath: str, repo: Repository, today: dt.date) -> None:
    from .checker import check_case_bytes

    result = check_case_bytes(data, relpath, repo.policy, today)
    if not result.ok:
        from .reporter import problem_line

        lines = [problem_line(p) for p in result.problems]
        raise CaseError("the result would not validate; nothing was written:\n" + "\n".join(lines))


def _load_case(data: bytes, relpath: str) -> dict[str, Any]:
    try:
        case = load_yaml(data, relpath)
    except YamlError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise CaseError(f"{relpath}{where}: {exc.message}") from None
    if not isinstance(case, dict):
        raise CaseError(f"{relpath}: a case file must be a mapping")
    return case


def _verify(new_text: str, relpath: str, expected: Mapping[str, Any]) -> bytes:
    data = new_text.encode("utf-8")
    if _load_case(data, relpath) != expected:
        raise CaseError(f"{relpath}: internal error: the edited text does not read back as intended; nothing was written")
    return data


def _relpath(repo: Repository, path: Path) -> str:
    try:
        return path.resolve().relative_to(Path(repo.root).resolve()).as_posix()
    except ValueError:
        return path.as_posix()


# ---------------------------------------------------------------------------------------------
# complaints new


@dataclass(frozen=True)
class NewCase:
    """What `complaints new` asks for. The contact details travel separately, as bytes that
    are encrypted before anything is written."""

    channel: str
    category: str
    departments: tuple[str, ...]
    priority: str
    received: dt.date
    anonymous: bool
    handler: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class CreatedCase:
    case_id: str
    path: Path
    receipt_code: str  # shown once to hand to the complainant; only its hash is stored
    placeholder_recipients: bool  # recipients.txt still holds the template's sample key


def render_new_case(case_id: str, new: NewCase, contact: str | None, receipt_hash: str) -> str:
    """The text of a new case file (its only event: received)."""
    out = [MODELINE, f"id: {case_id}", f"channel: {yaml_scalar(new.channel)}", "complainant:"]
    out.append(f"  anonymous: {yaml_scalar(new.anonymous)}")
    if contact is not None:
        out.append(f"  {CONTACT_COMMENT}")
        out.append("  contact: " + _block_scalar(contact, 4, "\n").rstrip("\n"))
    out.append(f"  receipt_hash: {receipt_hash}")
    out += ["subject:", f"  category: {yaml_scalar(new.category)}", f"  departments: {_flow_list(new.departments)}"]
    if new.summary:
        out.append(f"  summary: {yaml_scalar(new.summary)}")
    out.append(f"priority: {yaml_scalar(new.priority)}")
    if new.handler:
        out.append(f"handler: {yaml_scalar(new.handler)}")
    out += ["timeline:", "  - kind: received", f"    date: {new.received.isoformat()}"]
    return "\n".join(out) + "\n"


def create_case(
    repo: Repository,
    new: NewCase,
    contact: bytes | None,
    today: dt.date,
    code_source: Callable[[], str] = receipt.new_code,
) -> CreatedCase:
    """Write a new case file at cases/YYYY/ID.yml and return its id, path and receipt code."""
    if new.anonymous and contact is not None:
        raise CaseError("an anonymous complaint has no contact details; drop --contact-file/--contact-stdin or use --named")
    if new.received > today:
        raise CaseError(f"the date received ({new.received.isoformat()}) is after today ({today.isoformat()})")
    settings = receipt.ReceiptSettings.from_policy(repo.policy.raw)
    recipients = crypto.load_recipients(Path(repo.root)) if contact is not None else None
    armored = crypto.encrypt_contact(contact, recipients) if contact is not None and recipients is not None else None
    code = code_source()
    stored_hash = receipt.receipt_hash(code, settings)
    root = Path(repo.root)
    for _ in range(ids.MAX_DRAWS):
        case_id = ids.new_case_id(root, repo.policy.id_prefix, new.received)
        relpath = ids.case_relpath(case_id)
        text = render_new_case(case_id, new, armored, stored_hash)
        data = text.encode("utf-8")
        _refuse_if_invalid(data, relpath.as_posix(), repo, today)
        try:
            with case_lock(root, relpath.as_posix()):
                clear_stale_temp_files(root / relpath)
                atomic_create(root / relpath, data)
        except FileExistsError:
            continue  # someone took the id between the check and the write: draw again
        return CreatedCase(case_id, root / relpath, code, bool(recipients and recipients.placeholder))
    raise CaseError(f"no free case id after {ids.MAX_DRAWS} draws")


# ---------------------------------------------------------------------------------------------
# complaints event


def event_kind(command: str) -> str:
    try:
        return EVENT_COMMANDS[command]
    except KeyError:
        raise EventFieldError(f"unknown event {command!r}; one of: {', '.join(EVENT_COMMANDS)}") from None


def event_schema_fields(root: Path, kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional) fields of a timeline event kind, besides kind and date, read from
    schema/case.schema.json so that the command and the validator cannot disagree."""
    from .schemas import load_schema

    definition = load_schema(root, "case").document["$defs"].get(f"event_{kind}")
    if not isinstance(definition, dict):
        raise EventFieldError(f"the case schema has no event kind {kind!r}")
    names = [name for name in definition.get("properties", {}) if name not in ("kind", "date")]
    required = tuple(name for name in names if name in definition.get("required", ()))
    optional = tuple(name for name in names if name not in required)
    return required, optional


_OPTION = {"from": "--from", "to": "--to", "measures": "--measure"}


def option_name(field_name: str) -> str:
    return _OPTION.get(field_name, "--" + field_name)


def build_event(root: Path, command: str, date: dt.date, given: Mapping[str, Any]) -> dict[str, Any]:
    """The timeline item for `complaints event COMMAND`: kind, date, then the given fields in
    the schema's order (note last). Refuses a missing required field or one the kind lacks."""
    kind = event_kind(command)
    required, optional = event_schema_fields(root, kind)
    present = {k: v for k, v in given.items() if v not in (None, (), [], "")}
    unknown = [k for k in present if k not in required and k not in optional]
    if unknown:
        names = ", ".join(option_name(k) for k in unknown)
        raise EventFieldError(f"'{command}' does not take {names}")
    missing = [k for k in required if k not in present]
    if missing:
        names = ", ".join(option_name(k) for k in missing)
        raise EventFieldError(f"'{command}' needs {names}")
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
    relpath = _relpath(repo, path)
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
    case = _load_case(old, relpath)
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
    data = _verify(new_text, relpath, expected)
    _refuse_if_invalid(data, relpath, repo, today)
    atomic_write(path, data)
    return path


def _update_status(text: str, timeline: Sequence[Mapping[str, Any]], relpath: str) -> tuple[str, str]:
    state = lifecycle.derive_state(timeline)
    found = _child(_compose(text, relpath), "status")
    if found is None or not isinstance(found[1], ScalarNode) or found[1].start_mark.line != found[1].end_mark.line:
        raise CaseError(f"{relpath}::$.status: write it as one plain line (status: STATE) or remove it")
    return _replace_node_text(text, found[1], state), state


# ---------------------------------------------------------------------------------------------
# complaints reveal / rekey


def reveal_contact(repo: Repository, case_id: str, identities: Sequence[Any]) -> bytes:
    """The decrypted contact details of one case (for a handler holding a private key)."""
    path = Path(repo.find_case(case_id))
    relpath = _relpath(repo, path)
    case = _load_case(path.read_bytes(), relpath)
    complainant = case.get("complainant")
    contact = complainant.get("contact") if isinstance(complainant, dict) else None
    if not isinstance(contact, str):
        raise CaseError(f"{relpath}::$.complainant.contact: this case has no contact details")
    try:
        return crypto.decrypt_contact(contact, identities)
    except crypto.DecryptionError as exc:
        raise crypto.DecryptionError(f"{relpath}::$.complainant.contact: {exc}") from None


def write_private_file(path: Path, data: bytes, repo_root: Path) -> None:
    """Write decrypted data to a new file only its owner can read, outside the repository
    (where it could be committed by mistake). Never overwrites."""
    target = path.resolve()
    root = Path(repo_root).resolve()
    if target == root or root in target.parents:
        raise ComplaintsError(f"{path}: refusing to write decrypted details inside the case repository; choose a path outside it")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ComplaintsError(f"{path}: already exists; not overwritten") from None
    except OSError as exc:
        raise ComplaintsError(f"{path}: cannot be created ({type(exc).__name__})") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass
class RekeyReport:
    rekeyed: list[str] = field(default_factory=list)  # repository-relative paths
    skipped: list[str] = field(default_factory=list)  # no contact details, or sample data
    failed: list[str] = field(default_factory=list)  # "path: reason", safe to print


def replace_contact_text(text: str, armored: str, source: str = "case") -> str:
    """``text`` with the value of complainant.contact replaced by ``armored``; nothing else."""
    root = _compose(text, source)
    complainant = _child(root, "complainant")
    if complainant is None or not isinstance(complainant[1], MappingNode):
        raise CaseError(f"{source}::$.complainant: missing")
    found = _child(complainant[1], "contact")
    if found is None:
        raise CaseError(f"{source}::$.complainant.contact: missing")
    key_node, value_node = found
    if isinstance(value_node, ScalarNode) and value_node.style == "|":
        replacement = _block_scalar(armored, key_node.start_mark.column + 2, _newline(text))
    else:
        replacement = yaml_scalar(armored)
    return _replace_node_text(text, value_node, replacement)


def rekey(repo: Repository, identities: Sequence[Any], today: dt.date) -> RekeyReport:
    """Re-encrypt every case's contact details to the keys now in recipients.txt.

    Each file is decrypted with ``identities``, encrypted again and replaced atomically; a
    file that cannot be decrypted is reported and left as it is. Sample cases (sample: true)
    carry no real ciphertext and are skipped."""
    recipients = crypto.load_recipients(Path(repo.root))
    report = RekeyReport()
    for path in repo.case_paths():
        path = Path(path)
        relpath = _relpath(repo, path)
        try:
            with case_lock(Path(repo.root), relpath):
                outcome = _rekey_locked(repo, path, relpath, identities, recipients, today)
        except ComplaintsError as exc:
            outcome = f"{relpath}: {exc}" if not str(exc).startswith(relpath) else str(exc)
        if outcome == "rekeyed":
            report.rekeyed.append(relpath)
        elif outcome == "skipped":
            report.skipped.append(relpath)
        else:
            report.failed.append(outcome)
    return report


def _rekey_locked(repo: Repository, path: Path, relpath: str, identities: Sequence[Any], recipients: Any, today: dt.date) -> str:
    """"rekeyed", "skipped" or the reason it failed; the caller holds the case's lock."""
    try:
        old = path.read_bytes()
        case = _load_case(old, relpath)
    except (OSError, ComplaintsError) as exc:
        return f"{relpath}: cannot be read ({type(exc).__name__})"
    complainant = case.get("complainant")
    contact = complainant.get("contact") if isinstance(complainant, dict) else None
    if not isinstance(complainant, dict) or not isinstance(contact, str) or case.get("sample") is True:
        return "skipped"
    plaintext = crypto.decrypt_contact(contact, identities)
    armored = crypto.encrypt_contact(plaintext, recipients)
    del plaintext
    new_text = replace_contact_text(old.decode("utf-8-sig"), armored, relpath)
    expected = dict(case)
    expected["complainant"] = {**complainant, "contact": armored}
    data = _verify(new_text, relpath, expected)
    _refuse_if_invalid(data, relpath, repo, today)
    clear_stale_temp_files(path)
    atomic_write(path, data)
    return "rekeyed"
