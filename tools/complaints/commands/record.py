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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from complaints.adapters import crypto
from complaints.adapters.atomic import clear_stale_temp_files
from complaints.adapters.atomic import create as atomic_create, write as atomic_write

from complaints.core import ids

from complaints.core import lifecycle

from complaints.core import receipt
from complaints.errors import CaseError, ComplaintsError, TransitionError, UsageMistake
from complaints.adapters.locks import case_lock
from complaints.adapters.yamlload import YamlError, load_yaml
from complaints.core.textrules import text_problem

if TYPE_CHECKING:
    from complaints.adapters.repository import Repository

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


class EventFieldError(ComplaintsError):
    """The options given do not fit the event kind (missing or not applicable)."""


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
    from complaints.checker.casefile import check_case_bytes

    result = check_case_bytes(data, relpath, repo.policy, today)
    if not result.ok:
        from complaints.render.validation import problem_line

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
    # Improvement suggestions (改进建议): mappings with summary, adopted and rewarded.
    suggestions: tuple[Mapping[str, Any], ...] = ()


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
    if new.suggestions:
        out.append("suggestions:")
        out += [render_event_lines(dict(s), "  - ").rstrip("\n") for s in new.suggestions]
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
    summary_problem = text_problem(new.summary) if new.summary else None
    if summary_problem is not None:
        raise CaseError(f"--summary: {summary_problem}")
    if new.received > today:
        raise CaseError(f"the date received ({new.received.isoformat()}) is after today ({today.isoformat()})")
    settings = repo.policy.receipt
    recipients = crypto.load_recipients(Path(repo.root)) if contact is not None else None
    armored = crypto.encrypt_contact(contact, recipients) if contact is not None and recipients is not None else None
    code = code_source()
    stored_hash = receipt.receipt_hash(code, settings)
    case_id, path = write_new_case(repo, new, armored, stored_hash, today)
    return CreatedCase(case_id, path, code, bool(recipients and recipients.placeholder))


def write_new_case(repo: Repository, new: NewCase, armored: str | None, stored_hash: str, today: dt.date) -> tuple[str, Path]:
    """Draw a free id and create its file (validated, atomically); the contact details are
    already ciphertext and the receipt code already hashed (`new` and `import` both)."""
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
        return case_id, root / relpath
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
    from complaints.adapters.schemas import load_schema

    definition = load_schema(root, "case").document["$defs"].get(f"event_{kind}")
    if not isinstance(definition, dict):
        raise EventFieldError(f"the case schema has no event kind {kind!r}")
    names = [name for name in definition.get("properties", {}) if name not in ("kind", "date")]
    required = tuple(name for name in names if name in definition.get("required", ()))
    optional = tuple(name for name in names if name not in required)
    return required, optional


_OPTION = {"from": "--from", "to": "--to", "measures": "--measure"}


# Event fields that hold free text rather than a key of the policy.
_FREE_TEXT = frozenset({"note", "summary", "reason"})


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
    for name, value in present.items():
        problem = text_problem(value) if isinstance(value, str) and name in _FREE_TEXT else None
        if problem is not None:
            # The value is not echoed: free text may hold what must not reach a terminal log.
            raise EventFieldError(f"{option_name(name)}: {problem}")
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
    rekeyed: list[str] = field(default_factory=list)  # repository-relative paths (to be, with dry_run)
    skipped: list[str] = field(default_factory=list)  # no contact details, or sample data
    failed: list[str] = field(default_factory=list)  # "path: reason", safe to print
    current: list[str] = field(default_factory=list)  # already encrypted to exactly these recipients
    dry_run: bool = False


# An age X25519 stanza does not name its recipient, so "already encrypted to these keys" cannot
# be read from a ciphertext: rekey remembers, by the ciphertext's hash, which set of keys it
# encrypted each one to. The record lives with the other derived data, outside git; without it
# (another clone, a cleared cache) a file is simply re-encrypted once more.
# Which ciphertexts this user's rekey already made for which set of keys (an age stanza does
# not name its recipient). Kept with the result cache, outside the work tree: a state file
# that came with the repository could make rekey leave a removed key able to decrypt.
REKEY_STATE = "rekey-state.json"


def _rekey_state_path(root: Path) -> Path | None:
    from complaints.adapters.cache import cache_dir

    folder = cache_dir(root)
    return None if folder is None else folder / REKEY_STATE


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recipients_digest(recipients: crypto.Recipients) -> str:
    return _digest("\n".join(sorted(recipients.keys)))


