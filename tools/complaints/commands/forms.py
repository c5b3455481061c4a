"""The GitHub forms of the case repository, generated from policy.yml: the staff issue form
that logs an arriving complaint (.github/ISSUE_TEMPLATE/complaint.yml) and the pull-request
template with the reviewer's checklist (.github/PULL_REQUEST_TEMPLATE.md). Their choices are
the policy's keys, so a form never offers a channel, category or department the validator
rejects. `complaints forms` writes them; `complaints forms --check` says which are stale.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from complaints.adapters import atomic
from complaints.errors import ComplaintsError
from complaints.core.policy import Policy

ISSUE_FORM = ".github/ISSUE_TEMPLATE/complaint.yml"
PULL_REQUEST_TEMPLATE = ".github/PULL_REQUEST_TEMPLATE.md"


def _keys(policy: Policy, vocabulary: str) -> str:
    # JSON is YAML: a flow list of quoted keys, whatever characters a key may hold.
    return json.dumps(list(policy.raw.get(vocabulary) or {}), ensure_ascii=False)


def _legend(policy: Policy, vocabulary: str) -> str:
    entries = [f"{key} = {policy.label(vocabulary, key)}" for key in policy.raw.get(vocabulary) or {}]
    return json.dumps("; ".join(entries), ensure_ascii=False)


def issue_form(policy: Policy) -> str:
    """The staff issue form: no field for personal data; the choices are the policy's keys."""
    return ISSUE_FORM_TEMPLATE.format(
        generated=GENERATED_YAML,
        channels=_keys(policy, "channels"),
        channels_legend=_legend(policy, "channels"),
        categories=_keys(policy, "categories"),
        categories_legend=_legend(policy, "categories"),
        departments=_keys(policy, "departments"),
        departments_legend=_legend(policy, "departments"),
        priorities=_keys(policy, "priorities"),
        priorities_legend=_legend(policy, "priorities"),
    )


def pull_request_template(policy: Policy) -> str:
    """The pull-request template: what changes (with the policy's own id prefix) and the
    reviewer's checklist."""
    departments = ", ".join(f"`{k}`" for k in policy.raw.get("departments") or {})
    return PULL_REQUEST_TEMPLATE_TEXT.format(
        generated=GENERATED_MARKDOWN, prefix=policy.id_prefix, departments=departments
    )


@dataclass(frozen=True)
class FormsResult:
    written: tuple[str, ...]  # files rewritten (relative paths)
    stale: tuple[str, ...]  # files that differ from what the policy gives (with check=True: left as they are)


def generated_forms(policy: Policy) -> dict[str, str]:
    return {ISSUE_FORM: issue_form(policy), PULL_REQUEST_TEMPLATE: pull_request_template(policy)}


def write_forms(root: Path, policy: Policy, *, check: bool = False) -> FormsResult:
    """Bring the forms under ``root`` in line with ``policy``; with ``check``, only report
    which differ."""
    written: list[str] = []
    stale: list[str] = []
    for rel, text in generated_forms(policy).items():
        path = root / rel
        try:
            current = path.read_text(encoding="utf-8") if path.exists() else None
        except (OSError, UnicodeDecodeError) as exc:
            raise ComplaintsError(f"{rel}: cannot be read ({type(exc).__name__})") from None
        if current == text:
            continue
        stale.append(rel)
        if check:
            continue
        try:
            atomic.write(path, text.encode("utf-8"))
        except OSError as exc:
            raise ComplaintsError(f"{rel}: cannot be written ({exc.strerror})") from None
        written.append(rel)
    return FormsResult(tuple(written), tuple(stale))


GENERATED_YAML = "# GENERATED from policy.yml by `complaints forms`: edit the policy (or tools/complaints/commands/forms.py), then rerun it."
GENERATED_MARKDOWN = "<!-- GENERATED from policy.yml by `complaints forms`: edit the policy (or tools/complaints/commands/forms.py), then rerun it. -->"

