"""One GitHub issue per overdue stage: plan what to create, update and close, then apply it.

`plan()` compares the stages the deadline engine reports with the issues already in the
repository and returns a `Plan` of actions; it makes no request. `apply()` carries the plan
out through a `GitHubClient` and returns an `ApplyResult` naming what was done and what was not.

Each issue is found again by a hidden marker in its body::

    <!-- complaints:v1 case=XN-20260305-7K3QH stage=resolve -->

(with ` instance=N` before `-->` for the second and later round of a repeating stage), so a re-run updates the issue it made instead of opening another. Two runs at once, or a
request that reached GitHub although its answer was lost, can still create two issues for one
stage; after creating, `apply()` lists the issues again and closes all but the lowest-numbered
open one. What an issue says is built only from ids, dates and the policy's own names:
anything that came from a case file is checked against a strict pattern or a policy
vocabulary first, so a case cannot put a mention, a link or markup into an issue.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence
from urllib.parse import quote

from complaints.errors import ConfigError, GitHubError
from complaints.adapters.github import (
    AuthenticationError,
    GitHubClient,
    PermissionDeniedError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
)
from complaints.adapters.repository import Repository
from complaints.commands.deadlines import repository_calendar, repository_run
from complaints.commands.validate import left_out_or_refuse
from complaints.core.ids import CASE_ID_PATTERN
from complaints.core.policy import STAGES, NotifySettings, Policy
from complaints.core.vocabulary import Term
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE, StageDeadline

MARKER_VERSION = "v1"
_MARKER = re.compile(r"<!-- complaints:v1 case=([A-Z0-9-]{1,40}) stage=([a-z0-9_]{1,40})(?: instance=([1-9][0-9]{0,2}))? -->")
_STAGE_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
_VOCAB_KEY = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_SAFE_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,200}")
_COLOR = re.compile(r"[0-9a-fA-F]{6}")

StageKey = tuple[str, str, int]  # (case id, stage, instance)

# Errors after which no further request can succeed in this run.
_FATAL = (AuthenticationError, PermissionDeniedError, RateLimitedError, UnavailableError)


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str


def repository_url(policy: Policy, server_url: str | None, repository: str | None) -> str | None:
    """Where case files are linked to: policy `organisation.repository_url`, else the
    workflow's GITHUB_SERVER_URL/GITHUB_REPOSITORY, else nothing (issues then carry no link)."""
    url = policy.repository_url
    if url is not None and re.fullmatch(r"https://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._-]+)+", url):
        return url
    if server_url and repository and re.fullmatch(r"https?://[A-Za-z0-9.-]+(?::\d+)?", server_url.rstrip("/")) and re.fullmatch(
        r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository
    ):
        return f"{server_url.rstrip('/')}/{repository}"
    return None


# --- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueContent:
    title: str
    body: str
    labels: tuple[str, ...]  # the labels notify manages on this issue
    assignee: str | None  # a GitHub login from the policy's handler map


@dataclass(frozen=True)
class Create:
    case_id: str
    stage: str
    instance: int
    content: IssueContent
    kind: Literal["create"] = "create"


@dataclass(frozen=True)
class Update:
    case_id: str
    stage: str
    instance: int
    number: int
    fields: Mapping[str, Any]  # exactly the fields to PATCH
    kind: Literal["update"] = "update"
    body: str = ""  # the issue's body as it should read (to remember a refused login in it)


@dataclass(frozen=True)
class Close:
    case_id: str
    stage: str
    instance: int
    number: int
    comment: str
    state_reason: str  # completed, or not_planned for a duplicate
    why: str  # stage_done, not_overdue, not_tracked, stage_gone, duplicate
    kind: Literal["close"] = "close"


Action = Create | Update | Close


@dataclass(frozen=True)
class Skipped:
    path: str  # the case file (made safe to print)
    stage: str
    reason: str


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    labels: list[LabelSpec] = field(default_factory=list)  # labels the actions use
    unchanged: list[int] = field(default_factory=list)  # issues already as they should be
    skipped: list[Skipped] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)  # open issues whose case was not found; left alone
    settings: NotifySettings = field(default_factory=NotifySettings)
    repo_url: str | None = None
    today: dt.date | None = None
    invalid_left_out: int = 0  # invalid case files left out with --skip-invalid

    @property
    def empty(self) -> bool:
        return not self.actions


