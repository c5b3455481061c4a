"""The receipt lookup table as the site publishes it: receipts.json (the index) and one JSON
file per shard, written into the site's generated folder."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any, Mapping

from complaints.adapters.repository import Repository
from complaints.commands.receipts import lookup_document
from complaints.core.receipt import SHARD_FOLDER, TABLE_FILE, LookupEntry, NextStep, shard_of


def render_lookup_table(document: Mapping[str, Any]) -> str:
    # Sorted keys and hashes: the file's order says nothing about which case came first.
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def write_lookup_table(
    repo: Repository, out_dir: Path, today: dt.date, next_step: NextStep | None = None, entries: Mapping[str, LookupEntry] | None = None
) -> Path:
    """Write receipts.json (the index) and receipts/SHARD.json into ``out_dir`` (the site's
    generated folder) and return the index's path. Every shard a code could fall in exists
    (empty ones too), so a missing file never tells a wrong code from a right one."""
    document = lookup_document(repo, today, next_step, entries)
    bits = document["index"]["shards"]["bits"]
    folder = out_dir / SHARD_FOLDER
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shards = document["shards"]
    for n in range(1 << bits):
        name = shard_of(f"{(n << (32 - bits)) if bits else 0:08x}", bits)
        (folder / f"{name}.json").write_text(render_lookup_table({"cases": shards.get(name, {})}), encoding="utf-8")
    target = out_dir / TABLE_FILE
    target.write_text(render_lookup_table(document["index"]), encoding="utf-8")
    return target
