"""plan + apply end to end over real HTTP against the stand-in: first run, re-run, lateness
changes, a stage done, concurrent runs, a crash half way, lost answers, rate limits, give-up,
bad token and hostile case data."""
from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest

from complaints.adapters.github import AuthenticationError, RetryPolicy
from complaints.core.stages import StageDeadline
from complaints.commands.notify import ApplyResult, Plan, notify, parse_marker, result_text
from githubstub import REPOSITORY, GitHubStub, github_stub  # noqa: F401 - fixture
from complaints.core.policy import Policy
from githubstub.factories import CASE, TODAY, Sleeps, client, policy, stage

REPO_URL = "https://github.com/example-org/complaints"
OTHER = "XN-20260305-7K3QH"


def overdue_items(late: int = 3) -> list[StageDeadline]:
    return [
        stage(CASE, "resolve", late=late),
        stage(OTHER, "acknowledge", late=late + 1, department="registry", handler="h-chen", due=dt.date(2026, 3, 12)),
        stage(OTHER, "decide", state="done_on_time", completed=dt.date(2026, 3, 6)),
    ]


def run(stub: GitHubStub, items: list[StageDeadline], *, sleeps: Sleeps | None = None, retry: RetryPolicy | None = None, **pol: Any) -> tuple[Plan, ApplyResult]:
    with client(stub, sleeps=sleeps, retry=retry) as c:
        the_plan, result = notify(items, c, Policy(policy(**pol)), REPO_URL, TODAY)
    assert result is not None
    return the_plan, result


def open_by_stage(stub: GitHubStub) -> dict[tuple[str, str, int], list[int]]:
    found: dict[tuple[str, str, int], list[int]] = {}
    for issue in stub.issues(stub.repos[REPOSITORY], "open"):
        key = parse_marker(issue["body"])
        assert key is not None
        found.setdefault(key, []).append(issue["number"])
    return found


def test_first_run_creates_labelled_assigned_issues(github_stub: GitHubStub) -> None:
    _, result = run(github_stub, overdue_items())
    assert result.ok, result_text(result)
    issues = github_stub.issues(github_stub.repos[REPOSITORY])
    assert len(issues) == 2
    by_case = {parse_marker(i["body"])[0]: i for i in issues}  # type: ignore[index]
    resolve = by_case[CASE]
    assert resolve["title"] == f"{CASE} · 调查办结 (Investigate and resolve) · overdue · due 2026-04-03"
    assert {label["name"] for label in resolve["labels"]} == {"overdue", "stage:resolve", "dept:permits"}
    assert [a["login"] for a in resolve["assignees"]] == ["example-zhou"]
    assert [a["login"] for a in by_case[OTHER]["assignees"]] == ["example-chen"]
    labels = github_stub.repos[REPOSITORY].labels
    assert labels["overdue"]["color"] == "d73a4a"
    assert labels["stage:resolve"]["description"] == "Stage: 调查办结 (Investigate and resolve)"
    assert all(r.status in (200, 201) for r in github_stub.requests)


def test_a_second_run_writes_nothing(github_stub: GitHubStub) -> None:
    run(github_stub, overdue_items())
    before = len(github_stub.writes())
    the_plan, result = run(github_stub, overdue_items())
    assert the_plan.actions == [] and result.ok and len(the_plan.unchanged) == 2
    assert len(github_stub.writes()) == before


def test_lateness_changes_update_in_place_without_comments(github_stub: GitHubStub) -> None:
    run(github_stub, overdue_items(late=3))
    start = len(github_stub.requests)
    run(github_stub, overdue_items(late=4))
    writes = [r for r in github_stub.requests[start:] if r.method != "GET"]
    assert [r.method for r in writes] == ["PATCH", "PATCH"]
    assert all(set(r.body) == {"body"} for r in writes)  # the title stays: no daily notification
    repo = github_stub.repos[REPOSITORY]
    assert repo.comments == {}
    assert all("| Late | 4 working days |" in i["body"] or "| Late | 5 working days |" in i["body"] for i in github_stub.issues(repo))


def test_a_stage_done_gets_a_comment_and_is_closed(github_stub: GitHubStub) -> None:
    run(github_stub, overdue_items())
    items = overdue_items()
    items[0] = stage(CASE, "resolve", state="done_late", late=5, completed=dt.date(2026, 4, 17))
    _, result = run(github_stub, items)
    assert result.ok
    repo = github_stub.repos[REPOSITORY]
    (closed,) = [i for i in github_stub.issues(repo) if i["state"] == "closed"]
    assert closed["state_reason"] == "completed" and parse_marker(closed["body"]) == (CASE, "resolve", 1)
    (comment,) = repo.comments[closed["number"]]
    assert "completed on 2026-04-17" in comment["body"]
    assert list(open_by_stage(github_stub)) == [(OTHER, "acknowledge", 1)]
    # and a third run has nothing left to do
    the_plan, _ = run(github_stub, items)
    assert the_plan.actions == []