def parse_marker(body: str | None) -> StageKey | None:
    if not body:
        return None
    match = _MARKER.search(body)
    if match is None or not CASE_ID_PATTERN.fullmatch(match.group(1)):
        return None
    return match.group(1), match.group(2), int(match.group(3) or 1)


def marker(case_id: str, stage: str, instance: int = 1) -> str:
    suffix = f" instance={instance}" if instance > 1 else ""
    return f"<!-- complaints:{MARKER_VERSION} case={case_id} stage={stage}{suffix} -->"


CALENDAR_MARKER = re.compile(r"<!-- complaints:v1 calendar=([0-9]{4}) -->")
CALENDAR_CASE = "calendar"  # the case_id of a calendar maintenance action (not a case)


def calendar_marker(year: int) -> str:
    return f"<!-- complaints:v1 calendar={year} -->"


def calendar_issue(year: int, vocab: _Vocabulary, settings: NotifySettings) -> IssueContent:
    """The maintenance issue kept open while due dates in ``year`` are provisional."""
    body = "\n".join(
        [
            calendar_marker(year),
            f"**Add the official {year} calendar.** Due dates in {year} are provisional: computed on weekends "
            f"and the statutory holidays only, without the bridging days and make-up working days of the State "
            f"Council's notice (国务院办公厅关于{year}年部分节假日安排的通知, usually published in November).",
            "",
            f"Once it is published, add {year} to `calendar.yml` (`years:` with `complete: true`, its holidays "
            f"and make-up workdays; README: \"The working-day calendar and next year's schedule\"), or pin a "
            f"chinesecalendar release that has it. `complaints notify` closes this issue when {year} is confirmed.",
            "",
        ]
    )
    return IssueContent(f"Add the official {year} calendar", body, (settings.calendar_label,), vocab.fallback)


def _calendar_actions(
    existing: Sequence[Mapping[str, Any]],
    provisional_years: Sequence[int],
    is_confirmed: Callable[[int], bool],
    vocab: _Vocabulary,
    settings: NotifySettings,
    result: Plan,
) -> None:
    by_year: dict[int, list[Mapping[str, Any]]] = {}
    for issue in existing:
        match = CALENDAR_MARKER.search(str(issue.get("body") or ""))
        if match and isinstance(issue.get("number"), int) and "pull_request" not in issue:
            by_year.setdefault(int(match.group(1)), []).append(issue)
    for year in sorted(set(provisional_years) | set(by_year)):
        open_issues = sorted((i for i in by_year.get(year, []) if i.get("state") == "open"), key=lambda i: int(i["number"]))
        if is_confirmed(year):
            for issue in open_issues:
                result.actions.append(
                    Close(CALENDAR_CASE, str(year), 1, int(issue["number"]),
                          f"The official {year} calendar is now known. Closed by `complaints notify`.", "completed", "calendar_confirmed")
                )
        elif open_issues:
            result.unchanged.append(int(open_issues[0]["number"]))
        elif year in provisional_years:
            result.actions.append(Create(CALENDAR_CASE, str(year), 1, calendar_issue(year, vocab, settings)))
    if any(isinstance(a, Create) and a.case_id == CALENDAR_CASE for a in result.actions):
        result.labels.append(LabelSpec(settings.calendar_label, "5319e7", "Next year's official holiday calendar must be added"))


