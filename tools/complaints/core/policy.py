"""The policy (policy.yml) as typed sections: the organisation's vocabularies, people, time
limits, receipt and publication settings — the one source of truth for the validator, the
deadline engine, the statistics and the site.

A :class:`Policy` is built once, from the mapping that ``adapters/config.py`` read and checked
against the schema; every consumer reads its typed sections, never the section as written.
"""
from __future__ import annotations

import datetime as dt
import re
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


# ---- notify --------------------------------------------------------------------------------

_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]{0,200}")


@dataclass(frozen=True)
class NotifySettings:
    """policy.yml `notify`: which stages get an issue, the labels `complaints notify` manages,
    the branch case files are linked on and who gets an issue no handler holds."""

    due_soon_issues: bool = False
    overdue_label: str = "overdue"
    due_soon_label: str = "due-soon"
    stage_prefix: str = "stage:"
    department_prefix: str = "dept:"
    branch: str = "main"
    unassigned_label: str = "unassigned"
    calendar_label: str = "calendar"
    default_assignee: str | None = None  # a handler key; the committee chair when not given

    @classmethod
    def from_policy(cls, raw: Mapping[str, Any]) -> NotifySettings:
        section = raw.get("notify") or {}
        if not isinstance(section, Mapping):
            raise ConfigError("policy.yml::$.notify: must be a mapping")
        due_soon = section.get("due_soon_issues", False)
        if not isinstance(due_soon, bool):
            raise ConfigError("policy.yml::$.notify.due_soon_issues: must be true or false")
        labels = section.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise ConfigError("policy.yml::$.notify.labels: must be a mapping")
        values: dict[str, str] = {}
        for key, default in (
            ("overdue", cls.overdue_label),
            ("due_soon", cls.due_soon_label),
            ("stage_prefix", cls.stage_prefix),
            ("department_prefix", cls.department_prefix),
            ("unassigned", cls.unassigned_label),
            ("calendar", cls.calendar_label),
        ):
            value = labels.get(key, default)
            if not isinstance(value, str) or not value.strip() or len(value) > 30 or "," in value:
                raise ConfigError(f"policy.yml::$.notify.labels.{key}: must be a short text without commas")
            values[key] = value
        branch = section.get("branch", cls.branch)
        if not isinstance(branch, str) or not _BRANCH.fullmatch(branch):
            raise ConfigError("policy.yml::$.notify.branch: must be a branch name")
        assignee = section.get("default_assignee")
        return cls(
            due_soon, values["overdue"], values["due_soon"], values["stage_prefix"], values["department_prefix"], branch,
            values["unassigned"], values["calendar"], str(assignee) if assignee else None,
        )

    def is_managed(self, label: str) -> bool:
        return (
            label in (self.overdue_label, self.due_soon_label, self.unassigned_label)
            or label.startswith(self.stage_prefix)
            or label.startswith(self.department_prefix)
        )


def _settings_or_error(parse: Callable[[Mapping[str, Any]], T], raw: Mapping[str, Any]) -> T | ConfigError:
    # An optional section that is missing or unusable fails the command that needs it (a
    # receipt check, the statistics), not every command that loads the policy.
    try:
        return parse(raw)
    except ConfigError as exc:
        return exc


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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
    sections no command types yet (online_intake)."""

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
    _notify: NotifySettings | ConfigError = field(init=False, repr=False, compare=False)
    repository_url: str | None = field(init=False)  # organisation.repository_url, as written
    site_url: str | None = field(init=False)  # organisation.site_url, as written

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
            "_notify": _settings_or_error(NotifySettings.from_policy, raw),
            "repository_url": _text(org.get("repository_url")),
            "site_url": _text(org.get("site_url")),
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

    @property
    def notify(self) -> NotifySettings:
        """The notify settings; ConfigError when the section is unusable."""
        if isinstance(self._notify, ConfigError):
            raise ConfigError(str(self._notify))
        return self._notify

    def label(self, vocabulary: str, key: str | None, lang: str = "zh") -> str:
        """The human label of a key of ``vocabulary`` (a VOCABULARIES entry, HANDLERS or
        STAGES): the key itself when unknown, ``-`` for no key (see vocabulary.label)."""
        return label(self.vocabularies.get(vocabulary, {}), key, lang)
