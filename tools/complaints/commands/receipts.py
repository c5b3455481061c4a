"""The receipt lookup table: for every case with a receipt hash, where it stands (a coarse
state) and the month of the next promised step, as the site's "check my complaint" page reads it."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from complaints.adapters.repository import Repository
from complaints.engine.scan import case_records, iter_valid_cases
from complaints.commands.deadlines import repository_calendar
from complaints.core.receipt import (
    SHARD_FOLDER, TABLE_FORMAT, DeadlineNextStep, NextStep, ReceiptRecords, ReceiptSettings, ReceiptTable, shard_bits, shard_of,
)  # fmt: skip


def deadline_next_step(repo: Repository) -> NextStep:
    """Next-step dates from complaints.core.deadlines with the repository's working-day calendar
    (a year not announced yet computed provisionally unless the policy makes it an error)."""
    return DeadlineNextStep(repo.policy, repository_calendar(repo))


def lookup_entries(repo: Repository, today: dt.date, next_step: NextStep | None = None) -> ReceiptTable:
    """Hash hex -> coarse state and next-step month, for every valid case with a receipt hash
    (a hash several cases hold: the row of the last of them in path order).

    Invalid files are left out (the validator reports them): one broken file must not take
    every complainant's lookup offline."""
    find_next = next_step or deadline_next_step(repo)
    entries = ReceiptTable()
    if next_step is None:
        # The cached parallel scan; a supplied source may be a closure, which cannot travel to
        # the worker processes, so it runs here.
        for _path, row, _span in case_records(repo, today, ReceiptRecords(find_next)):
            if row is not None:
                entries.add(*row)
    else:
        for path, case in iter_valid_cases(repo, today):
            row, _settled, _ = ReceiptRecords(find_next)(path, case, today)
            if row is not None:
                entries.add(*row)
    entries.seal()
    return entries


def lookup_table(repo: Repository, today: dt.date, next_step: NextStep | None = None) -> dict[str, dict[str, str | bool | None]]:
    """The published mapping: hash hex -> {state, next_step_month}."""
    return _table(lookup_entries(repo, today, next_step))


def _table(entries: ReceiptTable) -> dict[str, dict[str, str | bool | None]]:
    table: dict[str, dict[str, str | bool | None]] = {}
    for digest, entry in entries.rows():
        row: dict[str, str | bool | None] = {"state": entry.state, "next_step_month": entry.next_step_month}
        # Only when true, so the common row stays small.
        if entry.overdue:
            row["overdue"] = True
        if entry.provisional:
            row["provisional"] = True
        table[digest] = row
    return table


def lookup_document(
    repo: Repository, today: dt.date, next_step: NextStep | None = None, entries: ReceiptTable | None = None
) -> dict[str, Any]:
    """The lookup as the site publishes it: ``index`` (the KDF parameters and how shards are
    picked, the file the page fetches first) and ``shards`` (shard name -> {hash: [state,
    next-step month]}), so that a lookup downloads the index and one shard per work factor.

    ``iterations`` lists every work factor found in the cases besides the policy's current
    one (raising it in policy.yml leaves older hashes valid); the page derives once per value.
    ``entries``: what ``lookup_entries`` gives, when the caller has them already (the site
    build reads them in the same pass as the statistics)."""
    if entries is None:
        entries = lookup_entries(repo, today, next_step)
    index = lookup_index(repo, today, entries)
    return {"index": index, "shards": dict(lookup_shards(entries, index["shards"]["bits"]))}


def lookup_index(repo: Repository, today: dt.date, entries: ReceiptTable) -> dict[str, Any]:
    """The ``index`` part of ``lookup_document``."""
    settings = repo.policy.receipt
    iterations = {settings.iterations} | {entry.iterations for entry in entries.entries()}
    bits = shard_bits(len(entries))
    return {
        "format": TABLE_FORMAT,
        # The day the states were read: the page says "as of" it (the site is rebuilt daily).
        "as_of": today.isoformat(),
        "kdf": {"name": "PBKDF2", "hash": "SHA-256", "salt": settings.salt, "iterations": sorted(iterations), "length": 32},
        "shards": {"bits": bits, "folder": f"{SHARD_FOLDER}/", "row": ["state", "next_step_month", "overdue", "provisional"]},
    }


def lookup_shards(entries: ReceiptTable, bits: int) -> Iterator[tuple[str, dict[str, list[str | int | None]]]]:
    """The ``shards`` part of ``lookup_document``, one shard at a time in the order of their
    names (only those that hold a row), so that a writer never holds the rows of all."""
    name: str | None = None
    rows: dict[str, list[str | int | None]] = {}
    # The table's order is its hashes' (lower-case hex), which is the order of the shards.
    for digest, entry in entries.rows():
        row: list[str | int | None] = [entry.state, entry.next_step_month]
        # The flags only when one is set, so the common row stays small.
        if entry.overdue or entry.provisional:
            row += [int(entry.overdue), int(entry.provisional)]
        shard = shard_of(digest, bits)
        if shard != name:
            if name is not None:
                yield name, rows
            name, rows = shard, {}
        rows[digest] = row
    if name is not None:
        yield name, rows
