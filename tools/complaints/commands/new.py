"""`complaints new` (and `import`): a new case file, written once, validated, atomically."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from complaints.adapters import crypto
from complaints.adapters.locks import case_lock
from complaints.adapters.repository import Repository
from complaints.adapters.atomic import clear_stale_temp_files
from complaints.adapters.atomic import create as atomic_create
from complaints.commands.case_edit import block_scalar, flow_list, refuse_if_invalid, render_event_lines, yaml_scalar
from complaints.core import ids, receipt
from complaints.core.textrules import text_problem
from complaints.errors import CaseError

MODELINE = "# yaml-language-server: $schema=../../schema/case.schema.json"
CONTACT_COMMENT = "# Contact details exist only as an age ciphertext to the handling team's keys (recipients.txt)."


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
        out.append("  contact: " + block_scalar(contact, 4, "\n").rstrip("\n"))
    out.append(f"  receipt_hash: {receipt_hash}")
    out += ["subject:", f"  category: {yaml_scalar(new.category)}", f"  departments: {flow_list(new.departments)}"]
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
        refuse_if_invalid(data, relpath.as_posix(), repo, today)
        try:
            with case_lock(root, relpath.as_posix()):
                clear_stale_temp_files(root / relpath)
                atomic_create(root / relpath, data)
        except FileExistsError:
            continue  # someone took the id between the check and the write: draw again
        return case_id, root / relpath
    raise CaseError(f"no free case id after {ids.MAX_DRAWS} draws")
