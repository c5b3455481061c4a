"""The questions `complaints new` and `complaints event` ask in a terminal, and how each answer
is checked the moment it is typed: a wrong answer is explained (with the valid choices) and
asked again, so no earlier answer is lost. The CLI supplies ``ask`` and ``say``; nothing here
prints or reads a terminal itself.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from complaints.core import events
from complaints.errors import ComplaintsError, UsageMistake
from complaints.core.pii import scan_text
from complaints.core.vocabulary import choices_text, resolve, resolve_list, terms

# ask(prompt, default, hidden) -> the typed text (the default when the answer is empty)
Ask = Callable[[str, str, bool], str]
Say = Callable[[str], None]

TEXT_LIMIT = 2000  # the case schema's maxLength for internal free text


class AnswerError(UsageMistake):
    """An answer that cannot be used; the message says why and what would do."""


def parse_date(typed: str, what: str = "date") -> dt.date:
    """A date written YYYY-MM-DD; a real calendar date is named as wrong, not as malformed."""
    text = typed.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise UsageMistake(f"{what}: {text} is not a day of the calendar ({exc})") from None
        raise UsageMistake(f"{what}: write the date as YYYY-MM-DD, e.g. 2026-04-10") from None


def check_text(typed: str, what: str) -> str | None:
    """Internal free text: empty means none; refused when it looks like personal data (the
    summary and notes are copied into reports and reviews; contact details are not)."""
    text = typed.strip()
    if not text:
        return None
    if len(text) > TEXT_LIMIT:
        raise AnswerError(f"{what}: at most {TEXT_LIMIT} characters")
    kinds = sorted({finding.kind for finding in scan_text(text)})
    if kinds:
        raise AnswerError(f"{what}: looks like personal data ({', '.join(kinds)}); leave it out (contact details have their own, encrypted, question)")
    return text


def yes_no(typed: str, default: bool) -> bool:
    word = typed.strip().casefold()
    if not word:
        return default
    if word in ("y", "yes", "是", "对", "好"):
        return True
    if word in ("n", "no", "否", "不"):
        return False
    raise AnswerError("answer y (yes) or n (no)")


def ask_until(ask: Ask, say: Say, prompt: str, check: Callable[[str], Any], default: str = "", hidden: bool = False) -> Any:
    """Ask until ``check`` takes the answer; each refusal is said before asking again."""
    while True:
        typed = ask(prompt, default, hidden)
        try:
            return check(typed)
        except ComplaintsError as exc:
            say(f"error: {exc}")


def choice_prompt(raw: Mapping[str, Any], vocabulary: str, title: str) -> str:
    return f"{title} [{choices_text(terms(raw, vocabulary))}]"


def ask_key(ask: Ask, say: Say, raw: Mapping[str, Any], vocabulary: str, title: str, default: str = "", optional: bool = False) -> str | None:
    """A key of ``vocabulary``, typed as the key or its label; empty allowed when optional."""

    def check(typed: str) -> str | None:
        if optional and not typed.strip():
            return None
        return resolve(raw, vocabulary, typed, title)

    suffix = " (empty for none)" if optional else ""
    result: str | None = ask_until(ask, say, choice_prompt(raw, vocabulary, title) + suffix, check, default)
    return result


def ask_keys(ask: Ask, say: Say, raw: Mapping[str, Any], vocabulary: str, title: str, optional: bool = False) -> tuple[str, ...]:
    """Several keys, separated by `,`, `，` or `、`."""

    def check(typed: str) -> tuple[str, ...]:
        keys = resolve_list(raw, vocabulary, [typed], title)
        if not keys and not optional:
            raise AnswerError(f"{title}: give at least one; choose from: {choices_text(terms(raw, vocabulary))}")
        return keys

    prompt = choice_prompt(raw, vocabulary, title) + " (separate several with , ， or 、" + ("; empty for none)" if optional else ")")
    result: tuple[str, ...] = ask_until(ask, say, prompt, check)
    return result


@dataclass(frozen=True)
class Suggestion:
    """An improvement suggestion (改进建议) drawn from a complaint, and what became of it."""

    summary: str
    adopted: bool = False
    rewarded: bool = False

    def to_mapping(self) -> dict[str, Any]:
        return {"summary": self.summary, "adopted": self.adopted, "rewarded": self.rewarded}


def ask_suggestions(ask: Ask, say: Say) -> tuple[Suggestion, ...]:
    out: list[Suggestion] = []
    while True:
        text = ask_until(ask, say, "Improvement suggestion (改进建议; empty for none" + (" more" if out else "") + ")",
                         lambda t: check_text(t, "suggestion"))  # fmt: skip
        if text is None:
            return tuple(out)
        adopted = ask_until(ask, say, "Adopted? [y/N]", lambda t: yes_no(t, False))
        rewarded = ask_until(ask, say, "Rewarded? [y/N]", lambda t: yes_no(t, False)) if adopted else False
        out.append(Suggestion(text, adopted, rewarded))


def summary_lines(fields: Sequence[tuple[str, str]]) -> list[str]:
    """The answers, aligned, for the last look before "Save? [Y/n]"."""
    width = max((len(name) for name, _ in fields), default=0)
    return [f"  {name.ljust(width)}  {value}" for name, value in fields]


def shown(raw: Mapping[str, Any], vocabulary: str, keys: Sequence[str] | str | None) -> str:
    """Keys with their labels, for the summary."""
    if keys is None:
        return "-"
    items = [keys] if isinstance(keys, str) else list(keys)
    labels = {t.key: t for t in terms(raw, vocabulary)}
    return ", ".join(labels[k].shown() if k in labels else k for k in items) or "-"


@dataclass
class NewCaseAnswers:
    """What `complaints new` knows of the new case: from its options, then from the questions."""

    channel: str | None
    category: str | None
    departments: tuple[str, ...]
    priority: str | None
    handler: str | None
    received: dt.date | None
    anonymous: bool | None
    summary: str | None
    suggestions: tuple[Mapping[str, Any], ...]
    contact: bytes | None = None

    def missing(self) -> list[str]:
        """The options a script must give, by name, that are not given."""
        given = (("--channel", self.channel), ("--category", self.category), ("--department", self.departments or None),
                 ("--priority", self.priority), ("--anonymous/--named", self.anonymous))  # fmt: skip
        return [name for name, value in given if value is None]

    def summary_lines(self, raw: Mapping[str, Any], today: dt.date) -> list[str]:
        """The last look before "Save? [Y/n]"."""
        if self.anonymous:
            complainant = "anonymous"
        else:
            complainant = "named, contact details to be encrypted" if self.contact else "named, no contact details"
        return summary_lines([
            ("channel", shown(raw, "channels", self.channel)),
            ("category", shown(raw, "categories", self.category)),
            ("departments", shown(raw, "departments", self.departments)),
            ("priority", shown(raw, "priorities", self.priority)),
            ("handler", shown(raw, "handlers", self.handler)),
            ("received", (self.received or today).isoformat()),
            ("complainant", complainant),
            ("summary", self.summary or "-"),
            ("suggestions", str(len(self.suggestions))),
        ])  # fmt: skip


def ask_new_case(ask: Ask, say: Say, raw: Mapping[str, Any], answers: NewCaseAnswers, today: dt.date, *,
                 ask_contact: bool, ask_for_suggestions: bool) -> None:  # fmt: skip
    """Ask for every field of a new case the options left open, in the order of the file."""
    answers.channel = answers.channel or ask_key(ask, say, raw, "channels", "Channel")
    answers.category = answers.category or ask_key(ask, say, raw, "categories", "Category")
    answers.departments = answers.departments or ask_keys(ask, say, raw, "departments", "Departments")
    first_priority = next(iter(raw.get("priorities") or {"": 0}))
    answers.priority = answers.priority or ask_key(ask, say, raw, "priorities", "Priority", default=first_priority)
    if answers.handler is None:
        answers.handler = ask_key(ask, say, raw, "handlers", "Handler", optional=True)
    if answers.received is None:

        def received_check(typed: str) -> dt.date:
            day = parse_date(typed, "date received")
            if day > today:
                raise UsageMistake(f"date received: {day.isoformat()} is after today ({today.isoformat()})")
            return day

        answers.received = ask_until(ask, say, "Date received (YYYY-MM-DD)", received_check, today.isoformat())
    if answers.anonymous is None:
        answers.anonymous = ask_until(ask, say, "Anonymous complaint? [y/N]", lambda t: yes_no(t, False))
    if answers.summary is None:
        answers.summary = ask_until(ask, say, "Summary (internal, no personal data; empty to skip)", lambda t: check_text(t, "summary"))
    if not answers.anonymous and ask_contact:
        typed_contact = ask("Contact details (hidden, encrypted before saving; empty for none)", "", True)
        answers.contact = typed_contact.encode("utf-8") or None
    if ask_for_suggestions:
        answers.suggestions = tuple(s.to_mapping() for s in ask_suggestions(ask, say))


def ask_event_fields(ask: Ask, say: Say, raw: Mapping[str, Any], command: str, kind: str, given: Mapping[str, Any], today: dt.date,
                     date: dt.date | None, *, everything: bool, held: str | None) -> tuple[dict[str, Any], dt.date | None]:  # fmt: skip
    """Ask for the fields of ``kind`` not given as options, each checked as it is typed: the
    required ones, or (``everything``) the date and the optional ones too. ``held``: the
    department holding the case, offered as a transfer's `from`."""
    required, optional = events.EVENTS[kind].required, events.EVENTS[kind].optional

    def date_check(typed: str) -> dt.date:
        day = parse_date(typed, "date")
        if day > today:
            raise UsageMistake(f"date: {day.isoformat()} is after today ({today.isoformat()})")
        return day

    if date is None and everything:
        date = ask_until(ask, say, "Date (YYYY-MM-DD)", date_check, today.isoformat())
    out = dict(given)
    # The note last, as in the file: it is about the event as a whole.
    for name in (*required, *sorted(optional, key=lambda n: n == "note")):
        if out.get(name) not in (None, (), ""):
            continue
        is_optional = name not in required
        if is_optional and not everything:
            continue
        vocabulary = events.field_vocabulary(kind, name)
        title = name.capitalize()
        if vocabulary is not None and events.many(name):
            out[name] = ask_keys(ask, say, raw, vocabulary, title, optional=is_optional)
        elif vocabulary is not None:
            # A transfer starts from the department holding the case: offered as the default.
            default = (held or "") if name == "from" else ""
            out[name] = ask_key(ask, say, raw, vocabulary, title, default=default, optional=is_optional)
        elif (bounds := events.field_bounds(name)) is not None:

            def number_check(typed: str, name: str = name, is_optional: bool = is_optional, bounds: tuple[int, int] = bounds) -> int | None:
                if is_optional and not typed.strip():
                    return None
                if not typed.strip().isdigit() or not bounds[0] <= int(typed) <= bounds[1]:
                    raise UsageMistake(f"{name}: a whole number from {bounds[0]} to {bounds[1]}")
                return int(typed)

            out[name] = ask_until(ask, say, title, number_check)
        else:

            def text_check(typed: str, name: str = name, is_optional: bool = is_optional) -> str | None:
                text = check_text(typed, name)
                if text is None and not is_optional:
                    raise UsageMistake(f"{name}: needed for '{command}'")
                return text

            out[name] = ask_until(ask, say, f"{title} (internal, no personal data" + ("; empty to skip)" if is_optional else ")"), text_check)
    return out, date
