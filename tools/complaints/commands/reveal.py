"""`complaints reveal`: one case's contact details, decrypted for a handler holding a key."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from complaints.adapters import crypto
from complaints.adapters.repository import Repository
from complaints.commands.case_edit import load_case, repo_relpath
from complaints.errors import CaseError, ComplaintsError


def reveal_contact(repo: Repository, case_id: str, identities: Sequence[Any]) -> bytes:
    """The decrypted contact details of one case (for a handler holding a private key)."""
    path = Path(repo.find_case(case_id))
    relpath = repo_relpath(repo, path)
    case = load_case(path.read_bytes(), relpath)
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