def test_two_runs_at_once_leave_exactly_one_open_issue_per_stage(github_stub: GitHubStub) -> None:
    github_stub.hold_lists(2)  # both runs list before either creates
    results: list[ApplyResult] = []

    def one_run() -> None:
        results.append(run(github_stub, overdue_items())[1])

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2 and all(r.ok for r in results), [result_text(r) for r in results]
    repo = github_stub.repos[REPOSITORY]
    assert len(github_stub.issues(repo)) == 4  # both runs created both issues...
    opened = open_by_stage(github_stub)
    assert sorted(opened) == [(CASE, "resolve", 1), (OTHER, "acknowledge", 1)]
    assert all(len(numbers) == 1 for numbers in opened.values())  # ...and closed the duplicates
    for issue in github_stub.issues(repo, "closed"):
        assert issue["state_reason"] == "not_planned"
        key = parse_marker(issue["body"])
        assert key is not None and issue["number"] > opened[key][0]
        assert any(f"Duplicate of #{opened[key][0]}" in c["body"] for c in repo.comments[issue["number"]])
    the_plan, _ = run(github_stub, overdue_items())
    assert the_plan.actions == []


@pytest.mark.parametrize("writes_before_crash", [0, 1, 2, 3, 4, 5])
def test_a_run_that_crashed_half_way_then_re_ran(github_stub: GitHubStub, writes_before_crash: int) -> None:
    run(github_stub, overdue_items(late=3))
    items = overdue_items(late=4)
    items.append(stage("XN-20260310-QQQQQ", "decide", late=9, department="finance", handler="h-wu"))
    items[0] = stage(CASE, "resolve", state="done_late", late=5, completed=dt.date(2026, 4, 17))
    github_stub.fail_writes_after(writes_before_crash)
    sleeps = Sleeps()
    _, crashed = run(github_stub, items, sleeps=sleeps)
    assert not crashed.ok and crashed.stopped is not None and "500" in crashed.stopped
    assert crashed.not_done, "the run lists what it did not do"
    assert "NOT DONE" in result_text(crashed)
    github_stub.fail_writes_after(None)
    _, rerun = run(github_stub, items)
    assert rerun.ok, result_text(rerun)
    opened = open_by_stage(github_stub)
    assert sorted(opened) == [(OTHER, "acknowledge", 1), ("XN-20260310-QQQQQ", "decide", 1)]
    assert all(len(n) == 1 for n in opened.values())
    final, _ = run(github_stub, items)
    assert final.actions == []


def test_a_create_whose_answer_was_lost_is_not_left_duplicated(github_stub: GitHubStub) -> None:
    github_stub.fail_next("drop_answer", method="POST", path=r"/issues$")
    _, result = run(github_stub, overdue_items())
    assert result.ok
    repo = github_stub.repos[REPOSITORY]
    assert len(github_stub.issues(repo)) == 3  # the retried POST made a second issue...
    assert all(len(n) == 1 for n in open_by_stage(github_stub).values())  # ...which was closed


@pytest.mark.parametrize(
    ("kind", "options", "waited"),
    [
        ("retry_after_429", {"retry_after": 30}, [30.0]),
        ("secondary", {}, [60.0]),
        ("secondary", {"retry_after": 12}, [12.0]),
    ],
)
def test_rate_limits_during_a_run_are_waited_out(github_stub: GitHubStub, kind: str, options: dict[str, Any], waited: list[float]) -> None:
    github_stub.fail_next(kind, method="POST", path=r"/issues$", **options)
    sleeps = Sleeps()
    _, result = run(github_stub, overdue_items(), sleeps=sleeps)
    assert result.ok
    assert [s for s in sleeps if s >= 2] == waited
    assert len(open_by_stage(github_stub)) == 2


def test_primary_rate_limit_during_a_run(github_stub: GitHubStub) -> None:
    github_stub.fail_next("primary", method="PATCH", reset_in=90)
    run(github_stub, overdue_items(3))
    sleeps = Sleeps()
    _, result = run(github_stub, overdue_items(4), sleeps=sleeps)
    assert result.ok and any(89 <= s <= 92 for s in sleeps)


def test_a_run_that_gives_up_lists_what_it_did_not_do(github_stub: GitHubStub) -> None:
    github_stub.fail_next("retry_after_429", times=50, method="POST", retry_after=1)
    _, result = run(github_stub, overdue_items(), retry=RetryPolicy(rate_limit_retries=3))
    assert not result.ok and result.stopped is not None and "rate limited" in result.stopped
    text = result_text(result)
    assert text.count("NOT DONE") == 2 and "create" in text
    assert github_stub.issues(github_stub.repos[REPOSITORY]) == []


