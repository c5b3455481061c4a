"""Remembered schema verdicts on the repository's configuration files (policy.yml,
calendar.yml): every run reads them, and compiling a schema and checking it against JSON
Schema's own metaschema costs more than the rest of an answer from the cache.

A verdict is kept only when the document was accepted, in a cache file (adapters/cache.py:
HMAC-authenticated data, outside the work tree) whose key is made of the document's bytes,
the schema's bytes and the tool's fingerprint, so any change to one of them is a miss and the
document is checked in full, as it would be without the cache.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from complaints.adapters.cache import ResultCache, tool_fingerprint
from complaints.adapters.schemas import load_schema, schema_dir

FORMAT = 1


def _cache(root: Path, name: str, document: bytes) -> ResultCache | None:
    try:
        schema = (schema_dir(root) / f"{name}.schema.json").read_bytes()
    except OSError:
        return None  # load_schema says what is wrong with it
    digest = hashlib.sha256(f"accepted {FORMAT}\x00{name}\x00{tool_fingerprint()}\x00".encode())
    for part in (schema, document):
        digest.update(hashlib.sha256(part).digest())
    return ResultCache(root, f"accepted-{name}", digest.hexdigest())


def schema_accepts(root: Path, name: str, document: bytes, data: Any, *, remember: bool) -> bool:
    """schema/NAME.schema.json accepts ``data``, parsed from ``document``: from a remembered
    verdict when ``remember`` allows and there is one, else checked (and, when accepted and
    ``remember`` allows, remembered). ConfigError when the schema is unusable."""
    cache = _cache(root, name, document) if remember else None
    if cache is not None and cache.load().get("accepted") is True:
        return True
    accepted = load_schema(root, name, compiled=False).is_valid(data)  # one document
    if accepted and cache is not None:
        cache.save({"accepted": True})
    return accepted
