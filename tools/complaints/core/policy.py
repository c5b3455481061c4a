"""The policy file (policy.yml): the organisation's vocabularies, people, time limits and
publication settings — the one source of truth for the validator, the deadline engine, the
statistics and the site."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from complaints.errors import ConfigError
from complaints.core.events import EVENT_KINDS
from complaints.adapters.schemas import format_path, load_schema
from complaints.adapters.yamlload import YamlError, compose_yaml, load_yaml, locate

POLICY_FILE = "policy.yml"

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


@dataclass(frozen=True)
class Policy:
    """A validated policy. ``raw`` is the mapping as written; the sets are for quick checks."""

    raw: dict[str, Any]
    path: Path
    timezone: str
    id_prefix: str
    vocab: dict[str, frozenset[str]] = field(default_factory=dict)
    handlers: frozenset[str] = frozenset()
    approvers: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def label(self, vocabulary: str, key: str, lang: str = "zh") -> str:
        """The human label of a vocabulary key, or the key itself when unknown."""
        entry = self.raw.get(vocabulary, {}).get(key)
        if isinstance(entry, dict):
            if "name" in entry and isinstance(entry["name"], dict):
                entry = entry["name"]
            text = entry.get(lang) or entry.get("zh")
            if isinstance(text, str):
                return text
        return key

    def stage_label(self, stage: str, lang: str = "zh") -> str:
        entry = self.raw.get("time_limits", {}).get("stages", {}).get(stage, {})
        label = entry.get("label", {}) if isinstance(entry, dict) else {}
        text = label.get(lang) if isinstance(label, dict) else None
        return text if isinstance(text, str) else stage


def load_policy(root: Path) -> Policy:
    """Read and check ROOT/policy.yml. Raises ConfigError listing every problem found."""
    path = root / POLICY_FILE
    try:
        data = path.read_bytes()
    except OSError:
        raise ConfigError(f"{path}: policy file not found (every case repository needs one)") from None
    try:
        raw = load_yaml(data, str(path))
    except YamlError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise ConfigError(f"{path}{where}: {exc.message}") from None
    schema = load_schema(root, "policy")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the policy must be a mapping")
    problems = [(p.path, p.message) for p in schema.problems(raw)] if not schema.is_valid(raw) else []
    if not problems:
        problems = _cross_references(raw)
    if problems:
        node = compose_yaml(data)
        lines = []
        for p_path, message in problems:
            pos = locate(node, p_path)
            where = f":{pos.line}:{pos.column}" if pos else ""
            lines.append(f"{path}{where}: {format_path(p_path)}: {message}")
        raise ConfigError("the policy file has problems:\n" + "\n".join(lines))
    org = raw["organisation"]
    try:
        ZoneInfo(org["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        pos = locate(compose_yaml(data), ("organisation", "timezone"))
        where = f":{pos.line}:{pos.column}" if pos else ""
        raise ConfigError(f"{path}{where}: $.organisation.timezone: unknown time zone {org['timezone']!r}") from None
    handlers = raw["handlers"]
    return Policy(
        raw=raw,
        path=path,
        timezone=org["timezone"],
        id_prefix=org["id_prefix"],
        vocab={name: frozenset(raw[name]) for name in VOCABULARIES},
        handlers=frozenset(handlers),
        approvers=frozenset(k for k, v in handlers.items() if v.get("approver")) | {raw["committee"]["chair"]},
        stages=frozenset(raw.get("time_limits", {}).get("stages", {})),
    )


def _cross_references(raw: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    departments = set(raw["departments"])
    handlers = set(raw["handlers"])
    for hid, handler in raw["handlers"].items():
        for i, dept in enumerate(handler["departments"]):
            if dept not in departments:
                problems.append((("handlers", hid, "departments", i), f"unknown department {dept!r} (not in departments)"))
    committee = raw["committee"]
    if committee["chair"] not in handlers:
        problems.append((("committee", "chair"), f"unknown handler {committee['chair']!r}"))
    for i, member in enumerate(committee["members"]):
        if member not in handlers:
            problems.append((("committee", "members", i), f"unknown handler {member!r}"))
    channels = set(raw["channels"])
    for channel in raw.get("channel_contacts") or {}:
        if channel not in channels:
            problems.append((("channel_contacts", channel), f"unknown channel {channel!r} (not in channels)"))
    notify = raw.get("notify")
    default = notify.get("default_assignee") if isinstance(notify, dict) else None
    if isinstance(default, str) and default not in handlers:
        problems.append((("notify", "default_assignee"), f"unknown handler {default!r}"))
    stages = raw.get("time_limits", {}).get("stages", {})
    if isinstance(stages, dict):
        for name, stage in stages.items():
            if not isinstance(stage, dict):
                continue
            for key in ("starts",):
                if key in stage and stage[key] not in EVENT_KINDS:
                    problems.append((("time_limits", "stages", name, key), f"unknown event kind {stage[key]!r}"))
            for i, kind in enumerate(stage.get("stops", []) if isinstance(stage.get("stops"), list) else []):
                if kind not in EVENT_KINDS:
                    problems.append((("time_limits", "stages", name, "stops", i), f"unknown event kind {kind!r}"))
    return problems
