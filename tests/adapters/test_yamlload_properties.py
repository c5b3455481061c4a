"""Property tests: whatever bytes arrive, checking a case file yields problems, never a crash;
a well-formed case always validates; the compiled and the reference schema validators agree."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from complaints.checker.casefile import check_case_bytes
from complaints.cli import cli
from complaints.errors import ComplaintsError
from complaints.adapters.config import load_policy
from complaints.checker.result import FileResult
from complaints.adapters.schemas import load_schema
from complaints.adapters.yamlload import YamlError, load_yaml

from conftest import ROOT, TEST_DATA, copy_repo, json_paths as _paths

# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
VALID = (TEST_DATA / "writer" / "XN-20260305-7K3QH.yml").read_bytes()
FILE = "cases/2026/XN-20260305-7K3QH.yml"
TODAY = dt.date(2026, 11, 28)
POLICY = load_policy(TEMPLATE)
SCHEMA = load_schema(TEMPLATE, "case")

SYNTAX = [b"&", b"*", b"!", b"!!", b"<<: ", b":", b"- ", b"? ", b"[", b"]", b"{", b"}", b"|", b">", b"'", b'"', b"#",
          b"%", b"@", b"`", b"\n", b"\t", b"---\n", b"...\n", b"\xef\xbb\xbf", b"\x00", b"\xff", b"\\", b"~", b",",
          b"  ", b"012", b"no", b"1:30", b"&a x", b"*a", b"!!python/object:os.system"]


def check(data: bytes) -> FileResult:
    """check_case_bytes must return a FileResult; a library error is the only exception allowed."""
    try:
        result = check_case_bytes(data, FILE, POLICY, TODAY)
    except ComplaintsError:  # the library's own error is allowed (pytest reports anything else)
        raise AssertionError("check_case_bytes raised instead of reporting a problem") from None
    assert isinstance(result, FileResult)
    for p in result.problems:
        assert p.file == FILE and p.message
        assert p.line is None or p.line >= 1
        assert p.column is None or p.column >= 1
    return result


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_only_give_problems(data: bytes) -> None:
    result = check(data)
    assert not result.ok  # nothing random is a valid case


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc:-?[]{}&*!|>'\"#% \n\t,~01.<")), max_size=300))
def test_arbitrary_yaml_like_text_only_gives_problems(text: str) -> None:
    check(text.encode())
    try:
        load_yaml(text.encode())
    except YamlError:
        pass


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate-line"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(SYNTAX))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        else:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            data[end:end] = data[start:end]
    return bytes(data)


@settings(max_examples=500, deadline=None)
@given(mutations())
def test_mutated_valid_case_only_gives_problems(data: bytes) -> None:
    check(data)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(mutations(), st.binary(max_size=500)))
def test_cli_on_hostile_bytes_exits_0_or_1_without_traceback(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = copy_repo(tmp_path_factory.mktemp("prop") / "repo")
    target = root / FILE
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    for fmt in ("text", "json"):
        result = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", TODAY.isoformat(), "--format", fmt])
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.stderr


# --- a well-formed case always validates ----------------------------------------------------

KEYS = {name: sorted(POLICY.vocab[name]) for name in POLICY.vocab}
HANDLERS = sorted(POLICY.handlers)
APPROVERS = sorted(POLICY.approvers)


@st.composite
def valid_cases(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A case built from an independent model of the lifecycle (not from lifecycle.py):
    received, [acknowledged], accepted or not, handling, an answer, follow-up, reviews, closing."""
    received = dt.date(2025, 1, 1) + dt.timedelta(days=draw(st.integers(0, 600)))
    day = received
    anonymous = draw(st.booleans())

    def later(max_days: int = 5) -> str:
        nonlocal day
        day = min(day + dt.timedelta(days=draw(st.integers(0, max_days))), TODAY)
        return day.isoformat()

    events: list[dict[str, Any]] = [{"kind": "received", "date": received.isoformat()}]
    state = "received"
    if draw(st.booleans()):
        events.append({"kind": "acknowledged", "date": later()})
        state = "acknowledged"
    if draw(st.integers(0, 4)) == 0:
        events.append({"kind": "not_accepted", "date": later(), "reason": draw(st.sampled_from(KEYS["not_accepted_reasons"]))})
        state = "not_accepted"
        answered = True
    else:
        events.append({"kind": "accepted", "date": later()})
        state = "accepted"
        answered = False
        department: str | None = None
        extended = False
        for step in draw(st.lists(st.sampled_from(["assign", "transfer", "pause", "extend", "note"]), max_size=5)):
            if step == "assign":
                department = draw(st.sampled_from(KEYS["departments"]))
                events.append({"kind": "assigned", "date": later(), "department": department, "handler": draw(st.sampled_from(HANDLERS))})
            elif step == "transfer" and department is not None:
                to = draw(st.sampled_from([d for d in KEYS["departments"] if d != department]))
                events.append({"kind": "transferred", "date": later(), "from": department, "to": to, "reason": "示例：转办。"})
                department = to
            elif step == "pause":
                events.append({"kind": "paused", "date": later(), "reason": "示例：等待材料。"})
                events.append({"kind": "resumed", "date": later()})
            elif step == "extend" and not extended:
                extended = True
                events.append({"kind": "extended", "date": later(2), "stage": "resolve", "days": draw(st.integers(1, 30)),
                               "approver": draw(st.sampled_from(APPROVERS)), "reason": "示例：需要更多时间。"})
            elif step == "note":
                events.append({"kind": "protection_check", "date": later(), "note": "示例：回访无打击报复。"})
        if draw(st.booleans()):
            measures = draw(st.lists(st.sampled_from(KEYS["measures"]), unique=True, max_size=3))
            resolved: dict[str, Any] = {"kind": "resolved", "date": later(20), "outcome": draw(st.sampled_from(KEYS["outcomes"]))}
            if measures:
                resolved["measures"] = measures
            events.append(resolved)
            state = "resolved"
            answered = True
    if answered:
        if draw(st.booleans()):
            events.append({"kind": "followed_up", "date": later(), "satisfaction": draw(st.sampled_from(KEYS["satisfaction"]))})
        for _ in range(draw(st.integers(0, 2))):
            events.append({"kind": "review_requested", "date": later()})
            state = "under_review"
            if draw(st.integers(0, 3)) == 0:
                break
            events.append({"kind": "review_answered", "date": later(), "outcome": draw(st.sampled_from(KEYS["review_outcomes"]))})
            state = "resolved" if state != "not_accepted" and any(e["kind"] == "resolved" for e in events) else "not_accepted"
        if state != "under_review" and draw(st.booleans()):
            events.append({"kind": "closed", "date": later()})
            state = "closed"
            if draw(st.booleans()):
                events.append({"kind": "review_requested", "date": later()})
                state = "under_review"
    case_id = f"XN-{received:%Y%m%d}-" + draw(st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=5, max_size=5))
    complainant: dict[str, Any] = {"anonymous": anonymous}
    if not anonymous and draw(st.booleans()):
        complainant["contact"] = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBrcllKbmVnVDhQczEyazRv\nc1lOSVdLZXFRRWxlTkZrSmlLZDJ5b1V2cVc4CnVOS0g0NW9SUEExOWU1Ri9EU0Vs\nalNMbUh0Mm1SUmVZa3hyMEdzM0YxMUEKLT4gRj1dLWdyZWFzZSBQVVVKT2F1SQpl\nN2NBODdVOHlxUDloTWNwQldmWXFjUWtjSllQWU42MTNWdE81SzlwLzdVS3JpT0F0\nWGdQTjJaZnBYaEI5QW9oCkR1NGxHY3J1NHlRenN1NDRodwotLS0gYlNQYjR3TUZO\nc01vWkcyOGYzNS85WWpOVzhrYmgrK0xtWE1leHBMeU9Tbwovap9p7bDWqcFmS/Oj\ntIuiRQmvDfklyq5QLiHdwxUu3NGZSbO1dQ==\n-----END AGE ENCRYPTED FILE-----\n"
    case: dict[str, Any] = {
        "id": case_id,
        "sample": True,
        "channel": draw(st.sampled_from(KEYS["channels"])),
        "complainant": complainant,
        "subject": {
            "category": draw(st.sampled_from(KEYS["categories"])),
            "departments": draw(st.lists(st.sampled_from(KEYS["departments"]), min_size=1, max_size=3, unique=True)),
        },
        "priority": draw(st.sampled_from(KEYS["priorities"])),
        "timeline": events,
    }
    if draw(st.booleans()):
        case["handler"] = draw(st.sampled_from(HANDLERS))
    if draw(st.booleans()):
        case["status"] = state
    if draw(st.booleans()):
        adopted = draw(st.booleans())
        case["suggestions"] = [{"summary": "示例：建议公开进度。", "adopted": adopted, "rewarded": adopted and draw(st.booleans())}]
    return case, f"cases/{received.year}/{case_id}.yml"


