"""The everyday commands on the frozen template: list, show, overdue filters, suggestions,
rekey --dry-run, colour, progress, completion, help examples, and one exit-code convention
walked across every command."""
from __future__ import annotations

import csv
import io
import json
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from pyrage import x25519

from complaints.cli import cli
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from conftest import cli_invoke, copy_repo
from test_cli_docs import COMMANDS, IDS

TODAY = "2026-11-30"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("daily") / "repo", with_cases=True)


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return cli_invoke(*args, env=env, prog_name="complaints")


def test_list_filters_by_handler_and_hides_closed_cases(sample: Path) -> None:
    result = run("list", "--handler", "h-zhou", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "RECEIVED", "STATE"]
    rows = [line for line in lines[1:] if line.startswith("XN-")]
    assert [r.split()[0] for r in rows][:2] == ["XN-20261120-W3QC5", "XN-20261021-1QSN9"]  # newest first
    assert all(" closed " not in r for r in rows)
    assert "resolve due 2026-11-23, OVERDUE by 5" in result.stdout
    everything = run("list", "--handler", "周处理（示例）", "--state", "all", "--repo", str(sample), "--today", TODAY, "--format", "json")
    doc = json.loads(everything.stdout)
    assert doc["count"] > len(rows) and {c["handler"] for c in doc["cases"]} == {"h-zhou"}
    assert any(c["state"] == "closed" for c in doc["cases"])


def test_list_other_filters_and_csv(sample: Path) -> None:
    result = run("list", "--department", "registry", "--stage", "resolve", "--category", "信息公开不到位",
                 "--received-from", "2026-10-01", "--received-to", "2026-10-31", "--format", "csv", "--repo", str(sample), "--today", TODAY)  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["case_id"], r["next_stage"], r["next_state"]) for r in rows] == [("XN-20261021-1QSN9", "resolve", "overdue")]
    none = run("list", "--state", "paused", "--received-from", "2030-01-01", "--repo", str(sample), "--today", TODAY)
    assert none.exit_code == 0 and "No case matches" in none.stdout