def _load_rekey_state(root: Path) -> dict[str, str]:
    import json

    path = _rekey_state_path(root)
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_rekey_state(root: Path, state: Mapping[str, str]) -> None:
    import json

    path = _rekey_state_path(root)
    if path is None:
        return
    with contextlib.suppress(OSError):  # only an optimisation: losing it costs one more rekey
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(dict(sorted(state.items())), indent=0).encode("utf-8"))


def _stanza_count(armored: str) -> int:
    import base64

    body = "".join(line for line in armored.strip().splitlines()[1:-1])
    try:
        header = base64.b64decode(body, validate=False).split(b"\n---", 1)[0]
    except ValueError:
        return -1
    return sum(1 for line in header.split(b"\n") if line.startswith(b"-> X25519 "))


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


def rekey(repo: Repository, identities: Sequence[Any], today: dt.date, *, dry_run: bool = False) -> RekeyReport:
    """Re-encrypt every case's contact details to the keys now in recipients.txt.

    Each file is decrypted with ``identities``, encrypted again and replaced atomically; a
    file that cannot be decrypted is reported and left as it is. Sample cases (sample: true)
    carry no real ciphertext and are skipped, and so is a ciphertext this command already
    encrypted to exactly the current keys. With ``dry_run`` nothing is written: the report
    says what would be re-encrypted (each file is still decrypted, to find the failures)."""
    recipients = crypto.load_recipients(Path(repo.root))
    wanted = _recipients_digest(recipients)
    state = _load_rekey_state(Path(repo.root))
    report = RekeyReport(dry_run=dry_run)
    for path in repo.case_paths():
        path = Path(path)
        relpath = _relpath(repo, path)
        if path.is_symlink() or not path.is_file():
            # Reading a FIFO would wait for ever; `validate` says what the entry is.
            report.failed.append(f"{relpath}: not a regular file (run `complaints validate`)")
            continue
        try:
            with case_lock(Path(repo.root), relpath):
                outcome, armored = _rekey_locked(repo, path, relpath, identities, recipients, today, state, wanted, dry_run)
        except ComplaintsError as exc:
            outcome, armored = (f"{relpath}: {exc}" if not str(exc).startswith(relpath) else str(exc)), None
        if outcome == "rekeyed":
            report.rekeyed.append(relpath)
            if armored is not None:
                state[_digest(armored.strip())] = wanted
        elif outcome == "current":
            report.current.append(relpath)
        elif outcome == "skipped":
            report.skipped.append(relpath)
        else:
            report.failed.append(outcome)
    if report.rekeyed and not dry_run:
        _save_rekey_state(Path(repo.root), state)
    return report


def _rekey_locked(
    repo: Repository, path: Path, relpath: str, identities: Sequence[Any], recipients: Any, today: dt.date,
    state: Mapping[str, str], wanted: str, dry_run: bool,
) -> tuple[str, str | None]:
    """("rekeyed" | "current" | "skipped" | the reason it failed, the new ciphertext); the
    caller holds the case's lock."""
    try:
        old = path.read_bytes()
        case = _load_case(old, relpath)
    except (OSError, ComplaintsError) as exc:
        return f"{relpath}: cannot be read ({type(exc).__name__})", None
    complainant = case.get("complainant")
    contact = complainant.get("contact") if isinstance(complainant, dict) else None
    if not isinstance(complainant, dict) or not isinstance(contact, str) or case.get("sample") is True:
        return "skipped", None
    if state.get(_digest(contact.strip())) == wanted and _stanza_count(contact) == len(recipients.keys):
        return "current", None
    plaintext = crypto.decrypt_contact(contact, identities)
    if dry_run:
        del plaintext
        return "rekeyed", None
    armored = crypto.encrypt_contact(plaintext, recipients)
    del plaintext
    new_text = replace_contact_text(old.decode("utf-8-sig"), armored, relpath)
    expected = dict(case)
    expected["complainant"] = {**complainant, "contact": armored}
    data = _verify(new_text, relpath, expected)
    _refuse_if_invalid(data, relpath, repo, today)
    clear_stale_temp_files(path)
    atomic_write(path, data)
    return "rekeyed", armored


# ---------------------------------------------------------------------------------------------
# Improvement suggestions (改进建议): added with `complaints event ID suggest`, adopted or
# rewarded later with `complaints event ID adopt`.


