"""GitHub intake: the staff issue form and the pull-request template are generated from the
policy (`complaints forms`): the form offers exactly the policy's choices and asks for no
personal data; the template carries the reviewer's checklist; a stale form is caught."""
from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from complaints.cli import cli
from complaints.commands.forms import ISSUE_FORM, PULL_REQUEST_TEMPLATE, generated_forms, issue_form, pull_request_template
from complaints.adapters.config import load_policy

from conftest import ROOT
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"


def test_issue_form_choices_are_the_policy_keys() -> None:
    policy = load_policy(TEMPLATE)
    form = yaml.safe_load(issue_form(policy))
    fields = {item["id"]: item for item in form["body"] if "id" in item}
    for field, vocabulary in (("channel", "channels"), ("category", "categories"), ("departments", "departments"), ("priority", "priorities")):
        assert fields[field]["attributes"]["options"] == list(policy.raw[vocabulary])
        # The labels people know, next to the keys the case files use.
        first = next(iter(policy.raw[vocabulary]))
        assert policy.label(vocabulary, first) in fields[field]["attributes"]["description"]


def test_issue_form_has_no_personal_data_field() -> None:
    form = yaml.safe_load(issue_form(load_policy(TEMPLATE)))
    labels = " ".join(item.get("attributes", {}).get("label", "") for item in form["body"]).lower()
    for word in ("name", "phone", "e-mail", "email", "address", "contact", "id number"):
        assert word not in labels
    assert "--contact-stdin" in form["body"][0]["attributes"]["value"]


def test_pull_request_template_has_the_checklist() -> None:
    text = pull_request_template(load_policy(TEMPLATE))
    for needle in ("No personal data in plaintext", "complaints deadlines", "complaints validate", "- [ ]", "XN-2026"):
        assert needle in text


def test_forms_follow_a_changed_policy_and_check_catches_stale_ones(make_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo()
    policy = repo / "policy.yml"
    policy.write_text(
        policy.read_text(encoding="utf-8")
        .replace("  inspection: {zh: 效能督查科, en: Efficiency Inspection}", "  inspection: {zh: 效能督查科, en: Efficiency Inspection}\n  transport: {zh: 交通科, en: Transport}")
        .replace("id_prefix: XN", "id_prefix: QA"),
        encoding="utf-8",
    )
    runner = CliRunner()
    stale = runner.invoke(cli, ["forms", "--check", "--repo", str(repo)])
    assert stale.exit_code == 1 and ISSUE_FORM in stale.stderr and PULL_REQUEST_TEMPLATE in stale.stderr
    written = runner.invoke(cli, ["forms", "--repo", str(repo)])
    assert written.exit_code == 0 and ISSUE_FORM in written.stdout
    form = yaml.safe_load((repo / ISSUE_FORM).read_text(encoding="utf-8"))
    departments = next(i for i in form["body"] if i.get("id") == "departments")
    assert "transport" in departments["attributes"]["options"]
    assert "QA-20260305" in (repo / PULL_REQUEST_TEMPLATE).read_text(encoding="utf-8")
    assert runner.invoke(cli, ["forms", "--check", "--repo", str(repo)]).exit_code == 0


def test_the_repository_forms_are_generated_from_its_policy() -> None:
    # The one test that reads the live policy and forms: after an adoption it passes once
    # `complaints forms` has been run, as the README's adoption steps say.
    policy = load_policy(ROOT)
    for rel, text in generated_forms(policy).items():
        assert (ROOT / rel).read_text(encoding="utf-8") == text, f"{rel} is stale: run `complaints forms`"
