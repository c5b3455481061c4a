"""The `time_limits` section of the policy: the shipped one loads and every default names its
source; the policy schema rejects a malformed stage."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from complaints.core.limits import TimeLimits
from complaints.core.policy import Policy
from complaints.errors import ConfigError
from complaints.adapters.config import load_policy

# The template repository as shipped, frozen for the tests (never the live policy or cases).
from conftest import TEMPLATE as PROJECT


def time_limits(policy: Policy) -> TimeLimits:
    return policy.time_limits


def test_shipped_time_limits_load_with_sources() -> None:
    policy = load_policy(PROJECT)
    limits = time_limits(policy)
    assert limits.roll_forward is True and limits.warn_days >= 0
    for stage in policy.raw["time_limits"]["stages"].values():
        # Every default says where it comes from, in both languages of the site.
        assert stage["source"]["zh"].strip() and stage["source"]["en"].strip()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("      unit: working_days\n", "      unit: hours\n", "$.time_limits.stages.acknowledge.unit"),
        ("      limit: 5\n", "      limit: 0\n", "$.time_limits.stages.acknowledge.limit"),
        (
            "extension: {max_count: 1, max_days: 30, approver_required: true}",
            "extension: {max_count: 1, approver_required: true}",
            "$.time_limits.stages.resolve.extension",
        ),
        ("  roll_forward: true\n", "  roll_forward: sometimes\n", "$.time_limits.roll_forward"),
    ],
)
def test_policy_schema_rejects_a_bad_stage(tmp_path: Path, old: str, new: str, field: str) -> None:
    shutil.copytree(PROJECT / "schema", tmp_path / "schema")
    text = (PROJECT / "policy.yml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "policy.yml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(tmp_path)
    assert field in str(info.value)
