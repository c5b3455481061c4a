"""The warm paths never serve a stale answer: the whole-result memos of validate, overdue and
stats are keyed by a digest that takes git's raw index listing when it names exactly the files
listed (engine/inputs.py); every change to what cases/ holds — an edit without a commit, an
untracked or ignored file, a deletion, a rename, a symbolic link, a FIFO, a folder named like
a case — must miss, and only a change git's stat check sees through (mtime alone) may hit.
`validate --changed-since` keeps its per-file results apart from the whole archive's. Every
case compares the cached output with a --no-cache run made after the change, and checks the
change showed in the output, so a stale memo fails the test."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from complaints.adapters.cache import cache_dir
from complaints.adapters.git import IndexListing
from complaints.adapters.repository import Repository
from complaints.commands.stats import compute_with_receipts
from complaints.engine import inputs
from complaints.render.stats import render_json

from conftest import cli_invoke, committed_synthetic_archive, git as _git, make_synthetic_archive

TODAY = "2026-11-27"
COMMANDS = {
    "validate": ["validate"],
    "validate-json": ["validate", "--format", "json"],
    "overdue": ["overdue", "--format", "json", "--accept-unconfirmed"],
    "stats": ["stats", "--format", "json", "--accept-unconfirmed"],
}



@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_synthetic_archive(tmp_path_factory.mktemp("warm") / "repo", 60, seed=11)


@pytest.fixture(params=["git", "index-file"])
def repo(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """A private copy of the archive per test, with git's index used at any size: asked of
    git, or read from the index file by the tool itself (the way of a large archive)."""
    target = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(archive), str(target)], check=True)
    monkeypatch.setattr(inputs, "GIT_THRESHOLD", 0)
    monkeypatch.setattr(inputs, "INDEX_FILE_THRESHOLD", 0 if request.param == "index-file" else 10**12)
    return target


def run(repo: Path, name: str, *extra: str) -> tuple[int, str]:
    result = cli_invoke(*COMMANDS[name], "--repo", str(repo), "--today", TODAY, *extra)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def publication(repo: Path, *, use_cache: bool) -> tuple[int, str]:
    """What `site build` publishes of the cases (the statistics and the receipt lookup rows),
    as one text to compare."""
    report, receipts = compute_with_receipts(Repository.open(repo, use_cache=use_cache), None, dt.date.fromisoformat(TODAY),
                                             skip_invalid=True)
    rows = "\n".join(f"{code} {entry!r}" for code, entry in sorted(receipts.items()))
    return 0, f"{render_json(report)}\n{rows}"


def outputs(repo: Path) -> dict[str, tuple[int, str]]:
    """Every command, cached (twice: filling, then reading) and uncached, all agreeing; and
    the site's publication the same way."""
    found = {}
    for name in COMMANDS:
        cached = run(repo, name)
        again = run(repo, name)
        fresh = run(repo, name, "--no-cache")
        assert cached == fresh, name
        assert again == fresh, name
        found[name] = fresh
    cached, again, fresh = (publication(repo, use_cache=use) for use in (True, True, False))
    assert cached == fresh == again, "site publication"
    found["site"] = fresh
    return found


