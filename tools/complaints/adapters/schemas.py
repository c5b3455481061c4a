"""Loading the JSON Schemas in schema/ and turning their verdicts into safe messages.

Two validators per schema: a compiled one (fastjsonschema) that answers "valid?" at a small
fraction of the cost of a parse, and python-jsonschema's reference implementation, run only on
documents the first one rejects, to list every problem with its path. A schema asked about one
document at a time (policy.yml, calendar.yml, a submission: ``compiled=False``) is not compiled:
compiling costs far more than the reference validator's answer for one document (0.08 s
against 0.005 s for the policy), so it answers alone. Messages are written
here from the failing keyword and the schema, never from the instance, so a value that may hold
personal data is never echoed.
"""
from __future__ import annotations

import copy
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import unquote

import fastjsonschema

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

from complaints.errors import ConfigError

JsonPath = tuple[str | int, ...]

_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")
# Keys that announce plaintext personal data; named in the message so the fix is obvious.
PLAINTEXT_CONTACT_KEYS = frozenset(
    {"name", "phone", "mobile", "tel", "telephone", "email", "e-mail", "mail", "address", "id_number",
     "id_card", "idcard", "wechat", "qq", "contact_plain", "identity", "real_name", "姓名", "电话", "手机", "邮箱", "地址", "身份证"}
)

_PATTERN_HINTS = {
    "date": "a date written YYYY-MM-DD",
    "key": "a key: lower-case letters, digits, '_' or '-', starting with a letter",
    "id": "a case id PREFIX-YYYYMMDD-XXXXX (Crockford base32, no I, L, O or U)",
    "contact": "an ASCII-armored age ciphertext (-----BEGIN AGE ENCRYPTED FILE-----); "
    "plaintext contact details are not allowed — use `complaints new --contact-stdin` to encrypt them",
    "receipt_hash": "pbkdf2-sha256$ITERATIONS$HEX (written by `complaints new`)",
    "plain_text": "text without control characters (other than tab and line feed), zero-width, "
    "line-separator (U+0085, U+2028, U+2029) or bidirectional-control characters",
    "not_blank": "text with something other than blanks in it",
}


@dataclass(frozen=True)
class SchemaProblem:
    path: JsonPath
    message: str
    # Where to place the problem when that differs from ``path``: the path of a key that is
    # withheld from ``path`` (it may hold personal data) but has its own line in the file.
    at: JsonPath | None = None


