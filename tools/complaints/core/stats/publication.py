"""The policy's `publication` section as the statistics read it: the small-count threshold,
the minimum base, when the statistics are next regenerated and the backlog's age buckets."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

from complaints.errors import ConfigError

DEFAULT_THRESHOLD = 5
DEFAULT_MIN_BASE = 10
METHOD = "threshold-suppression-with-headline-base"
DEFAULT_SATISFIED = ("satisfied", "basically_satisfied")
DEFAULT_BUCKETS = (5, 10, 20)


@dataclass(frozen=True)
class PublicationSettings:
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

