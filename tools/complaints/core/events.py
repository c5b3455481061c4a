"""Every kind of timeline event, each described once: its fields, which of them are free text
and which name a policy vocabulary, the word `complaints event` takes for it, how the site says
it, and where it leaves a case on the receipt lookup page.

The validator, the writer, the command line, the receipt table and the site all read this
table, so adding an event kind is one entry here, its ``event_KIND`` definition in
schema/case.schema.json (tests/test_events_table.py holds the two together) and, when the kind
changes what may follow it, a rule in complaints.core.lifecycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from complaints.core.vocabulary import VocabularyError


@dataclass(frozen=True)
class Field:
    """One field of one event kind (besides ``kind`` and ``date``)."""

    help: str  # what the field means for this kind, as `complaints event --help` says it
    required: bool = False
    vocabulary: str | None = None  # the policy vocabulary its keys come from; None: not a key
    text: bool = False  # internal free text: checked for personal data and refused characters
    many: bool = False  # a list of values (given once per value on the command line)


@dataclass(frozen=True)
class EventKind:
    """One kind of timeline event."""

    kind: str  # as the case file records it
    command: str | None  # the `complaints event` word; None: written by another command
    fields: Mapping[str, Field]  # in the schema's order
    coarse: str | None  # the receipt page's state after it; None: the state does not move
    words_zh: tuple[str, ...] = ()  # the lifecycle's Chinese words, also taken as the command
    site: tuple[str, str] | None = None  # (zh, en): how the site's process page says it
    process_step: bool = False  # it completes a step of the process page that has a time limit
    hint: str | None = None  # said after the command word where the word alone may mislead

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.fields.items() if spec.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.fields.items() if not spec.required)


_NOTE = Field("an internal note (no personal data)", text=True)
_SUMMARY = Field("internal summary", text=True)
_REASON = Field("internal text", required=True, text=True)


def _kind(kind: str, command: str | None, coarse: str | None, *, words_zh: tuple[str, ...] = (), site: tuple[str, str] | None = None,
          process_step: bool = False, hint: str | None = None, **fields: Field) -> EventKind:  # fmt: skip
    # `from` is a Python keyword: written `from_` here, like the command line's parameter.
    named = {"note": _NOTE, **{name.rstrip("_"): spec for name, spec in fields.items()}}
    return EventKind(kind, command, MappingProxyType(named), coarse, words_zh, site, process_step, hint)


# In the order a typical case meets them (the order `complaints event` lists its words in).
# Coarse states: see complaints.core.receipt.COARSE_STATES.
_TABLE: tuple[EventKind, ...] = (
    _kind("received", None, "received", site=("收到投诉", "the complaint arrives")),
    _kind("acknowledged", "acknowledge", "received", words_zh=("告知", "回执"), site=("发出回执", "the acknowledgement"),
          process_step=True),
    _kind("accepted", "accept", "accepted", words_zh=("受理",), site=("决定受理", "acceptance"), process_step=True),
    # Not accepting a complaint ends it; the written notice says why, the receipt table need not.
    _kind("not_accepted", "not-accept", "closed", words_zh=("不予受理",), site=("决定不予受理", "the decision not to accept"),
          reason=Field("a key (or label) of not_accepted_reasons", required=True, vocabulary="not_accepted_reasons")),
    _kind("assigned", "assign", "in_progress", words_zh=("交办",), site=("交办", "assignment"),
          department=Field("the department given the case", required=True, vocabulary="departments"),
          handler=Field("the handler given the case", vocabulary="handlers")),
    _kind("transferred", "transfer", "in_progress", words_zh=("转办",), site=("转办", "transfer"),
          from_=Field("the department handing the case over", required=True, vocabulary="departments"),
          to=Field("the department taking it", required=True, vocabulary="departments"),
          handler=Field("the handler given the case", vocabulary="handlers"),
          reason=_REASON),
    _kind("extended", "extend", "in_progress", words_zh=("延期",),
          stage=Field("the stage whose time limit is extended (a key of time_limits.stages)", required=True,
                      vocabulary="time_limits.stages"),
          days=Field("how many days the limit grows by", required=True),
          approver=Field("the handler who approved the extension", required=True, vocabulary="handlers"),
          reason=_REASON),
    _kind("paused", "pause", "in_progress", words_zh=("中止",), reason=_REASON),
    _kind("resumed", "resume", "in_progress", words_zh=("恢复",)),
    _kind("resolved", "resolve", "resolved", words_zh=("办结",), site=("办结答复", "the answer"), process_step=True,
          outcome=Field("a key of outcomes", required=True, vocabulary="outcomes"),
          measures=Field("a measure taken (repeat --measure for several)", vocabulary="measures", many=True),
          summary=_SUMMARY),
    _kind("followed_up", "follow-up", "resolved", words_zh=("回访",), site=("回访", "the follow-up"), process_step=True,
          satisfaction=Field("a key (or label, e.g. 满意) of satisfaction", required=True, vocabulary="satisfaction")),
    _kind("review_requested", "review", "in_progress", words_zh=("复核", "复查"), site=("收到复核申请", "the review request"),
          hint="a review was requested"),
    _kind("review_answered", "review-answer", "resolved", words_zh=("复核答复",), site=("作出复核答复", "the review answer"),
          process_step=True,
          outcome=Field("a key of review_outcomes", required=True, vocabulary="review_outcomes"),
          summary=_SUMMARY),
    _kind("closed", "close", "closed", words_zh=("归档",), site=("归档", "archiving")),
    _kind("protection_check", "protection-check", None, words_zh=("保护回访",)),
)  # fmt: skip

EVENTS: Mapping[str, EventKind] = MappingProxyType({spec.kind: spec for spec in _TABLE})
EVENT_KINDS: tuple[str, ...] = tuple(EVENTS)

# `complaints event KIND`: the word a person types -> the timeline kind written to the file.
EVENT_COMMANDS: Mapping[str, str] = MappingProxyType({spec.command: spec.kind for spec in _TABLE if spec.command})

# Steps of the process page that carry a time limit, each named by the event that completes it.
PROCESS_STEPS: tuple[str, ...] = tuple(spec.kind for spec in _TABLE if spec.process_step)


def command_words() -> str:
    """The `complaints event` words, as its --help lists them."""
    return ", ".join(f"{spec.command} ({spec.hint})" if spec.hint else str(spec.command) for spec in _TABLE if spec.command)


@dataclass(frozen=True)
class EventOption:
    """How `complaints event` takes one field on its command line."""

    field: str
    option: str  # e.g. --from
    dest: str  # the parameter's name (`from` is a Python keyword)
    bounds: tuple[int, int] | None = None  # a whole number in this range


# In the order `complaints event --help` lists them.
EVENT_OPTIONS: tuple[EventOption, ...] = (
    EventOption("reason", "--reason", "reason"),
    EventOption("department", "--department", "department"),
    EventOption("handler", "--handler", "handler"),
    EventOption("from", "--from", "from_"),
    EventOption("to", "--to", "to"),
    EventOption("stage", "--stage", "stage"),
    EventOption("days", "--days", "days", bounds=(1, 365)),
    EventOption("approver", "--approver", "approver"),
    EventOption("outcome", "--outcome", "outcome"),
    EventOption("measures", "--measure", "measures"),
    EventOption("satisfaction", "--satisfaction", "satisfaction"),
    EventOption("summary", "--summary", "summary"),
    EventOption("note", "--note", "note"),
)
_OPTION_OF = {option.field: option for option in EVENT_OPTIONS}


def field_bounds(field: str) -> tuple[int, int] | None:
    """The range of a whole-number field, or None for any other field."""
    option = _OPTION_OF.get(field)
    return None if option is None else option.bounds


def many(field: str) -> bool:
    """Whether ``field`` holds a list (its option is given once per value)."""
    return any(spec.fields[field].many for spec in _TABLE if field in spec.fields)


def option_name(field: str) -> str:
    """The command-line option that gives ``field`` (``--measure`` for ``measures``)."""
    option = _OPTION_OF.get(field)
    return option.option if option is not None else "--" + field


def option_help(field: str, also: tuple[tuple[str, str], ...] = ()) -> str:
    """`complaints event --help` for a field's option: the words that take it, with what it
    means for each (``also``: further (word, meaning) pairs, e.g. for `suggest`)."""
    said = [(spec.command, spec.fields[field].help) for spec in _TABLE if spec.command and field in spec.fields]
    if len(said) == len(EVENT_COMMANDS) and len({meaning for _, meaning in said}) == 1 and not also:
        return f"Any event: {said[0][1]}."
    groups: dict[str, list[str]] = {}
    for command, meaning in (*said, *also):
        groups.setdefault(meaning, []).append(command)
    return "; ".join(f"{', '.join(commands)}: {meaning}" for meaning, commands in groups.items()) + "."


def field_vocabulary(kind: object, field: str) -> str | None:
    """The vocabulary a field of an event of ``kind`` takes its keys from, or None for free
    text, dates and numbers. A field the kind lacks reads as in the last kind that has it, so
    an option given to the wrong kind is still named by its vocabulary before the kind refuses it."""
    spec = EVENTS.get(kind) if isinstance(kind, str) else None
    if spec is not None and field in spec.fields:
        return spec.fields[field].vocabulary
    having = [spec.fields[field] for spec in _TABLE if field in spec.fields]
    return having[-1].vocabulary if having else None


def completion_vocabulary(field: str) -> str | None:
    """The vocabulary to complete an option's value from: the one every kind agrees on."""
    found = {spec.fields[field].vocabulary for spec in _TABLE if field in spec.fields}
    return found.pop() if len(found) == 1 else None