@settings(max_examples=300, deadline=None)
@given(valid_cases(), st.booleans())
def test_a_well_formed_case_always_validates(generated: tuple[dict[str, Any], str], flow: bool) -> None:
    case, file = generated
    text = "# yaml-language-server: $schema=../../schema/case.schema.json\n" + yaml.safe_dump(
        case, allow_unicode=True, sort_keys=False, default_flow_style=flow, width=100
    )
    result = check_case_bytes(text.encode(), file, POLICY, TODAY)
    assert result.ok, [f"{p.field}: {p.message}" for p in result.problems]
    assert result.case_id == case["id"]


# --- the compiled and the reference validators agree ----------------------------------------

BASE_CASE = load_yaml(VALID)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 400), st.text(max_size=12),
    st.sampled_from(["normal", "normal\n", "2026-03-05", "2026-02-30", "2026-03-05\n", "XN-20260305-7K3QH\n", "received", "h-zhou",
                     "pbkdf2-sha256$600000$" + "a" * 64 + "\n", "-----BEGIN AGE ENCRYPTED FILE-----\nQQ==\n-----END AGE ENCRYPTED FILE-----\n"]),
    st.lists(st.sampled_from(["permits", "x", 1]), max_size=3),
    st.dictionaries(st.sampled_from(["kind", "date", "a", "phone"]), st.sampled_from(["received", "2026-03-05", 1]), max_size=3),
)


