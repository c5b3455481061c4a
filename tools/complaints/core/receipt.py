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

import base64
import binascii
import datetime as dt
import hashlib
import re
from array import array
from collections.abc import ItemsView, Iterator, ValuesView
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, ClassVar, Iterable, Mapping, Sequence

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


DIGEST_BYTES = 32
_BUCKETS = 256  # by the hash's first byte
_BUCKET_NAMES = {f"rows/{bucket:02x}": bucket for bucket in range(_BUCKETS)}  # ReceiptTable.packed's part names


class ReceiptTable(Mapping[str, LookupEntry]):
    """Hash hex -> LookupEntry for every case with a receipt hash: the rows the lookup table
    publishes, about 40 bytes each. A row is the 32-byte hash, in one buffer of all the
    hashes in the order added, and the number of its entry among the distinct entries (a few
    hundred among all the cases: a coarse state, a month, a work factor and two flags). A
    dict of hex text would take about 160 bytes a row: 160 MB at a million cases, for the
    site build to hold. One buffer grows in place (a large one is its own mapping, which the
    C library moves without copying), where one buffer per bucket left a freed hole behind
    at each growth: 36 MB of rows took 90 MB of the process at a million cases.

    Rows are added in any order (``add``, ``merge``). ``seal`` orders each of 256 buckets (by
    the hash's first byte) by hash, as positions into the buffer, keeping for a hash added
    more than once the row added last; it names those hashes in ``shared``. Reading (a
    look-up, iteration in hash order, ``len``) seals first, and ``replace`` gives a sealed
    hash another entry. Iteration gives the hashes as lower-case hex in the order of their
    bytes, which is the order of their text and of the shards."""

    def __init__(self) -> None:
        self._digests = bytearray()
        self._rows = array("I")
        self._order: list[array[int]] = []  # per bucket, the positions of its rows in hash order, once sealed
        self._entries: list[LookupEntry] = []
        self._numbers: dict[LookupEntry, int] = {}
        self.shared: set[str] = set()
        # Rows written out by ``spill``: the file and where each batch of them lies in it.
        self._spill: BinaryIO | None = None
        self._chunks: list[tuple[int, int]] = []  # (offset, rows), in the order added

    def spill(self, out: BinaryIO) -> None:
        """Move the rows held in memory to the end of ``out`` (a temporary file the caller
        keeps open until the table is sealed, and always passes the same), where ``seal``
        reads them back: a scan's parent holds none of them while its workers run."""
        if self._spill is not None and self._spill is not out:
            raise ValueError("a table spills to one file")
        self._spill = out
        if self._rows:
            offset = out.seek(0, 2)
            out.write(self._digests)
            out.write(self._rows.tobytes())
            self._chunks.append((offset, len(self._rows)))
            self._digests, self._rows = bytearray(), array("I")

    @property
    def held(self) -> int:
        """How many rows are held in memory (not spilled)."""
        return len(self._rows)

    def _unspill(self) -> None:
        """Read the spilled rows back in front of those in memory, in the order added."""
        out, chunks = self._spill, self._chunks
        self._spill, self._chunks = None, []
        if out is None or not chunks:
            return
        digests, rows = bytearray(), array("I")
        for offset, count in chunks:
            out.seek(offset)
            digests += out.read(count * DIGEST_BYTES)
            rows.frombytes(out.read(count * rows.itemsize))
        if len(rows) != sum(count for _offset, count in chunks) or len(digests) != DIGEST_BYTES * len(rows):
            raise ValueError("the spilled receipt rows were not read back whole")
        digests += self._digests
        rows.extend(self._rows)
        self._digests, self._rows = digests, rows

    def __getstate__(self) -> dict[str, Any]:
        # A spilled table is read back whole first: its file does not travel with it.
        self._unspill()
        return {**self.__dict__, "_spill": None, "_chunks": []}

    @classmethod
    def of(cls, rows: Iterable[tuple[str, LookupEntry]]) -> ReceiptTable:
        table = cls()
        for digest, entry in rows:
            table.add(digest, entry)
        return table

    def _number(self, entry: LookupEntry) -> int:
        number = self._numbers.get(entry)
        if number is None:
            number = self._numbers[entry] = len(self._entries)
            self._entries.append(entry)
        return number

    def add(self, digest: str, entry: LookupEntry) -> None:
        """Add a row. ValueError when ``digest`` is not 64 hex digits."""
        raw = _raw(digest)
        if raw is None:
            raise ValueError("a receipt hash is 64 hex digits")
        self._digests += raw
        self._rows.append(self._number(entry))
        self._order = []

    def merge(self, other: ReceiptTable) -> None:
        """Add every row of ``other`` (after this table's own)."""
        other._unspill()
        numbers = [self._number(entry) for entry in other._entries]
        if other._rows:
            self._digests += other._digests
            self._rows.extend(map(numbers.__getitem__, other._rows))
            self._order = []
        self.shared |= other.shared

    def seal(self) -> set[str]:
        """Order the rows by hash and keep one per hash, the one added last; the hashes added
        more than once (``shared``, kept from earlier seals and merged tables too)."""
        if self._spill is not None:
            self._unspill()
            self._order = []
        if self._order or not self._rows:
            return self.shared
        buckets = [array("I") for _ in range(_BUCKETS)]
        appends = [bucket.append for bucket in buckets]
        for position, first in enumerate(self._digests[::DIGEST_BYTES]):
            appends[first](position)
        view = memoryview(self._digests)
        try:
            self._order = [self._ordered(view, positions) for positions in buckets]
        finally:
            view.release()
        return self.shared

    def _ordered(self, view: memoryview, positions: array[int]) -> array[int]:
        if len(positions) < 2:
            return positions
        keys = [view[at * DIGEST_BYTES : (at + 1) * DIGEST_BYTES].tobytes() for at in positions]
        order = sorted(range(len(keys)), key=keys.__getitem__)  # stable: equal hashes in the order added
        kept = array("I")
        for place, number in enumerate(order):
            key = keys[number]
            if place + 1 < len(order) and keys[order[place + 1]] == key:
                self.shared.add(key.hex())
                continue
            kept.append(positions[number])
        return kept

    def _hash_at(self, position: int) -> bytes:
        return bytes(self._digests[position * DIGEST_BYTES : (position + 1) * DIGEST_BYTES])

    def _find(self, digest: str) -> int | None:
        """The position of the row of ``digest``, or None."""
        raw = _raw(digest)
        if raw is None:
            return None
        self.seal()
        if not self._rows:
            return None
        positions = self._order[raw[0]]
        low, high = 0, len(positions)
        while low < high:
            middle = (low + high) // 2
            found = self._hash_at(positions[middle])
            if found == raw:
                return positions[middle]
            if found < raw:
                low = middle + 1
            else:
                high = middle
        return None

    def __getitem__(self, digest: str) -> LookupEntry:
        position = self._find(digest) if isinstance(digest, str) else None
        if position is None:
            raise KeyError(digest)
        return self._entries[self._rows[position]]

    def replace(self, digest: str, entry: LookupEntry) -> None:
        """Give a hash already in the table another entry (KeyError when it is not)."""
        position = self._find(digest)
        if position is None:
            raise KeyError(digest)
        self._rows[position] = self._number(entry)

    def __len__(self) -> int:
        self.seal()
        return sum(len(positions) for positions in self._order)

    def __iter__(self) -> Iterator[str]:
        return (digest for digest, _number in self._numbered())

    def _numbered(self) -> Iterator[tuple[str, int]]:
        self.seal()
        digests, rows = self._digests, self._rows
        for positions in self._order:
            for position in positions:
                yield digests[position * DIGEST_BYTES : (position + 1) * DIGEST_BYTES].hex(), rows[position]

    def rows(self) -> Iterator[tuple[str, LookupEntry]]:
        """(hash hex, entry) in hash order."""
        entries = self._entries
        return ((digest, entries[number]) for digest, number in self._numbered())

    def items(self) -> ItemsView[str, LookupEntry]:
        return _Rows(self)

    def values(self) -> ValuesView[LookupEntry]:
        return _Entries(self)

    def entries(self) -> list[LookupEntry]:
        """The distinct entries the rows hold (each once), in the order first added."""
        self.seal()
        rows = self._rows
        used = {rows[position] for positions in self._order for position in positions}
        return [entry for number, entry in enumerate(self._entries) if number in used]

    def packed(self) -> Iterator[tuple[str, Any]]:
        """The table as plain JSON values in parts, each a few hundred kilobytes at a million
        rows (a cache stores them as an entry each): ("entries", [[field...]...]) then
        ("rows/XX", [base64 of the hashes, [entry number...]]) for each bucket that holds one,
        in hash order."""
        entries = self.entries()  # only those a row holds, numbered afresh
        numbers = {self._numbers[entry]: number for number, entry in enumerate(entries)}
        yield "entries", [[e.state, e.next_step_month, e.iterations, e.overdue, e.provisional] for e in entries]
        rows = self._rows
        for bucket, positions in enumerate(self._order):
            if positions:
                hashes = b"".join(self._hash_at(position) for position in positions)
                stored = [numbers[rows[position]] for position in positions]
                yield f"rows/{bucket:02x}", [base64.b64encode(hashes).decode("ascii"), stored]

    @classmethod
    def unpacked(cls, parts: Iterable[tuple[str, Any]]) -> ReceiptTable | None:
        """The table ``packed`` gave the parts of, taken in the order it gave them (one
        bucket's part at a time), or None when they are anything else (the entries not
        first, a part twice, of the wrong shape, a hash out of its bucket or order)."""
        table = cls()
        given = iter(parts)
        first = next(given, None)
        if first is None or first[0] != "entries" or not isinstance(first[1], list):
            return None
        for fields in first[1]:
            entry = _entry(fields)
            if entry is None or entry in table._numbers:
                return None
            table._number(entry)
        order = [array("I") for _ in range(_BUCKETS)]
        for name, part in given:
            bucket = _BUCKET_NAMES.get(name)
            if bucket is None or order[bucket] or not table._unpack_bucket(bucket, part, order):
                return None
        table._order = order
        return table

    def _unpack_bucket(self, bucket: int, part: Any, order: list[array[int]]) -> bool:
        if not (isinstance(part, list) and len(part) == 2 and isinstance(part[0], str) and isinstance(part[1], list)):
            return False
        try:
            hashes = base64.b64decode(part[0], validate=True)
            rows = array("I", part[1])
        except (binascii.Error, ValueError, TypeError, OverflowError):
            return False
        if len(hashes) != DIGEST_BYTES * len(rows) or not rows or any(type(n) is not int for n in part[1]):
            return False
        if max(rows) >= len(self._entries) or any(first != bucket for first in hashes[::DIGEST_BYTES]):
            return False
        keys = [hashes[at : at + DIGEST_BYTES] for at in range(0, len(hashes), DIGEST_BYTES)]
        if not all(first < second for first, second in zip(keys, keys[1:])):
            return False
        start = len(self._rows)
        self._digests += hashes
        self._rows.extend(rows)
        order[bucket] = array("I", range(start, start + len(rows)))
        return True


def _raw(digest: str) -> bytes | None:
    """The 32 bytes of a 64-hex-digit hash, or None."""
    if len(digest) != 2 * DIGEST_BYTES:
        return None
    try:
        raw = bytes.fromhex(digest)
    except ValueError:
        return None
    return raw if len(raw) == DIGEST_BYTES else None  # fromhex skips spaces


def _entry(fields: Any) -> LookupEntry | None:
    if not (isinstance(fields, list) and len(fields) == 5):
        return None
    state, month, iterations, overdue, provisional = fields
    if state not in COARSE_STATES or not (month is None or (isinstance(month, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", month))):
        return None
    if type(iterations) is not int or type(overdue) is not bool or type(provisional) is not bool:
        return None
    return LookupEntry(state, month, iterations, overdue, provisional)


class _Rows(ItemsView[str, LookupEntry]):
    _mapping: ReceiptTable

    def __iter__(self) -> Iterator[tuple[str, LookupEntry]]:
        return self._mapping.rows()


class _Entries(ValuesView[LookupEntry]):
    _mapping: ReceiptTable

    def __iter__(self) -> Iterator[LookupEntry]:
        return (entry for _digest, entry in self._mapping.rows())


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


