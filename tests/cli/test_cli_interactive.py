"""`complaints new` and `complaints event` driven through a real terminal (a pseudo-terminal,
with pexpect) as a person would: wrong answers, labels instead of keys, full-width separators,
Ctrl-C and "Save? n". Each wrong answer is asked again and every earlier answer is kept."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pexpect
import pytest
from pyrage import x25519

from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from conftest import copy_repo

COMPLAINTS = str(Path(sys.executable).parent / "complaints")
TODAY = "2026-03-06"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = copy_repo(tmp_path / "repo")
    policy = (root / "policy.yml").read_text(encoding="utf-8")
    # The smallest receipt work factor the library accepts: the same behaviour, faster.
    (root / "policy.yml").write_text(policy.replace("iterations: 600000", "iterations: 100000"), encoding="utf-8")
    (root / "recipients.txt").write_text(f"{x25519.Identity.generate().to_public()}\n", encoding="utf-8")
    return root


def _as_at_a_terminal() -> None:
    # A child inherits an ignored or blocked SIGINT from its parent (Python then never raises
    # KeyboardInterrupt): start each command as a shell at a terminal would, with Ctrl-C live,
    # whatever an earlier test or the test runner did to this process.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def spawn(root: Path, *args: str) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "400"}
    child = pexpect.spawn(COMPLAINTS, [*args, "--repo", str(root), "--today", TODAY], env=env, encoding="utf-8",
                          timeout=60, dimensions=(50, 400), preexec_fn=_as_at_a_terminal)  # fmt: skip
    return child


def answer(child: pexpect.spawn, prompt: str, text: str) -> None:
    child.expect_exact(prompt)
    child.sendline(text)


def finish(child: pexpect.spawn) -> tuple[int, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def case_files(root: Path) -> list[Path]:
    return sorted((root / "cases").rglob("*.yml"))


def test_new_checks_each_answer_as_typed_and_keeps_the_others(repo: Path) -> None:
    child = spawn(repo, "new")
    answer(child, "Channel [mailbox (投诉信箱)", "fax")
    child.expect_exact("error: Channel: not a key of the policy's channels; choose one of: mailbox (投诉信箱)")
    answer(child, "Channel [", "投诉电话")  # the label, not the key
    answer(child, "Category [", "attitude")
    answer(child, "Departments [", "permits，registry、nowhere")
    child.expect_exact("error: Departments: not a key of the policy's departments; choose one of: general_office (办公室)")
    answer(child, "Departments [", "permits，registry")
    answer(child, "Priority [", "")  # the default
    answer(child, "Handler [", "h-zhou")
    answer(child, "Date received (YYYY-MM-DD)", "2026-13-01")
    child.expect_exact("is not a day of the calendar")
    answer(child, "Date received (YYYY-MM-DD)", "2026-03-07")
    child.expect_exact("is after today (2026-03-06)")
    answer(child, "Date received (YYYY-MM-DD)", "2026-03-05")
    answer(child, "Anonymous complaint? [y/N]", "maybe")
    child.expect_exact("error: answer y (yes) or n (no)")
    answer(child, "Anonymous complaint? [y/N]", "n")
    answer(child, "Summary (internal", "请回电 139 1234 5678")
    child.expect_exact("error: summary: looks like personal data (mobile)")
    answer(child, "Summary (internal", "窗口办事拖延")
    answer(child, "Contact details (hidden", "Zhao Liu 13912345678")
    answer(child, "Improvement suggestion (改进建议; empty for none)", "增设午间窗口")
    answer(child, "Adopted? [y/N]", "y")
    answer(child, "Rewarded? [y/N]", "n")
    answer(child, "Improvement suggestion (改进建议; empty for none more)", "")
    # The summary shows every answer as finally given, after all the mistakes.
    child.expect_exact("The new case:")
    child.expect_exact("channel      hotline (投诉电话)")
    child.expect_exact("category     attitude (服务态度)")
    child.expect_exact("departments  permits (审批服务科), registry (登记窗口)")
    child.expect_exact("priority     normal (一般)")
    child.expect_exact("handler      h-zhou (周处理（示例）)")
    child.expect_exact("received     2026-03-05")
    child.expect_exact("complainant  named, contact details to be encrypted")
    answer(child, "Save? [Y/n]", "")
    child.expect_exact("created XN-20260305-")
    status, rest = finish(child)
    assert status == 0, rest
    transcript = rest
    assert "Zhao Liu" not in transcript  # typed hidden, never shown
    [path] = case_files(repo)
    case = load_yaml(path.read_bytes(), str(path))
    assert case["channel"] == "hotline" and case["subject"]["category"] == "attitude"
    assert case["subject"]["departments"] == ["permits", "registry"] and case["subject"]["summary"] == "窗口办事拖延"
    assert case["priority"] == "normal" and case["handler"] == "h-zhou"
    assert case["timeline"] == [{"kind": "received", "date": "2026-03-05"}]
    assert case["suggestions"] == [{"summary": "增设午间窗口", "adopted": True, "rewarded": False}]
    assert b"13912345678" not in path.read_bytes()


def test_new_answered_no_at_save_writes_nothing_and_exits_1(repo: Path) -> None:
    child = spawn(repo, "new", "--channel", "hotline", "--category", "delay", "--priority", "normal", "--anonymous")
    answer(child, "Departments [", "审批服务科")
    answer(child, "Handler [", "")
    answer(child, "Date received (YYYY-MM-DD)", "")
    answer(child, "Summary (internal", "")
    answer(child, "Improvement suggestion", "")
    child.expect_exact("departments  permits (审批服务科)")
    answer(child, "Save? [Y/n]", "n")
    child.expect_exact("not saved; nothing was written")
    status, _ = finish(child)
    assert status == 1
    assert case_files(repo) == []


def test_ctrl_c_at_a_question_exits_130_and_writes_nothing(repo: Path) -> None:
    child = spawn(repo, "new")
    answer(child, "Channel [", "hotline")
    child.expect_exact("Category [")
    child.sendintr()
    child.expect_exact("interrupted; nothing was written")
    status, _ = finish(child)
    assert status == 130
    assert case_files(repo) == []


def _new_case(repo: Path) -> str:
    child = spawn(repo, "new", "--channel", "hotline", "--category", "delay", "--department", "permits", "--priority", "normal",
                  "--anonymous")  # fmt: skip
    status, out = finish(child)
    assert status == 0, out
    return out.split("created ", 1)[1].split()[0]


def test_event_asks_for_the_kind_and_its_fields(repo: Path) -> None:
    case_id = _new_case(repo)
    child = spawn(repo, "event", case_id)
    answer(child, "Event [acknowledge, accept,", "receive")
    child.expect_exact("error: KIND: not an event; choose one of: acknowledge, accept, not-accept")
    answer(child, "Event [", "accepted")  # the kind as the file records it
    answer(child, "Date (YYYY-MM-DD)", "")
    answer(child, "Note (internal", "")
    child.expect_exact(f"Add to {case_id}:")
    answer(child, "Save? [Y/n]", "y")
    child.expect_exact(f"recorded accepted on {TODAY}")
    child.expect_exact("next: resolve (调查办结) due 2026-04-07")
    status, _ = finish(child)
    assert status == 0

    child = spawn(repo, "event", case_id)
    answer(child, "Event [", "accept")  # refused at once: no field is asked for in vain
    child.expect_exact("error: cannot record 'accept' now: the complaint was already accepted")
    answer(child, "Event [", "办结")
    answer(child, "Date (YYYY-MM-DD)", "2026-03-06")
    answer(child, "Outcome [", "true")
    child.expect_exact("error: Outcome: not a key of the policy's outcomes; choose one of: substantiated (投诉属实)")
    answer(child, "Outcome [", "部分属实")
    answer(child, "Measures [", "correction，talk、nothing")
    child.expect_exact("error: Measures: not a key of the policy's measures")
    answer(child, "Measures [", "correction，talk")
    answer(child, "Summary (internal", "已整改")
    answer(child, "Note (internal", "")
    child.expect_exact("outcome   partly_substantiated (部分属实)")
    child.expect_exact("measures  correction (限期整改), talk (诫勉谈话)")
    answer(child, "Save? [Y/n]", "")
    child.expect_exact("recorded resolved on 2026-03-06")
    status, _ = finish(child)
    assert status == 0
    path = Repository.open(repo).find_case(case_id)
    timeline = load_yaml(path.read_bytes(), str(path))["timeline"]
    assert timeline[-1] == {"kind": "resolved", "date": "2026-03-06", "outcome": "partly_substantiated",
                            "measures": ["correction", "talk"], "summary": "已整改"}  # fmt: skip


def test_event_with_every_field_given_asks_nothing(repo: Path) -> None:
    case_id = _new_case(repo)
    child = spawn(repo, "event", case_id, "accept")
    status, out = finish(child)
    assert status == 0, out
    assert "Save?" not in out and "recorded accepted" in out


def test_transfer_offers_the_department_holding_the_case(repo: Path) -> None:
    case_id = _new_case(repo)
    for args in (("accept",), ("assign", "--department", "permits", "--handler", "h-zhou")):
        status, out = finish(spawn(repo, "event", case_id, *args))
        assert status == 0, out
    child = spawn(repo, "event", case_id)
    answer(child, "Event [", "转办")
    answer(child, "Date (YYYY-MM-DD)", "")
    child.expect_exact("From [general_office (办公室)")
    child.expect_exact("[permits]: ")  # the holding department, taken with Enter
    child.sendline("")
    answer(child, "To [", "permits")
    answer(child, "Reason (internal", "材料在登记窗口")
    answer(child, "Handler [", "")
    answer(child, "Note (internal", "")
    # The lifecycle's check comes before "Save?", not after it.
    child.expect_exact("cannot record 'transferred': a transfer must go to a different department")
    status, _ = finish(child)
    assert status == 1
