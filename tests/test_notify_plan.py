"""plan(): which issues to create, update and close, from stage records and existing issues."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

from complaints.errors import ConfigError
from complaints.notify import Close, Create, Update, marker, parse_marker, plan, plan_text, plan_to_dict
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
    result = plan(items, [], pol or policy(), REPO_URL, TODAY)
    assert len(result.actions) == 1 and isinstance(result.actions[0], Create)
    return result.actions[0]


def test_an_overdue_stage_gets_one_issue_with_title_labels_assignee_and_link() -> None:
    action = only_create([stage(late=3)])
    content = action.content
    assert content.title == f"{CASE} · 调查办结 (Investigate and resolve) · due 2026-04-03 · 3 working days late"
    assert content.labels == ("overdue", "stage:resolve", "dept:permits")
    assert content.assignee == "example-zhou"
    assert content.body.startswith(f"<!-- complaints:v1 case={CASE} stage=resolve -->\n")
    assert f"[{CASE}]({REPO_URL}/blob/main/cases/2026/{CASE}.yml)" in content.body
    assert "审批服务科 (Permits and Approvals)" in content.body
    assert "| Late | 3 working days |" in content.body
    assert parse_marker(content.body) == (CASE, "resolve", 1)


def test_one_working_day_is_singular() -> None:
    assert only_create([stage(late=1)]).content.title.endswith("· 1 working day late")


@pytest.mark.parametrize("state", ["open", "done_on_time", "done_late", "due_soon"])
def test_stages_that_are_not_overdue_get_no_issue(state: str) -> None:
    done = dt.date(2026, 4, 1) if state.startswith("done") else None
    result = plan([stage(state=state, completed=done, left=2)], [], policy(), REPO_URL, TODAY)
    assert result.actions == []


def test_due_soon_issues_when_the_policy_asks_for_them() -> None:
    action = only_create([stage(state="due_soon", left=2)], policy(due_soon_issues=True))
    assert action.content.labels[0] == "due-soon"
    assert action.content.title.endswith("· 2 working days left")
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
        plan([stage()], [], policy(**notify), REPO_URL, TODAY)


def test_an_issue_already_right_is_left_alone() -> None:
    create = only_create([stage()])
    result = plan([stage()], [as_issue(create, 7)], policy(), REPO_URL, TODAY)
    assert result.actions == [] and result.unchanged == [7]


def test_a_change_in_lateness_updates_title_and_body_in_place() -> None:
    create = only_create([stage(late=3)])
    result = plan([stage(late=4)], [as_issue(create, 7)], policy(), REPO_URL, TODAY)
    (action,) = result.actions
    assert isinstance(action, Update) and action.number == 7
    assert sorted(action.fields) == ["body", "title"]
    assert action.fields["title"].endswith("4 working days late")


def test_labels_added_by_people_stay_and_stale_managed_labels_go() -> None:
    create = only_create([stage()])
    issue = as_issue(create, 7, extra_labels=("needs-review", "dept:finance"))
    (action,) = plan([stage()], [issue], policy(), REPO_URL, TODAY).actions
    assert isinstance(action, Update)
    assert action.fields == {"labels": ["dept:permits", "needs-review", "overdue", "stage:resolve"]}


def test_the_handlers_login_is_added_to_other_assignees() -> None:
    create = only_create([stage()])
    issue = {**as_issue(create, 7), "assignees": [{"login": "someone-else"}]}
    (action,) = plan([stage()], [issue], policy(), REPO_URL, TODAY).actions
    assert isinstance(action, Update) and action.fields == {"assignees": ["someone-else", "example-zhou"]}


def test_a_closed_issue_for_a_stage_still_overdue_is_reopened_not_duplicated() -> None:
    create = only_create([stage()])
    (action,) = plan([stage()], [as_issue(create, 7, state="closed")], policy(), REPO_URL, TODAY).actions
    assert isinstance(action, Update) and action.fields == {"state": "open", "state_reason": "reopened"}


def test_a_stage_done_closes_its_issue_with_a_comment() -> None:
    create = only_create([stage()])
    done = stage(state="done_late", completed=dt.date(2026, 4, 15), late=8)
    (action,) = plan([done], [as_issue(create, 7)], policy(), REPO_URL, TODAY).actions
    assert isinstance(action, Close)
    assert (action.number, action.state_reason, action.why) == (7, "completed", "stage_done")
    assert "completed on 2026-04-15" in action.comment


def test_an_extension_that_ends_the_lateness_closes_the_issue() -> None:
    create = only_create([stage()])
    later = stage(state="open", due=dt.date(2026, 5, 3), left=9)
    (action,) = plan([later], [as_issue(create, 7)], policy(), REPO_URL, TODAY).actions
    assert isinstance(action, Close) and action.why == "not_overdue" and "2026-05-03" in action.comment


def test_an_already_closed_issue_of_a_done_stage_needs_nothing() -> None:
    create = only_create([stage()])
    done = stage(state="done_on_time", completed=dt.date(2026, 4, 1))
    assert plan([done], [as_issue(create, 7, state="closed")], policy(), REPO_URL, TODAY).actions == []


def test_duplicates_are_closed_keeping_the_lowest_number() -> None:
    create = only_create([stage()])
    issues = [as_issue(create, 12), as_issue(create, 9), as_issue(create, 15, state="closed")]
    result = plan([stage()], issues, policy(), REPO_URL, TODAY)
    (action,) = result.actions
    assert isinstance(action, Close) and action.number == 12 and action.state_reason == "not_planned"
    assert "Duplicate of #9" in action.comment and result.unchanged == [9]


def test_pull_requests_and_issues_without_the_marker_are_ignored() -> None:
    create = only_create([stage()])
    pr = {**as_issue(create, 3), "pull_request": {"url": "x"}}
    quoted = {**as_issue(create, 4), "body": "see " + marker(CASE, "resolve").replace("v1", "v0")}
    result = plan([stage()], [pr, quoted], policy(), REPO_URL, TODAY)
    assert [type(a) for a in result.actions] == [Create]


def test_an_issue_whose_case_was_not_loaded_is_left_open_and_reported() -> None:
    other = stage(case_id="XN-20260303-ZZZZZ")
    create = only_create([other])
    result = plan([stage()], [as_issue(create, 5)], policy(), REPO_URL, TODAY)
    assert result.orphans == [5]
    assert [type(a) for a in result.actions] == [Create]
    assert "left open #5" in plan_text(result)


def test_a_repeating_stage_has_one_issue_per_round() -> None:
    result = plan([stage(stage="review", instance=1), stage(stage="review", instance=2)], [], policy(), REPO_URL, TODAY)
    bodies = [a.content.body for a in result.actions if isinstance(a, Create)]
    assert [parse_marker(b) for b in bodies] == [(CASE, "review", 1), (CASE, "review", 2)]
    assert bodies[1].startswith(f"<!-- complaints:v1 case={CASE} stage=review instance=2 -->")


def test_no_repository_url_means_no_link() -> None:
    pol = policy()
    del pol["organisation"]["repository_url"]
    result = plan([stage()], [], pol, None, TODAY)
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
    result = plan([stage(case_id=case_id, path="cases/2026/x.yml")], [], policy(), REPO_URL, TODAY)
    assert result.actions == []
    assert [s.reason for s in result.skipped] == ["case id is not of the form PREFIX-YYYYMMDD-XXXXX"]


def test_hostile_department_handler_path_and_stage_never_reach_the_issue() -> None:
    hostile = stage(
        department="permits](https://evil.example) @admin",
        handler="@evil <img src=x>",
        path="cases/2026/[x](https://evil.example).yml",
    )
    result = plan([hostile, stage(stage="resolve\n@all")], [], policy(), REPO_URL, TODAY)
    (action,) = [a for a in result.actions if isinstance(a, Create)]
    content = action.content
    text = content.title + content.body + " ".join(content.labels)
    assert "@" not in text and "evil" not in text and "<img" not in text
    assert re.findall(r"https?://\S+", text) == []  # no link at all: the path was not safe
    assert content.assignee is None
    assert "| Department | not recorded |" in content.body
    assert content.labels == ("overdue", "stage:resolve")
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
        plan([stage()], [], pol, REPO_URL, TODAY)


def test_plan_as_json_and_text() -> None:
    create = only_create([stage()])
    done = stage(stage="decide", state="done_late", completed=dt.date(2026, 3, 9), late=2)
    decide_issue = as_issue(dataclasses.replace(create, content=dataclasses.replace(create.content, body=marker(CASE, "decide"))), 2)
    result = plan([stage(), done], [decide_issue], policy(), REPO_URL, TODAY)
    data = plan_to_dict(result)
    assert [a["action"] for a in data["actions"]] == ["close", "create"]
    assert data["actions"][1]["labels"] == ["overdue", "stage:resolve", "dept:permits"]
    assert data["labels"] == ["dept:permits", "overdue", "stage:resolve"]
    assert plan_text(result).splitlines()[-1] == "1 to create, 0 to update, 1 to close, 0 unchanged"
