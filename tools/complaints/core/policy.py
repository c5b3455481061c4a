"""The policy (policy.yml) as typed sections: the organisation's vocabularies, people, time
limits, receipt and publication settings — the one source of truth for the validator, the
deadline engine, the statistics and the site.

A :class:`Policy` is built once, from the mapping that ``adapters/config.py`` read and checked
against the schema; every consumer reads its typed sections, never the section as written.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from complaints.errors import ConfigError
from complaints.core.limits import TimeLimits, parse_time_limits
from complaints.core.vocabulary import Term, label, terms

POLICY_FILE = "policy.yml"
T = TypeVar("T")

VOCABULARIES = (
    "channels",
    "categories",
    "departments",
    "priorities",
    "not_accepted_reasons",
    "outcomes",
    "measures",
    "satisfaction",
    "review_outcomes",
)
# The vocabularies a label is looked up in, beyond VOCABULARIES: the people and the stages.
HANDLERS = "handlers"
STAGES = "time_limits.stages"

# ---- receipt ---------------------------------------------------------------------------------

MIN_ITERATIONS = 100_000  # below this a policy's work factor is a mistake, not a choice


@dataclass(frozen=True)
class ReceiptSettings:
    """policy.yml `receipt`: the site-wide salt (public by design) and the PBKDF2 work factor."""

    salt: str
    iterations: int

    @classmethod
    def from_policy(cls, raw: Mapping[str, Any]) -> ReceiptSettings:
        section = raw.get("receipt")
        if not isinstance(section, Mapping):
            raise ConfigError("policy.yml::$.receipt: missing; add `receipt: {salt: <random hex>, iterations: 600000}`")
        salt = section.get("salt")
        iterations = section.get("iterations")
        if not isinstance(salt, str) or len(salt) < 16:
            raise ConfigError("policy.yml::$.receipt.salt: must be text of at least 16 characters (e.g. 32 random hex digits)")
        if isinstance(iterations, bool) or not isinstance(iterations, int) or not MIN_ITERATIONS <= iterations <= 99_999_999:
            raise ConfigError(f"policy.yml::$.receipt.iterations: must be a whole number from {MIN_ITERATIONS} to 99999999")
        return cls(salt, iterations)


# ---- publication -------------------------------------------------------------------------------

DEFAULT_THRESHOLD = 5
DEFAULT_MIN_BASE = 10
METHOD = "threshold-suppression-with-headline-base"
DEFAULT_SATISFIED = ("satisfied", "basically_satisfied")
DEFAULT_BUCKETS = (5, 10, 20)


@dataclass(frozen=True)
class PublicationSettings:
    """policy.yml `publication`: the disclosure control of the published statistics."""

    threshold: int = DEFAULT_THRESHOLD
    min_base: int = DEFAULT_MIN_BASE
    method: str = METHOD
    update_every: str = "month"
    satisfied: tuple[str, ...] = DEFAULT_SATISFIED
    backlog_age_buckets: tuple[int, ...] = DEFAULT_BUCKETS
    allow: tuple[str, ...] = ()

    @classmethod
    def from_policy(cls, raw: Mapping[str, Any]) -> PublicationSettings:
        pub = raw.get("publication") or {}
        if not isinstance(pub, Mapping):
            raise ConfigError("policy.yml::$.publication: must be a mapping")
        threshold = pub.get("threshold", DEFAULT_THRESHOLD)
        if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
            raise ConfigError("policy.yml::$.publication.threshold: must be a positive integer")
        min_base = pub.get("min_base", DEFAULT_MIN_BASE)
        if not isinstance(min_base, int) or isinstance(min_base, bool) or min_base < threshold:
            raise ConfigError("policy.yml::$.publication.min_base: must be an integer no smaller than the threshold")
        method = pub.get("method", METHOD)
        if method != METHOD:
            raise ConfigError(f"policy.yml::$.publication.method: must be {METHOD}")
        update_every = pub.get("update_every", "month")
        if update_every not in ("month", "quarter"):
            raise ConfigError("policy.yml::$.publication.update_every: must be month or quarter")
        buckets = tuple(pub.get("backlog_age_buckets", DEFAULT_BUCKETS))
        if not buckets or list(buckets) != sorted(set(buckets)):
            raise ConfigError("policy.yml::$.publication.backlog_age_buckets: must be ascending and distinct")
        return cls(
            threshold=threshold,
            min_base=min_base,
            update_every=update_every,
            satisfied=tuple(pub.get("satisfied", DEFAULT_SATISFIED)),
            backlog_age_buckets=buckets,
            allow=tuple(pub.get("allow", ())),
        )

    def next_update(self, today: dt.date) -> dt.date:
        """The first day of the next month (or quarter): when the statistics are next regenerated."""
        step = 1 if self.update_every == "month" else 3 - (today.month - 1) % 3
        month = today.month - 1 + step
        return dt.date(today.year + month // 12, month % 12 + 1, 1)

    def bucket_keys(self) -> list[str]:
        keys = []
        low = 0
        for high in self.backlog_age_buckets:
            keys.append(f"{low}-{high}")
            low = high + 1
        keys.append(f"{low}+")
        return keys

    def bucket_of(self, age: int) -> str:
        keys = self.bucket_keys()
        for key, high in zip(keys, self.backlog_age_buckets):
            if age <= high:
                return key
        return keys[-1]


def _settings_or_error(parse: Callable[[Mapping[str, Any]], T], raw: Mapping[str, Any]) -> T | ConfigError:
    # An optional section that is missing or unusable fails the command that needs it (a
    # receipt check, the statistics), not every command that loads the policy.
    try:
        return parse(raw)
    except ConfigError as exc:
        return exc


# ---- the policy ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Handler:
    """One person of the policy's ``handlers`` (their label is in the ``handlers`` vocabulary)."""

    key: str
    departments: tuple[str, ...]
    github: str | None  # the GitHub login `notify` assigns issues to
    approver: bool  # may approve extensions