def plan(
    items: Iterable[StageDeadline],
    existing_issues: Iterable[Mapping[str, Any]],
    policy: Policy,
    repo_url: str | None,
    today: dt.date,
    *,
    provisional_years: Sequence[int] = (),
    is_confirmed: Callable[[int], bool] | None = None,
) -> Plan:
    """What to do so that every overdue stage (and, if the policy says so, every due-soon
    stage) has exactly one open issue, and no other stage has one; and that one maintenance
    issue asks for the official calendar of each year some date was provisional in, until
    ``is_confirmed`` says the year is known. Makes no request."""
    existing_issues = list(existing_issues)
    settings = policy.notify
    vocab = _Vocabulary.from_policy(policy)
    result = Plan(settings=settings, repo_url=repo_url, today=today)
    wanted_states = {OVERDUE, DUE_SOON} if settings.due_soon_issues else {OVERDUE}

    known: dict[StageKey, StageDeadline] = {}
    wanted: dict[StageKey, StageDeadline] = {}
    known_cases: set[str] = set()
    for item in sorted(items, key=lambda i: (i.case_id, i.stage, i.instance)):
        reason = vocab.refuse(item)
        if reason is not None:
            if item.state in wanted_states:
                result.skipped.append(Skipped(_printable_path(item.path), _printable_stage(item.stage), reason))
            continue
        key = (item.case_id, item.stage, item.instance)
        known[key] = item
        known_cases.add(item.case_id)
        if item.state in wanted_states:
            wanted[key] = item

    issues_by_key: dict[StageKey, list[Mapping[str, Any]]] = {}
    for issue in existing_issues:
        if "pull_request" in issue:
            continue
        found = parse_marker(issue.get("body"))
        if found is not None and isinstance(issue.get("number"), int):
            issues_by_key.setdefault(found, []).append(issue)

    labels_used: dict[str, LabelSpec] = {}
    for key in sorted(set(wanted) | set(issues_by_key)):
        case_id, stage, instance = key
        issues = sorted(issues_by_key.get(key, []), key=lambda i: int(i["number"]))
        open_issues = [i for i in issues if i.get("state") == "open"]
        keeper = open_issues[0] if open_issues else (issues[0] if issues else None)
        for duplicate in open_issues[1:]:
            assert keeper is not None
            result.actions.append(duplicate_close(case_id, stage, instance, int(duplicate["number"]), int(keeper["number"])))
        target = wanted.get(key)
        if target is not None:
            content = render(target, vocab, settings, repo_url)
            for spec in vocab.label_specs(target, settings):
                labels_used[spec.name] = spec
            if keeper is None:
                result.actions.append(Create(case_id, stage, instance, content))
            else:
                fields = _changes(keeper, content, settings)
                if fields:
                    result.actions.append(Update(case_id, stage, instance, int(keeper["number"]), fields, body=content.body))
                else:
                    result.unchanged.append(int(keeper["number"]))
            continue
        if not open_issues:
            continue
        assert keeper is not None
        known_item = known.get(key)
        if known_item is None and case_id not in known_cases:
            result.orphans.append(int(keeper["number"]))
            continue
        why, text = _close_reason(known_item, vocab, stage, today)
        result.actions.append(Close(case_id, stage, instance, int(keeper["number"]), text, "completed", why))
    result.labels = [labels_used[name] for name in sorted(labels_used)]
    confirmed = is_confirmed or (lambda year: year not in provisional_years)
    _calendar_actions(existing_issues, provisional_years, confirmed, vocab, settings, result)
    return result


def duplicate_close(case_id: str, stage: str, instance: int, number: int, keeper: int) -> Close:
    return Close(
        case_id,
        stage,
        instance,
        number,
        f"Duplicate of #{keeper}, which tracks the same stage. Closed by `complaints notify`.",
        "not_planned",
        "duplicate",
    )


def _close_reason(item: StageDeadline | None, vocab: _Vocabulary, stage: str, today: dt.date) -> tuple[str, str]:
    name = vocab.stage_name(stage)
    if item is None:
        return "stage_gone", f"The case no longer has the stage {name}. Closed by `complaints notify` on {today.isoformat()}."
    if item.state in (DONE_ON_TIME, DONE_LATE) and item.completed is not None:
        return "stage_done", f"Stage {name} was completed on {item.completed.isoformat()}. Closed by `complaints notify`."
    if item.state in (OPEN, DUE_SOON):
        return "not_overdue", f"Stage {name} is no longer overdue: it is now due on {item.due.isoformat()}. Closed by `complaints notify`."
    return "not_tracked", f"Stage {name} is no longer tracked by an issue. Closed by `complaints notify` on {today.isoformat()}."


UNASSIGNABLE = re.compile(r"\n<!-- complaints:unassignable=([A-Za-z0-9-]{1,39}) -->\n?$")


def unassignable_note(login: str) -> str:
    """Appended to an issue's body when GitHub refused to assign ``login``: later runs read it
    and do not ask again (until the policy names another login)."""
    return f"\n<!-- complaints:unassignable={login} -->\n"


