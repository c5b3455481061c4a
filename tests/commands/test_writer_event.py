"""`complaints event`: every kind, illegal transitions, refused results, text-preserving
appends and hostile free text."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaints.commands import case_edit as writer
from complaints.core.events import EVENT_COMMANDS
from complaints.cli import cli
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from test_writer_support import make_repo

from conftest import TEST_DATA, cli_invoke
DATA = TEST_DATA / "writer"
TODAY = "2026-06-30"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root, _ = make_repo(tmp_path / "repo")
    return root


def new_case(root: Path, anonymous: bool = False) -> str:
    args = ["new", "--repo", str(root), "--today", "2026-03-02", "--channel", "online_form", "--category", "delay",
            "--department", "permits", "--priority", "normal", "--anonymous" if anonymous else "--named"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.stdout.split()[1]


def event(root: Path, case_id: str, *args: str, date: str | None = None) -> Any:
    extra = ["--date", date] if date else []
    return cli_invoke("event", case_id, *args, *extra, "--repo", str(root), "--today", TODAY)


def timeline(root: Path, case_id: str) -> list[dict[str, Any]]:
    path = Repository.open(root).find_case(case_id)
    case = load_yaml(path.read_bytes(), str(path))
    events: list[dict[str, Any]] = case["timeline"]
    return events


# Two paths through the lifecycle that between them use every event kind.
FULL_PATH: list[tuple[str, ...]] = [
    ("acknowledge",),
    ("accept", "--note", "in scope"),
    ("assign", "--department", "permits", "--handler", "h-zhou"),
    ("transfer", "--from", "permits", "--to", "registry", "--handler", "h-zhou", "--reason", "files are at the registry"),
    ("extend", "--stage", "resolve", "--days", "10", "--approver", "d-zhang", "--reason", "two offices involved"),
    ("pause", "--reason", "waiting for material"),
    ("resume",),
    ("protection-check", "--note", "no retaliation seen"),
    ("resolve", "--outcome", "substantiated", "--measure", "correction", "--measure", "talk", "--summary", "fixed"),
    ("follow-up", "--satisfaction", "satisfied"),
    ("close",),
    ("review",),
    ("review-answer", "--outcome", "upheld", "--summary", "answer stands"),
    ("close",),
]
SHORT_PATH: list[tuple[str, ...]] = [("not-accept", "--reason", "out_of_scope"), ("close",)]


def test_every_event_kind_is_covered() -> None:
    used = {step[0] for step in FULL_PATH + SHORT_PATH}
    assert used == set(EVENT_COMMANDS)


@pytest.mark.parametrize("path", [FULL_PATH, SHORT_PATH], ids=["full", "not-accepted"])
def test_each_kind_appends_its_event(repo: Path, path: list[tuple[str, ...]]) -> None:
    case_id = new_case(repo)
    day = dt.date(2026, 3, 2)
    for step in path:
        day += dt.timedelta(days=1)
        result = event(repo, case_id, *step, date=day.isoformat())
        assert result.exit_code == 0, (step, result.output)
        last = timeline(repo, case_id)[-1]
        assert last["kind"] == EVENT_COMMANDS[step[0]]
        assert last["date"] == day.isoformat()
    events = timeline(repo, case_id)
    assert len(events) == len(path) + 1
    if path is FULL_PATH:
        assert events[4] == {"kind": "transferred", "date": "2026-03-06", "from": "permits", "to": "registry",
                             "handler": "h-zhou", "reason": "files are at the registry"}
        assert events[5]["days"] == 10
        assert events[9]["measures"] == ["correction", "talk"]
    check = CliRunner().invoke(cli, ["validate", "--repo", str(repo), "--today", TODAY])
    assert check.exit_code == 0, check.output


def test_date_defaults_to_today(repo: Path) -> None:
    case_id = new_case(repo)
    assert event(repo, case_id, "acknowledge").exit_code == 0
    assert timeline(repo, case_id)[-1] == {"kind": "acknowledged", "date": TODAY}


@pytest.mark.parametrize(
    ("steps", "illegal", "reason"),
    [
        ([], ("resolve", "--outcome", "substantiated"), "accepted"),
        ([], ("close",), "answer"),
        ([("accept",)], ("resume",), "paused"),
        ([("accept",)], ("accept",), "already accepted"),
        ([("accept",), ("pause", "--reason", "x")], ("resolve", "--outcome", "mediated"), "paused"),
        ([("not-accept", "--reason", "duplicate"), ("close",)], ("acknowledge",), "closed"),
        ([("accept",)], ("review-answer", "--outcome", "upheld"), "review_requested"),
    ],
)
def test_illegal_transition_is_refused_with_a_reason(repo: Path, steps: list[tuple[str, ...]], illegal: tuple[str, ...], reason: str) -> None:
    case_id = new_case(repo)
    for step in steps:
        assert event(repo, case_id, *step).exit_code == 0
    path = Repository.open(repo).find_case(case_id)
    before = path.read_bytes()
    result = event(repo, case_id, *illegal)
    assert result.exit_code == 1
    assert "cannot record" in result.output and reason in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("transfer", "--from", "permits", "--to", "registry"), "needs --reason"),
        (("accept", "--days", "3"), "does not take --days"),
        (("resolve",), "needs --outcome"),
        (("extend", "--stage", "resolve", "--days", "5", "--reason", "x"), "needs --approver"),
    ],
)
def test_wrong_options_for_the_kind_are_a_usage_error(repo: Path, args: tuple[str, ...], message: str) -> None:
    case_id = new_case(repo)
    result = event(repo, case_id, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_result_that_would_not_validate_is_refused(repo: Path) -> None:
    case_id = new_case(repo)
    path = Repository.open(repo).find_case(case_id)
    assert event(repo, case_id, "accept").exit_code == 0
    before = path.read_bytes()
    # An unknown key is a usage error (exit 2), as in `new`, and the refusal lists the keys.
    result = event(repo, case_id, "assign", "--department", "no_such_department")
    assert result.exit_code == 2
    assert "--department: not a key of the policy's departments; choose one of: general_office (办公室)" in result.output
    assert path.read_bytes() == before
    # An event dated before the complaint arrived is refused too.
    result = event(repo, case_id, "acknowledge", date="2026-01-01")
    assert result.exit_code == 1 and path.read_bytes() == before


def test_unknown_case_is_an_error(repo: Path) -> None:
    result = event(repo, "XN-20260101-ZZZZZ", "accept")
    assert result.exit_code == 1
    assert "no case XN-20260101-ZZZZZ" in result.output


def added_lines(before: str, after: str) -> str:
    """The text inserted into ``before`` to make ``after``, checking nothing else changed."""
    start = 0
    while start < len(before) and before[start] == after[start]:
        start += 1
    start = before.rfind("\n", 0, start) + 1  # insertions are whole lines
    tail = len(before) - start
    assert after.endswith(before[start:]) and after[: start] == before[: start]
    return after[start : len(after) - tail]


def test_append_keeps_comments_and_layout_byte_for_byte(repo: Path) -> None:
    target = repo / "cases" / "2026" / "XN-20260302-AB12C.yml"
    target.parent.mkdir(parents=True)
    original = (DATA / "commented.yml").read_text(encoding="utf-8")
    target.write_text(original, encoding="utf-8")
    assert event(repo, "XN-20260302-AB12C", "accept", date="2026-03-04").exit_code == 0
    assert event(repo, "XN-20260302-AB12C", "assign", "--department", "finance", "--note", "by hand", date="2026-03-05").exit_code == 0
    after = target.read_text(encoding="utf-8")
    inserted = added_lines(original, after)
    assert inserted == (
        "- kind: accepted\n  date: 2026-03-04\n"
        "- kind: assigned\n  date: 2026-03-05\n  department: finance\n  note: \"by hand\"\n"
    )
    # inserted right after the flow-style item and its trailing comment
    assert after.index(inserted) == original.index("  # a comment indented")


def test_append_to_the_shipped_sample_keeps_everything_else(repo: Path) -> None:
    target = repo / "cases" / "2026" / "XN-20260305-7K3QH.yml"
    target.parent.mkdir(parents=True)
    original = (DATA / "XN-20260305-7K3QH.yml").read_text(encoding="utf-8")
    target.write_text(original, encoding="utf-8")
    assert event(repo, "XN-20260305-7K3QH", "review", "--note", "asked by letter", date="2026-05-06").exit_code == 0
    after = target.read_text(encoding="utf-8")
    assert added_lines(original, after) == '  - kind: review_requested\n    date: 2026-05-06\n    note: "asked by letter"\n'
    assert after.index("suggestions:") > after.index("review_requested")


def test_status_field_moves_with_the_timeline(repo: Path) -> None:
    case_id = new_case(repo)
    path = Repository.open(repo).find_case(case_id)
    text = path.read_text(encoding="utf-8").replace("priority: normal\n", "priority: normal\nstatus: received  # kept in step\n")
    path.write_text(text, encoding="utf-8")
    assert event(repo, case_id, "accept").exit_code == 0
    after = path.read_text(encoding="utf-8")
    assert "status: accepted  # kept in step\n" in after
    assert load_yaml(after.encode(), "x")["status"] == "accepted"


HOSTILE = [
    "line one\nline two",
    "key: value # not a comment",
    "---\n...\n--- !!python/object:os.system",
    "\"double\" and 'single' quotes \\ backslash",
    "- looks like a list item",
    "{flow: mapping}, [flow, list]",
    "&anchor *alias !tag %directive @at `tick`",
    "yes",
    "null",
    "2026-13-45",
    "  leading and trailing spaces  ",
    "tab\there, bell\a, nel\x85, line sep\u2028, bom\ufeff",
    "tab\there",
    "中文：投诉，处理。「引号」",
    "emoji 🙂 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "|\n  block?",
    "# only a comment",
]


# Free text a case file refuses (see yamlload and the schema's text): an option is held to the
# same rules, so nothing is written.
REFUSED = [
    "tab\there, bell\a, nel\x85, line sep\u2028, bom\ufeff",
    "bell\a",
    "escape \x1b[2J",
    "nel\x85",
    "line sep\u2028",
    "paragraph sep\u2029",
    "bom\ufeff",
    "zero\u200bwidth",
    "joiner\u200d",
    "rtl \u202eoverride",
    "isolate \u2066x\u2069",
    "   ",
    "\u3000\n\t",
]
ACCEPTED = [text for text in HOSTILE if text not in REFUSED]


@pytest.mark.parametrize("text", REFUSED, ids=range(len(REFUSED)))
def test_free_text_options_follow_the_case_file_rules(repo: Path, text: str) -> None:
    case_id = new_case(repo)
    path = Repository.open(repo).find_case(case_id)
    before = path.read_bytes()
    result = event(repo, case_id, "accept", "--note", text)
    assert result.exit_code == 2, result.output
    assert "--note: " in result.output and "Traceback" not in result.output
    assert text.strip() == "" or text not in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("text", ACCEPTED, ids=range(len(ACCEPTED)))
def test_hostile_free_text_reads_back_exactly(repo: Path, text: str) -> None:
    case_id = new_case(repo)
    result = event(repo, case_id, "accept", "--note", text)
    assert result.exit_code == 0, result.output
    assert text not in result.output  # free text is never echoed
    assert timeline(repo, case_id)[-1]["note"] == text
    path = Repository.open(repo).find_case(case_id)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[-1].startswith("    note: ") and len(lines) == 16  # one line per field, nothing spilled


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_yaml_scalar_round_trips(text: str) -> None:
    rendered = writer.yaml_scalar(text)
    assert "\n" not in rendered
    assert load_yaml(f"k: {rendered}\n".encode(), "x") == {"k": text}
