"""The policy's vocabularies as people type them: a key (`permits`) or its label in either
language (`审批服务科`, `Permits and Approvals`) names the same thing, lists may be separated
by `,`, `，` or `、`, and every refusal lists the valid choices with their labels.

Used by `complaints new`, `complaints event` and `complaints list` before anything is read or
written, so an unknown word is a usage error (exit 2) in every command alike. The one label
lookup every report and page shares is here too (:func:`label`, :meth:`Term.name`); the typed
policy builds its vocabularies with :func:`terms` once, when it is loaded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from complaints.errors import UsageMistake

LIST_SEPARATORS = re.compile(r"[,，、;；]")
# What a report shows for no key (no department or handler yet).
NONE_LABEL = "-"


class VocabularyError(UsageMistake):
    """A word that is not in the policy's vocabulary; the message lists the choices."""


@dataclass(frozen=True)
class Term:
    key: str
    names: Mapping[str, str]  # language -> label, as the policy gives it

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels, zh first, then en."""
        return tuple(self.names[lang] for lang in ("zh", "en") if lang in self.names)

    @property
    def label(self) -> str:
        return self.labels[0] if self.labels else self.key

    def name(self, lang: str = "zh") -> str:
        """The label in ``lang``; the Chinese one when the policy gives none in ``lang``, the
        key itself when it gives no label at all. Every report and page asks this."""
        return self.names.get(lang) or self.names.get("zh") or self.key

    def shown(self) -> str:
        """``key (label)``, as prompts and refusals show a choice."""
        return f"{self.key} ({self.label})" if self.labels else self.key


def _names(entry: Any) -> dict[str, str]:
    if isinstance(entry, Mapping):
        for nested in ("name", "label"):
            if isinstance(entry.get(nested), Mapping):
                entry = entry[nested]
                break
        return {lang: str(entry[lang]) for lang in ("zh", "en") if isinstance(entry.get(lang), str)}
    return {}


def terms(raw: Mapping[str, Any], vocabulary: str) -> tuple[Term, ...]:
    """The keys of one vocabulary of the policy (``departments``, ``handlers``,
    ``time_limits.stages``...) with their labels, in the policy's order."""
    node: Any = raw
    for part in vocabulary.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping):
        return ()
    return tuple(Term(str(key), _names(entry)) for key, entry in node.items())


def label(choices: Mapping[str, Term], key: str | None, lang: str = "zh") -> str:
    """The one label lookup: the label of ``key`` in ``lang`` (see :meth:`Term.name`), the key
    itself when the vocabulary does not list it, ``-`` for no key at all."""
    if key is None:
        return NONE_LABEL
    term = choices.get(key)
    return term.name(lang) if term is not None else key


def choices_text(choices: tuple[Term, ...]) -> str:
    return ", ".join(t.shown() for t in choices)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def resolve(raw: Mapping[str, Any], vocabulary: str, typed: str, what: str) -> str:
    """The key ``typed`` names in ``vocabulary``: the key itself, or a label in either
    language (case and spacing ignored). ``what`` names the option or prompt in the refusal."""
    choices = terms(raw, vocabulary)
    folded = _fold(typed)
    for term in choices:
        if folded == term.key.casefold():
            return term.key
    for term in choices:
        if any(folded == _fold(label) for label in term.labels):
            return term.key
    # Never echo what was typed: a free-text answer in the wrong place may hold personal data.
    raise VocabularyError(f"{what}: not a key of the policy's {vocabulary}; choose one of: {choices_text(choices)}")


def split_list(typed: str) -> list[str]:
    """The items of a typed list: separated by `,`, `，`, `、` or `;`, blanks dropped."""
    return [part.strip() for part in LIST_SEPARATORS.split(typed) if part.strip()]


def resolve_list(raw: Mapping[str, Any], vocabulary: str, typed: list[str] | tuple[str, ...], what: str) -> tuple[str, ...]:
    """Every key named by ``typed`` (each item may itself be a separated list), duplicates
    dropped, order kept."""
    out: list[str] = []
    for item in typed:
        for part in split_list(item):
            key = resolve(raw, vocabulary, part, what)
            if key not in out:
                out.append(key)
    return tuple(out)


STATE_LABELS: dict[str, str] = {
    "received": "已登记", "acknowledged": "已告知", "accepted": "已受理", "not_accepted": "不予受理",
    "paused": "中止", "resolved": "已办结", "under_review": "复核中", "closed": "已归档",
}  # fmt: skip