def _changes(issue: Mapping[str, Any], content: IssueContent, settings: NotifySettings) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if issue.get("state") != "open":
        fields["state"] = "open"
        fields["state_reason"] = "reopened"
    if issue.get("title") != content.title:
        fields["title"] = content.title
    body = (issue.get("body") or "").replace("\r\n", "\n")
    refused = UNASSIGNABLE.search(body)
    remembered = refused is not None and content.assignee is not None and refused.group(1).lower() == content.assignee.lower()
    if remembered:
        assert refused is not None
        body = body[: refused.start()] + "\n"
    if body != content.body:
        fields["body"] = content.body + (unassignable_note(str(content.assignee)).lstrip("\n") if remembered else "")
    current = [str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, Mapping)]
    desired = sorted({name for name in current if not settings.is_managed(name)} | set(content.labels))
    if sorted(set(current)) != desired:
        fields["labels"] = desired
    assignees = [str(a.get("login")) for a in issue.get("assignees") or [] if isinstance(a, Mapping)]
    if content.assignee and not remembered and content.assignee.lower() not in {a.lower() for a in assignees}:
        fields["assignees"] = [*assignees, content.assignee]
    return fields


# --- what an issue says --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    """The policy's names for stages and departments and the handler → login map."""

    stages: Mapping[str, Mapping[str, str]]
    departments: Mapping[str, Mapping[str, str]]
    logins: Mapping[str, str]
    # Who gets an issue no handler holds: notify.default_assignee, else the committee chair.
    fallback: str | None = None

    @classmethod
    def from_policy(cls, policy: Policy) -> _Vocabulary:
        stage_terms = policy.vocabularies.get(STAGES) or {}
        if not stage_terms:
            raise ConfigError("policy.yml::$.time_limits.stages: missing")
        stages = {key: _names(term) for key, term in stage_terms.items()}
        departments = {key: _names(term) for key, term in (policy.vocabularies.get("departments") or {}).items()}
        logins: dict[str, str] = {}
        for handler_id, handler in policy.people.items():
            login = handler.github
            if login is None:
                continue
            if not isinstance(login, str) or not _LOGIN.fullmatch(login):
                raise ConfigError(f"policy.yml::$.handlers.{handler_id}.github: not a GitHub login")
            logins[handler_id] = login
        fallback = policy.notify.default_assignee or policy.committee.chair
        return cls(stages, departments, logins, logins.get(fallback) if isinstance(fallback, str) else None)

    def refuse(self, item: StageDeadline) -> str | None:
        if not CASE_ID_PATTERN.fullmatch(item.case_id):
            return "case id is not of the form PREFIX-YYYYMMDD-XXXXX"
        if item.stage not in self.stages or not _STAGE_KEY.fullmatch(item.stage):
            return "stage is not one of the policy's stages"
        return None

    def stage_name(self, stage: str) -> str:
        names = self.stages.get(stage, {})
        return _both(names) or f"`{stage}`"

    def department(self, item: StageDeadline) -> str | None:
        key = item.department
        if key is not None and key in self.departments and _VOCAB_KEY.fullmatch(key):
            return key
        return None

    def login(self, item: StageDeadline) -> str | None:
        return self.logins.get(item.handler) if item.handler is not None else None

    def unassigned(self, item: StageDeadline) -> bool:
        """No handler holds the stage (or the handler has no GitHub login): the issue goes to
        the fallback and says so, instead of reaching nobody."""
        return self.login(item) is None

    def label_specs(self, item: StageDeadline, settings: NotifySettings) -> list[LabelSpec]:
        specs = [
            LabelSpec(settings.overdue_label, "d73a4a", "A stage of a complaint is past its time limit")
            if item.state == OVERDUE
            else LabelSpec(settings.due_soon_label, "fbca04", "A stage of a complaint is due soon"),
            LabelSpec(settings.stage_prefix + item.stage, "0e8a16", _label_description("Stage", self.stages[item.stage])),
        ]
        department = self.department(item)
        if department is not None:
            specs.append(
                LabelSpec(settings.department_prefix + department, "1d76db", _label_description("Department", self.departments[department]))
            )
        if self.unassigned(item):
            specs.append(LabelSpec(settings.unassigned_label, "e99695", "No handler holds this stage: assigned to the fallback"))
        return specs


def _names(term: Term) -> dict[str, str]:
    return {lang: _policy_text(text) for lang, text in term.names.items() if text}


def _policy_text(text: str) -> str:
    """Policy names are trusted, yet keep them plain: no markup, links or mentions."""
    text = re.sub(r"[\x00-\x1f\x7f<>\[\]()`*_~|#\\!]", " ", text).replace("@", "＠")
    text = re.sub(r"(?i)(https?|ftp)://", r"\1∶//", text)
    return re.sub(r"\s+", " ", text).strip()[:80]


