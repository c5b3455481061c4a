"""The lifecycle as a table: (timeline so far, new event) -> allowed, or the reason it is not;
the state every timeline leads to; and the status field agreeing with it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from complaints.core import lifecycle
from complaints.checker.casefile import check_case_bytes
from complaints.adapters.config import load_policy

from conftest import ROOT
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"


def ev(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "date": "2026-03-05", **fields}


R, ACK, ACC = ev("received"), ev("acknowledged"), ev("accepted")
NA = ev("not_accepted", reason="out_of_scope")
ASG = ev("assigned", department="permits", handler="h-zhou")
TR = ev("transferred", **{"from": "permits", "to": "registry", "reason": "x"})
EXT = ev("extended", stage="resolve", days=5, approver="d-zhang", reason="x")
PAU, RSM = ev("paused", reason="x"), ev("resumed")
RES = ev("resolved", outcome="substantiated")
FUP = ev("followed_up", satisfaction="satisfied")
RQ, RA = ev("review_requested"), ev("review_answered", outcome="upheld")
CLO, PROT = ev("closed"), ev("protection_check")

ACCEPTED = [R, ACC]
RESOLVED = [R, ACC, RES]
CLOSED = [R, ACC, RES, CLO]

ALLOWED: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    ("first event received", [], R),
    ("acknowledge", [R], ACK),
    ("accept without acknowledging", [R], ACC),
    ("accept after acknowledging", [R, ACK], ACC),
    ("not accept", [R, ACK], NA),
    ("assign", ACCEPTED, ASG),
    ("reassign", [*ACCEPTED, ASG], ev("assigned", department="finance")),
    ("transfer from the holding department", [*ACCEPTED, ASG], TR),
    ("transfer onwards", [*ACCEPTED, ASG, TR], ev("transferred", **{"from": "registry", "to": "finance", "reason": "x"})),
    ("transfer without an assignment", ACCEPTED, TR),
    ("extend", ACCEPTED, EXT),
    ("pause", ACCEPTED, PAU),
    ("resume", [*ACCEPTED, PAU], RSM),
    ("pause again after resuming", [*ACCEPTED, PAU, RSM], PAU),
    ("resolve", ACCEPTED, RES),
    ("resolve after resuming", [*ACCEPTED, PAU, RSM], RES),
    ("follow up after resolving", RESOLVED, FUP),
    ("follow up after not accepting", [R, NA], FUP),
    ("review after resolving", RESOLVED, RQ),
    ("review after not accepting", [R, NA], RQ),
    ("answer a review", [*RESOLVED, RQ], RA),
    ("a second review", [*RESOLVED, RQ, RA], RQ),
    ("close after resolving", RESOLVED, CLO),
    ("close after not accepting", [R, NA], CLO),
    ("close after a review", [*RESOLVED, RQ, RA], CLO),
    ("review after closing", CLOSED, RQ),
    ("answer a review of a closed case", [*CLOSED, RQ], RA),
    ("close again after the review", [*CLOSED, RQ, RA], CLO),
    ("protection check while open", ACCEPTED, PROT),
    ("protection check after resolving", RESOLVED, PROT),
]

REFUSED: list[tuple[str, list[dict[str, Any]], dict[str, Any], str]] = [
    ("first event not received", [], ACK, "the first event of a timeline must be 'received'"),
    ("received twice", [R], R, "'received' may only be the first event"),
    ("acknowledge twice", [R, ACK], ACK, "the complaint was already acknowledged"),
    ("accept twice", ACCEPTED, ACC, "the complaint was already accepted"),
    ("not accept after accepting", ACCEPTED, NA, "the complaint was already accepted"),
    ("accept after not accepting", [R, NA], ACC, "the complaint was already not accepted"),
    ("assign before accepting", [R], ASG, "'assigned' needs an accepted complaint: record 'accepted' first"),
    ("transfer before accepting", [R], TR, "'transferred' needs an accepted complaint: record 'accepted' first"),
    ("extend before accepting", [R, ACK], EXT, "'extended' needs an accepted complaint: record 'accepted' first"),
    ("pause before accepting", [R], PAU, "'paused' needs an accepted complaint: record 'accepted' first"),
    ("resolve before accepting", [R, ACK], RES, "'resolved' needs an accepted complaint: record 'accepted' first"),
    ("resolve a not-accepted complaint", [R, NA], RES, "'resolved' needs an accepted complaint: record 'accepted' first"),
    ("resume without pausing", ACCEPTED, RSM, "'resumed' needs a 'paused' event before it"),
    ("resume twice", [*ACCEPTED, PAU, RSM], RSM, "'resumed' needs a 'paused' event before it"),
    ("pause twice", [*ACCEPTED, PAU], PAU, "the clock is already paused"),
    ("resolve while paused", [*ACCEPTED, PAU], RES, "the clock is paused: record 'resumed' before 'resolved'"),
    ("resolve twice", RESOLVED, RES, "the complaint was already resolved"),
    ("transfer from the wrong department", [*ACCEPTED, ASG], ev("transferred", **{"from": "finance", "to": "registry", "reason": "x"}),
     "'from' must be the department holding the case (set by the last 'assigned' or 'transferred' event)"),
    ("transfer back from the old department", [*ACCEPTED, ASG, TR], TR,
     "'from' must be the department holding the case (set by the last 'assigned' or 'transferred' event)"),
    ("transfer to the same department", [*ACCEPTED, ASG], ev("transferred", **{"from": "permits", "to": "permits", "reason": "x"}),
     "a transfer must go to a different department"),
    ("assign after resolving", RESOLVED, ASG, "'assigned' cannot follow 'resolved'"),
    ("extend after resolving", RESOLVED, EXT, "'extended' cannot follow 'resolved'"),
    ("pause after resolving", RESOLVED, PAU, "'paused' cannot follow 'resolved'"),
    ("follow up before an answer", ACCEPTED, FUP, "'followed_up' needs an answer first ('resolved' or 'not_accepted')"),
    ("follow up during a review", [*RESOLVED, RQ], FUP, "a review is open: record 'review_answered' before following up"),
    ("review before an answer", ACCEPTED, RQ, "a review can only be requested after an answer ('resolved' or 'not_accepted')"),
    ("review twice at once", [*RESOLVED, RQ], RQ, "a review is already open"),
    ("review answer without request", RESOLVED, RA, "'review_answered' needs a 'review_requested' event before it"),
    ("review answered twice", [*RESOLVED, RQ, RA], RA, "'review_answered' needs a 'review_requested' event before it"),
    ("close before an answer", ACCEPTED, CLO, "'closed' needs an answer first ('resolved' or 'not_accepted')"),
    ("close with an open review", [*RESOLVED, RQ], CLO, "a review is open: record 'review_answered' before closing"),
    *[
        (f"{e['kind']} after closing", CLOSED, e, "the case is closed: only a 'review_requested' event may follow 'closed'")
        for e in (ACK, ACC, NA, ASG, TR, EXT, PAU, RSM, RES, FUP, RA, PROT, CLO)
    ],
]


@pytest.mark.parametrize("name, events, new", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_allowed_transition(name: str, events: list[dict[str, Any]], new: dict[str, Any]) -> None:
    assert lifecycle.replay(events)[1] == []  # the table's starting points are themselves legal
    assert lifecycle.transition_problem(events, new) is None


@pytest.mark.parametrize("name, events, new, reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_transition(name: str, events: list[dict[str, Any]], new: dict[str, Any], reason: str) -> None:
    assert lifecycle.replay(events)[1] == []
    assert lifecycle.transition_problem(events, new) == reason
    # replaying the whole timeline reports it at the new event's index
    assert lifecycle.replay([*events, new])[1] == [(len(events), reason)]


def test_replay_goes_on_after_a_problem() -> None:
    _, problems = lifecycle.replay([R, RES, RSM, CLO, ACK])
    # resolved without acceptance (1), resumed without a pause (2); closing is then allowed
    # because the replay took the resolution as given; acknowledging after closing is not (4)
    assert [index for index, _ in problems] == [1, 2, 4]


STATES: list[tuple[list[dict[str, Any]], str]] = [
    ([R], "received"),
    ([R, ACK], "acknowledged"),
    (ACCEPTED, "accepted"),
    ([*ACCEPTED, ASG, TR, EXT], "accepted"),
    ([*ACCEPTED, PAU], "paused"),
    ([*ACCEPTED, PAU, RSM], "accepted"),
    ([R, NA], "not_accepted"),
    (RESOLVED, "resolved"),
    ([*RESOLVED, FUP], "resolved"),
    ([*RESOLVED, RQ], "under_review"),
    ([*RESOLVED, RQ, RA], "resolved"),
    ([R, NA, RQ], "under_review"),
    ([R, NA, RQ, RA], "not_accepted"),
    (CLOSED, "closed"),
    ([*CLOSED, RQ], "under_review"),
    ([*CLOSED, RQ, RA], "resolved"),
    ([*CLOSED, RQ, RA, CLO], "closed"),
    ([R, NA, CLO], "closed"),
]


@pytest.mark.parametrize("events, state", STATES)
def test_derive_state(events: list[dict[str, Any]], state: str) -> None:
    assert lifecycle.replay(events)[1] == []
    assert lifecycle.derive_state(events) == state


def test_every_state_of_the_schema_is_reachable() -> None:
    import json

    schema = json.loads((TEMPLATE / "schema" / "case.schema.json").read_text(encoding="utf-8"))
    assert {state for _, state in STATES} == set(schema["properties"]["status"]["enum"])


def test_holding_follows_assignments_and_transfers() -> None:
    assert lifecycle.holding([R, ACC]) == (None, None)
    assert lifecycle.holding([R, ACC, ASG]) == ("permits", "h-zhou")
    assert lifecycle.holding([R, ACC, ASG, TR]) == ("registry", None)
    assert lifecycle.holding([R, ACC, ASG, ev("transferred", **{"from": "permits", "to": "it", "handler": "h-wu", "reason": "x"})]) == ("it", "h-wu")


# --- status agrees with the timeline, in a case file -----------------------------------------

POLICY = load_policy(TEMPLATE)
HEAD = """id: XN-20260305-7K3QH
channel: letter
complainant: {anonymous: true}
subject: {category: delay, departments: [permits]}
priority: normal
"""


def case_text(events: list[dict[str, Any]], status: str | None) -> bytes:
    dates = ["2026-03-05"] * len(events)
    body = "".join("  - {" + ", ".join(f"{k}: {v if k != 'date' else d}" for k, v in e.items()) + "}\n" for e, d in zip(events, dates))
    return (HEAD + (f"status: {status}\n" if status else "") + "timeline:\n" + body).encode()


@pytest.mark.parametrize("events, state", STATES)
def test_status_agreeing_with_the_timeline_passes_and_disagreeing_fails(events: list[dict[str, Any]], state: str) -> None:
    file, today = "cases/2026/XN-20260305-7K3QH.yml", dt.date(2026, 11, 28)
    assert check_case_bytes(case_text(events, None), file, POLICY, today).ok
    assert check_case_bytes(case_text(events, state), file, POLICY, today).ok
    other = "closed" if state != "closed" else "accepted"
    problems = check_case_bytes(case_text(events, other), file, POLICY, today).problems
    assert [(p.field, p.message, p.line) for p in problems] == [
        ("$.status", f"says {other!r} but the timeline leads to {state!r}; fix the status or the timeline", 6)
    ]