PATHS = [p for p in _paths(BASE_CASE) if p]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.one_of(st.just("<delete>"), VALUES)), min_size=1, max_size=3))
def test_compiled_and_reference_validators_agree(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    case = copy.deepcopy(BASE_CASE)
    for path, value in edits:
        parent: Any = case
        try:
            for step in path[:-1]:
                parent = parent[step]
            if value == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            assume(False)
    reference_ok = not any(True for _ in SCHEMA.full.iter_errors(case))
    assert SCHEMA.is_valid(case) == reference_ok
    assert (SCHEMA.problems(case) == []) == reference_ok
    # and the checker, on the same data written out, never crashes
    check(yaml.safe_dump(case, allow_unicode=True).encode())


# --- no value is ever echoed ------------------------------------------------------------------

def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


LEAVES = [p for p in PATHS if not isinstance(_at(BASE_CASE, p), (dict, list))]
MARKERS = ["zqmarkervalue", "王小明先生", "13812345678", "zq-marker@example.com", "2099-01-01", "ZQ-20260305-MARKR", "Zqmarker Value"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LEAVES), st.sampled_from(MARKERS)), min_size=1, max_size=3), st.booleans())
def test_no_value_is_ever_echoed(edits: list[tuple[tuple[Any, ...], str]], as_list: bool) -> None:
    """Put a recognisable value in any field (or a list of it): whatever the checker says about
    the file, the value appears in no message and no field path."""
    case = copy.deepcopy(BASE_CASE)
    for path, marker in edits:
        parent: Any = case
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = [marker] if as_list else marker
    result = check(yaml.safe_dump(case, allow_unicode=True).encode())
    for problem in result.problems:
        shown = problem.message + " " + problem.field
        for marker in MARKERS:
            if marker == "2099-01-01":
                continue  # a date is not personal data; "today is ..." may name one
            assert marker not in shown and marker[:4] not in shown, (problem.field, problem.message)