def _both(names: Mapping[str, str]) -> str:
    zh, en = names.get("zh"), names.get("en")
    if zh and en:
        return f"{zh} ({en})"
    return zh or en or ""


def _label_description(kind: str, names: Mapping[str, str]) -> str:
    return f"{kind}: {_both(names)}"[:100]


def _printable_path(path: str) -> str:
    return path if _SAFE_PATH.fullmatch(path) else ascii(path)[:120]


def _printable_stage(stage: str) -> str:
    return stage if _STAGE_KEY.fullmatch(stage) else ascii(stage)[:60]


def _days(n: int) -> str:
    return f"{n} working day" + ("" if n == 1 else "s")


def render(item: StageDeadline, vocab: _Vocabulary, settings: NotifySettings, repo_url: str | None) -> IssueContent:
    """Title, body, labels and assignee of the issue about one stage; only checked values."""
    stage = vocab.stage_name(item.stage) + (f" round {item.instance}" if item.instance > 1 else "")
    overdue = item.state == OVERDUE
    provisional = " (provisional)" if item.provisional else ""
    # The title stays the same from day to day (no notification storm); the lateness is in the body.
    title = f"{item.case_id} · {stage} · {'overdue' if overdue else 'due soon'} · due {item.due.isoformat()}{provisional}"
    department = vocab.department(item)
    department_text = _both(vocab.departments[department]) if department is not None else "not recorded"
    case_cell = item.case_id
    if repo_url is not None and _SAFE_PATH.fullmatch(item.path) and ".." not in item.path.split("/"):
        case_cell = f"[{item.case_id}]({repo_url}/blob/{quote(settings.branch)}/{quote(item.path)})"
    handler = item.handler if item.handler is not None and item.handler in vocab.logins else None
    rows = [
        ("Case", case_cell),
        ("Stage", f"{stage} `{item.stage}`"),
        ("Department", department_text),
        ("Handler", f"`{handler}`" if handler else "not recorded"),
        ("Clock started", item.started.isoformat()),
        ("Due", item.due.isoformat() + (
            " (provisional: the official calendar of the year is not announced yet; the date may move)" if item.provisional else ""
        )),
        ("Late" if overdue else "Left", _days(item.working_days_late if overdue else item.working_days_left)),
    ]
    if vocab.unassigned(item):
        rows.append(("Assigned to", "the fallback (notify.default_assignee, else the committee chair): no handler holds this stage"))
    headline = "Stage overdue" if overdue else "Stage due soon"
    body = "\n".join(
        [
            marker(item.case_id, item.stage, item.instance),
            f"**{headline}**: {stage}",
            "",
            "| | |",
            "|---|---|",
            *(f"| {name} | {value} |" for name, value in rows),
            "",
            "Kept up to date by `complaints notify`: updated when the lateness changes, closed when the "
            "stage is done. Record the handling in the case file, not here, and never write personal data here.",
            "",
        ]
    )
    labels = tuple(spec.name for spec in vocab.label_specs(item, settings))
    return IssueContent(title, body, labels, vocab.login(item) or vocab.fallback)


# --- applying the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # create, update, close, label
    case_id: str
    stage: str
    number: int | None
    detail: str


@dataclass
class ApplyResult:
    done: list[Outcome] = field(default_factory=list)
    not_done: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the run gave up, when it did

    @property
    def ok(self) -> bool:
        return not self.not_done and self.stopped is None


def apply(plan: Plan, client: GitHubClient) -> ApplyResult:
    """Carry out the plan, one request at a time. A failure of one action is recorded and the
    rest go on; an error that no later request can survive (token, permission, rate limit,
    GitHub unreachable) stops the run and lists every action not done."""
    result = ApplyResult()
    pending: list[Action] = list(plan.actions)
    created = False
    try:
        if any(not isinstance(a, Close) for a in pending) and plan.labels:
            _ensure_labels(plan.labels, client, result)
        while pending:
            action = pending[0]
            try:
                number = _apply_one(action, client, result)
            except _FATAL:
                raise
            except GitHubError as exc:
                result.not_done.append(_outcome(action, str(exc)))
            else:
                created = created or isinstance(action, Create)
                result.done.append(_outcome(action, _describe(action), number))
            pending.pop(0)
        if created:
            _close_duplicates(client, result)
    except _FATAL as exc:
        result.stopped = str(exc)
        for action in pending:
            result.not_done.append(_outcome(action, "not attempted: the run stopped"))
    return result


