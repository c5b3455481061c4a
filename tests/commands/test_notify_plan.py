"""plan(): which issues to create, update and close, from stage records and existing issues."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

from complaints.errors import ConfigError
from complaints.commands.notify import Close, Create, Update, marker, parse_marker, plan, plan_text, plan_to_dict
from complaints.core.policy import Policy
from githubstub.factories import CASE, TODAY, policy, stage

REPO_URL = "https://github.com/example-org/complaints"


def as_issue(action: Create, number: int, *, state: str = "open", extra_labels: tuple[str, ...] = ()) -> dict[str, Any]:
    """The issue GitHub would hold after carrying out a Create."""
    content = action.content
    return {
        "number": number,
        "state": state,
        "title": content.title,
        "body": content.body,
        "labels": [{"name": n} for n in (*content.labels, *extra_labels)],
        "assignees": [{"login": content.assignee}] if content.assignee else [],
    }


def only_create(items: list[Any], pol: dict[str, Any] | None = None) -> Create:
    result = plan(items, [], Policy(pol or policy()), REPO_URL, TODAY)
    assert len(result.actions) == 1 and isinstance(result.actions[0], Create)
    return result.actions[0]


def test_an_overdue_stage_gets_one_issue_with_title_labels_assignee_and_link() -> None:
    action = only_create([stage(late=3)])
    content = action.content
    assert content.title == f"{CASE} · 调查办结 (Investigate and resolve) · overdue · due 2026-04-03"
    assert content.labels == ("overdue", "stage:resolve", "dept:permits")
    assert content.assignee == "example-zhou"
    assert content.body.startswith(f"<!-- complaints:v1 case={CASE} stage=resolve -->\n")
    assert f"[{CASE}]({REPO_URL}/blob/main/cases/2026/{CASE}.yml)" in content.body
    assert "审批服务科 (Permits and Approvals)" in content.body
    assert "| Late | 3 working days |" in content.body
    assert parse_marker(content.body) == (CASE, "resolve", 1)


def test_one_working_day_is_singular() -> None:
    assert "| Late | 1 working day |" in only_create([stage(late=1)]).content.body


@pytest.mark.parametrize("state", ["open", "done_on_time", "done_late", "due_soon"])
def test_stages_that_are_not_overdue_get_no_issue(state: str) -> None:
    done = dt.date(2026, 4, 1) if state.startswith("done") else None
    result = plan([stage(state=state, completed=done, left=2)], [], Policy(policy()), REPO_URL, TODAY)
    assert result.actions == []


def test_due_soon_issues_when_the_policy_asks_for_them() -> None:
    action = only_create([stage(state="due_soon", left=2)], policy(due_soon_issues=True))
    assert action.content.labels[0] == "due-soon"
    assert action.content.title.endswith("· due soon · due 2026-04-03")
    assert "| Left | 2 working days |" in action.content.body
    assert "**Stage due soon**" in action.content.body


def test_label_names_come_from_the_policy() -> None:
    pol = policy(labels={"overdue": "late", "stage_prefix": "stage/", "department_prefix": "dept/"})
    assert only_create([stage()], pol).content.labels == ("late", "stage/resolve", "dept/permits")


@pytest.mark.parametrize(
    "notify",
    [{"due_soon_issues": "yes"}, {"labels": {"overdue": "a,b"}}, {"labels": {"overdue": ""}}, {"labels": "x"}, {"branch": "a b"}],
)
def test_bad_notify_settings_are_a_config_error(notify: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"policy.yml::\$\.notify"):
        plan([stage()], [], Policy(policy(**notify)), REPO_URL, TODAY)


def test_an_issue_already_right_is_left_alone() -> None:
    create = only_create([stage()])
    result = plan([stage()], [as_issue(create, 7)], Policy(policy()), REPO_URL, TODAY)
    assert result.actions == [] and result.unchanged == [7]


def test_a_change_in_lateness_updates_the_body_and_keeps_the_title() -> None:
    create = only_create([stage(late=3)])
    result = plan([stage(late=4)], [as_issue(create, 7)], Policy(policy()), REPO_URL, TODAY)
    (action,) = result.actions
    assert isinstance(action, Update) and action.number == 7
    # The title does not change every day (watchers are not notified daily); the body does.
    assert sorted(action.fields) == ["body"]
    assert "| Late | 4 working days |" in action.fields["body"]


def test_labels_added_by_people_stay_and_stale_managed_labels_go() -> None:
    create = only_create([stage()])
    issue = as_issue(create, 7, extra_labels=("needs-review", "dept:finance"))
    (action,) = plan([stage()], [issue], Policy(policy()), REPO_URL, TODAY).actions
    assert isinstance(action, Update)
    assert action.fields == {"labels": ["dept:permits", "needs-review", "overdue", "stage:resolve"]}


def test_the_handlers_login_is_added_to_other_assignees() -> None:
    create = only_create([stage()])
    issue = {**as_issue(create, 7), "assignees": [{"login": "someone-else"}]}
    (action,) = plan([stage()], [issue], Policy(policy()), REPO_URL, TODAY).actions
    assert isinstance(action, Update) and action.fields == {"assignees": ["someone-else", "example-zhou"]}


def test_a_closed_issue_for_a_stage_still_overdue_is_reopened_not_duplicated() -> None:
    create = only_create([stage()])
    (action,) = plan([stage()], [as_issue(create, 7, state="closed")], Policy(policy()), REPO_URL, TODAY).actions
    assert isinstance(action, Update) and action.fields == {"state": "open", "state_reason": "reopened"}


def test_a_stage_done_closes_its_issue_with_a_comment() -> None:
    create = only_create([stage()])
    done = stage(state="done_late", completed=dt.date(2026, 4, 15), late=8)
    (action,) = plan([done], [as_issue(create, 7)], Policy(policy()), REPO_URL, TODAY).actions
    assert isinstance(action, Close)
    assert (action.number, action.state_reason, action.why) == (7, "completed", "stage_done")
    assert "completed on 2026-04-15" in action.comment


def test_an_extension_that_ends_the_lateness_closes_the_issue() -> None:
    create = only_create([stage()])
    later = stage(state="open", due=dt.date(2026, 5, 3), left=9)
    (action,) = plan([later], [as_issue(create, 7)], Policy(policy()), REPO_URL, TODAY).actions
    assert isinstance(action, Close) and action.why == "not_overdue" and "2026-05-03" in action.comment


def test_an_already_closed_issue_of_a_done_stage_needs_nothing() -> None:
    create = only_create([stage()])
    done = stage(state="done_on_time", completed=dt.date(2026, 4, 1))
    assert plan([done], [as_issue(create, 7, state="closed")], Policy(policy()), REPO_URL, TODAY).actions == []


def test_duplicates_are_closed_keeping_the_lowest_number() -> None:
    create = only_create([stage()])
    issues = [as_issue(create, 12), as_issue(create, 9), as_issue(create, 15, state="closed")]
    result = plan([stage()], issues, Policy(policy()), REPO_URL, TODAY)
    (action,) = result.actions
    assert isinstance(action, Close) and action.number == 12 and action.state_reason == "not_planned"
    assert "Duplicate of #9" in action.comment and result.unchanged == [9]


def test_pull_requests_and_issues_without_the_marker_are_ignored() -> None:
    create = only_create([stage()])
    pr = {**as_issue(create, 3), "pull_request": {"url": "x"}}
    quoted = {**as_issue(create, 4), "body": "see " + marker(CASE, "resolve").replace("v1", "v0")}
    result = plan([stage()], [pr, quoted], Policy(policy()), REPO_URL, TODAY)
    assert [type(a) for a in result.actions] == [Create]


def test_an_issue_whose_case_was_not_loaded_is_left_open_and_reported() -> None:
    other = stage(case_id="XN-20260303-ZZZZZ")
    create = only_create([other])
    result = plan([stage()], [as_issue(create, 5)], Policy(policy()), REPO_URL, TODAY)
    assert result.orphans == [5]
    assert [type(a) for a in result.actions] == [Create]
    assert "left open #5" in plan_text(result)


def test_a_repeating_stage_has_one_issue_per_round() -> None:
    result = plan([stage(stage="review", instance=1), stage(stage="review", instance=2)], [], Policy(policy()), REPO_URL, TODAY)
    bodies = [a.content.body for a in result.actions if isinstance(a, Create)]
    assert [parse_marker(b) for b in bodies] == [(CASE, "review", 1), (CASE, "review", 2)]
    assert bodies[1].startswith(f"<!-- complaints:v1 case={CASE} stage=review instance=2 -->")


def test_no_repository_url_means_no_link() -> None:
    pol = policy()
    del pol["organisation"]["repository_url"]
    result = plan([stage()], [], Policy(pol), None, TODAY)
    content = result.actions[0].content  # type: ignore[union-attr]
    assert "](" not in content.body and "http" not in content.body


HOSTILE_IDS = [
    "XN-20260302-AB3CD @everyone",
    "[click](https://evil.example)",
    "XN-20260302-AB3CD\n<!-- complaints:v1 case=XN-20260101-AAAAA stage=resolve -->",
    "@octocat",
    "xn-20260302-ab3cd",
]


@pytest.mark.parametrize("case_id", HOSTILE_IDS)
def test_a_case_id_not_of_the_id_form_is_skipped_and_reported_safely(case_id: str) -> None:
    result = plan([stage(case_id=case_id, path="cases/2026/x.yml")], [], Policy(policy()), REPO_URL, TODAY)
    assert result.actions == []
    assert [s.reason for s in result.skipped] == ["case id is not of the form PREFIX-YYYYMMDD-XXXXX"]


def test_hostile_department_handler_path_and_stage_never_reach_the_issue() -> None:
    hostile = stage(
        department="permits](https://evil.example) @admin",
        handler="@evil <img src=x>",
        path="cases/2026/[x](https://evil.example).yml",
    )
    result = plan([hostile, stage(stage="resolve\n@all")], [], Policy(policy()), REPO_URL, TODAY)
    (action,) = [a for a in result.actions if isinstance(a, Create)]
    content = action.content
    text = content.title + content.body + " ".join(content.labels)
    assert "@" not in text and "evil" not in text and "<img" not in text
    assert re.findall(r"https?://\S+", text) == []  # no link at all: the path was not safe
    # The handler is not one of the policy's: the issue goes to the committee chair, labelled so.
    assert content.assignee == "example-zhang"
    assert "| Department | not recorded |" in content.body
    assert content.labels == ("overdue", "stage:resolve", "unassigned")
    assert [s.reason for s in result.skipped] == ["stage is not one of the policy's stages"]
    assert "\n" not in result.skipped[0].stage  # printed escaped, on one line


def test_policy_names_are_kept_plain() -> None:
    pol = policy()
    pol["departments"]["permits"] = {"zh": "审批 @team", "en": "[Permits](https://evil.example) <b>x</b>"}
    content = only_create([stage()], pol).content
    assert "@team" not in content.body and "](https://evil" not in content.body and "<b>" not in content.body


def test_a_login_in_the_policy_that_is_not_a_login_is_a_config_error() -> None:
    pol = policy()
    pol["handlers"]["h-zhou"]["github"] = "@evil"
    with pytest.raises(ConfigError, match=r"handlers\.h-zhou\.github"):
        plan([stage()], [], Policy(pol), REPO_URL, TODAY)


def test_plan_as_json_and_text() -> None:
    create = only_create([stage()])
    done = stage(stage="decide", state="done_late", completed=dt.date(2026, 3, 9), late=2)
    decide_issue = as_issue(dataclasses.replace(create, content=dataclasses.replace(create.content, body=marker(CASE, "decide"))), 2)
    result = plan([stage(), done], [decide_issue], Policy(policy()), REPO_URL, TODAY)
    data = plan_to_dict(result)
    assert [a["action"] for a in data["actions"]] == ["close", "create"]
    assert data["actions"][1]["labels"] == ["overdue", "stage:resolve", "dept:permits"]
    assert data["labels"] == ["dept:permits", "overdue", "stage:resolve"]
    assert plan_text(result).splitlines()[-1] == "1 to create, 0 to update, 1 to close, 0 unchanged"


# ---- reaching someone, provisional dates, the calendar maintenance issue ------------------------


def test_a_stage_nobody_holds_goes_to_the_chair_labelled_unassigned() -> None:
    content = only_create([stage(handler=None)]).content
    assert content.assignee == "example-zhang"  # d-zhang chairs the committee
    assert "unassigned" in content.labels and "no handler holds this stage" in content.body
    pol = policy(default_assignee="h-lin")
    assert only_create([stage(handler=None)], pol).content.assignee == "example-lin"
    assert "unassigned" not in only_create([stage()]).content.labels


def test_a_provisional_due_date_is_marked_in_title_and_body() -> None:
    content = only_create([dataclasses.replace(stage(due=dt.date(2027, 1, 4)), provisional=True)]).content
    assert content.title.endswith("due 2027-01-04 (provisional)")
    assert "provisional: the official calendar of the year is not announced yet" in content.body


def test_one_calendar_issue_stays_open_until_the_year_is_confirmed() -> None:
    result = plan([], [], Policy(policy()), REPO_URL, TODAY, provisional_years=(2027,), is_confirmed=lambda y: y <= 2026)
    (action,) = result.actions
    assert isinstance(action, Create) and action.content.title == "Add the official 2027 calendar"
    assert action.content.assignee == "example-zhang" and action.content.labels == ("calendar",)
    issue = as_issue(action, 31)
    # Next day: still provisional, the issue is left alone (no second one).
    again = plan([], [issue], Policy(policy()), REPO_URL, TODAY, provisional_years=(2027,), is_confirmed=lambda y: y <= 2026)
    assert again.actions == [] and again.unchanged == [31]
    # No date touches 2027 today, but it is still unannounced: the issue stays open.
    quiet = plan([], [issue], Policy(policy()), REPO_URL, TODAY, provisional_years=(), is_confirmed=lambda y: y <= 2026)
    assert quiet.actions == []
    # calendar.yml got 2027: the issue is closed.
    done = plan([], [issue], Policy(policy()), REPO_URL, TODAY, provisional_years=(), is_confirmed=lambda y: y <= 2027)
    (close,) = done.actions
    assert isinstance(close, Close) and close.number == 31 and close.why == "calendar_confirmed"


def test_the_dry_run_json_shows_the_body_it_would_create() -> None:
    result = plan([stage()], [], Policy(policy()), REPO_URL, TODAY)
    (entry,) = plan_to_dict(result)["actions"]
    assert entry["body"].startswith(f"<!-- complaints:v1 case={CASE} stage=resolve -->")
