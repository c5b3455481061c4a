"""Online complaints: the form the site publishes and `complaints import`, which records what
it sends.

The complainant's browser (site/zh/assets/online-form.js) builds a submission document
(schema/submission.schema.json), encrypts it with age (X25519) to every key in
recipients.txt and hands the armoured ciphertext to the complainant to send; nothing readable
leaves the device. `import` opens it with a handler's private key, checks it against the
schema and the policy, shows it for review and records the case as `new` does: the contact
details re-encrypted to the current recipients, the receipt code's hash as the browser made
it. The receipt hash is unique to a submission (80 random bits behind it), so it also tells
whether a submission was imported before.

Every refusal names the input and what is wrong with it, never a value from inside it: the
complainant's text reaches the handler only through the review, with control characters
made visible so that a hostile submission cannot drive the terminal.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from complaints.adapters import crypto
from complaints.commands.new import NewCase, write_new_case

from complaints.core import receipt
from complaints.errors import ComplaintsError, ConfigError
from complaints.adapters.schemas import format_path, load_schema

if TYPE_CHECKING:
    from complaints.core.policy import Policy
    from complaints.adapters.repository import Repository

SUBMISSION_FORMAT = "complaints-submission"
SUBMISSION_VERSION = 1
SCHEMA_NAME = "submission"
SEND_OPTIONS: tuple[str, ...] = ("copy", "download", "email", "post")
DEFAULT_SEND: tuple[str, ...] = ("copy", "download")
# A submission is a few kilobytes; anything far larger is not one, and is not worth decrypting.
MAX_SUBMISSION_BYTES = 256 * 1024
AGE_MAGIC = b"age-encryption.org/v1\n"

# C0/C1 controls (but tab and newline), and the Unicode bidirectional overrides and isolates,
# which can make a terminal or a reader see text in another order than it is.
_UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class SubmissionError(ComplaintsError):
    """An online submission cannot be imported: not age, damaged, not for us, malformed, or
    imported before. Nothing is written."""


# ---------------------------------------------------------------------------------------------
# Policy


@dataclass(frozen=True)
class IntakeSettings:
    """policy.yml `online_intake`: the channel online cases are recorded under and how the form
    offers to send the ciphertext. Without the section the form offers copy and download."""

    channel: str
    send: tuple[str, ...]
    email: str | None = None
    endpoint: str | None = None

    @classmethod
    def from_policy(cls, policy: Policy) -> IntakeSettings:
        section = policy.raw.get("online_intake")
        channels = policy.vocab.get("channels", frozenset())
        if section is None:
            channel = "online_form" if "online_form" in channels else ""
            if not channel:
                raise ConfigError("policy.yml::$.online_intake: missing, and there is no online_form channel; add `online_intake: {channel: KEY, send: [copy, download]}`")
            return cls(channel, DEFAULT_SEND)
        if not isinstance(section, Mapping):
            raise ConfigError("policy.yml::$.online_intake: must be a mapping")
        chosen = section.get("channel")
        if not isinstance(chosen, str) or chosen not in channels:
            raise ConfigError("policy.yml::$.online_intake.channel: must be a key of channels")
        send = tuple(section.get("send") or ())
        if not send or any(option not in SEND_OPTIONS for option in send):
            raise ConfigError(f"policy.yml::$.online_intake.send: a list of {', '.join(SEND_OPTIONS)}")
        email = section.get("email")
        endpoint = section.get("endpoint")
        if "email" in send and not isinstance(email, str):
            raise ConfigError("policy.yml::$.online_intake.email: needed when send lists email")
        if "post" in send and not isinstance(endpoint, str):
            raise ConfigError("policy.yml::$.online_intake.endpoint: needed when send lists post")
        return cls(chosen, send, email if isinstance(email, str) else None, endpoint if isinstance(endpoint, str) else None)


# ---------------------------------------------------------------------------------------------
# The form on the site


def _script_json(value: Any) -> str:
    # Inside <script>, "</" could close the element early: escape every "<", ">" and "&".
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def form_config(policy: Policy, recipients: crypto.Recipients) -> dict[str, Any]:
    """What the form's script needs: the keys to encrypt to, the receipt hash settings, the
    channel and the send options. All of it is public."""
    settings = IntakeSettings.from_policy(policy)
    kdf = policy.receipt
    return {
        "format": SUBMISSION_FORMAT,
        "version": SUBMISSION_VERSION,
        "channel": settings.channel,
        "recipients": list(recipients.keys),
        "placeholder": recipients.placeholder,
        "receipt": {"salt": kdf.salt, "iterations": kdf.iterations},
        "send": list(settings.send),
        "email": settings.email if "email" in settings.send else None,
        "endpoint": settings.endpoint if "post" in settings.send else None,
    }


def _label(policy: Policy, vocabulary: str, key: str, lang: str) -> str:
    return html.escape(policy.label(vocabulary, key, lang))


def form_snippets(policy: Policy, recipients: crypto.Recipients, lang: str) -> dict[str, str]:
    """HTML pieces the online form pages include (site/*/complain/online.md): the script's
    configuration and the policy's categories and departments as choices."""
    config = form_config(policy, recipients)
    categories = "".join(
        f'<option value="{html.escape(key)}">{_label(policy, "categories", key, lang)}</option>' for key in policy.raw["categories"]
    )
    departments = "".join(
        f'<label class="online-choice" style="display:block"><input type="checkbox" name="departments" value="{html.escape(key)}"> '
        f"{_label(policy, 'departments', key, lang)}</label>"
        for key in policy.raw["departments"]
    )
    return {
        "online-config.html": f'<script type="application/json" data-online-config>{_script_json(config)}</script>\n',
        "online-categories.html": categories + "\n",
        "online-departments.html": departments + "\n",
    }


def published_strings(policy: Policy) -> tuple[str, ...]:
    """Strings the form publishes on purpose that the personal-data scan would otherwise stop:
    the organisation's own intake address."""
    settings = IntakeSettings.from_policy(policy)
    return tuple(s for s in (settings.email, settings.endpoint) if s)


# ---------------------------------------------------------------------------------------------
# Reading a submission


@dataclass(frozen=True)
class Submission:
    """A decrypted, checked submission. ``contact`` is plaintext in memory only."""

    receipt_hash: str
    channel: str
    category: str
    departments: tuple[str, ...]
    anonymous: bool
    what_happened: str
    request: str
    contact: str | None
    lang: str | None


def _armoured_age(data: bytes, source: str) -> bytes:
    """The binary age file inside an armoured text, with damage named as precisely as the
    format allows (pyrage only says that decryption failed)."""
    if len(data) > MAX_SUBMISSION_BYTES:
        raise SubmissionError(f"{source}: larger than {MAX_SUBMISSION_BYTES // 1024} KiB; not an online submission")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise SubmissionError(f"{source}: not an armoured age submission (it holds non-ASCII bytes)") from None
    begin = text.find(crypto.ARMOR_BEGIN)
    if begin < 0:
        raise SubmissionError(f"{source}: not an armoured age submission (no '{crypto.ARMOR_BEGIN}' line)")
    end = text.find(crypto.ARMOR_END, begin)
    if end < 0:
        raise SubmissionError(f"{source}: truncated: the '{crypto.ARMOR_END}' line is missing")
    if crypto.ARMOR_BEGIN in text[begin + len(crypto.ARMOR_BEGIN) :] or crypto.ARMOR_END in text[end + len(crypto.ARMOR_END) :]:
        raise SubmissionError(f"{source}: holds more than one age ciphertext; import them one at a time")
    # Mail programs re-wrap lines and add carriage returns; the base64 itself must be intact.
    body = "".join(text[begin + len(crypto.ARMOR_BEGIN) : end].split())
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SubmissionError(f"{source}: the armour is damaged (not base64): the text was altered or cut") from None
    if not raw.startswith(AGE_MAGIC):
        raise SubmissionError(f"{source}: not an age-encryption.org/v1 file")
    mac = raw.find(b"\n--- ")
    if mac < 0:
        raise SubmissionError(f"{source}: truncated: the age header has no MAC line")
    stanzas = [line for line in raw[len(AGE_MAGIC) : mac].split(b"\n") if line.startswith(b"-> ")]
    if not any(line.startswith(b"-> X25519 ") for line in stanzas):
        raise SubmissionError(f"{source}: not encrypted to an age X25519 key (the form encrypts to recipients.txt)")
    header_end = raw.find(b"\n", mac + 1)
    # After the header: a 16-byte nonce, then at least one chunk with its 16-byte tag.
    if header_end < 0 or len(raw) - header_end - 1 < 32:
        raise SubmissionError(f"{source}: truncated: the encrypted payload is missing or cut short")
    return raw


def decrypt_submission(data: bytes, source: str, identities: Sequence[Any]) -> bytes:
    raw = _armoured_age(data, source)
    try:
        return crypto.decrypt_file(raw, identities)
    except crypto.NotAddressed:
        raise SubmissionError(
            f"{source}: not addressed to your key: none of its recipients matches the given private key, or its header was altered"
            " (was it encrypted with another site's recipients.txt, or has your key been added since?)"
        ) from None
    except crypto.DecryptionError:
        raise SubmissionError(f"{source}: does not authenticate: the ciphertext was altered or cut short") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SubmissionError("a key appears twice")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise SubmissionError(f"{name} is not a JSON number")


def parse_submission(plaintext: bytes, source: str, policy: Policy, root: Path) -> Submission:
    """Check a decrypted submission against schema/submission.schema.json and the policy."""
    try:
        document = json.loads(plaintext.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SubmissionError(f"{source}: decrypted, but not a submission document (not UTF-8 JSON)") from None
    except SubmissionError as exc:
        raise SubmissionError(f"{source}: decrypted, but not a submission document ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != SUBMISSION_FORMAT:
        raise SubmissionError(f"{source}: decrypted, but not a submission document (no format: {SUBMISSION_FORMAT})")
    version = document.get("version")
    if version != SUBMISSION_VERSION:
        raise SubmissionError(f"{source}::$.version: this version of complaints reads submission version {SUBMISSION_VERSION} only")
    schema = load_schema(root, SCHEMA_NAME, compiled=False)  # one document
    problems = [f"{source}::{format_path(p.path)}: {p.message}" for p in schema.problems(document)]
    # The form always sends the policy's online channel; anything else did not come from it.
    if isinstance(document.get("channel"), str) and document["channel"] != IntakeSettings.from_policy(policy).channel:
        problems.append(f"{source}::$.channel: not the policy's online channel (online_intake.channel)")
    if isinstance(document.get("category"), str) and document["category"] not in policy.vocab["categories"]:
        problems.append(f"{source}::$.category: not a key of the policy's categories")
    for index, department in enumerate(document.get("departments") or []):
        if isinstance(department, str) and department not in policy.vocab["departments"]:
            problems.append(f"{source}::$.departments[{index}]: not a key of the policy's departments")
    parsed = receipt.parse_hash(document.get("receipt_hash", "")) if isinstance(document.get("receipt_hash"), str) else None
    if parsed is not None and parsed[0] < receipt.MIN_ITERATIONS:
        problems.append(f"{source}::$.receipt_hash: made with fewer than {receipt.MIN_ITERATIONS} iterations")
    if problems:
        raise SubmissionError("not a valid submission; nothing was written:\n" + "\n".join(problems))
    return Submission(
        receipt_hash=document["receipt_hash"],
        channel=document["channel"],
        category=document["category"],
        departments=tuple(document["departments"]),
        anonymous=document["anonymous"],
        what_happened=document["what_happened"],
        request=document.get("request", ""),
        contact=document.get("contact"),
        lang=document.get("lang"),
    )


def find_receipt_hash(repo: Repository, receipt_hash: str) -> str | None:
    """The case file (repository-relative) that already holds this receipt hash, if any."""
    parsed = receipt.parse_hash(receipt_hash)
    needle = (parsed[1] if parsed else receipt_hash).encode("ascii")
    for path in repo.case_paths():
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        # A plain byte search first: parsing every case file would cost far more.
        if needle in data:
            return repo.relative(path)
    return None


def read_submission(repo: Repository, data: bytes, source: str, identities: Sequence[Any]) -> Submission:
    """Decrypt and check a submission; refuses one whose receipt hash a case already holds
    (the same submission imported twice, or replayed)."""
    submission = parse_submission(decrypt_submission(data, source, identities), source, repo.policy, Path(repo.root))
    existing = find_receipt_hash(repo, submission.receipt_hash)
    if existing is not None:
        raise SubmissionError(f"{source}: already imported: {existing} holds its receipt hash; nothing was written")
    return submission


# ---------------------------------------------------------------------------------------------
# Recording it


@dataclass(frozen=True)
class ImportedCase:
    case_id: str
    path: Path
    placeholder_recipients: bool


def record_submission(
    repo: Repository,
    submission: Submission,
    received: dt.date,
    today: dt.date,
    priority: str | None = None,
    handler: str | None = None,
    summary: str | None = None,
) -> ImportedCase:
    """Write the case as `complaints new` would, with the submission's receipt hash."""
    if received > today:
        raise SubmissionError(f"the date received ({received.isoformat()}) is after today ({today.isoformat()})")
    existing = find_receipt_hash(repo, submission.receipt_hash)
    if existing is not None:
        raise SubmissionError(f"already imported: {existing} holds this submission's receipt hash; nothing was written")
    chosen_priority = priority or next(iter(repo.policy.raw["priorities"]))
    armored: str | None = None
    placeholder = False
    if submission.contact is not None:
        recipients = crypto.load_recipients(Path(repo.root))
        armored = crypto.encrypt_contact(submission.contact.encode("utf-8"), recipients)
        placeholder = recipients.placeholder
    new = NewCase(
        submission.channel, submission.category, submission.departments, chosen_priority, received, submission.anonymous, handler, summary
    )
    case_id, path = write_new_case(repo, new, armored, submission.receipt_hash, today)
    return ImportedCase(case_id, path, placeholder)


def visible(text: str) -> str:
    """``text`` with control and direction-changing characters shown as escapes."""
    return _UNSAFE_CHARS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def review_text(submission: Submission, policy: Policy, lang: str = "en") -> str:
    """The submission as a handler reviews it before recording. The contact details are not
    shown (`complaints reveal` shows them once recorded)."""
    departments = ", ".join(f"{policy.label('departments', d, lang)} ({d})" for d in submission.departments)
    lines = [
        f"channel:      {policy.label('channels', submission.channel, lang)} ({submission.channel})",
        f"category:     {policy.label('categories', submission.category, lang)} ({submission.category})",
        f"departments:  {departments}",
        f"complainant:  {'anonymous' if submission.anonymous else 'named'}"
        + ("" if submission.contact is None else " (contact details given; they will be encrypted into the case)"),
        f"form:         {submission.lang or 'unknown'}",
        "what happened:",
        *("  " + visible(line) for line in submission.what_happened.splitlines()),
    ]
    if submission.request.strip():
        lines += ["what the complainant asks for:", *("  " + visible(line) for line in submission.request.splitlines())]
    return "\n".join(lines)
