"""The case lifecycle: which timeline event may follow which, and the state a timeline leads to.

The timeline is the source of truth for a case's state. The validator replays it with these
rules, and `complaints event` asks the same rules before appending, so a case can never be
written into a state the validator would reject.

    received → [acknowledged] → accepted → (assigned | transferred | extended | paused ⇄ resumed)* → resolved
                             ↘ not_accepted
    resolved / not_accepted → [followed_up] → [review_requested → review_answered]* → closed
    closed → review_requested (a review re-opens a closed case) → review_answered → closed
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from complaints.core.events import EVENTS

# Every state a timeline can lead to, in the order a case meets them (also the values of a
# case's optional `status` field, and the --state choices of `complaints list`).
STATES: tuple[str, ...] = ("received", "acknowledged", "accepted", "not_accepted", "paused", "resolved", "under_review", "closed")


@dataclass
class Track:
    """What the events so far have established."""

    started: bool = False
    acknowledged: bool = False
    accepted: bool = False
    not_accepted: bool = False
    paused: bool = False
    resolved: bool = False
    answered: bool = False  # the complainant has an answer: resolved, not accepted or review answered
    review_open: bool = False
    closed: bool = False
    department: str | None = None
    handler: str | None = None

    @property
    def state(self) -> str:
        if self.closed:
            return "closed"
        if self.review_open:
            return "under_review"
        if self.resolved:
            return "resolved"
        if self.not_accepted:
            return "not_accepted"
        if self.paused:
            return "paused"
        if self.accepted:
            return "accepted"
        if self.acknowledged:
            return "acknowledged"
        return "received"


def problem(track: Track, event: Mapping[str, Any]) -> str | None:
    """Why ``event`` may not follow the events that produced ``track``; None if it may."""
    kind = event.get("kind")
    if not track.started:
        return None if kind == "received" else "the first event of a timeline must be 'received'"
    if kind == "received":
        return "'received' may only be the first event"
    if track.closed and kind != "review_requested":
        return "the case is closed: only a 'review_requested' event may follow 'closed'"
    if kind == "acknowledged":
        return "the complaint was already acknowledged" if track.acknowledged else None
    if kind in ("accepted", "not_accepted"):
        if track.accepted:
            return "the complaint was already accepted"
        if track.not_accepted:
            return "the complaint was already not accepted"
        return None
    if kind in ("assigned", "transferred", "extended", "paused", "resumed"):
        if not track.accepted:
            return f"'{kind}' needs an accepted complaint: record 'accepted' first"
        if track.resolved:
            return f"'{kind}' cannot follow 'resolved'"
        if kind == "paused" and track.paused:
            return "the clock is already paused"
        if kind == "resumed" and not track.paused:
            return "'resumed' needs a 'paused' event before it"
        if kind == "transferred":
            source = event.get("from")
            if track.department is not None and source != track.department:
                return "'from' must be the department holding the case (set by the last 'assigned' or 'transferred' event)"
            if source == event.get("to"):
                return "a transfer must go to a different department"
        return None
    if kind == "resolved":
        if not track.accepted:
            return "'resolved' needs an accepted complaint: record 'accepted' first"
        if track.resolved:
            return "the complaint was already resolved"
        if track.paused:
            return "the clock is paused: record 'resumed' before 'resolved'"
        return None
    if kind == "followed_up":
        if not track.answered:
            return "'followed_up' needs an answer first ('resolved' or 'not_accepted')"
        if track.review_open:
            return "a review is open: record 'review_answered' before following up"
        return None
    if kind == "review_requested":
        if not track.answered:
            return "a review can only be requested after an answer ('resolved' or 'not_accepted')"
        if track.review_open:
            return "a review is already open"
        return None
    if kind == "review_answered":
        return None if track.review_open else "'review_answered' needs a 'review_requested' event before it"
    if kind == "closed":
        if not track.answered:
            return "'closed' needs an answer first ('resolved' or 'not_accepted')"
        if track.review_open:
            return "a review is open: record 'review_answered' before closing"
        return None
    # A kind without a rule of its own (a protection check) may come at any point before closing.
    return None if kind in EVENTS else f"unknown event kind {kind!r}"


def apply(track: Track, event: Mapping[str, Any]) -> None:
    """Advance ``track`` by an event that ``problem`` accepted (or, when replaying a bad
    timeline, by any event: the replay goes on so later problems are still found)."""
    kind = event.get("kind")
    track.started = True
    if kind == "acknowledged":
        track.acknowledged = True
    elif kind == "accepted":
        track.accepted = True
    elif kind == "not_accepted":
        track.not_accepted = True
        track.answered = True
    elif kind == "assigned":
        track.department = _str(event.get("department"), track.department)
        track.handler = _str(event.get("handler"), track.handler)
    elif kind == "transferred":
        track.department = _str(event.get("to"), track.department)
        track.handler = _str(event.get("handler"), None)
    elif kind == "paused":
        track.paused = True
    elif kind == "resumed":
        track.paused = False
    elif kind == "resolved":
        track.resolved = True
        track.answered = True
    elif kind == "review_requested":
        track.review_open = True
        track.closed = False
    elif kind == "review_answered":
        track.review_open = False
        track.answered = True
    elif kind == "closed":
        track.closed = True


def _str(value: Any, default: str | None) -> str | None:
    return value if isinstance(value, str) else default


def replay(events: Sequence[Mapping[str, Any]]) -> tuple[Track, list[tuple[int, str]]]:
    """The track a timeline leads to, and every (index, reason) where it breaks the rules."""
    track = Track()
    problems: list[tuple[int, str]] = []
    for index, event in enumerate(events):
        reason = problem(track, event)
        if reason is not None:
            problems.append((index, reason))
        apply(track, event)
    return track, problems


def transition_problem(events: Sequence[Mapping[str, Any]], new_event: Mapping[str, Any]) -> str | None:
    """None if ``new_event`` may be appended to ``events``, else a reason a person can act on."""
    track, _ = replay(events)
    return problem(track, new_event)


def derive_state(events: Sequence[Mapping[str, Any]]) -> str:
    return replay(events)[0].state


def holding(events: Sequence[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """(department, handler) holding the case after its assignments and transfers: what
    ``replay`` leaves in the track, read from the only two kinds that move them (as ``apply``
    does), since the deadline engine asks this of every case."""
    department: str | None = None
    handler: str | None = None
    for event in events:
        kind = event.get("kind")
        if kind == "assigned":
            department = _str(event.get("department"), department)
            handler = _str(event.get("handler"), handler)
        elif kind == "transferred":
            department = _str(event.get("to"), department)
            handler = _str(event.get("handler"), None)
    return department, handler
