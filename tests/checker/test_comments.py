"""YAML comments are committed like the data: personal data in them is found and placed at the
comment's line; a "#" inside a scalar's text is the free-text checks' business, not a comment."""
from __future__ import annotations

import datetime as dt

from complaints.checker.casefile import check_case_bytes
from complaints.checker.comments import comment_findings
from complaints.adapters.config import load_policy
from complaints.adapters.yamlload import compose_yaml

from conftest import TEMPLATE

FILE = "cases/2025/XN-20250106-Z08CW.yml"
CASE = (TEMPLATE / FILE).read_bytes()
TODAY = dt.date(2026, 11, 28)


def findings(text: str) -> list[tuple[int, int, str]]:
    data = text.encode()
    return [(f.line, f.column, f.kind) for f in comment_findings(text, lambda: compose_yaml(data))]


def test_comments_with_personal_data_are_found_at_their_line() -> None:
    text = "a: 1  # call 13812345678\n# mail x@example.com\nb: '#13812345678'\nc: |\n  # 13912345678\n"
    assert findings(text) == [(1, 7, "mobile"), (2, 1, "email")]


def test_hash_inside_scalars_is_not_a_comment() -> None:
    assert findings('a: "x #13812345678"\nb: y#13812345678\nc: |\n  # 138 1234 5678\n') == []


def test_ordinary_comments_pass() -> None:
    assert findings("# yaml-language-server: $schema=../../schema/case.schema.json\na: 1 # 2026-03-05 受理\n") == []


def test_a_phone_in_a_comment_fails_an_otherwise_valid_case() -> None:
    policy = load_policy(TEMPLATE)
    assert check_case_bytes(CASE, FILE, policy, TODAY).ok
    bad = CASE.replace(b"subject:\n", "subject:  # 回电 ١٣٨١٢٣٤٥٦٧٨\n".encode(), 1)
    result = check_case_bytes(bad, FILE, policy, TODAY)
    assert [(p.field, p.line) for p in result.problems] == [("$", CASE[: CASE.index(b"subject:")].count(b"\n") + 1)]
    assert "mobile" in result.problems[0].message and "١٣٨" not in result.problems[0].message


def test_a_phone_in_a_quoted_summary_is_reported_once_as_free_text() -> None:
    policy = load_policy(TEMPLATE)
    text = CASE.decode()
    start = text.index("  summary:")
    end = text.index("\n", start)
    bad = (text[:start] + '  summary: "回电 #13812345678"' + text[end:]).encode()
    result = check_case_bytes(bad, FILE, policy, TODAY)
    assert [p.field for p in result.problems] == ["$.subject.summary"]
