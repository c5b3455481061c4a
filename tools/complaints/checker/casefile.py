"""Checking one case file: strict YAML, the schema, then the rules a schema cannot express
(the lifecycle, dates, vocabularies from the policy, personal data in free text).

Every problem in the file is collected; line numbers are looked up only for files that have
problems, so valid files cost one parse and one compiled-schema call.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterator, Sequence

from complaints.core import events, lifecycle
from complaints.core.deadlines import check_case
from complaints.core.ids import CASE_FILE_PATTERN, CASE_ID_PATTERN
from complaints.adapters.agefile import armour_problem
from complaints.checker.comments import comment_findings
from complaints.core.pii import scan_text
from complaints.core.policy import Policy
from complaints.checker.result import FileResult, Problem
from complaints.adapters.schemas import JsonPath, Schema, load_schema
from complaints.adapters.yamlload import YamlError, compose_yaml, load_yaml, locate


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Found = list[tuple[JsonPath, str]]

def layout_problem(file: str) -> str | None:
    """Why a file under cases/ is not where a case file belongs, or None."""
    if file in ("cases/README.md", "cases/.gitkeep"):
        return None
    if file.endswith(".yaml"):
        return "case files use the .yml extension (cases/YYYY/ID.yml)"
    if not CASE_FILE_PATTERN.fullmatch(file):
        return "only case files belong under cases/, at cases/YYYY/ID.yml"
    return None


def free_text(case: dict[str, Any]) -> Iterator[tuple[JsonPath, str]]:
    """Every free-text field of a case, with its path."""
    subject = case.get("subject")
    if isinstance(subject, dict) and isinstance(subject.get("summary"), str):
        yield ("subject", "summary"), subject["summary"]
    timeline, suggestions = case.get("timeline"), case.get("suggestions")
    for i, event in enumerate(timeline if isinstance(timeline, list) else []):
        if not isinstance(event, dict):
            continue
        for key in events.text_fields(event.get("kind")):
            if isinstance(event.get(key), str):
                yield ("timeline", i, key), event[key]
    for i, suggestion in enumerate(suggestions if isinstance(suggestions, list) else []):
        if isinstance(suggestion, dict) and isinstance(suggestion.get("summary"), str):
            yield ("suggestions", i, "summary"), suggestion["summary"]


def _identity(case: dict[str, Any], file: str, policy: Policy) -> Found:
    found: Found = []
    case_id = case.get("id")
    if not isinstance(case_id, str):
        return found
    where = CASE_FILE_PATTERN.fullmatch(file)
    if where and where["id"] != case_id:
        found.append((("id",), "the id must equal the file name (without .yml); rename the file or fix the id"))
    parts = CASE_ID_PATTERN.fullmatch(case_id)
    if parts is None:
        return found
    if parts["prefix"] != policy.id_prefix:
        found.append((("id",), f"the id must start with the policy's prefix {policy.id_prefix!r}"))
    timeline = case.get("timeline")
    first = timeline[0] if isinstance(timeline, list) and timeline and isinstance(timeline[0], dict) else {}
    received = first.get("date") if first.get("kind") == "received" else None
    if not (isinstance(received, str) and _DATE_TEXT.fullmatch(received)):
        received = None  # a malformed date is the schema's to report, and must not be echoed
    if isinstance(received, str) and received.replace("-", "") != parts["date"]:
        found.append((("id",), "the date in the id must be the date received (timeline[0].date)"))
    if where and isinstance(received, str) and received[:4] != where["year"]:
        found.append(((), f"the file is in cases/{where['year']}/ but the case was received in {received[:4]}; move it to cases/{received[:4]}/"))
    return found


def _semantics(case: dict[str, Any], policy: Policy, today: dt.date | None, found: Found) -> None:
    """The rules beyond the schema. Appends to ``found`` as it goes, so that on a case the
    schema rejected (where it may stop at a malformed part) the earlier findings still count."""
    vocab = policy.vocab

    def known(path: JsonPath, vocabulary: str, key: Any) -> None:
        values = policy.handlers if vocabulary == "handlers" else policy.stages if vocabulary == "time_limits.stages" else vocab[vocabulary]
        if key not in values:
            # The offending value is not echoed: a case file is hostile input.
            choices = sorted(values)
            shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
            found.append((path, f"not a key of policy.yml {vocabulary} (one of: {shown})"))

    known(("channel",), "channels", case["channel"])
    known(("subject", "category"), "categories", case["subject"]["category"])
    for i, dept in enumerate(case["subject"]["departments"]):
        known(("subject", "departments", i), "departments", dept)
    known(("priority",), "priorities", case["priority"])
    if "handler" in case:
        known(("handler",), "handlers", case["handler"])

    timeline: list[dict[str, Any]] = case["timeline"]
    received: dt.date | None = None
    previous: dt.date | None = None
    for i, event in enumerate(timeline):
        kind = event["kind"]
        try:
            day = dt.date.fromisoformat(event["date"])
        except ValueError:
            found.append((("timeline", i, "date"), "not a real calendar date"))
            continue
        if i == 0:
            received = day
        if today is not None and day > today:
            found.append((("timeline", i, "date"), f"is in the future (today is {today.isoformat()} in {policy.timezone})"))
        if received is not None and day < received:
            found.append((("timeline", i, "date"), "is before the complaint was received"))
        elif previous is not None and day < previous:
            found.append((("timeline", i, "date"), "is earlier than the event before it; the timeline must be in date order"))
        previous = day
        spec = events.EVENTS.get(kind)
        for key, field in spec.fields.items() if spec is not None else ():
            if field.vocabulary is None or key not in event:
                continue
            if field.many:
                for j, item in enumerate(event[key]):
                    known(("timeline", i, key, j), field.vocabulary, item)
            else:
                known(("timeline", i, key), field.vocabulary, event[key])
        if kind == "extended" and event["approver"] in policy.handlers and event["approver"] not in policy.approvers:
            found.append((("timeline", i, "approver"), "this handler may not approve extensions (approvers: " + ", ".join(sorted(policy.approvers)) + ")"))

    track, problems = lifecycle.replay(timeline)
    for index, reason in problems:
        found.append((("timeline", index, "kind"), reason))
    stated = case.get("status")
    if stated is not None and not problems and stated != track.state:
        found.append((("status",), f"says {stated!r} but the timeline leads to {track.state!r}; fix the status or the timeline"))


def check_case_bytes(
    data: bytes, file: str, policy: Policy, today: dt.date | None, keep: bool = False, schema: Schema | None = None
) -> FileResult:
    """Every problem with one case file, given its bytes and its path relative to the
    repository. With ``keep``, a valid case's mapping is returned in the result too.
    ``schema``: the case schema, when the caller checking many files has it at hand."""
    return check_cases_bytes([(file, data)], policy, today, keep, schema)[0]


class _Checking:
    """A case file part way through check_cases_bytes: parsed into a mapping, its findings so
    far, and where the schema placed them."""

    __slots__ = ("result", "data", "case", "found", "at", "valid")

    def __init__(self, result: FileResult, data: bytes, case: dict[str, Any], found: Found) -> None:
        self.result = result
        self.data = data
        self.case = case
        self.found = found
        self.at: dict[int, JsonPath] = {}
        self.valid = False


def check_cases_bytes(
    files: Sequence[tuple[str, bytes]], policy: Policy, today: dt.date | None, keep: bool = False, schema: Schema | None = None
) -> list[FileResult]:
    """check_case_bytes for each (path, bytes) of ``files``, in order.

    Done a step at a time over all of them (parse every file, then the schema for every
    case, then the rules, then the rest), not file by file: each step is a large body of
    code and data, and taken in turn for each file they evict each other from the
    processor's caches; a scan's worker (engine/scan.py) checks 64 files at a time this way,
    in a fifth less time (see the README's performance section)."""
    results: list[FileResult] = []
    parsed: list[_Checking] = []
    for file, data in files:
        result = FileResult(file)
        results.append(result)
        layout = layout_problem(file)
        if layout is None and not CASE_FILE_PATTERN.fullmatch(file):
            continue  # a file allowed under cases/ that is not a case (README.md, .gitkeep)
        if layout is not None:
            result.problems.append(Problem(file, (), layout))
            if file.endswith(".md") or not file.endswith((".yml", ".yaml")):
                continue
        try:
            case = load_yaml(data, file)
        except YamlError as exc:
            result.problems.append(Problem(file, (), exc.message, exc.line, exc.column))
            continue
        if not isinstance(case, dict):
            what = "nothing" if case is None else "a list" if isinstance(case, list) else "a single value"
            result.problems.append(Problem(file, (), f"a case file holds one mapping (id, channel, complainant, ...); found {what}", 1, 1))
            continue
        if isinstance(case.get("id"), str) and CASE_ID_PATTERN.fullmatch(case["id"]):
            result.case_id = case["id"]
        parsed.append(_Checking(result, data, case, _identity(case, file, policy)))
    if not parsed:
        return results
    if schema is None:
        schema = load_schema(policy.path.parent, "case")
    for checking in parsed:
        checking.valid = schema.is_valid(checking.case)
    for checking in parsed:
        if checking.valid:
            _semantics(checking.case, policy, today, checking.found)
            _extension_rules(checking.case, policy, checking.found)
        else:
            _schema_findings(checking, schema, policy, today)
    for checking in parsed:
        _finish(checking, policy, keep)
    return results


def _schema_findings(checking: _Checking, schema: Schema, policy: Policy, today: dt.date | None) -> None:
    """The findings of a case the schema rejects: the schema's, then the rules' that are not
    a consequence of those."""
    case, found = checking.case, checking.found
    schema_problems = schema.problems(case)
    # A withheld key is placed at its own line, though its path stops at its mapping.
    checking.at = {len(found) + i: p.at for i, p in enumerate(schema_problems) if p.at is not None}
    found += [(p.path, p.message) for p in schema_problems]
    schema_paths = {path for path, _ in found}
    extra: Found = []
    try:
        _semantics(case, policy, today, extra)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        pass  # the schema problems above already say what is malformed
    # A finding at or under a field the schema rejected is a consequence of that (e.g.
    # `departments: permits` read letter by letter), not a problem of its own.
    found += [(path, message) for path, message in extra if not _under(path, schema_paths)]


def _finish(checking: _Checking, policy: Policy, keep: bool) -> None:
    """The checks left (personal data, contact details, comments), then every finding placed
    at its line; the mapping kept in the result of a valid case when ``keep``."""
    case, found, result, data = checking.case, checking.found, checking.result, checking.data
    file = result.file
    found += _extra_checks(case, policy)
    found += _contact_checks(case, {path for path, _ in found})
    result.problems += _comment_problems(data, file)
    if found:
        node = compose_yaml(data)
        at = checking.at
        for index, (path, message) in enumerate(found):
            pos = locate(node, at.get(index, path))
            result.problems.append(Problem(file, path, message, pos.line if pos else None, pos.column if pos else None))
    if result.problems:
        result.problems.sort(key=Problem.sort_key)
    elif keep:
        result.case = case


def _under(path: JsonPath, schema_paths: set[JsonPath]) -> bool:
    return path in schema_paths or any(p and path[: len(p)] == p for p in schema_paths)


_PATH_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\]")


