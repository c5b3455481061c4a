"""The policy typed once: its sections as rules and settings, one label lookup, an optional
section that is unusable failing only the command that needs it; the deadline report formats
registered in one shape."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest

from complaints.adapters.config import load_calendar, load_policy
from complaints.core.limits import CALENDAR_DAYS, WORKING_DAYS
from complaints.core.policy import HANDLERS, STAGES, Policy
from complaints.errors import ConfigError
from complaints.render.overdue import CASE_FORMATS, OVERDUE_FORMATS

from conftest import TEMPLATE


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(TEMPLATE)


def test_time_limits_are_typed_from_the_section(policy: Policy) -> None:
    section = policy.raw["time_limits"]
    limits = policy.time_limits
    assert [rule.key for rule in limits.stages] == list(section["stages"])
    for rule in limits.stages:
        entry = section["stages"][rule.key]
        assert (rule.limit, rule.unit) == (entry["limit"], entry["unit"])
        assert rule.unit in (WORKING_DAYS, CALENDAR_DAYS)
        assert (rule.extension is not None) == bool(entry.get("extension"))
    assert policy.stages == {rule.key for rule in limits.stages}
    assert limits.provisional_years == (section.get("unconfirmed_years") != "error")


def test_one_label_lookup(policy: Policy) -> None:
    assert policy.label("departments", "permits", "en") == policy.raw["departments"]["permits"]["en"]
    assert policy.label(HANDLERS, "h-chen", "zh") == policy.raw["handlers"]["h-chen"]["name"]["zh"]
    assert policy.label(STAGES, "resolve", "en") == policy.raw["time_limits"]["stages"]["resolve"]["label"]["en"]
    assert policy.label("departments", "permits", "fr") == policy.raw["departments"]["permits"]["zh"]
    assert policy.label("departments", "nope") == "nope"
    assert policy.label(HANDLERS, None) == "-"


def test_handlers_are_typed(policy: Policy) -> None:
    for key, entry in policy.raw["handlers"].items():
        person = policy.people[key]
        assert person.departments == tuple(entry["departments"]) and person.github == entry.get("github")
        assert (key in policy.approvers) == (person.approver or key == policy.committee.chair)
    assert policy.committee.members == tuple(policy.raw["committee"]["members"])


def test_replacing_the_mapping_types_it_again(policy: Policy) -> None:
    raw = copy.deepcopy(dict(policy.raw))
    raw["time_limits"]["roll_forward"] = False
    assert policy.time_limits.roll_forward and not dataclasses.replace(policy, raw=raw).time_limits.roll_forward


def test_an_unusable_optional_section_fails_only_when_used(policy: Policy) -> None:
    raw = {k: v for k, v in policy.raw.items() if k != "receipt"}
    raw["publication"] = {"threshold": 5, "min_base": 3}
    typed = Policy(raw)
    assert typed.time_limits == policy.time_limits
    with pytest.raises(ConfigError, match=r"\$\.receipt: missing"):
        typed.receipt
    with pytest.raises(ConfigError, match=r"\$\.publication\.min_base"):
        typed.publication
    assert policy.receipt.iterations >= 100_000 and policy.publication.threshold >= 2


def test_the_calendar_loads_with_its_overrides() -> None:
    calendar = load_calendar(TEMPLATE)
    assert calendar.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)


def test_report_formats_share_one_shape() -> None:
    assert set(OVERDUE_FORMATS) == {"text", "json", "csv"} and set(CASE_FORMATS) == {"text", "json"}
    assert all(callable(render) for render in (*OVERDUE_FORMATS.values(), *CASE_FORMATS.values()))
