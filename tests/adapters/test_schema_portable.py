"""The JSON Schemas are portable: standard tools (check-jsonschema, whose regular expressions
are ECMA-262 as the JSON Schema specification says) accept them and judge every fixture the way
this project's validator does. A pattern that means one thing in Python and another in
ECMA-262 (``\\s``, ``\\d``, ``\\w``; an escaped quote) would let a file pass here and fail in an
editor or another organisation's CI, or the other way round."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from complaints.adapters.schemas import load_schema
from complaints.adapters.yamlload import YamlError, load_yaml

from conftest import TEMPLATE, TEST_DATA

# The template's schemas as frozen with the tests (an organisation may extend its own).
SCHEMAS = sorted((TEMPLATE / "schema").glob("*.schema.json"))
INVALID = TEST_DATA / "invalid"
STATS_GOLDEN = TEST_DATA / "stats" / "golden"

# Python-only syntax, and classes whose meaning differs between Python's re (Unicode-aware
# \d \w \s, "\s" with U+001C-U+001F and U+0085) and ECMA-262 (ASCII \d \w, "\s" with U+FEFF).
_NOT_PORTABLE = re.compile(r"\\[sSdDwWbBAZ]|\(\?P|\(\?[aiLmsux]|\\\"|\\'")


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *args], capture_output=True, text=True, timeout=300)


def patterns(node: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield where, value
            elif key == "patternProperties" and isinstance(value, dict):
                for pattern in value:
                    yield f"{where}.patternProperties", pattern
            yield from patterns(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from patterns(item, f"{where}[{i}]")


def test_every_schema_passes_the_metaschema_check() -> None:
    # --check-metaschema also checks every pattern is an ECMA-262 regular expression.
    result = check_jsonschema("--check-metaschema", "-o", "json", *map(str, SCHEMAS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(SCHEMAS) >= 4


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_patterns_use_only_portable_syntax(path: Path) -> None:
    found = list(patterns(json.loads(path.read_text(encoding="utf-8"))))
    assert found
    for where, pattern in found:
        assert not _NOT_PORTABLE.search(pattern), f"{path.name}::{where}: {pattern}"
        re.compile(pattern)


def documents() -> list[tuple[str, Any]]:
    """(name, document) of every sample case and invalid fixture that loads as YAML."""
    out: list[tuple[str, Any]] = []
    for path in sorted((TEMPLATE / "cases").glob("*/*.yml")) + sorted(INVALID.glob("*.yml")):
        try:
            out.append((f"{path.parent.name}/{path.name}", load_yaml(path.read_bytes())))
        except YamlError:
            continue  # not YAML this project accepts: no schema is asked
    return out


def edge_contacts() -> list[tuple[str, Any]]:
    """A valid sample case with its contact followed by what Python's `\\s` accepts at the end
    and ECMA-262's does not (and the reverse)."""
    base = load_yaml((TEMPLATE / "cases" / "2025" / "XN-20250106-Z08CW.yml").read_bytes())
    out = []
    for name, tail in [("lf", "\n"), ("crlf", "\r\n"), ("two-lf", "\n\n"), ("space", " "), ("fs", "\x1c"), ("us", "\x1f"),
                       ("nel", "\x85"), ("bom", "\ufeff"), ("nbsp", "\u00a0"), ("ls", "\u2028"), ("tab", "\t")]:
        doc = json.loads(json.dumps(base))
        doc["complainant"]["contact"] = doc["complainant"]["contact"].rstrip("\n") + tail
        out.append((f"contact-{name}", doc))
    return out


def test_check_jsonschema_agrees_on_every_fixture(tmp_path: Path) -> None:
    """Each document as this project loads it, judged by check-jsonschema (ECMA-262 regexes)
    and by the project's validators: the same verdict, file by file."""
    schema = load_schema(TEMPLATE, "case")
    docs = documents() + edge_contacts()
    files: dict[str, str] = {}
    for i, (name, doc) in enumerate(docs):
        target = tmp_path / f"{i:04d}.json"
        target.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        files[str(target)] = name
    result = check_jsonschema("--schemafile", str(TEMPLATE / "schema" / "case.schema.json"), "-o", "json", *files)
    report = json.loads(result.stdout)
    assert report["parse_errors"] == []
    rejected = {files[e["filename"]] for e in report["errors"]}
    ours = {name for name, doc in docs if not schema.is_valid(doc)}
    full = {name for name, doc in docs if schema.problems(doc)}
    assert ours == full
    assert ours == rejected, {"only ours": sorted(ours - rejected), "only check-jsonschema": sorted(rejected - ours)}
    # The comparison means something: many fixtures fail schema rules, many pass them.
    assert len(ours) >= 40 and len(docs) - len(ours) >= 80
    assert {"contact-lf", "contact-crlf", "contact-two-lf"}.isdisjoint(ours)
    assert {"contact-fs", "contact-us", "contact-nel", "contact-bom", "contact-space"} <= ours


def test_check_jsonschema_agrees_on_policy_calendar_and_stats(tmp_path: Path) -> None:
    pairs = [("policy", TEMPLATE / "policy.yml"), ("calendar", TEMPLATE / "calendar.yml")]
    pairs += [("stats", p) for p in sorted(STATS_GOLDEN.glob("*.json"))]
    by_schema: dict[str, dict[str, bool]] = {}
    for i, (name, path) in enumerate(pairs):
        doc = load_yaml(path.read_bytes()) if path.suffix == ".yml" else json.loads(path.read_text(encoding="utf-8"))
        target = tmp_path / f"{name}-{i}.json"
        target.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        by_schema.setdefault(name, {})[str(target)] = load_schema(TEMPLATE, name).is_valid(doc)
    assert len(pairs) >= 4
    for name, verdicts in by_schema.items():
        result = check_jsonschema("--schemafile", str(TEMPLATE / "schema" / f"{name}.schema.json"), "-o", "json", *verdicts)
        rejected = {e["filename"] for e in json.loads(result.stdout)["errors"]}
        assert {f for f, ok in verdicts.items() if not ok} == rejected, result.stdout


URLS = [
    ("https://github.com/org/cases", True),
    ("https://例子.中国/投诉", True),
    ("https://x.org/a b", False),
    ('https://x.org/"onmouseover', False),
    ("https://x.org/\u200bhidden", False),
    ("https://x.org/a\x1cb", False),
    ("https://x.org/a\x85b", False),
    ("https://x.org/a\ufeffb", False),
    ("http://x.org/", False),
]


def test_repository_url_pattern_is_the_same_everywhere(tmp_path: Path) -> None:
    schema = json.loads((TEMPLATE / "schema" / "policy.schema.json").read_text(encoding="utf-8"))
    url_schema = {"$schema": schema["$schema"], **schema["properties"]["organisation"]["properties"]["repository_url"]}
    (tmp_path / "s.json").write_text(json.dumps(url_schema), encoding="utf-8")
    files = {}
    for i, (url, ok) in enumerate(URLS):
        (tmp_path / f"{i}.json").write_text(json.dumps(url), encoding="utf-8")
        files[str(tmp_path / f"{i}.json")] = ok
        assert bool(re.search(url_schema["pattern"].replace("$", r"\Z"), url)) is ok, url
    result = check_jsonschema("--schemafile", str(tmp_path / "s.json"), "-o", "json", *files)
    rejected = {e["filename"] for e in json.loads(result.stdout)["errors"]}
    assert rejected == {f for f, ok in files.items() if not ok}