# Fields that are free text in every kind that has them: looked for in every event, for a
# file the schema rejected may carry one where its kind has none.
_ALWAYS_TEXT: tuple[str, ...] = tuple(
    name
    for name in dict.fromkeys(name for spec in _TABLE for name in spec.fields)
    if all(spec.fields[name].text for spec in _TABLE if name in spec.fields)
)


# Looked up for every event of every case checked: computed once.
_TEXT_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    spec.kind: _ALWAYS_TEXT + tuple(name for name, f in spec.fields.items() if f.text and name not in _ALWAYS_TEXT) for spec in _TABLE
})  # fmt: skip


def text_fields(kind: object) -> tuple[str, ...]:
    """The fields of an event of ``kind`` that hold internal free text (checked for personal
    data); for an unknown kind, those that are free text wherever they appear."""
    return _TEXT_FIELDS.get(kind, _ALWAYS_TEXT) if isinstance(kind, str) else _ALWAYS_TEXT


def coarse_after(kind: object, state: str) -> str:
    """The receipt page's state after an event of ``kind``, from ``state`` before it."""
    spec = EVENTS.get(kind) if isinstance(kind, str) else None
    return state if spec is None or spec.coarse is None else spec.coarse


def site_words(kind: object, lang: str) -> str:
    """How the site says an event (the kind itself where it has no words)."""
    spec = EVENTS.get(kind) if isinstance(kind, str) else None
    if spec is None or spec.site is None:
        return str(kind)
    return spec.site[0] if lang == "zh" else spec.site[1]


_ZH_WORDS: Mapping[str, str] = MappingProxyType({word: spec.command for spec in _TABLE if spec.command for word in spec.words_zh})


def event_command(typed: str) -> str:
    """The `complaints event` word for ``typed``: the word itself (`accept`), the kind the
    file records (`accepted`, `not_accepted`) or the Chinese lifecycle word (`受理`)."""
    word = typed.strip().casefold().replace("_", "-")
    if word in EVENT_COMMANDS:
        return word
    for command, kind in EVENT_COMMANDS.items():
        if word == kind.replace("_", "-"):
            return command
    if typed.strip() in _ZH_WORDS:
        return _ZH_WORDS[typed.strip()]
    raise VocabularyError(f"KIND: not an event; choose one of: {', '.join(EVENT_COMMANDS)}")
