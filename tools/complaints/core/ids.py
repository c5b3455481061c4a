"""Case ids: PREFIX-YYYYMMDD-XXXXX, chosen at random so that two people who record complaints
on the same day in separate pull requests do not pick the same one.

The prefix is the policy's ``organisation.id_prefix``, the date is the day the complaint was
received, and XXXXX are 5 characters of Crockford's base32 drawn from :mod:`secrets`
(25 bits: 33,554,432 possibilities per prefix and day). Nothing is counted or coordinated,
so branches never need to agree on a "next number"; see the README for the collision odds.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Callable

from complaints.errors import CaseError, ConfigError

# Crockford's base32: digits and upper-case letters without I, L, O and U, which are easily
# misread (I/L look like 1, O like 0) or spell words by accident (U).
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SUFFIX_LENGTH = 5
PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,7}")
# The one case-id pattern (the case schema's `id` pattern says the same, as a test checks):
# the prefix, the day received and SUFFIX_LENGTH characters of Crockford's base32.
CASE_ID_PATTERN = re.compile(rf"(?P<prefix>{PREFIX_PATTERN.pattern})-(?P<date>[0-9]{{8}})-(?P<suffix>[0-9A-HJKMNP-TV-Z]{{{SUFFIX_LENGTH}}})")
# Where a case file lives: cases/YYYY/ID.yml, YYYY the year it was received.
CASE_FILE_PATTERN = re.compile(r"cases/(?P<year>[0-9]{4})/(?P<id>[^/]+)\.yml")
# How often to draw again when the id is already taken in this working tree. With 2^25
# suffixes per day even a few thousand cases a day make a second draw rare; 20 failures in a
# row mean something other than chance (a broken random source, a test double).
MAX_DRAWS = 20

# Readers type codes by hand: accept the letters Crockford's alphabet folds into digits.
_FOLD = str.maketrans({"I": "1", "L": "1", "O": "0"})


def random_crockford(length: int, choice: Callable[[str], str] = secrets.choice) -> str:
    """``length`` characters of Crockford base32, each drawn independently from ``choice``."""
    return "".join(choice(CROCKFORD) for _ in range(length))


def fold_crockford(text: str) -> str:
    """Upper-case ``text``, drop spaces and hyphens, and read I/L as 1 and O as 0. Full-width
    letters and digits (as a Chinese input method types them) count as their ASCII forms."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", text)).upper().translate(_FOLD)


def make_case_id(prefix: str, received: dt.date, suffix: str) -> str:
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ConfigError(
            "policy.yml::$.organisation.id_prefix: must be an upper-case letter followed by at most 7 upper-case letters or digits"
        )
    case_id = f"{prefix}-{received:%Y%m%d}-{suffix}"
    if not CASE_ID_PATTERN.fullmatch(case_id):
        raise CaseError(f"{case_id}: not a case id of the form PREFIX-YYYYMMDD-XXXXX")
    return case_id


def case_year(case_id: str) -> str:
    """The folder under cases/ a case id belongs in: the year it was received."""
    match = CASE_ID_PATTERN.fullmatch(case_id)
    if match is None:
        raise CaseError(f"{case_id!r} is not a case id of the form PREFIX-YYYYMMDD-XXXXX")
    return match["date"][:4]


def case_relpath(case_id: str) -> Path:
    """cases/YYYY/ID.yml, relative to the repository root."""
    return Path("cases") / case_year(case_id) / f"{case_id}.yml"


def new_case_id(
    root: Path,
    prefix: str,
    received: dt.date,
    choice: Callable[[str], str] = secrets.choice,
) -> str:
    """A fresh id whose file does not exist yet under ``root``.

    Only this working tree can be checked; a duplicate made on another branch is caught by
    the repository check in CI, which names both files."""
    for _ in range(MAX_DRAWS):
        case_id = make_case_id(prefix, received, random_crockford(SUFFIX_LENGTH, choice))
        if not (root / case_relpath(case_id)).exists():
            return case_id
    raise CaseError(f"no free case id for {prefix}-{received:%Y%m%d} after {MAX_DRAWS} random draws")