def _ensure_labels(specs: Sequence[LabelSpec], client: GitHubClient, result: ApplyResult) -> None:
    existing = {str(label.get("name", "")).lower() for label in client.list_labels()}
    for spec in specs:
        if spec.name.lower() in existing:
            continue
        color = spec.color if _COLOR.fullmatch(spec.color) else "ededed"
        try:
            made = client.create_label(spec.name, color, spec.description)
        except ValidationError as exc:
            result.warnings.append(f"label {spec.name}: {exc}")
            continue
        if made:
            result.done.append(Outcome("label", "", "", None, f"created label {spec.name}"))


def _apply_one(action: Action, client: GitHubClient, result: ApplyResult) -> int:
    if isinstance(action, Create):
        content = action.content
        assignees = [content.assignee] if content.assignee else []
        try:
            issue = client.create_issue(content.title, content.body, list(content.labels), assignees)
        except ValidationError as exc:
            if not (assignees and exc.has_code("invalid", "assignees")):
                raise
            # The login in the policy cannot be assigned here (not a collaborator): still open the
            # issue, and say so in it, so that later runs do not ask again.
            result.warnings.append(f"{action.case_id} {action.stage}: GitHub login {content.assignee} cannot be assigned in this repository")
            body = content.body + unassignable_note(str(content.assignee)).lstrip("\n")
            issue = client.create_issue(content.title, body, list(content.labels), [])
        return int(issue["number"])
    if isinstance(action, Update):
        try:
            client.update_issue(action.number, action.fields)
        except ValidationError as exc:
            if "assignees" not in action.fields or not exc.has_code("invalid", "assignees"):
                raise
            result.warnings.append(f"#{action.number}: the policy's GitHub login cannot be assigned in this repository")
            fields = {k: v for k, v in action.fields.items() if k != "assignees"}
            wanted = [str(a) for a in action.fields["assignees"]]
            if action.body and wanted:
                fields["body"] = action.body + unassignable_note(wanted[-1]).lstrip("\n")
            if fields:
                client.update_issue(action.number, fields)
        return action.number
    client.create_comment(action.number, action.comment)
    client.update_issue(action.number, {"state": "closed", "state_reason": action.state_reason})
    return action.number


def _close_duplicates(client: GitHubClient, result: ApplyResult) -> None:
    """Two runs at once (or a create whose answer was lost and was sent again) may have
    opened two issues for one stage: keep the lowest-numbered open one, close the others."""
    by_key: dict[StageKey, list[int]] = {}
    for issue in client.list_issues(state="open"):
        key = parse_marker(issue.get("body"))
        if key is not None and isinstance(issue.get("number"), int):
            by_key.setdefault(key, []).append(int(issue["number"]))
    for (case_id, stage, instance), numbers in sorted(by_key.items()):
        numbers.sort()
        for number in numbers[1:]:
            action = duplicate_close(case_id, stage, instance, number, numbers[0])
            try:
                _apply_one(action, client, result)
            except _FATAL:
                raise
            except GitHubError as exc:
                result.not_done.append(_outcome(action, str(exc)))
            else:
                result.done.append(_outcome(action, _describe(action), number))


def _outcome(action: Action, detail: str, number: int | None = None) -> Outcome:
    if number is None and not isinstance(action, Create):
        number = action.number
    return Outcome(action.kind, action.case_id, action.stage, number, detail)


def _describe(action: Action) -> str:
    if isinstance(action, Create):
        return action.content.title
    if isinstance(action, Update):
        return "changed " + ", ".join(sorted(action.fields))
    return "closed: " + action.why


def notify(
    items: Iterable[StageDeadline],
    client: GitHubClient,
    policy: Policy,
    repo_url: str | None,
    today: dt.date,
    *,
    dry_run: bool = False,
    provisional_years: Sequence[int] = (),
    is_confirmed: Callable[[int], bool] | None = None,
) -> tuple[Plan, ApplyResult | None]:
    """List the repository's issues, plan, and (unless `dry_run`) apply the plan."""
    existing = client.list_issues(state="all")
    the_plan = plan(items, existing, policy, repo_url, today, provisional_years=provisional_years, is_confirmed=is_confirmed)
    if dry_run:
        return the_plan, None
    return the_plan, apply(the_plan, client)