# The texts, with {placeholders} for the policy's values ({{ and }} are literal braces).
ISSUE_FORM_TEMPLATE = """{generated}
# For staff, in the PRIVATE case repository only: log that a complaint arrived so that someone
# records it with `complaints new`. Issues are read more widely than case files and are kept
# forever, so this form has no field for the complainant's identity or contact details.
name: Log a complaint (staff only)
description: A complaint arrived and needs to be recorded as a case. No personal data here.
title: "New complaint: <channel>, received <YYYY-MM-DD>"
labels: ["intake"]
body:
  - type: markdown
    attributes:
      value: |
        **Use this form only in the private case repository.** Do not enter the complainant's
        name, phone number, e-mail, address, ID number or anything else that identifies them —
        not in any field, not in a comment. Contact details go only into the encrypted case file:

        ```sh
        complaints new --channel … --category … --department … --priority … --named --contact-stdin
        ```

        then type or paste the contact details and press Ctrl-D. `complaints new` prints the
        receipt code once: give it to the complainant and do not write it here.
  - type: dropdown
    id: channel
    attributes:
      label: Channel
      description: {channels_legend}
      options: {channels}
    validations:
      required: true
  - type: input
    id: received
    attributes:
      label: Date received
      placeholder: YYYY-MM-DD
    validations:
      required: true
  - type: dropdown
    id: category
    attributes:
      label: Category
      description: {categories_legend}
      options: {categories}
    validations:
      required: true
  - type: dropdown
    id: departments
    attributes:
      label: Departments complained about
      description: {departments_legend}
      multiple: true
      options: {departments}
    validations:
      required: true
  - type: dropdown
    id: priority
    attributes:
      label: Priority
      description: {priorities_legend}
      options: {priorities}
    validations:
      required: true
  - type: dropdown
    id: anonymous
    attributes:
      label: Anonymous?
      options: ["No: the complainant gave contact details (record them only with --contact-stdin)", "Yes: anonymous"]
    validations:
      required: true
  - type: textarea
    id: where
    attributes:
      label: Where the original is kept
      description: E.g. "letter in the locked cabinet, inspection office". Not its content.
  - type: checkboxes
    id: confirm
    attributes:
      label: Before submitting
      options:
        - label: This issue contains no name, contact details or other personal data of the complainant.
          required: true
"""

PULL_REQUEST_TEMPLATE_TEXT = """{generated}
<!--
Case changes only: one complaint per pull request where possible. Describe the change with ids,
event kinds and dates. NEVER paste a name, phone number, address, ID number or the complaint's
wording here: pull requests, their titles and CI logs are read by more people than the case files.
-->

## What changes

- Case(s): <!-- e.g. {prefix}-20260305-7K3QH -->
- Events recorded: <!-- e.g. accepted 2026-03-09; assigned to a department: {departments} -->

## Reviewer's checklist

- [ ] **No personal data in plaintext.** Contact details exist only as the age ciphertext in
      `complainant.contact` (written by `complaints new --contact-stdin` / `--contact-file`);
      summaries, reasons and notes name no one and carry no phone, ID, e-mail or address.
- [ ] **No private key** (`AGE-SECRET-KEY-1…`) and no decrypted file (from `complaints reveal --out`) is in the diff.
- [ ] **Deadlines checked** with `complaints deadlines CASE_ID`: every open stage's due date is right,
      and an extension names its approver and stays within the policy's limit.
- [ ] **`complaints validate` passes** (CI runs it too); ids are unique and each file sits at `cases/YYYY/ID.yml`.
- [ ] Events were added with `complaints event`, so only new lines appear in the diff
      (comments and layout of the file unchanged).
- [ ] The receipt code was handed to the complainant and is **not** written anywhere in this pull request.
- [ ] If `recipients.txt` changed: `complaints rekey` was run and every case's ciphertext changed with it.
"""
