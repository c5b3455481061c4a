"""`complaints keygen`: a handler's age X25519 key pair, without installing `age`.

The private key goes to a file only its owner can read, never into a repository (a work tree of
git, or a folder holding policy.yml, anywhere above it); the public key is what recipients.txt
lists. The file has the layout `age-keygen` writes, so `age -d -i FILE` reads it as well.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from complaints.adapters.crypto import RECIPIENTS_FILE, new_identity
from complaints.errors import ComplaintsError, UsageMistake
from complaints.core.policy import POLICY_FILE


@dataclass(frozen=True)
class NewKey:
    path: Path  # the identity file written
    public_key: str  # age1...

    @property
    def recipients_line(self) -> str:
        """The line to add to recipients.txt (the comment names the file, not the person)."""
        return f"{self.public_key}  # {self.path.name}"


def enclosing_repository(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` that is a git work tree or a case repository."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists() or (folder / POLICY_FILE).is_file():
            return folder
    return None


def make_key(out: Path, *, created: str | None = None) -> NewKey:
    """Write a new age identity to ``out`` (mode 600, never overwriting, never inside a
    repository) and return its public key. ``created`` is the timestamp for the file's comment
    (the caller reads the clock)."""
    target = out.expanduser().absolute()
    if target.exists() or target.is_symlink():
        raise UsageMistake(f"--out {out}: already exists; keygen never overwrites a key (choose another name)")
    if not target.parent.is_dir():
        raise UsageMistake(f"--out {out}: the folder {target.parent} does not exist")
    inside = enclosing_repository(target.parent.resolve())
    if inside is not None:
        raise UsageMistake(
            f"--out {out}: inside the repository {inside}; a private key must never be committed. "
            f"Write it to a private folder outside any repository, e.g. ~/.config/complaints/key.txt"
        )
    secret, public = new_identity()
    lines = [f"# created: {created}"] if created else []
    lines += [f"# public key: {public}", f"# add the public key to {RECIPIENTS_FILE}; keep this file private", secret]
    data = ("\n".join(lines) + "\n").encode("ascii")
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise UsageMistake(f"--out {out}: already exists; keygen never overwrites a key (choose another name)") from None
    except OSError as exc:
        raise ComplaintsError(f"{out}: cannot be created ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(target, 0o600)  # the umask may have narrowed it further; never wider
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise ComplaintsError(f"{out}: cannot be written ({exc.strerror})") from None
    return NewKey(target, public)