@dataclass(frozen=True)
class Committee:
    chair: str  # a handler key; the chair may always approve extensions
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    """A checked policy, typed when it is built (``dataclasses.replace(policy, raw=...)``
    types the new mapping again).

    ``raw`` is the mapping as written. Only what quotes the policy as written reads it: the
    site's policy pages (channel contacts, stage sources, wording), the generated forms, and
    sections no command types yet (notify, online_intake)."""

    raw: Mapping[str, Any]
    path: Path = Path(POLICY_FILE)
    timezone: str = field(init=False)
    id_prefix: str = field(init=False)
    vocab: Mapping[str, frozenset[str]] = field(init=False)
    handlers: frozenset[str] = field(init=False)
    people: Mapping[str, Handler] = field(init=False)  # the handlers, typed, in the policy's order
    committee: Committee = field(init=False)
    approvers: frozenset[str] = field(init=False)
    stages: frozenset[str] = field(init=False)
    time_limits: TimeLimits = field(init=False)
    # name (a VOCABULARIES entry, HANDLERS or STAGES) -> key -> term with its labels
    vocabularies: Mapping[str, Mapping[str, Term]] = field(init=False)
    _receipt: ReceiptSettings | ConfigError = field(init=False, repr=False, compare=False)
    _publication: PublicationSettings | ConfigError = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = self.raw
        org = raw["organisation"]
        people = {
            str(key): Handler(str(key), tuple(entry["departments"]), entry.get("github"), entry.get("approver") is True)
            for key, entry in raw["handlers"].items()
        }
        committee = Committee(raw["committee"]["chair"], tuple(raw["committee"]["members"]))
        limits = parse_time_limits(raw.get("time_limits"))
        typed: dict[str, Any] = {
            "timezone": org["timezone"],
            "id_prefix": org["id_prefix"],
            "vocab": {name: frozenset(raw[name]) for name in VOCABULARIES},
            "handlers": frozenset(people),
            "people": people,
            "committee": committee,
            "approvers": frozenset(k for k, h in people.items() if h.approver) | {committee.chair},
            "stages": frozenset(rule.key for rule in limits.stages),
            "time_limits": limits,
            "vocabularies": {
                name: {t.key: t for t in terms(raw, name)} for name in (*VOCABULARIES, HANDLERS, STAGES)
            },
            "_receipt": _settings_or_error(ReceiptSettings.from_policy, raw),
            "_publication": _settings_or_error(PublicationSettings.from_policy, raw),
        }
        for name, value in typed.items():
            object.__setattr__(self, name, value)

    @property
    def receipt(self) -> ReceiptSettings:
        """The receipt settings; ConfigError when the policy has none (or unusable ones)."""
        if isinstance(self._receipt, ConfigError):
            raise ConfigError(str(self._receipt))
        return self._receipt

    @property
    def publication(self) -> PublicationSettings:
        """The publication settings; ConfigError when the section is unusable."""
        if isinstance(self._publication, ConfigError):
            raise ConfigError(str(self._publication))
        return self._publication

    def label(self, vocabulary: str, key: str | None, lang: str = "zh") -> str:
        """The human label of a key of ``vocabulary`` (a VOCABULARIES entry, HANDLERS or
        STAGES): the key itself when unknown, ``-`` for no key (see vocabulary.label)."""
        return label(self.vocabularies.get(vocabulary, {}), key, lang)
