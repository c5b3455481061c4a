"""The receipt lookup table as the site publishes it: receipts.json (the index) and one JSON
file per shard, written into the site's generated folder."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any, Mapping

from complaints.adapters.repository import Repository
from complaints.commands.receipts import lookup_entries, lookup_index, lookup_shards
from complaints.core.receipt import SHARD_FOLDER, TABLE_FILE, NextStep, ReceiptTable, shard_of


def render_lookup_table(document: Mapping[str, Any]) -> str:
    # Sorted keys and hashes: the file's order says nothing about which case came first.
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def write_lookup_table(
    repo: Repository, out_dir: Path, today: dt.date, next_step: NextStep | None = None, entries: ReceiptTable | None = None
) -> Path:
    """Write receipts.json (the index) and receipts/SHARD.json into ``out_dir`` (the site's
    generated folder) and return the index's path. Every shard a code could fall in exists
    (empty ones too), so a missing file never tells a wrong code from a right one."""
    if entries is None:
        entries = lookup_entries(repo, today, next_step)
    index = lookup_index(repo, today, entries)
    bits = index["shards"]["bits"]
    folder = out_dir / SHARD_FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    # One shard's rows at a time (the shards come in the order of their names); the empty
    # ones written as well.
    names = [shard_of(f"{(n << (32 - bits)) if bits else 0:08x}", bits) for n in range(1 << bits)]
    filled = dict.fromkeys(names, False)
    for name, rows in lookup_shards(entries, bits):
        (folder / f"{name}.json").write_text(render_lookup_table({"cases": rows}), encoding="utf-8")
        filled[name] = True
    for name, done in filled.items():
        if not done:
            (folder / f"{name}.json").write_text(render_lookup_table({"cases": {}}), encoding="utf-8")
    target = out_dir / TABLE_FILE
    target.write_text(render_lookup_table(index), encoding="utf-8")
    return target