def _suggestion_item(suggestion: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"summary": suggestion["summary"], "adopted": bool(suggestion.get("adopted"))}
    if suggestion.get("rewarded"):
        item["rewarded"] = True
    return item


def _edit_case(repo: Repository, case_id: str, today: dt.date, edit: Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]) -> Path:
    path = Path(repo.find_case(case_id))
    relpath = _relpath(repo, path)
    try:
        old = path.read_bytes()
    except OSError as exc:
        raise CaseError(f"{relpath}: cannot be read ({type(exc).__name__})") from None
    case = _load_case(old, relpath)
    new_text, expected = edit(old.decode("utf-8-sig"), case, relpath)
    data = _verify(new_text, relpath, expected)
    _refuse_if_invalid(data, relpath, repo, today)
    atomic_write(path, data)
    return path


def add_suggestion(repo: Repository, case_id: str, suggestion: Mapping[str, Any], today: dt.date) -> Path:
    """Append an improvement suggestion to a case (a ``suggestions:`` list is started at the
    end of the file when there is none), in place and atomically; returns the file."""

    def edit(text: str, case: dict[str, Any], relpath: str) -> tuple[str, dict[str, Any]]:
        item = _suggestion_item(suggestion)
        expected = dict(case)
        existing = case.get("suggestions")
        if existing is None:
            newline = _newline(text)
            body = text if text.endswith(("\n", "\r")) else text + newline
            new_text = body + "suggestions:" + newline + render_event_lines(item, "  - ", newline)
            expected["suggestions"] = [item]
            return new_text, expected
        if not isinstance(existing, list):
            raise CaseError(f"{relpath}::$.suggestions: must be a list; fix it by hand first")
        root = _compose(text, relpath)
        found = _child(root, "suggestions")
        assert found is not None
        sequence = found[1]
        if not isinstance(sequence, SequenceNode) or sequence.flow_style or not sequence.value:
            raise CaseError(f"{relpath}::$.suggestions: write it as a block list (one '- ' item per suggestion) to add one")
        last = sequence.value[-1]
        lines = text.splitlines(keepends=True)
        dash_prefix = lines[last.start_mark.line][: last.start_mark.column]
        if dash_prefix.strip() != "-":
            raise CaseError(f"{relpath}:{last.start_mark.line + 1}: the last suggestion is not laid out as '- key: value'; cannot add safely")
        after = _last_line(last)
        newline = _newline(text)
        head = "".join(lines[: after + 1])
        if not head.endswith("\n"):
            head += newline
        expected["suggestions"] = [*existing, item]
        return head + render_event_lines(item, dash_prefix, newline) + "".join(lines[after + 1 :]), expected

    return _edit_case(repo, case_id, today, edit)


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
        root = _compose(text, relpath)
        found = _child(root, "suggestions")
        assert found is not None and isinstance(found[1], SequenceNode)
        node = found[1].value[number - 1]
        if not isinstance(node, MappingNode) or node.flow_style:
            raise CaseError(f"{relpath}::$.suggestions[{number - 1}]: write it in block style (key: value lines) to change it")
        new_text = text
        # Edit from the end of the text backwards so earlier positions stay valid.
        edits: list[tuple[int, int, str]] = []
        for key, value in (("adopted", adopted), ("rewarded", rewarded)):
            child = _child(node, key)
            if child is not None:
                edits.append((child[1].start_mark.index, child[1].end_mark.index, yaml_scalar(value)))
            elif value:
                last_line = _last_line(node)
                lines = new_text.splitlines(keepends=True)
                offset = sum(len(line) for line in lines[: last_line + 1])
                indent = " " * node.value[0][0].start_mark.column
                prefix = "" if new_text[:offset].endswith("\n") else _newline(text)
                edits.append((offset, offset, f"{prefix}{indent}{key}: true{_newline(text)}"))
        for start, end, replacement in sorted(edits, reverse=True):
            new_text = new_text[:start] + replacement + new_text[end:]
        expected = dict(case)
        items = [dict(s) for s in existing]
        items[number - 1]["adopted"] = adopted
        if rewarded or "rewarded" in items[number - 1]:
            items[number - 1]["rewarded"] = rewarded
        expected["suggestions"] = items
        return new_text, expected

    return _edit_case(repo, case_id, today, edit)
