"""Receipt codes: how a complainant, anonymous or not, follows a case without a server.

``complaints new`` hands the complainant a random code once (16 Crockford base32 characters,
80 bits, printed as four groups of four). The case keeps only
``pbkdf2-sha256$ITERATIONS$HEX``: PBKDF2-HMAC-SHA256 of the normalized code with the site-wide
salt from policy.yml, deliberately slow. The published site carries a table from those hashes
to a coarse state and the month of the next promised step; the "check my complaint" page
derives the same hash in the browser (WebCrypto's PBKDF2, no script from elsewhere) and looks
it up. The README's threat model explains the choices.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, Sequence

from complaints.core.calendar import WorkCalendar
from complaints.core.deadlines import case_stages
from complaints.core.events import coarse_after
from complaints.core.ids import CROCKFORD, fold_crockford, random_crockford
from complaints.core.policy import MIN_ITERATIONS as MIN_ITERATIONS, Policy, ReceiptSettings as ReceiptSettings
from complaints.errors import CalendarError, ComplaintsError

CODE_LENGTH = 16  # characters; 5 bits each, 80 bits in all
GROUP = 4
HASH_PATTERN = re.compile(r"pbkdf2-sha256\$([0-9]{4,8})\$([0-9a-f]{64})")
TABLE_FILE = "receipts.json"
TABLE_FORMAT = 2
SHARD_FOLDER = "receipts"
# Rows per shard, on average: a shard is picked by the first bits of the slow hash, as many
# bits as keep the average in [SHARD_ROWS, 2 * SHARD_ROWS). Enough rows that fetching a shard
# tells the web host little (the code's case is one of some hundreds), few enough that a
# lookup downloads a few tens of kilobytes at any archive size.
SHARD_ROWS = 200
MAX_SHARD_BITS = 24

# Coarse states, in the order a case moves through them: all a complainant (or anyone who
# guesses their code) can learn. Finer states (paused, transferred, under review...) stay
# internal, because they describe the handling rather than where the case stands.
COARSE_STATES: tuple[str, ...] = ("received", "accepted", "in_progress", "resolved", "closed")


class ReceiptCodeError(ComplaintsError):
    """A typed receipt code is not 16 Crockford base32 characters."""


def new_code() -> str:
    """A fresh receipt code, grouped for reading aloud: XXXX-XXXX-XXXX-XXXX."""
    return format_code(random_crockford(CODE_LENGTH))


def format_code(normalized: str) -> str:
    return "-".join(normalized[i : i + GROUP] for i in range(0, len(normalized), GROUP))


def normalize_code(typed: str) -> str:
    """The 16 characters a typed code stands for: case, spaces and hyphens ignored, I and L
    read as 1, O as 0 (site/assets/receipt-check.js does exactly the same)."""
    folded = fold_crockford(typed)
    if len(folded) != CODE_LENGTH or any(ch not in CROCKFORD for ch in folded):
        raise ReceiptCodeError(f"a receipt code has {CODE_LENGTH} letters and digits (Crockford base32)")
    return folded


def derive(normalized: str, salt: str, iterations: int) -> str:
    """Hex PBKDF2-HMAC-SHA256 of a normalized code: 32 bytes, the salt as UTF-8."""
    return hashlib.pbkdf2_hmac("sha256", normalized.encode("ascii"), salt.encode("utf-8"), iterations, 32).hex()


def receipt_hash(code: str, settings: ReceiptSettings) -> str:
    """The value stored in a case's ``complainant.receipt_hash``."""
    return f"pbkdf2-sha256${settings.iterations}${derive(normalize_code(code), settings.salt, settings.iterations)}"


def parse_hash(value: str) -> tuple[int, str] | None:
    match = HASH_PATTERN.fullmatch(value)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def matches(code: str, stored: str, settings: ReceiptSettings) -> bool:
    parsed = parse_hash(stored)
    if parsed is None:
        return False
    iterations, digest = parsed
    return derive(normalize_code(code), settings.salt, iterations) == digest


def coarse_state(timeline: Sequence[Mapping[str, Any]]) -> str:
    state = "received"
    for event in timeline:
        state = coarse_after(str(event.get("kind")), state)
    return state


# The month of the next step the organisation has promised: the earliest due date among the
# case's open stages, from the deadline engine. A caller (or a test) may supply another source.
NextStep = Callable[[Mapping[str, Any], str, dt.date], "dt.date | None"]


@dataclass(frozen=True)
class DeadlineNextStep:
    """Next-step dates from complaints.core.deadlines with the repository's working-day calendar
    (a plain object rather than a closure, so it can travel to worker processes)."""

    policy: Policy
    calendar: WorkCalendar

    def __call__(self, case: Mapping[str, Any], path: str, today: dt.date) -> dt.date | None:
        try:
            stages = case_stages(case, path, self.policy, self.calendar, today)
        except CalendarError:
            return None  # a due date in a year whose calendar is unknown is not promised yet
        return min((row[3] for row in stages.stages if row[4] is None), default=None)


@dataclass(frozen=True)
class LookupEntry:
    state: str
    next_step_month: str | None  # YYYY-MM
    iterations: int  # the work factor this case's hash was made with
    overdue: bool = False  # the next step's due date is past: the page says so, not "by <month>"
    provisional: bool = False  # the due date lies in a year whose official calendar is not known yet


@dataclass(frozen=True)
class ReceiptRecords:
    """The lookup row of one case (a derivation for complaints.engine.scan): computed in the
    worker processes and cached per case file, so the site's table costs next to nothing on
    an archive that barely changed. Settled once the case is closed (no step is promised)."""

    next_step: NextStep
    records: ClassVar[tuple[type, ...]] = (LookupEntry,)

    @property
    def key(self) -> str:
        return "receipts"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[tuple[str, LookupEntry] | None, bool, None]:
        complainant = case.get("complainant")
        stored = complainant.get("receipt_hash") if isinstance(complainant, Mapping) else None
        parsed = parse_hash(stored) if isinstance(stored, str) else None
        if parsed is None:
            return None, True, None
        state = coarse_state(case.get("timeline") or [])
        due = None if state == "closed" else self.next_step(case, path, today)
        calendar = getattr(self.next_step, "calendar", None)
        # A due date in a confirmed year was computed on confirmed years only (they run up to it).
        provisional = due is not None and calendar is not None and not calendar.is_confirmed(due.year)
        entry = LookupEntry(state, None if due is None else f"{due:%Y-%m}", parsed[0], due is not None and due < today, provisional)
        return (parsed[1], entry), state == "closed", None


def shard_bits(rows: int) -> int:
    """How many leading bits of the hash pick a shard for a table of ``rows`` rows."""
    bits = 0
    while bits < MAX_SHARD_BITS and rows >> (bits + 1) >= SHARD_ROWS:
        bits += 1
    return bits


def shard_of(digest: str, bits: int) -> str:
    """The name of the shard (without .json) that holds the hash ``digest`` (hex)."""
    width = max(1, (bits + 3) // 4)
    prefix = int(digest[:8], 16) >> (32 - bits) if bits else 0
    return f"{prefix:0{width}x}"


