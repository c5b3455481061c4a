"""Hostile files, one per strict-YAML rule (tests/data/hostile/, plus big ones made on the fly).

Each must be refused with the loader's own error (YamlError, a CaseError), at the line and column
given, and `complaints validate` on it must exit 1 with that message and no traceback.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from complaints.checker.casefile import check_case_bytes
from complaints.cli import cli
from complaints.errors import CaseError
from complaints.adapters.config import load_policy
from complaints.adapters.yamlload import MAX_BYTES, MAX_DEPTH, YamlError, load_yaml

from conftest import ROOT, TEST_DATA, cli_invoke, copy_repo

# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
HOSTILE = TEST_DATA / "hostile"
VALID = (TEST_DATA / "writer" / "XN-20260305-7K3QH.yml").read_bytes()
FILE = "cases/2026/XN-20260305-7K3QH.yml"
TODAY = dt.date(2026, 11, 28)

NESTING = f"nesting is deeper than {MAX_DEPTH} levels"
KEYS = "mapping keys must be plain text (not numbers, booleans, null, lists or mappings)"
# name -> (message, line, column)
EXPECTED: dict[str, tuple[str, int | None, int | None]] = {
    "not_utf8": ("file is not valid UTF-8", 17, 15),
    "utf16_bom": ("file is UTF-16 or UTF-32; it must be UTF-8", 1, 1),
    "utf16_be_bom": ("file is UTF-16 or UTF-32; it must be UTF-8", 1, 1),
    "nul_byte": ("file contains a NUL character", 17, 14),
    "two_documents": ("YAML syntax: file holds more than one YAML document; one case per file", 60, 1),
    "anchor": ("anchors (&name) are not allowed", 17, 11),
    "alias": ("aliases (*name) are not allowed", 18, 10),
    "billion_laughs": ("anchors (&name) are not allowed", 1, 4),
    "merge_key": ("merge keys (<<) are not allowed", 14, 3),
    "tag_python": ("tags (!name, !!type) are not allowed", 17, 11),
    "tag_custom": ("tags (!name, !!type) are not allowed", 17, 11),
    "tag_str": ("tags (!name, !!type) are not allowed", 17, 11),
    "duplicate_key": ("duplicate key 'priority'", 18, 1),
    "duplicate_key_personal": ("duplicate key (a key withheld because it may hold personal data)", 19, 1),
    "key_int": (KEYS, 18, 1),
    "key_bool": (KEYS, 18, 1),
    "key_null": (KEYS, 18, 1),
    "key_list": (KEYS, 18, 1),
    "key_mapping": (KEYS, 18, 3),
    "deep_flow": (NESTING, 1, 35),
    "deep_block": (NESTING, 33, 65),
    "deep_dashes": (NESTING, 1, 65),
    "syntax_error": ("YAML syntax: did not find expected ',' or ']'", 18, 8),
}


@pytest.fixture(scope="module")
def policy():  # type: ignore[no-untyped-def]
    return load_policy(TEMPLATE)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("hostile") / "repo")


def refusal(data: bytes) -> YamlError:
    with pytest.raises(YamlError) as info:
        load_yaml(data)
    assert isinstance(info.value, CaseError)  # the library's own error family
    return info.value


def run_cli(repo: Path, data: bytes, *extra: str) -> Any:
    target = repo / FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    try:
        return cli_invoke("validate", "--repo", str(repo), "--today", TODAY.isoformat(), *extra, str(target))
    finally:
        target.unlink()


def test_every_hostile_file_has_an_expectation() -> None:
    assert sorted(p.stem for p in HOSTILE.glob("*.yml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_refused_by_the_loader(name: str) -> None:
    message, line, column = EXPECTED[name]
    error = refusal((HOSTILE / f"{name}.yml").read_bytes())
    assert (error.message, error.line, error.column) == (message, line, column)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_through_the_cli(name: str, repo: Path) -> None:
    message, line, column = EXPECTED[name]
    result = run_cli(repo, (HOSTILE / f"{name}.yml").read_bytes())
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    where = FILE + (f":{line}" if line else "") + (f":{column}" if column else "")
    assert result.stdout.splitlines()[0] == f"{where}: $: {message}"
    assert "pwned" not in result.stdout and "13812345678" not in result.stdout and "王小明" not in result.stdout


def test_hostile_files_end_to_end_in_a_subprocess(tmp_path: Path) -> None:
    """The installed entry point, in a real process, on every hostile file at once."""
    root = copy_repo(tmp_path / "repo")
    for name in sorted(EXPECTED):
        shutil.copyfile(HOSTILE / f"{name}.yml", root / "cases" / f"{name}.yml")
    proc = subprocess.run(
        [sys.executable, "-c", "from complaints.cli import main; main()", "validate", "--today", "2026-11-28"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for name, (message, _, _) in EXPECTED.items():
        assert f"cases/{name}.yml" in proc.stdout
    assert proc.stdout.count("nesting is deeper") == 3


def test_billion_laughs_costs_nothing() -> None:
    start = time.perf_counter()
    refusal((HOSTILE / "billion_laughs.yml").read_bytes())
    assert time.perf_counter() - start < 0.05


# --- YAML 1.1 surprises never change meaning -------------------------------------------------

@pytest.mark.parametrize(
    "written, value",
    [
        ("no", "no"), ("yes", "yes"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"),
        ("True", "True"), ("FALSE", "FALSE"), ("Null", "Null"), ("NULL", "NULL"),
        ("012", "012"), ("0012", "0012"), ("0x1F", "0x1F"), ("0o17", "0o17"), ("0b101", "0b101"),
        ("1_000", "1_000"), ("1:30", "1:30"), ("190:20:30", "190:20:30"), ("+12", "+12"),
        (".inf", ".inf"), ("-.inf", "-.inf"), (".nan", ".nan"), ("1e3", "1e3"), ("1.5", "1.5"),
        ("2026-03-05", "2026-03-05"), ("2026-03-05T10:00:00", "2026-03-05T10:00:00"),
        ("2026-02-30", "2026-02-30"), ("'12'", "12"), ("'true'", "true"),
        # the few plain scalars that are not text
        ("true", True), ("false", False), ("null", None), ("~", None), ("", None),
        ("12", 12), ("0", 0), ("-3", -3), ("1234567890", 1234567890),
        # too long to be an integer: stays text rather than costing a big-integer conversion
        ("9" * 19, "9" * 19), ("9" * 5000, "9" * 5000),
    ],
)
def test_yaml_11_surprises_stay_text(written: str, value: object) -> None:
    loaded = load_yaml(f"v: {written}\n".encode())
    assert loaded == {"v": value}
    assert type(loaded["v"]) is type(value)


@pytest.mark.parametrize("key", ["no", "yes", "on", "off", "012", "0x1F", "1:30", "2026-03-05", ".inf", "'1'", '"true"'])
def test_keys_that_yaml_11_would_convert_stay_text(key: str) -> None:
    assert list(load_yaml(f"{key}: x\n".encode())) == [key.strip("'\"")]


def test_unquoted_date_is_checked_as_a_date_and_passes(policy) -> None:  # type: ignore[no-untyped-def]
    text = VALID.replace(b"date: 2026-03-06", b"date: '2026-03-06'")
    assert check_case_bytes(VALID, FILE, policy, TODAY).ok
    assert check_case_bytes(text, FILE, policy, TODAY).ok
    assert load_yaml(VALID)["timeline"][0]["date"] == "2026-03-05"


def test_octal_looking_days_is_not_a_number(policy) -> None:  # type: ignore[no-untyped-def]
    result = check_case_bytes(VALID.replace(b"days: 15", b"days: 012"), FILE, policy, TODAY)
    assert [(p.field, p.message) for p in result.problems] == [("$.timeline[5].days", "must be a whole number, found text")]


# --- bounds: refused before any structure is built -------------------------------------------

def test_a_10_mb_file_is_refused_in_well_under_a_second(policy) -> None:  # type: ignore[no-untyped-def]
    data = b"a: [" + b"1, " * (10 * 1024 * 1024 // 3) + b"]\n"
    start = time.perf_counter()
    error = refusal(data)
    result = check_case_bytes(data, FILE, policy, TODAY)
    elapsed = time.perf_counter() - start
    assert error.message == f"file is {len(data)} bytes; the limit is {MAX_BYTES}"
    assert [p.message for p in result.problems] == [error.message]
    assert elapsed < 0.2


def test_a_10_mb_file_is_refused_by_the_cli_without_reading_it(repo: Path) -> None:
    big = b"# " + b"x" * (10 * 1024 * 1024) + b"\n"
    start = time.perf_counter()
    result = run_cli(repo, big)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 1
    assert f"{FILE}: $: file is {len(big)} bytes; the limit is {MAX_BYTES}" in result.stdout
    assert elapsed < 1.0


def test_the_size_limit_is_exact() -> None:
    filler = b"a: b\n#" + b"x" * (MAX_BYTES - 7) + b"\n"
    assert len(filler) == MAX_BYTES
    assert load_yaml(filler) == {"a": "b"}
    assert refusal(filler + b"\n").message.startswith(f"file is {MAX_BYTES + 1} bytes")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"a: " + b"[" * (MAX_BYTES - 10), id="unclosed-flow"),
        pytest.param(b"a: " + b"[" * 100_000 + b"]" * 100_000, id="deep-flow-200k"),
        pytest.param(b"a: " + b"{a: " * 60_000, id="deep-flow-mappings"),
        pytest.param(b"- " * 100_000 + b"x\n", id="dashes"),
        pytest.param(b"".join(b" " * i + b"k:\n" for i in range(600)), id="deep-block"),
        pytest.param(b"? " * 100_000 + b"x\n", id="complex-keys"),
    ],
)
def test_deep_nesting_is_refused_fast(data: bytes) -> None:
    assert len(data) <= MAX_BYTES
    start = time.perf_counter()
    error = refusal(data)
    assert time.perf_counter() - start < 0.25
    assert error.line is not None


def test_nesting_up_to_the_bound_is_accepted() -> None:
    # The top-level mapping is one level, each list one more: MAX_DEPTH levels in all pass.
    lists = MAX_DEPTH - 1
    loaded = load_yaml(b"a: " + b"[" * lists + b"]" * lists + b"\n")
    inner = loaded["a"]
    for _ in range(lists - 1):
        inner = inner[0]
    assert inner == []
    assert refusal(b"a: " + b"[" * (lists + 1) + b"]" * (lists + 1) + b"\n").message == NESTING
    block = b"".join(b" " * i + b"k:\n" for i in range(MAX_DEPTH)) + b" " * MAX_DEPTH + b"v\n"
    assert load_yaml(block) is not None
    assert refusal(b"".join(b" " * i + b"k:\n" for i in range(MAX_DEPTH + 1)) + b" " * (MAX_DEPTH + 1) + b"v\n").message == NESTING


def test_a_very_long_line_is_checked_not_echoed(policy) -> None:  # type: ignore[no-untyped-def]
    long = "王" * 80_000  # 240 kB on one line, inside the size bound
    data = VALID.replace("summary: 示例：营业执照变更申请提交后十个工作日无人答复。".encode(), f"summary: {long}".encode())
    assert len(data) < MAX_BYTES
    start = time.perf_counter()
    result = check_case_bytes(data, FILE, policy, TODAY)
    assert time.perf_counter() - start < 1.0
    assert [(p.field, p.message, p.line) for p in result.problems] == [("$.subject.summary", "must be at most 2000 characters", 22)]
    assert "王王" not in repr(result)


def test_a_very_long_key_is_not_echoed(policy) -> None:  # type: ignore[no-untyped-def]
    key = "k" * 100_000
    result = check_case_bytes(VALID.replace(b"priority: normal", f"priority: normal\n{key}: 1".encode()), FILE, policy, TODAY)
    assert result.problems and all("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk" not in p.message for p in result.problems)