@dataclass(frozen=True)
class Schema:
    name: str
    document: dict[str, Any]
    fast: Callable[[Any], Any] | None  # None: not compiled, the reference validator answers
    full: "jsonschema.protocols.Validator"

    def is_valid(self, instance: Any) -> bool:
        if self.fast is None:
            with self._usable():
                return bool(self.full.is_valid(instance))
        try:
            self.fast(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    @contextmanager
    def _usable(self) -> Iterator[None]:
        """A reference the reference validator cannot follow, met while judging a document,
        is the schema's fault: a ConfigError naming it, not a traceback (a schema that is
        not compiled has its references followed when it is loaded, see _unfollowable)."""
        from referencing.exceptions import Unresolvable

        try:
            yield
        except Unresolvable as exc:
            raise ConfigError(f"{self.name}: not a usable JSON Schema ({type(exc).__name__}: {exc})") from None

    def problems(self, instance: Any) -> list[SchemaProblem]:
        with self._usable():
            errors = sorted(self.full.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
        seen: set[tuple[JsonPath, str]] = set()
        out: list[SchemaProblem] = []
        leaves = _leaves(errors)
        # A value of the wrong type fails other keywords vacuously (an `if` on properties holds
        # for text, so its `then` fires); only the type problem is worth reporting there.
        mistyped = {tuple(e.absolute_path) for e in leaves if e.validator == "type"}
        # Empty text is also blank; "must not be empty" says it.
        empty = {tuple(e.absolute_path) for e in leaves if e.validator == "minLength"}
        for error in leaves:
            path: JsonPath = tuple(error.absolute_path)
            if path in mistyped and error.validator != "type":
                continue
            if path in empty and error.validator == "pattern" and _pattern_hint(str(error.validator_value)) == _PATTERN_HINTS["not_blank"]:
                continue
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                # One problem per unexpected key, placed on the key itself when it is safe to name.
                allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
                for key in error.instance:
                    if key in allowed:
                        continue
                    named = isinstance(key, str) and safe_key(key) == repr(key)
                    key_path = (*path, key) if named else path
                    problem = SchemaProblem(key_path, _unexpected(key, allowed), None if named else (*path, str(key)))
                    if named and (problem.path, problem.message) in seen:
                        continue
                    seen.add((problem.path, problem.message))
                    out.append(problem)
                continue
            problem = SchemaProblem(path, describe(error))
            if (problem.path, problem.message) not in seen:
                seen.add((problem.path, problem.message))
                out.append(problem)
        if not out and not self.is_valid(instance):
            # The two validators must agree; if they ever do not, the file still fails.
            out.append(SchemaProblem((), "does not satisfy the schema (the compiled validator rejects it)"))
        return out


def _leaves(errors: list[ValidationError]) -> list[ValidationError]:
    out: list[ValidationError] = []
    for error in errors:
        if error.context:
            out.extend(_leaves(sorted(error.context, key=lambda e: list(map(str, e.absolute_path)))))
        else:
            out.append(error)
    return out


def safe_key(key: object) -> str:
    """A key from a file, quoted if it looks like a field name, else withheld."""
    if isinstance(key, str) and _SAFE_KEY.fullmatch(key) and not any(ch.isdigit() for ch in key[:1]):
        return repr(key)
    if isinstance(key, str) and key in PLAINTEXT_CONTACT_KEYS:
        return repr(key)
    return "(a key withheld because it may hold personal data)"


def _unexpected(key: object, allowed: dict[str, Any]) -> str:
    if isinstance(key, str) and key.lower() in PLAINTEXT_CONTACT_KEYS:
        return (
            f"plaintext personal-data field {key!r} is not allowed; contact details are stored only "
            "encrypted (complainant.contact, written by `complaints new --contact-stdin`)"
        )
    names = ", ".join(sorted(allowed))
    return f"unexpected field {safe_key(key)}" + (f" (allowed here: {names})" if names else "")


def _type_name(instance: Any) -> str:
    if instance is None:
        return "nothing (null)"
    if isinstance(instance, bool):
        return "a boolean"
    if isinstance(instance, int):
        return "a number"
    if isinstance(instance, str):
        return "text"
    if isinstance(instance, list):
        return "a list"
    if isinstance(instance, dict):
        return "a mapping"
    return type(instance).__name__


def describe(error: ValidationError) -> str:
    """A message for one schema error that never quotes the instance."""
    v = error.validator
    value: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}
    if v == "required":
        missing = [k for k in value if isinstance(error.instance, dict) and k not in error.instance]
        return f"missing required field {missing[0]!r}" if missing else "missing a required field"
    if v == "additionalProperties":
        extra = [k for k in error.instance if k not in schema.get("properties", {})] if isinstance(error.instance, dict) else []
        return "; ".join(_unexpected(k, schema.get("properties", {})) for k in extra) or "unexpected field"
    if v == "type":
        want = value
        want_text = " or ".join(want) if isinstance(want, list) else want
        return f"must be {_article(want_text)}, found {_type_name(error.instance)}"
    if v == "pattern":
        return f"must be {_pattern_hint(schema.get('pattern', ''))}"
    if v in ("enum",):
        return "must be one of: " + ", ".join(map(str, value))
    if v == "const":
        return f"must be {json.dumps(value, ensure_ascii=False)}"
    if v == "minItems":
        return f"must have at least {value} item(s)"
    if v == "maxItems":
        return f"must have at most {value} items"
    if v == "uniqueItems":
        return "must not repeat an item"
    if v == "minLength":
        return "must not be empty" if value == 1 else f"must be at least {value} characters"
    if v == "maxLength":
        return f"must be at most {value} characters"
    if v == "minimum":
        return f"must be at least {value}"
    if v == "maximum":
        return f"must be at most {value}"
    if v == "minProperties":
        return f"must have at least {value} entr{'y' if value == 1 else 'ies'}"
    if v == "propertyNames":
        return "has a key that is not " + _pattern_hint(value.get("pattern", ""))
    if v == "not" and value == {"required": ["contact"]}:
        return "an anonymous complainant must not have contact details"
    return f"does not satisfy the schema ({v})"


def _article(word: str) -> str:
    names = {"string": "text", "integer": "a whole number", "boolean": "true or false", "array": "a list", "object": "a mapping", "number": "a number"}
    return names.get(word, word)


def _pattern_hint(pattern: str) -> str:
    if "0[1-9]|1[0-2]" in pattern:
        return _PATTERN_HINTS["date"]
    if pattern.startswith("^[a-z][a-z0-9_-]"):
        return _PATTERN_HINTS["key"]
    if "[0-9A-HJKMNP-TV-Z]{5}" in pattern:
        return _PATTERN_HINTS["id"]
    if "AGE ENCRYPTED" in pattern:
        return _PATTERN_HINTS["contact"]
    if pattern.startswith("^[^\\x00-\\x08"):
        return _PATTERN_HINTS["plain_text"]
    if pattern.startswith("[^\\x00-\\x20"):
        return _PATTERN_HINTS["not_blank"]
    if pattern.startswith("^https://"):
        return "an https:// address without blanks, control characters, quotes or angle brackets"
    if pattern.startswith("^pbkdf2"):
        return _PATTERN_HINTS["receipt_hash"]
    return f"text matching {pattern}"


def schema_dir(root: Path) -> Path:
    return root / "schema"


@lru_cache(maxsize=16)
def _load(path: str, mtime_ns: int, compiled: bool = True) -> Schema:
    # Imported here: a run answered from the cache never checks a document in full, and the
    # reference validator is a large part of start-up.
    import jsonschema

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(document)
    except (OSError, ValueError, jsonschema.SchemaError) as exc:
        raise ConfigError(f"{path}: not a usable JSON Schema ({type(exc).__name__})") from None
    # Not compiled, its references are followed here instead, as compiling follows them: a
    # schema neither refuses is usable. Where this cannot tell, compiling decides.
    unusable = None if compiled else _unfollowable(document)
    if unusable is not None and unusable is not _UNDECIDED:
        raise ConfigError(f"{path}: not a usable JSON Schema ({unusable})")
    fast = None
    if compiled or unusable is _UNDECIDED:
        try:
            fast = _compile_fast(document)
        except fastjsonschema.JsonSchemaDefinitionException as exc:
            raise ConfigError(f"{path}: not a usable JSON Schema ({exc})") from None
        except ConfigError as exc:  # a remote reference (_no_remote)
            raise ConfigError(f"{path}: not a usable JSON Schema ({exc})") from None
    full = _full_validator()(document)
    return Schema(Path(path).name, document, fast, full)


_UNDECIDED = "undecided"
# Keywords whose values are data, never schemas: a "$ref" in them is not a reference.
_VALUES = frozenset({"const", "enum", "default", "examples"})
# Keywords whose values map names (any text, "default" too) to schemas.
_NAMED = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
# Keywords that name or find a place otherwise than by a JSON pointer from the root.
_PLACES = frozenset({"$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveAnchor", "$recursiveRef", "$schema"})


def _unfollowable(document: Any) -> str | None:
    """Why a reference of ``document`` cannot be followed (it names another document, or a
    place the document does not have), None when every one can; _UNDECIDED for a document
    this does not follow (an $id below the root, anchors, dynamic references)."""
    # (node, whether it is the root, whether it maps names to schemas)
    todo: list[tuple[Any, bool, bool]] = [(document, True, False)]
    while todo:
        node, root, names = todo.pop()
        if isinstance(node, list):
            todo.extend((item, False, False) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        if names:
            todo.extend((value, False, False) for value in node.values())
            continue
        if (not root and isinstance(node.get("$id"), str)) or any(isinstance(node.get(k), str) for k in _PLACES if not (root and k == "$schema")):
            return _UNDECIDED
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#"):
                return f"refers to a remote document ({ref}); only local references are allowed"
            if ref != "#" and not ref.startswith("#/"):
                return _UNDECIDED  # an anchor
            if not _points(document, ref[1:]):
                return f"a reference that leads nowhere ({ref})"
        todo.extend((value, False, key in _NAMED) for key, value in node.items() if key not in _VALUES)
    return None


def _points(document: Any, pointer: str) -> bool:
    """Whether the JSON pointer (RFC 6901, percent-encoded as in a URI fragment) leads to a
    place in ``document``."""
    node = document
    for raw in pointer.split("/")[1:]:
        step = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node) and (step == "0" or not step.startswith("0")):
            node = node[int(step)]
        else:
            return False
    return True


# Python's `$` also matches before a final newline; JSON Schema's (ECMA 262) does not, and
# fastjsonschema rewrites it to `\Z`. The reference validator must judge patterns the same way,
# or a value the compiled one rejects (e.g. "normal\n") would be reported with no problem.
_DOLLAR = re.compile(r"(?<!\\)\$")


@lru_cache(maxsize=256)
def _end_anchored(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _end_anchored(pattern).search(instance):
        yield ValidationError("does not match the pattern")  # never the instance itself


@lru_cache(maxsize=1)
def _full_validator() -> Any:
    import jsonschema

    return jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


def _no_remote(uri: str) -> Any:
    # Schemas are read from the repository only; a remote $ref is a configuration error.
    raise ConfigError(f"schema refers to a remote document ({uri}); only local references are allowed")


_NO_REMOTE = {"http": _no_remote, "https": _no_remote}


def _discriminated(entry: Any) -> tuple[str, dict[str, str]] | None:
    """(property, {value: $defs name}) when a schema is an object requiring property P with an
    allOf of `if: {properties: {P: {const: "V"}}} then: {$ref: "#/$defs/NAME"}` branches on P
    (text values only, so that matching V by Python equality is JSON Schema's)."""
    branches: dict[str, str] = {}
    prop: str | None = None
    if not isinstance(entry, dict):
        return None
    for branch in entry.get("allOf", []):
        try:
            (p_name, cond), = branch["if"]["properties"].items()
            ref = branch["then"]["$ref"]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if (prop not in (None, p_name) or not isinstance(ref, str) or not ref.startswith("#/$defs/")
                or not isinstance(cond, dict) or not isinstance(cond.get("const"), str) or cond["const"] in branches):
            return None
        prop = p_name
        branches[cond["const"]] = ref.removeprefix("#/$defs/")
    required = entry.get("required")
    if not prop or not branches or entry.get("type") != "object" or not isinstance(required, list) or prop not in required:
        return None
    return prop, branches


def _compile(document: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema's validator for ``document`` (given a copy: its resolver rewrites
    references in place, and parts of one document are compiled several times)."""
    compiled: Callable[[Any], Any] = fastjsonschema.compile(copy.deepcopy(document), handlers=_NO_REMOTE, use_formats=False)
    return compiled


# A definition holding one of these is not copied in place of a reference to it: they would
# change what the copy's own references resolve against, or name it for other references.
_KEEPS_PLACE = ('"$id"', '"$anchor"', '"$dynamicAnchor"', '"$dynamicRef"', '"$recursiveAnchor"', '"$schema"')
# Keywords whose values are data, not schemas.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "required", "type", "$defs", "definitions"})
_DEF_NAME = re.compile(r"[A-Za-z0-9_-]+")
# Any "$ref" key of a schema as json.dumps writes it, with its value (a JSON string).
_REFS_TEXT = r'"\$(?:ref|dynamicRef|recursiveRef)": "((?:[^"\\]|\\.)*)"'
_REFS = re.compile(_REFS_TEXT)


class _Inliner:
    """Local references written in place: a schema that is only `{"$ref": "#/$defs/NAME"}`
    is replaced by a copy of NAME's definition (with its own references written in place the
    same way), unless NAME refers back to itself. The same constraint, checked where it
    stands: the copy's references resolve against the same document. fastjsonschema calls a
    referenced schema as a function, with a message path built for each call (for each item
    of a list, from a format of every local variable); written in place, it is checked inline."""

    def __init__(self, document: dict[str, Any]) -> None:
        defs = document.get("$defs")
        self.defs: dict[str, Any] = defs if isinstance(defs, dict) else {}
        base = document.get("$id")
        self.prefixes = ("#/$defs/", *((f"{base}#/$defs/",) if isinstance(base, str) and "#" not in base else ()))
        self.copyable = {name: isinstance(d, dict) and not any(k in json.dumps(d) for k in _KEEPS_PLACE) for name, d in self.defs.items()}

    def target(self, node: Any) -> str | None:
        if not (isinstance(node, dict) and len(node) == 1 and isinstance(node.get("$ref"), str)):
            return None
        ref: str = node["$ref"]
        for prefix in self.prefixes:
            name = ref.removeprefix(prefix)
            if name != ref and _DEF_NAME.fullmatch(name) and self.copyable.get(name):
                return name
        return None

    def __call__(self, node: Any, within: tuple[str, ...] = ()) -> Any:
        name = self.target(node)
        if name is not None and name not in within:
            return self(self.defs[name], (*within, name))
        if isinstance(node, list):
            return [self(v, within) for v in node]
        if not isinstance(node, dict):
            return node
        return {k: v if k in _DATA_KEYWORDS else self(v, within) for k, v in node.items()}

    def document(self, document: dict[str, Any]) -> dict[str, Any]:
        """``document`` with its references written in place; of its $defs, those the
        references that stay may need, as they are. (fastjsonschema writes the definitions
        into its generated code: fewer of them compile faster.)"""
        body = {k: v if k in _DATA_KEYWORDS else self(v) for k, v in document.items() if k != "$defs"}
        if "$defs" not in document:
            return body
        needed = self.needed(body)
        return {**body, "$defs": self.defs if needed is None else {k: v for k, v in self.defs.items() if k in needed}}

    def needed(self, body: Any) -> set[str] | None:
        """The definitions ``body``'s references reach, or None when that is not known (a
        reference of another form)."""
        needed: set[str] = set()
        todo = [body]
        while todo:
            text = json.dumps(todo.pop())
            for ref in _REFS.findall(text):
                name = next((ref.removeprefix(p) for p in self.prefixes if ref.startswith(p)), None)
                if name is None or not _DEF_NAME.fullmatch(name) or name not in self.defs:
                    return None
                if name not in needed:
                    needed.add(name)
                    todo.append(self.defs[name])
        return needed


def _compile_fast(document: dict[str, Any]) -> Callable[[Any], Any]:
    """A compiled validator equivalent to the schema, arranged for speed:
    - local references are written in place (_Inliner);
    - a timeline of events that is a discriminated union (allOf of if/then on `kind`; see
      _discriminated) would cost fastjsonschema one caught exception per branch per event:
      the case is checked without its events, then each event against the event's own
      schema (the union's shell) and the one branch its kind selects, compiled once per kind.
    Both give the verdicts of the schema as written (tests/adapters/test_schema_fast.py)."""
    inline = _Inliner(document)
    defs = inline.defs
    union = _discriminated(defs.get("event"))
    properties = document.get("properties")
    timeline = properties.get("timeline") if isinstance(properties, dict) else None
    if (union is None or not isinstance(properties, dict) or not isinstance(timeline, dict)
            or timeline.get("type") != "array" or timeline.get("items") != {"$ref": "#/$defs/event"}):
        return _compile(inline.document(document))
    prop, branches = union
    outer = _compile(inline.document(
        {**document, "properties": {**properties, "timeline": {k: v for k, v in timeline.items() if k != "items"}}}))
    header = {k: v for k, v in document.items() if k in ("$schema", "$id", "$defs")}
    shell = _compile(inline.document({**header, **{k: v for k, v in defs["event"].items() if k != "allOf"}}))
    per_value = {value: _compile(inline.document({**header, **inline({"$ref": f"#/$defs/{name}"})})) for value, name in branches.items()}

    def validate(instance: Any) -> Any:
        outer(instance)
        # The outer check made the timeline a list; the shell makes each event an object
        # holding the property.
        for event in instance.get("timeline", ()) if type(instance) is dict else ():
            shell(event)
            check = per_value.get(kind) if type(kind := event[prop]) is str else None
            if check is not None:
                check(event)
        return instance

    return validate


def load_schema(root: Path, name: str, *, compiled: bool = True) -> Schema:
    """The schema schema/NAME.schema.json of the repository at root, loaded once per process;
    ``compiled=False`` for a schema that checks one document (see the module's description)."""
    path = schema_dir(root) / f"{name}.schema.json"
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        raise ConfigError(f"{path}: schema file is missing") from None
    return _load(str(path), mtime, compiled)


def format_path(path: JsonPath) -> str:
    """$.timeline[3].date — the field path used in every message."""
    out = "$"
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if _SAFE_KEY.fullmatch(step) else "[?]")
    return out