def _parse_path(text: str) -> JsonPath:
    return tuple(int(index) if index else name for name, index in _PATH_STEP.findall(text))


def _extension_rules(case: dict[str, Any], policy: Policy, found: Found) -> None:
    """The deadline engine's rules for `extended` events (caps, approvers, running stage)."""
    if not any(event["kind"] == "extended" for event in case["timeline"]):
        return
    reported = {path for path, _ in found}
    for where, message in check_case(case, policy):
        path = _parse_path(where)
        if path not in reported:
            found.append((path, message))


def _extra_checks(case: dict[str, Any], policy: Policy) -> Found:
    """Checks owned by other parts of the library: personal data in free text."""
    found: Found = []
    for path, text in free_text(case):
        for kind in _pii_kinds(text):
            found.append((path, f"looks like it holds personal data ({kind}) in plaintext; remove it — contact details belong only in the encrypted complainant.contact"))
    return found


def _contact_checks(case: dict[str, Any], reported: set[JsonPath]) -> Found:
    """The contact must be real age ciphertext, not armour around plaintext. The schema's
    pattern checks the armour and the first header bytes; the rest needs decoding."""
    complainant = case.get("complainant")
    contact = complainant.get("contact") if isinstance(complainant, dict) else None
    path: JsonPath = ("complainant", "contact")
    if not isinstance(contact, str) or path in reported:
        return []
    problem = armour_problem(contact)
    return [] if problem is None else [(path, f"{problem}; plaintext contact details are not allowed — use `complaints new --contact-stdin` to encrypt them")]


def _comment_problems(data: bytes, file: str) -> list[Problem]:
    """Personal data in YAML comments: committed like the data, though no field holds it."""
    if b"#" not in data:
        return []
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return [
        Problem(file, (), f"a YAML comment looks like it holds personal data ({f.kind}) in plaintext; remove it — it would stay in git history", f.line, f.column)
        for f in comment_findings(text, lambda: compose_yaml(data))
    ]


def _pii_kinds(text: str) -> list[str]:
    return sorted({finding.kind for finding in scan_text(text)})
