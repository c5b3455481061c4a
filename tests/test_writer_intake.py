"""GitHub intake: the issue form offers exactly the policy's choices and asks for no personal
data; the pull-request template carries the reviewer's checklist."""
from __future__ import annotations

from pathlib import Path

import yaml

from complaints.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
FORM = ROOT / ".github" / "ISSUE_TEMPLATE" / "complaint.yml"


def test_issue_form_choices_are_the_policy_keys() -> None:
    policy = load_policy(TEMPLATE).raw
    form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    for field, vocabulary in (("channel", "channels"), ("category", "categories"), ("departments", "departments"), ("priority", "priorities")):
        assert fields[field]["attributes"]["options"] == list(policy[vocabulary]), f"update {FORM.name}: {field} != policy {vocabulary}"


def test_issue_form_has_no_personal_data_field() -> None:
    form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
    labels = " ".join(item.get("attributes", {}).get("label", "") for item in form["body"]).lower()
    for word in ("name", "phone", "e-mail", "email", "address", "contact", "id number"):
        assert word not in labels
    assert "--contact-stdin" in form["body"][0]["attributes"]["value"]


def test_pull_request_template_has_the_checklist() -> None:
    text = (ROOT / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    for needle in ("No personal data in plaintext", "complaints deadlines", "complaints validate", "- [ ]"):
        assert needle in text
