"""`complaints rekey`: every case's contact details encrypted again to the keys now in
recipients.txt (after a handler joins or leaves), each file replaced atomically."""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from yaml.nodes import MappingNode, ScalarNode

from complaints.adapters import crypto
from complaints.adapters.cache import cache_dir
from complaints.adapters.locks import case_lock
from complaints.adapters.repository import Repository
from complaints.adapters.atomic import clear_stale_temp_files
from complaints.adapters.atomic import write as atomic_write
from complaints.commands.case_edit import (
    block_scalar, child, compose_mapping, load_case, newline_of, refuse_if_invalid, replace_node_text, repo_relpath, verify, yaml_scalar,
)  # fmt: skip
from complaints.errors import CaseError, ComplaintsError


@dataclass
class RekeyReport:
    rekeyed: list[str] = field(default_factory=list)  # repository-relative paths (to be, with dry_run)
    skipped: list[str] = field(default_factory=list)  # no contact details, or sample data
    failed: list[str] = field(default_factory=list)  # "path: reason", safe to print
    current: list[str] = field(default_factory=list)  # already encrypted to exactly these recipients
    dry_run: bool = False


# An age X25519 stanza does not name its recipient, so "already encrypted to these keys" cannot
# be read from a ciphertext: rekey remembers, by the ciphertext's hash, which set of keys it
# encrypted each one to. The record is kept with the result cache, outside the work tree (a
# state file that came with the repository could make rekey leave a removed key able to
# decrypt); without it (another clone, a cleared cache) a file is simply re-encrypted once more.
REKEY_STATE = "rekey-state.json"


def _rekey_state_path(root: Path) -> Path | None:
    folder = cache_dir(root)
    return None if folder is None else folder / REKEY_STATE


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recipients_digest(recipients: crypto.Recipients) -> str:
    return _digest("\n".join(sorted(recipients.keys)))


def _load_rekey_state(root: Path) -> dict[str, str]:
    path = _rekey_state_path(root)
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_rekey_state(root: Path, state: Mapping[str, str]) -> None:
    path = _rekey_state_path(root)
    if path is None:
        return
    with contextlib.suppress(OSError):  # only an optimisation: losing it costs one more rekey
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(dict(sorted(state.items())), indent=0).encode("utf-8"))


def _stanza_count(armored: str) -> int:
    body = "".join(line for line in armored.strip().splitlines()[1:-1])
    try:
        header = base64.b64decode(body, validate=False).split(b"\n---", 1)[0]
    except ValueError:
        return -1
    return sum(1 for line in header.split(b"\n") if line.startswith(b"-> X25519 "))


def replace_contact_text(text: str, armored: str, source: str = "case") -> str:
    """``text`` with the value of complainant.contact replaced by ``armored``; nothing else."""
    root = compose_mapping(text, source)
    complainant = child(root, "complainant")
    if complainant is None or not isinstance(complainant[1], MappingNode):
        raise CaseError(f"{source}::$.complainant: missing")
    found = child(complainant[1], "contact")
    if found is None:
        raise CaseError(f"{source}::$.complainant.contact: missing")
    key_node, value_node = found
    if isinstance(value_node, ScalarNode) and value_node.style == "|":
        replacement = block_scalar(armored, key_node.start_mark.column + 2, newline_of(text))
    else:
        replacement = yaml_scalar(armored)
    return replace_node_text(text, value_node, replacement)


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
        relpath = repo_relpath(repo, path)
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
    repo: Repository, path: Path, relpath: str, identities: Sequence[Any], recipients: crypto.Recipients, today: dt.date,
    state: Mapping[str, str], wanted: str, dry_run: bool,
) -> tuple[str, str | None]:
    """("rekeyed" | "current" | "skipped" | the reason it failed, the new ciphertext); the
    caller holds the case's lock."""
    try:
        old = path.read_bytes()
        case = load_case(old, relpath)
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
    data = verify(new_text, relpath, expected)
    refuse_if_invalid(data, relpath, repo, today)
    clear_stale_temp_files(path)
    atomic_write(path, data)
    return "rekeyed", armored