def test_5xx_during_a_run_is_retried(github_stub: GitHubStub) -> None:
    github_stub.fail_next("bad_gateway", times=2, method="POST")
    github_stub.fail_next("drop", method="PATCH")
    _, result = run(github_stub, overdue_items())
    assert result.ok and len(open_by_stage(github_stub)) == 2


def test_bad_token_stops_before_anything(github_stub: GitHubStub) -> None:
    secret = "ghp_wrongWrongWrong000000000000000000"
    with pytest.raises(AuthenticationError) as caught, client(github_stub) as c:
        c._http.headers["Authorization"] = f"Bearer {secret}"
        notify(overdue_items(), c, Policy(policy()), REPO_URL, TODAY)
    assert secret not in str(caught.value)
    assert github_stub.writes() == []


def test_a_login_that_cannot_be_assigned_still_gets_an_issue(github_stub: GitHubStub) -> None:
    github_stub.assignable.discard("example-zhou")
    _, result = run(github_stub, overdue_items()[:1])
    assert result.ok and any("example-zhou cannot be assigned" in w for w in result.warnings)
    (issue,) = github_stub.issues(github_stub.repos[REPOSITORY])
    assert issue["assignees"] == []
    # Remembered on the issue: the next runs do not ask GitHub again, nor change anything.
    assert "complaints:unassignable=example-zhou" in issue["body"]
    before = len(github_stub.writes())
    the_plan, again = run(github_stub, overdue_items()[:1])
    assert again.ok and the_plan.actions == [] and len(github_stub.writes()) == before
    assert not any("cannot be assigned" in w for w in again.warnings)


def test_a_refused_login_on_an_existing_issue_is_remembered_too(github_stub: GitHubStub) -> None:
    run(github_stub, [stage(handler=None)])  # assigned to the chair's login
    github_stub.assignable.discard("example-zhou")
    _, result = run(github_stub, [stage()])  # now h-zhou holds it, but cannot be assigned
    assert result.ok and any("cannot be assigned" in w for w in result.warnings)
    (issue,) = github_stub.issues(github_stub.repos[REPOSITORY])
    assert "complaints:unassignable=example-zhou" in issue["body"]
    before = len(github_stub.writes())
    the_plan, _ = run(github_stub, [stage()])
    assert the_plan.actions == [] and len(github_stub.writes()) == before


def test_due_soon_issue_turns_into_the_overdue_issue(github_stub: GitHubStub) -> None:
    soon = [stage(state="due_soon", left=1)]
    run(github_stub, soon, due_soon_issues=True)
    run(github_stub, [stage(late=1)], due_soon_issues=True)
    (issue,) = github_stub.issues(github_stub.repos[REPOSITORY])
    assert issue["state"] == "open" and issue["title"].endswith("· overdue · due 2026-04-03")
    assert "| Late | 1 working day |" in issue["body"]
    assert {label["name"] for label in issue["labels"]} == {"overdue", "stage:resolve", "dept:permits"}


HOSTILE = [
    stage("XN-20260302-AB3CD", "resolve", department="permits) @everyone [x](https://evil.example)", handler="@octocat"),
    stage("XN-20260303-ABCDE", "decide", path="cases/2026/<script>alert(1)</script>.yml", handler="h-zhou\n@all"),
    stage("XN-20260304-ABCDE @team", "resolve"),
    stage("XN-20260305-ABCDE", "resolve](https://evil.example)"),
]


def test_case_data_cannot_inject_mentions_links_or_markup(github_stub: GitHubStub) -> None:
    the_plan, result = run(github_stub, HOSTILE)
    assert result.ok and len(the_plan.skipped) == 2
    repo = github_stub.repos[REPOSITORY]
    sent = [r for r in github_stub.requests if r.method != "GET"]
    for request in sent:
        text = repr(request.body)
        assert "@" not in text and "evil" not in text and "<script" not in text
    for issue in github_stub.issues(repo):
        links = re.findall(r"\]\(([^)]*)\)", issue["body"] or "")
        assert all(link.startswith(REPO_URL + "/blob/main/cases/2026/") for link in links)
        # No hostile login reaches GitHub: a handler that is not the policy's gets the chair.
        assert [a["login"] for a in issue["assignees"]] == ["example-zhang"]
        if parse_marker(issue["body"]) == (CASE, "resolve", 1):  # the department was not a policy key
            assert not any(label["name"].startswith("dept:") for label in issue["labels"])