def notify_repository(
    repository: Repository,
    client: GitHubClient,
    today: dt.date,
    *,
    server_url: str | None = None,
    dry_run: bool = False,
    accept_unconfirmed: bool = False,
    skip_invalid: bool = False,
) -> tuple[Plan, ApplyResult | None]:
    """`complaints notify` on a case repository (a complaints.adapters.repository.Repository): its
    stage deadlines today, turned into issues in the client's GitHub repository. A case file
    that does not pass validation stops the run before GitHub is asked anything, unless
    ``skip_invalid`` (the plan then records how many were left out)."""
    run = repository_run(repository, today, accept_unconfirmed=accept_unconfirmed)
    left_out = left_out_or_refuse(list(run.skipped), skip_invalid, "notify")
    url = repository_url(repository.policy, server_url, client.repository)
    calendar = repository_calendar(repository, accept_unconfirmed)
    the_plan, result = notify(
        run.deadlines, client, repository.policy, url, today, dry_run=dry_run,
        provisional_years=run.provisional_years, is_confirmed=calendar.is_confirmed,
    )
    the_plan.invalid_left_out = left_out
    return the_plan, result


# --- reports -------------------------------------------------------------------------------------


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    actions: list[dict[str, Any]] = []
    for action in plan.actions:
        entry: dict[str, Any] = {"action": action.kind, "case": action.case_id, "stage": action.stage, "instance": action.instance}
        if isinstance(action, Create):
            entry.update(
                title=action.content.title,
                body=action.content.body,
                labels=list(action.content.labels),
                assignee=action.content.assignee,
            )
        elif isinstance(action, Update):
            entry.update(number=action.number, changes=sorted(action.fields), fields=dict(action.fields))
        else:
            entry.update(number=action.number, reason=action.why, state_reason=action.state_reason)
        actions.append(entry)
    return {
        "today": plan.today.isoformat() if plan.today else None,
        "actions": actions,
        "unchanged": sorted(plan.unchanged),
        "orphans": sorted(plan.orphans),
        "labels": [label.name for label in plan.labels],
        "skipped": [{"path": s.path, "stage": s.stage, "reason": s.reason} for s in plan.skipped],
        "invalid_cases_left_out": plan.invalid_left_out,
    }


def result_to_dict(result: ApplyResult) -> dict[str, Any]:
    def row(o: Outcome) -> dict[str, Any]:
        return {"action": o.kind, "case": o.case_id, "stage": o.stage, "number": o.number, "detail": o.detail}

    return {
        "ok": result.ok,
        "done": [row(o) for o in result.done],
        "not_done": [row(o) for o in result.not_done],
        "warnings": list(result.warnings),
        "stopped": result.stopped,
    }


def plan_text(plan: Plan) -> str:
    lines: list[str] = []
    for action in plan.actions:
        if isinstance(action, Create):
            extra = f"  assignee {action.content.assignee}" if action.content.assignee else ""
            lines.append(f"create        {action.content.title}  [{', '.join(action.content.labels)}]{extra}")
        elif isinstance(action, Update):
            lines.append(f"update #{action.number:<5} {action.case_id} {action.stage}: {', '.join(sorted(action.fields))}")
        else:
            lines.append(f"close  #{action.number:<5} {action.case_id} {action.stage}: {action.why}")
    for skipped in plan.skipped:
        lines.append(f"skipped       {skipped.path} {skipped.stage}: {skipped.reason}")
    for number in plan.orphans:
        lines.append(f"left open #{number}: its case was not found in the repository")
    lines.append(
        f"{sum(isinstance(a, Create) for a in plan.actions)} to create, "
        f"{sum(isinstance(a, Update) for a in plan.actions)} to update, "
        f"{sum(isinstance(a, Close) for a in plan.actions)} to close, {len(plan.unchanged)} unchanged"
    )
    return "\n".join(lines)


def result_text(result: ApplyResult) -> str:
    def line(status: str, o: Outcome) -> str:
        if o.kind == "label":
            return f"{status:<9} {o.detail}"
        number = f" #{o.number}" if o.number is not None else ""
        return f"{status:<9} {o.kind}{number} {o.case_id} {o.stage}: {o.detail}"

    lines = [line("done", o) for o in result.done] + [line("NOT DONE", o) for o in result.not_done]
    lines += [f"warning   {w}" for w in result.warnings]
    if result.stopped:
        lines.append(f"stopped: {result.stopped}")
    lines.append(f"{len(result.done)} done, {len(result.not_done)} not done")
    return "\n".join(lines)