def test_list_refusals_list_the_choices_and_exit_2(sample: Path) -> None:
    result = run("list", "--department", "nowhere", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 2
    assert "--department: not a key of the policy's departments; choose one of: general_office (办公室), permits (审批服务科)" in result.stderr
    assert "Usage: complaints list" in result.stderr  # the command's own usage, not the group's
    result = run("list", "--handler", "h-zhou,h-wu", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 2 and "repeat --handler for several: --handler h-zhou --handler h-wu" in result.stderr


def test_show_reads_like_a_case_and_never_shows_the_contact(sample: Path) -> None:
    result = run("show", "XN-20261021-1QSN9", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "state        accepted (已受理)" in out
    assert "received     2026-10-21 via in_person (当面投诉)" in out
    assert "held by      registry (登记窗口) / h-zhou (周处理（示例）)" in out
    assert "2026-10-22  assigned: department registry (登记窗口); handler h-zhou (周处理（示例）)" in out
    assert "resolve (调查办结)  due 2026-11-23  not done  OVERDUE by 5 working day(s)" in out
    assert "next: resolve (调查办结) was due 2026-11-23" in out
    case = load_yaml(Repository.open(sample).find_case("XN-20261021-1QSN9").read_bytes(), "x")
    armour = case["complainant"]["contact"]
    assert "AGE ENCRYPTED" not in out and armour.splitlines()[1] not in out
    doc = json.loads(run("show", "XN-20261021-1QSN9", "--repo", str(sample), "--today", TODAY, "--format", "json").stdout)
    assert doc["has_contact"] is True and "contact" not in json.dumps(doc).replace("has_contact", "")
    assert [s["stage"] for s in doc["stages"]] == ["acknowledge", "decide", "resolve"]
    missing = run("show", "XN-20260101-ZZZZZ", "--repo", str(sample), "--today", TODAY)
    assert missing.exit_code == 1 and "no case XN-20260101-ZZZZZ" in missing.stderr


def test_overdue_filters_and_worst_group_first(sample: Path) -> None:
    doc = json.loads(run("overdue", "--repo", str(sample), "--today", TODAY, "--format", "json").stdout)
    overdue = [g["overdue"] for g in doc["groups"]]
    assert overdue == sorted(overdue, reverse=True) and overdue[0] > overdue[-1]
    mine = json.loads(run("overdue", "--handler", "h-zhou", "--repo", str(sample), "--today", TODAY, "--format", "json").stdout)
    assert mine["groups"] and {g["handler"] for g in mine["groups"]} == {"h-zhou"}
    dept = json.loads(run("overdue", "--department", "登记窗口", "--repo", str(sample), "--today", TODAY, "--format", "json").stdout)
    assert dept["groups"] and {g["department"] for g in dept["groups"]} == {"registry"}


def _own_repo(tmp_path: Path) -> tuple[Path, x25519.Identity]:
    root = copy_repo(tmp_path / "own")
    policy = (root / "policy.yml").read_text(encoding="utf-8")
    (root / "policy.yml").write_text(policy.replace("iterations: 600000", "iterations: 100000"), encoding="utf-8")
    identity = x25519.Identity.generate()
    (root / "recipients.txt").write_text(f"{identity.to_public()}\n", encoding="utf-8")
    return root, identity


NEW = ("new", "--channel", "hotline", "--category", "delay", "--department", "permits", "--priority", "normal", "--today", "2026-03-06")


def test_event_vocabulary_forms_and_next_due(tmp_path: Path) -> None:
    root, _ = _own_repo(tmp_path)
    created = run(*NEW, "--anonymous", "--repo", str(root))
    case_id = created.stdout.split()[1]
    accepted = run("event", case_id, "accepted", "--repo", str(root), "--today", "2026-03-06")
    assert accepted.exit_code == 0, accepted.output
    assert "next: resolve (调查办结) due 2026-04-07" in accepted.stdout
    again = run("event", case_id, "受理", "--repo", str(root), "--today", "2026-03-06")
    assert again.exit_code == 1 and "already accepted" in again.stderr
    bad = run("event", case_id, "resolve", "--outcome", "fine", "--repo", str(root), "--today", "2026-03-06")
    assert bad.exit_code == 2 and "choose one of: substantiated (投诉属实)" in bad.stderr
    comma = run("event", case_id, "resolve", "--outcome", "substantiated", "--measure", "talk,apology", "--repo", str(root), "--today", "2026-03-06")
    assert comma.exit_code == 2 and "repeat --measure for several: --measure talk --measure apology" in comma.stderr
    done = run("event", case_id, "resolve", "--outcome", "投诉属实", "--measure", "talk", "--repo", str(root), "--today", "2026-03-06")
    assert done.exit_code == 0, done.output
    warned = run("event", case_id, "follow-up", "--satisfaction", "满意", "--repo", str(root), "--today", "2026-03-06")
    assert warned.exit_code == 0, warned.output
    assert "warning: a follow-up (回访) on an anonymous case" in warned.stderr
    assert warned.stderr.index("warning") < len(warned.stderr)  # said on stderr, the record on stdout
    timeline = load_yaml(Repository.open(root).find_case(case_id).read_bytes(), "x")["timeline"]
    assert timeline[-1]["satisfaction"] == "satisfied" and timeline[-2]["outcome"] == "substantiated"


def test_suggestions_are_added_adopted_and_rewarded(tmp_path: Path) -> None:
    root, _ = _own_repo(tmp_path)
    created = run(*NEW, "--anonymous", "--suggestion", "增设午间窗口", "--repo", str(root))
    assert created.exit_code == 0, created.output
    case_id = created.stdout.split()[1]
    path = Repository.open(root).find_case(case_id)
    assert load_yaml(path.read_bytes(), "x")["suggestions"] == [{"summary": "增设午间窗口", "adopted": False}]
    added = run("event", case_id, "suggest", "--summary", "公开办理时限", "--repo", str(root), "--today", "2026-03-06")
    assert added.exit_code == 0, added.output
    adopted = run("event", case_id, "adopt", "--suggestion", "1", "--rewarded", "--repo", str(root), "--today", "2026-03-06")
    assert adopted.exit_code == 0, adopted.output
    assert load_yaml(path.read_bytes(), "x")["suggestions"] == [
        {"summary": "增设午间窗口", "adopted": True, "rewarded": True},
        {"summary": "公开办理时限", "adopted": False},
    ]
    out_of_range = run("event", case_id, "adopt", "--suggestion", "3", "--repo", str(root), "--today", "2026-03-06")
    assert out_of_range.exit_code == 2 and "has 2 suggestion(s)" in out_of_range.stderr
    pii = run("event", case_id, "suggest", "--summary", "call 13912345678", "--repo", str(root), "--today", "2026-03-06")
    assert pii.exit_code == 2 and "13912345678" not in pii.output
    shown = run("show", case_id, "--repo", str(root), "--today", "2026-03-06").stdout
    assert '1. "增设午间窗口"  adopted, rewarded' in shown


def test_new_named_without_contact_is_warned_before_writing(tmp_path: Path) -> None:
    root, _ = _own_repo(tmp_path)
    result = run(*NEW, "--named", "--repo", str(root))
    assert result.exit_code == 0
    assert "warning: a named complaint without contact details" in result.stderr


def test_rekey_dry_run_and_leaves_current_ciphertexts_alone(tmp_path: Path) -> None:
    root, identity = _own_repo(tmp_path)
    key = tmp_path / "key.txt"
    key.write_text(f"{identity}\n", encoding="utf-8")
    run(*NEW, "--named", "--contact-stdin", "--repo", str(root)).stdout  # noqa: B018
    result = CliRunner().invoke(cli, [*NEW, "--named", "--contact-stdin", "--repo", str(root)], input="王小明 13912345678")
    assert result.exit_code == 0, result.output
    path = Repository.open(root).find_case(result.stdout.split()[1])
    before = path.read_bytes()
    dry = run("rekey", "--dry-run", "--identity", str(key), "--repo", str(root), "--today", "2026-03-06")
    assert dry.exit_code == 0, dry.output
    assert f"would re-encrypt {Repository.open(root).relative(path)}" in dry.stdout and path.read_bytes() == before
    first = run("rekey", "--identity", str(key), "--repo", str(root), "--today", "2026-03-06")
    assert first.exit_code == 0 and "re-encrypted 1 case(s)" in first.stdout
    after = path.read_bytes()
    assert after != before
    second = run("rekey", "--identity", str(key), "--repo", str(root), "--today", "2026-03-06")
    assert "re-encrypted 0 case(s)" in second.stdout and "1 already encrypted to the current keys" in second.stdout
    assert path.read_bytes() == after
    # A new team member: every file is re-encrypted again.
    (root / "recipients.txt").write_text(f"{identity.to_public()}\n{x25519.Identity.generate().to_public()}\n", encoding="utf-8")
    third = run("rekey", "--identity", str(key), "--repo", str(root), "--today", "2026-03-06")
    assert "re-encrypted 1 case(s)" in third.stdout


def test_colour_on_request_and_never_with_no_color(sample: Path) -> None:
    plain = run("overdue", "--repo", str(sample), "--today", TODAY)
    assert "\x1b[" not in plain.stdout  # not a terminal: no colour
    forced = run("--color", "always", "overdue", "--repo", str(sample), "--today", TODAY)
    assert "\x1b[31m\x1b[1mOVERDUE" in forced.stdout
    off = run("--color", "never", "overdue", "--repo", str(sample), "--today", TODAY, env={"NO_COLOR": "1"})
    assert "\x1b[" not in off.stdout and "OVERDUE" in off.stdout


def test_no_progress_when_not_a_terminal(sample: Path) -> None:
    result = run("validate", "--repo", str(sample), "--today", TODAY, "--no-cache")
    assert "checked " not in result.stderr


def test_progress_listener_sees_every_file(sample: Path) -> None:
    from complaints.engine import progress
    from complaints.commands.validate import validate

    seen: list[tuple[int, int]] = []
    with progress.listening(lambda done, total: seen.append((done, total))):
        validate(Repository.open(sample), None, use_cache=False, jobs=1)
    assert seen and seen[-1][0] == seen[-1][1] == 80


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    result = run("completion", shell)
    assert result.exit_code == 0 and "_COMPLAINTS_COMPLETE" in result.stdout


def test_completion_of_case_ids_and_policy_keys(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.shell_completion import ShellComplete

    monkeypatch.chdir(sample)
    complete = ShellComplete(cli, {}, "complaints", "_COMPLAINTS_COMPLETE")
    ids = [c.value for c in complete.get_completions(["show"], "XN-202610")]
    assert "XN-20261021-1QSN9" in ids and all(i.startswith("XN-202610") for i in ids)
    departments = [c.value for c in complete.get_completions(["list", "--department"], "re")]
    assert departments == ["registry"]
    kinds = [c.value for c in complete.get_completions(["event", "XN-20261021-1QSN9"], "re")]
    assert set(kinds) == {"resume", "resolve", "review", "review-answer"}


def test_site_serve_prints_its_address(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import complaints.render.site

    monkeypatch.setattr(complaints.render.site, "serve_site", lambda *args, **kwargs: None)
    result = run("site", "serve", "--dev-addr", "127.0.0.1:8123", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 0 and "http://127.0.0.1:8123/" in result.stderr


def test_stats_refuses_lang_without_markdown(sample: Path) -> None:
    result = run("stats", "--format", "json", "--lang", "en", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 2 and "--lang applies to --format markdown only" in result.stderr


def test_impossible_dates_are_named_as_such(sample: Path) -> None:
    result = run("overdue", "--repo", str(sample), "--today", "2026-13-01")
    assert result.exit_code == 2 and "2026-13-01 is not a day of the calendar" in result.stderr


# ---- one exit-code convention, walked across every command -------------------------------------


def _leaves() -> list[tuple[tuple[str, ...], click.Command]]:
    return [(path, command) for path, command in COMMANDS if not isinstance(command, click.Group)]


@pytest.mark.parametrize("path, command", COMMANDS, ids=IDS)
def test_every_command_exits_2_on_a_usage_error(path: tuple[str, ...], command: click.Command) -> None:
    result = run(*path, "--no-such-option")
    assert result.exit_code == 2, result.output
    assert f"Usage: complaints {' '.join(path)}" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("path, command", _leaves(), ids=[" ".join(p) for p, _ in _leaves()])
def test_every_command_exits_1_outside_a_repository(path: tuple[str, ...], command: click.Command, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A command that needs a repository, run where there is none: exit 1 with an error that
    says so (a problem found, not a usage mistake); `completion` and `keygen` need none and exit 0."""
    monkeypatch.chdir(tmp_path)
    needed = {"deadlines": ["XN-20260101-AAAAA"], "show": ["XN-20260101-AAAAA"], "event": ["XN-20260101-AAAAA", "accept"],
              "reveal": ["XN-20260101-AAAAA", "--show", "--identity", __file__], "rekey": ["--identity", __file__],
              "new": ["--no-interactive", "--channel", "x"], "completion": ["bash"],
              "import": ["submission.age", "--identity", __file__, "--review"], "keygen": ["--out", str(tmp_path / "key.txt")]}  # fmt: skip
    result = run(*path, *needed.get(" ".join(path), []))
    if path in (("completion",), ("keygen",)):
        assert result.exit_code == 0, (path, result.output)
        return
    if path == ("notify",):
        result = run("notify", "--dry-run")
    assert result.exit_code == 1, (path, result.output)
    assert "policy.yml" in result.stderr and "Traceback" not in result.output


def test_an_interrupt_exits_130(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import complaints.commands.caselist

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(complaints.commands.caselist, "list_cases", interrupted)
    result = run("list", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 130 and "interrupted" in result.stderr


# ---- help examples that paste and run ------------------------------------------------------------


def _examples(command: click.Command) -> list[str]:
    doc = command.callback.__doc__ if command.callback is not None else command.help
    text = (doc or "").split("Example:", 1)[-1]
    joined = text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip().startswith(("complaints ", "printf ", "eval ", "GITHUB_"))]


@pytest.mark.parametrize("path, command", COMMANDS, ids=IDS)
def test_help_examples_are_never_rewrapped_and_parse(path: tuple[str, ...], command: click.Command) -> None:
    doc = command.callback.__doc__ if command.callback is not None else command.help
    help_text = run(*path, "--help").stdout
    example_lines = [line.strip() for line in (doc or "").split("Example:", 1)[-1].splitlines() if line.strip() and line.strip() != "\b"]
    for line in example_lines:
        assert line in help_text, f"`complaints {' '.join(path)} --help` rewraps the example line: {line}"
    for example in _examples(command):
        words = shlex.split(example.split("|")[-1].split("#")[0].replace("$(", "").replace(")", ""), posix=True)
        words = [part for word in words for part in (word.split() if word.startswith("complaints ") else [word])]
        words = words[words.index("complaints") + 1 :]
        words = words[: words.index(">")] if ">" in words else words
        ctx = cli.make_context("complaints", list(words), resilient_parsing=False)
        current: click.Command = cli
        args = [*ctx._protected_args, *ctx.args]  # noqa: SLF001
        while isinstance(current, click.Group) and args:
            _name, sub, args = current.resolve_command(ctx, args)
            assert sub is not None
            current = sub
            if isinstance(sub, click.Group):
                ctx = sub.make_context(_name or "", args, parent=ctx)
                args = [*ctx._protected_args, *ctx.args]  # noqa: SLF001
        try:
            current.make_context(current.name or "", args, parent=ctx)
        except click.BadParameter as exc:
            assert "does not exist" in str(exc), f"{example}: {exc}"  # a file named in the example, e.g. a key


def test_progress_on_a_terminal_after_a_second(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drawing itself, with a stand-in clock and terminal: nothing in the first second,
    then "checked N/TOTAL files", cleared at the end."""
    from complaints.cli import app as cli_module

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock = iter(n * 0.4 for n in range(10_000))
    terminal = Terminal()
    monkeypatch.setattr(cli_module.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(cli_module.sys, "stderr", terminal)
    from complaints.engine import progress

    def work() -> None:
        for done in range(1, 4):
            progress.tick(done, 3)

    cli_module._with_progress(work)
    drawn = terminal.getvalue()
    assert "checked 1/3" not in drawn and "checked 2/3" not in drawn  # the first second stays quiet
    assert "\rchecked 3/3 files" in drawn and drawn.endswith("\r\x1b[K")


def test_an_unknown_revision_shows_the_commands_own_usage(sample: Path) -> None:
    result = run("validate", "--changed-since", "no-such-branch", "--repo", str(sample), "--today", TODAY)
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: complaints validate") and "unknown git revision" in result.stderr