def memo_files(repo: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each whole-result memo: a memo is written only on a miss."""
    folder = cache_dir(repo)
    assert folder is not None
    memos = [*folder.glob("*-report.cache"), *folder.glob("site-publication.cache")]
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in memos}


def a_case(repo: Path) -> Path:
    return sorted((repo / "cases").glob("*/*.yml"))[0]


def test_unchanged_archive_hits_and_uses_the_index_listing(repo: Path) -> None:
    before = outputs(repo)
    snapshot = inputs.snapshot(Repository.open(repo))
    assert snapshot.index_exact  # the fast path is the one exercised here
    assert snapshot.digest == inputs.inputs_digest(Repository.open(repo), snapshot.files)
    written = memo_files(repo)
    assert set(written) == {"validate-report.cache", "overdue-report.cache", "stats-report.cache", "site-publication.cache"}
    assert outputs(repo) == before
    assert memo_files(repo) == written


def test_touching_a_file_still_hits(repo: Path) -> None:
    before = outputs(repo)
    written = memo_files(repo)
    case = a_case(repo)
    stamp = case.stat().st_mtime_ns + 5_000_000_000
    os.utime(case, ns=(stamp, stamp))
    assert outputs(repo) == before
    assert memo_files(repo) == written


def _changes_output(repo: Path, change: str) -> None:
    before = outputs(repo)
    written = memo_files(repo)
    case = a_case(repo)
    text = case.read_text(encoding="utf-8")
    if change == "edit":
        case.write_text(text.replace("timeline:", "timeline:\n  - {}", 1), encoding="utf-8")
    elif change == "edit-staged":
        case.write_text(text.replace("timeline:", "timeline:\n  - {}", 1), encoding="utf-8")
        _git(repo, "add", "-A")
    elif change == "untracked":
        (case.parent / "stray.yml").write_text("not: a case\n", encoding="utf-8")
    elif change == "ignored":
        (repo / ".gitignore").write_text("cases/**/ignored.yml\n", encoding="utf-8")
        _git(repo, "add", ".gitignore")
        _git(repo, "commit", "-qm", "ignore")
        before = outputs(repo)
        written = memo_files(repo)
        (case.parent / "ignored.yml").write_text("not: a case\n", encoding="utf-8")
    elif change == "delete":
        case.unlink()
    elif change == "rename":
        case.rename(case.with_name("renamed.yml"))
    elif change == "symlink":
        (case.parent / "link.yml").symlink_to(case.name)
    elif change == "fifo":
        os.mkfifo(case.parent / "pipe.yml")
    elif change == "folder":
        (case.parent / "folder.yml").mkdir()
    elif change == "policy":
        policy = repo / "policy.yml"
        policy.write_text(policy.read_text(encoding="utf-8").replace("warn_days: 2", "warn_days: 9", 1), encoding="utf-8")
    else:
        raise AssertionError(change)
    after = outputs(repo)
    assert after != before, change
    assert memo_files(repo) != written, change
    # A staged edit leaves the index naming the files (with the new blob id: a miss all the same).
    if change not in ("policy", "edit-staged"):
        assert not inputs.snapshot(Repository.open(repo)).index_exact, change


@pytest.mark.parametrize(
    "change", ["edit", "edit-staged", "untracked", "ignored", "delete", "rename", "symlink", "fifo", "folder", "policy"]
)
def test_every_change_misses(repo: Path, change: str) -> None:
    _changes_output(repo, change)


def test_a_second_uncommitted_edit_misses_again(repo: Path) -> None:
    """Two different uncommitted states share the data commit ('uncommitted'): only the
    digest of the files tells them apart."""
    outputs(repo)
    case = a_case(repo)
    text = case.read_text(encoding="utf-8")
    case.write_text(text.replace("timeline:", "timeline:\n  - {}", 1), encoding="utf-8")
    first = outputs(repo)
    written = memo_files(repo)
    case.write_text(text, encoding="utf-8")  # the edit taken back, still uncommitted to git's stat check
    (case.parent / "stray.yml").write_text("not: a case\n", encoding="utf-8")
    second = outputs(repo)
    assert second != first
    assert all(second[name] != first[name] for name in ("validate", "site")), "the site publication was stale"
    now = memo_files(repo)
    assert all(now[name] != written[name] for name in ("validate-report.cache", "site-publication.cache"))


def test_index_listing_must_name_exactly_the_files(repo: Path) -> None:
    listing = IndexListing(repo, "cases").result()
    files = Repository.open(repo).case_files()
    assert listing is not None and not listing.dirty
    assert inputs._index_is_listing(listing, files)
    assert not inputs._index_is_listing(listing, files[1:])
    assert not inputs._index_is_listing(listing, [*files, "cases/zz.yml"])
    assert not inputs._index_is_listing(listing, list(reversed(files)))
    assert not inputs._index_is_listing(listing._replace(dirty=frozenset({files[0].encode()})), files)
    assert not inputs._index_is_listing(None, files)


def test_outside_git_the_digest_comes_from_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_synthetic_archive(tmp_path / "plain", 12, seed=3)
    monkeypatch.setattr(inputs, "GIT_THRESHOLD", 0)
    first = inputs.snapshot(Repository.open(root))
    assert not first.index_exact
    case = sorted((root / "cases").glob("*/*.yml"))[0]
    case.write_bytes(case.read_bytes() + b"# edited\n")
    assert inputs.snapshot(Repository.open(root)).digest != first.digest


def test_changed_since_keeps_its_results_apart_and_never_stale(repo: Path) -> None:
    run(repo, "validate")
    folder = cache_dir(repo)
    assert folder is not None
    whole = (folder / "validate.cache").stat()
    cases = sorted((repo / "cases").glob("*/*.yml"))[:3]
    for case in cases:
        case.write_bytes(case.read_bytes() + b"# edited\n")

    def changed() -> tuple[int, str]:
        cached = cli_invoke("validate", "--changed-since", "HEAD", "--repo", str(repo), "--today", TODAY)
        fresh = cli_invoke("validate", "--changed-since", "HEAD", "--no-cache", "--repo", str(repo), "--today", TODAY)
        assert (cached.exit_code, cached.stdout) == (fresh.exit_code, fresh.stdout)
        return cached.exit_code, cached.stdout

    assert changed() == (0, "ok: 3 files checked, no problems\n")
    assert changed() == (0, "ok: 3 files checked, no problems\n")
    assert (folder / "validate-few.cache").exists()
    after = (folder / "validate.cache").stat()
    assert (after.st_ino, after.st_mtime_ns) == (whole.st_ino, whole.st_mtime_ns)  # neither read into nor rewritten
    # The same file edited again, now broken: its kept result is not served.
    cases[0].write_bytes(cases[0].read_bytes().replace(b"timeline:", b"timeline:\n  - {}", 1))
    code, text = changed()
    assert code == 1 and cases[0].name in text


def test_a_stored_validate_report_reads_back_as_the_fresh_one(repo: Path) -> None:
    import datetime as dt

    from complaints.commands.validate import validate

    case = a_case(repo)
    case.rename(case.with_name("renamed.yml"))  # a problem, and an id that is not its file's name
    (repo / "cases" / "stray.txt").write_text("x\n", encoding="utf-8")
    today = dt.date.fromisoformat(TODAY)

    def seen(report: object) -> list[tuple[str, str | None, list[object]]]:
        return [(f.file, f.case_id, f.problems) for f in report.files]  # type: ignore[attr-defined]

    fresh = validate(Repository.open(repo), today, use_cache=False)
    validate(Repository.open(repo), today)  # fills the cache
    stored = validate(Repository.open(repo), today)
    assert memo_files(repo)  # the second came from the stored report
    assert seen(stored) == seen(fresh) and len(stored.files) == len(fresh.files) == 61
    assert stored.files[-1] == fresh.files[-1] and stored.files[1:3] == fresh.files[1:3]
    assert (stored.problems, stored.ok, stored.files_with_problems) == (fresh.problems, fresh.ok, fresh.files_with_problems)
    assert not fresh.ok


DATA_STATES = ["committed", "recommitted", "staged", "staged-tree-written", "policy-edited", "policy-staged",
               "policy-staged-tree-written", "policy-staged-then-restored", "policy-executable", "policy-link",
               "calendar-deleted", "calendar-untracked", "calendar-new-untracked", "calendar-folder-staged",
               "calendar-intent-to-add", "case-executable", "cases-link", "no-commit"]  # fmt: skip


@pytest.mark.parametrize("state", DATA_STATES)
def test_data_commit_from_the_index_equals_git_status(repo: Path, state: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every way the data can stand against HEAD, decided three ways: by `git status` (the
    # reference), by git's index compared with HEAD (`diff-index`), and, for an index the tool
    # reads itself (the "index-file" runs), by its cache tree and the two files beside cases/,
    # with no git command that reads the whole index.
    from complaints.adapters import git
    from complaints.commands.stats import data_commit

    case = a_case(repo)
    policy, calendar = repo / "policy.yml", repo / "calendar.yml"
    if state == "recommitted":
        case.write_bytes(case.read_bytes() + b"# recommitted\n")
        _git(repo, "commit", "-qam", "again")
    elif state.startswith("staged"):
        case.write_bytes(case.read_bytes() + b"# staged\n")
        _git(repo, "add", "-A")
    elif state.startswith("policy-staged"):
        original = policy.read_bytes()
        policy.write_bytes(original + b"# edited\n")
        _git(repo, "add", "policy.yml")
        if state.endswith("restored"):
            policy.write_bytes(original)
    elif state == "policy-edited":
        policy.write_bytes(policy.read_bytes() + b"# edited\n")
    elif state == "policy-executable":
        policy.chmod(0o755)
    elif state == "policy-link":
        shutil.copy(policy, repo / "policy-real.yml")
        _git(repo, "add", "policy-real.yml")
        _git(repo, "commit", "-qm", "the real file")
        policy.unlink()
        policy.symlink_to("policy-real.yml")
    elif state == "calendar-deleted":
        calendar.unlink()
    elif state == "calendar-untracked":
        _git(repo, "rm", "-q", "--cached", "calendar.yml")
        _git(repo, "commit", "-qm", "untracked")
    elif state == "calendar-new-untracked":
        _git(repo, "rm", "-q", "calendar.yml")
        _git(repo, "commit", "-qm", "no calendar")
        calendar.write_text("# a calendar not yet added\n", encoding="utf-8")
    elif state == "calendar-folder-staged":
        # An entry under a folder named like the file, staged, its folder since removed.
        _git(repo, "rm", "-q", "calendar.yml")
        _git(repo, "commit", "-qm", "no calendar")
        (repo / "calendar.yml").mkdir()
        (repo / "calendar.yml" / "x").write_text("y\n", encoding="utf-8")
        _git(repo, "add", "calendar.yml/x")
        shutil.rmtree(repo / "calendar.yml")
    elif state == "calendar-intent-to-add":
        # An empty calendar.yml committed, then marked intent-to-add: the index holds the
        # empty blob, as HEAD and the work tree do, and git still lists it as changed.
        calendar.write_bytes(b"")
        _git(repo, "commit", "-qam", "empty calendar")
        _git(repo, "rm", "-q", "--cached", "calendar.yml")
        _git(repo, "add", "-N", "calendar.yml")
    elif state == "case-executable":
        case.chmod(0o755)
    elif state == "cases-link":
        (repo / "cases").rename(repo / "cases-elsewhere")
        (repo / "cases").symlink_to("cases-elsewhere")
    elif state == "no-commit":
        subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
    if state.endswith("tree-written"):
        _git(repo, "write-tree")  # the index's cache tree made whole, nothing committed
    snap = inputs.snapshot(Repository.open(repo))
    # git takes the executable bit as a change, and a link where cases/ was as every file
    # gone: the index no longer matches the work tree
    assert snap.index_exact == (state not in ("case-executable", "cases-link"))
    expected = data_commit(repo)
    if state in ("committed", "recommitted"):
        assert expected == _git(repo, "rev-parse", "HEAD").strip()
    else:
        assert expected == ("unknown" if state == "no-commit" else "uncommitted")
    assert data_commit(repo, index_exact=snap.index_exact) == expected
    # HEAD asked for beforehand, beside the listing (commands/stats._inputs_and_commit).
    head = git.Started(repo, "rev-parse", "HEAD")
    assert data_commit(repo, index_exact=snap.index_exact, index=snap.index_facts, head=head) == expected
    calls: list[str] = []
    original = git.run

    def recorded(root: Path, *args: str) -> bytes:
        calls.append(args[0] if args[0] != "--no-optional-locks" else args[1])
        return original(root, *args)

    monkeypatch.setattr(git, "run", recorded)
    assert data_commit(repo, index_exact=snap.index_exact, index=snap.index_facts) == expected
    from_file = inputs.INDEX_FILE_THRESHOLD == 0
    assert (snap.index_facts is not None) == from_file
    if from_file and state not in ("staged", "policy-staged", "policy-staged-then-restored", "no-commit", "case-executable",
                                   "cases-link", "calendar-folder-staged", "calendar-intent-to-add"):
        # The cache tree is whole: decided with no git command that reads the index.
        assert snap.index_facts is not None and snap.index_facts.cases_tree is not None
        assert "status" not in calls and "diff-index" not in calls, calls


@pytest.mark.parametrize("name", ["validate", "overdue", "stats"])
def test_a_cold_run_lists_the_case_folder_once(repo: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The files listed for the inputs' digest are the ones checked: listed once, they are
    # also the same files (a case added between two listings could not be checked without
    # being in the digest).
    listings = []
    original = Repository.case_files

    def counted(self: Repository) -> list[str]:
        listings.append(self.root)
        return original(self)

    fresh = run(repo, name, "--no-cache")
    monkeypatch.setattr(Repository, "case_files", counted)
    assert run(repo, name) == fresh
    assert len(listings) == 1


def _fake_git(folder: Path, body: str) -> Path:
    """A `git` first on PATH that runs ``body`` for `ls-files` and the real git otherwise."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir()
    script = folder / "git"
    script.write_text(f'#!/bin/sh\ncase " $* " in *" ls-files "*) {body} ;; esac\nexec {real} "$@"\n')
    script.chmod(0o755)
    return folder


def test_a_git_listing_that_hangs_is_given_up_at_the_deadline(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from complaints.adapters import git as git_module

    monkeypatch.setattr(inputs, "INDEX_FILE_THRESHOLD", 10**12)  # git's listing, whatever the fixture says
    fake = _fake_git(tmp_path / "bin", "printf '100644 x'; exec sleep 30")
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(git_module, "TIMEOUT", 1)
    started = time.monotonic()
    assert IndexListing(repo, "cases").result() is None
    assert time.monotonic() - started < 20
    # and the digest still comes, from the files' bytes
    assert not inputs.snapshot(Repository.open(repo)).index_exact


def test_a_git_listing_that_says_much_on_its_error_stream_is_read_to_the_end(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = IndexListing(repo, "cases").result()
    assert expected is not None
    # 1 MB on standard error before the listing: more than a pipe holds
    fake = _fake_git(tmp_path / "bin", "head -c 1048576 /dev/zero >&2")
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    assert IndexListing(repo, "cases").result() == expected


def test_the_names_taken_from_the_staged_listing_are_git_ls_files(repo: Path) -> None:
    """The names are cut out of `ls-files --stage` rather than asked of a second git (each git
    holds the whole index in memory): they must be exactly `ls-files -z`'s, for names with
    spaces, tabs, bytes that are not UTF-8, and a name that looks like a record's head."""
    folder = repo / "cases" / "2026"
    odd = [b"with space.yml", b"tab\there.yml", b"bad\xff.yml", b"100644 " + b"a" * 40 + b" 0\tfake.yml", b"\xe6\x96\x87.yml"]
    for name in odd:
        (folder / os.fsdecode(name)).write_bytes(b"x: 1\n")
    _git(repo, "add", "-A")
    listing = IndexListing(repo, "cases").result()
    assert listing is not None
    expected = subprocess.run(["git", "-C", str(repo), "ls-files", "-z", "--", "cases"], capture_output=True, check=True).stdout
    for size in (1 << 20, 64, 1):  # windows of every size: whole records each
        windows = list(listing.name_windows(size))
        assert b"".join(names for _, names in windows) == expected, size
        assert sum(count for count, _ in windows) == expected.count(b"\x00"), size
    assert all(b"cases/2026/" + name + b"\x00" in expected for name in odd)
