"""Strict YAML loading for case and policy files, which are treated as hostile input.

The rules, each enforced before or while the structure is built:

* UTF-8 only (a UTF-8 byte-order mark is tolerated), at most ``MAX_BYTES`` bytes;
* exactly one document; no anchors, aliases, merge keys (``<<``) or tags;
* mapping keys are strings and appear once;
* nesting at most ``MAX_DEPTH`` levels;
* YAML 1.1 surprises never change meaning: only ``true``/``false`` are booleans, only
  ``null``/``~``/an empty value are null, only plain decimal integers without a leading zero
  are integers. ``no``, ``on``, ``012``, ``0x1F``, ``1_000``, ``2026-03-05``, ``1:30`` and
  ``.inf`` all stay text, to be checked as text by the schema.

Parsing has two paths that give the same value. The usual one reads the
plain block layout the tool itself writes and people keep to (mappings and sequences by
indentation, plain and one-line quoted scalars, one-line flow lists of words, ``|`` literal
blocks, comments): it declines anything else — a tab, a multi-line plain scalar, an escape, a
duplicate key, a document marker — without guessing. Whatever it declines goes to libyaml's C
parser and composer, which decides, and which is also where every error message comes from;
the property tests hold the two to the same value on every input the reader accepts. The checks
for anchors, tags and depth walk libyaml's event stream only when a cheap scan of the text says
the file could contain them; a hostile file is rejected after reading at most as many events as
it takes to see the offence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from complaints.errors import CaseError
from complaints.core.textrules import describe, first_refused_in_file

try:
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    raise ImportError("PyYAML must be built with libyaml (yaml.CParser is missing)") from None

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32

_TEXT = object()
_INT_START = frozenset("-0123456789")
_PLAIN_VALUES: dict[str, Any] = {"": None, "~": None, "null": None, "true": True, "false": False}
# At most 18 digits: a bigger number stays text instead of costing a big-integer conversion.
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
# Block nesting needs one more column of indentation or one more indicator per level, so the
# longest run of leading blanks and indicators bounds a file's block depth from above.
_SUSPECT = re.compile(r"[&*!]")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,39}")


class YamlError(CaseError):
    """A file is not acceptable YAML for this project. Carries the position when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


def _mark(node_or_event: Any) -> tuple[int | None, int | None]:
    mark = getattr(node_or_event, "start_mark", None)
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


class _StrictLoader(_Parser):
    """libyaml's C parser and composer; values (and their types) are decided by _build.

    The C composer calls three resolver hooks for every node. Python methods there cost a
    third of a small file's load, so they are builtins that take the same arguments: `resolve`
    leaves ``slice(kind, value, (plain, quoted))`` as the tag of every node without an
    explicit tag, which _build reads; there are no path-dependent resolvers."""

    resolve = slice
    descend_resolver = slice
    ascend_resolver = tuple


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise YamlError(f"file is {len(data)} bytes; the limit is {MAX_BYTES}")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        raise YamlError("file is UTF-16 or UTF-32; it must be UTF-8", 1, 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError("file is not valid UTF-8", line, column) from None
    if "\x00" in text:
        at = text.index("\x00")
        line = text.count("\n", 0, at) + 1
        raise YamlError("file contains a NUL character", line, at - (text.rfind("\n", 0, at) + 1) + 1)
    refused = first_refused_in_file(text)
    if refused is not None:
        # The physical line, as an editor and `git diff` count lines (line feeds only).
        line = text.count("\n", 0, refused) + 1
        raise YamlError(describe(text[refused]), line, refused - (text.rfind("\n", 0, refused) + 1) + 1)
    return text


@lru_cache(maxsize=MAX_DEPTH + 1)
def _leading_run(length: int) -> re.Pattern[str]:
    """A line starting with at least ``length`` blanks or block indicators."""
    return re.compile(r"^[ \t?:-]{%d}" % length, re.MULTILINE)


def _needs_event_scan(text: str) -> bool:
    if _SUSPECT.search(text):
        return True
    # Each level of flow nesting needs a bracket; each level of block nesting one more
    # column of indentation or one more indicator at the start of a line. While the two
    # together stay under MAX_DEPTH the file cannot nest deeper.
    room = MAX_DEPTH - 1 - text.count("[") - text.count("{")
    return room <= 0 or _leading_run(room).search(text) is not None


def _scan_events(text: str) -> None:
    """Walk the event stream (no structure is built) and reject what the rules forbid."""
    depth = 0
    documents = 0
    loader = _StrictLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    line, column = _mark(event)
                    raise YamlError("file holds more than one YAML document; one case per file", line, column)
            elif isinstance(event, yaml.AliasEvent):
                line, column = _mark(event)
                raise YamlError("aliases (*name) are not allowed", line, column)
            elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                if event.anchor is not None:
                    line, column = _mark(event)
                    raise YamlError("anchors (&name) are not allowed", line, column)
                if event.tag is not None:
                    line, column = _mark(event)
                    raise YamlError("tags (!name, !!type) are not allowed", line, column)
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        line, column = _mark(event)
                        raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels", line, column)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


# A key followed by a full-width colon (or a tab before the value): common slips when typing
# Chinese, which YAML reports only vaguely, often on the next line.
_WIDE_COLON = re.compile(r"^[ -]*[A-Za-z_][A-Za-z0-9_-]*[ \t]*[\uff1a\ufe55]", re.MULTILINE)


def _syntax_error(exc: yaml.YAMLError, text: str = "") -> YamlError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "not valid YAML"
    if isinstance(exc, yaml.composer.ComposerError) and "single document" in str(exc):
        problem = "file holds more than one YAML document; one case per file"
    if mark is None:
        return YamlError(f"YAML syntax: {problem}")
    line, column = mark.line + 1, mark.column + 1
    # Look at the reported line and the one before it for a key with a full-width colon.
    start = text.rfind("\n", 0, max(0, text.rfind("\n", 0, mark.index))) + 1 if text else 0
    end = text.find("\n", mark.index) if text else -1
    wide = _WIDE_COLON.search(text, start, len(text) if end == -1 else end) if text else None
    if wide is not None:
        line = text.count("\n", 0, wide.start()) + 1
        column = wide.end() - (text.rfind("\n", 0, wide.start()) + 1)
        return YamlError("YAML syntax: a full-width colon (：) after a key; write an ASCII colon and a space (key: value)", line, column)
    return YamlError(f"YAML syntax: {problem}", line, column)


def load_yaml(data: bytes, source: str = "<bytes>") -> Any:
    """Parse one strict-YAML document from bytes. Raises YamlError (with line/column when known).

    ``source`` is only used by callers for messages; the error text never quotes a value from
    the file, so it is safe to print even for files holding personal data.
    """
    text = _decode(data)
    value = _read_block_layout(text)
    if value is not _DECLINED:
        return value
    return _load_with_libyaml(text)


def _load_with_libyaml(text: str) -> Any:
    """The value of a decoded text, or YamlError: the event-stream checks when the text could
    hold an anchor, a tag or deep nesting, then libyaml's composer and _build."""
    if _needs_event_scan(text):
        try:
            _scan_events(text)
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, text) from None
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    try:
        return _build(node)
    except RecursionError:  # pragma: no cover - the depth is bounded before composing
        raise YamlError(f"nesting is deeper than {MAX_DEPTH} levels") from None


# ---- the block reader --------------------------------------------------------------------

_DECLINED: Any = object()


class _Decline(Exception):
    """The text is outside the plain block layout; libyaml decides."""


_NESTED: Any = object()  # an entry whose value starts on the next line (or is empty)


# One line of the block layout: indentation, a sequence entry's dash, a key (plain ASCII text
# without indicators, then the colon and a blank or the line's end), and the rest.
_LINES = re.compile(r"^( *)(- +)?(?:([A-Za-z_][A-Za-z0-9_-]{0,99}):(?: +|$))?(.*)$", re.MULTILINE)
# Characters a scalar on a line may start with that make it something other than plain text
# (some are legal before a non-blank, but declining them costs nothing).
_SPECIAL = frozenset("-?:,[]{}#&*!|>'\"%@`")
# An item of a one-line flow list: a word with no indicator, blank or quote in it.
_FLOW_ITEM = re.compile(r"[A-Za-z0-9_\u3400-\u9fff][^\s,\[\]{}#:'\"&*!|>%@`\\]*")
# The open collections at which the reader declines: with a flow list inside, one more
# level, the nesting stays within what the event-stream check accepts.
_DEEPEST = MAX_DEPTH - 1
# What may follow a closed scalar on its line: blanks, then a comment or nothing.
_TAIL = re.compile(r"(?: +#.*| *)")


def _read_block_layout(text: str) -> Any:
    """The value of a document in the plain block layout (see the module's docstring), exactly
    as `_load_with_libyaml` gives it, or _DECLINED: one pass over the lines with a stack of
    open collections. ``text`` has passed _decode, which refuses every character YAML reads
    as a line break or refuses itself, except the carriage return; that and the tab are
    left to libyaml. No anchor, alias or tag can be in a text this accepts (no scalar it
    reads starts with & * or !), and its nesting is bounded, so the event-stream checks
    have nothing to find."""
    if not text.endswith("\n") or "\t" in text or "\r" in text:
        return _DECLINED
    lines = text.split("\n")
    # One match per line, absent groups as "" (all in C: most of the reading).
    tokens = _LINES.findall(text)
    if len(tokens) != len(lines):
        return _DECLINED
    try:
        return _read_block(lines, tokens)
    except _Decline:
        return _DECLINED


def _read_block(lines: list[str], tokens: list[tuple[str, str, str, str]]) -> Any:
    plain_values = _PLAIN_VALUES
    special = _SPECIAL
    # Open collections, innermost last: (indentation, the collection, is it a list).
    frames: list[tuple[int, Any, bool]] = []
    root: Any = None
    pending: dict[str, Any] | None = None  # the mapping whose last key waits for a nested value
    pending_key = ""
    pending_indent = 0
    count = len(lines)
    i = 0
    while i < count:
        indent_text, dash, key, rest = tokens[i]
        i += 1
        indent = len(indent_text)
        if not dash and not key and (not rest or rest[0] == "#"):
            continue  # a blank line or a comment
        if pending is not None:
            if indent > pending_indent:
                nested: Any = [] if dash else {}
                pending[pending_key] = nested
                frames.append((indent, nested, bool(dash)))
                if len(frames) >= _DEEPEST:
                    raise _Decline
            elif indent == pending_indent and dash:
                raise _Decline  # a sequence at its key's own indentation
            else:
                pending[pending_key] = None
            pending = None
        elif root is None:
            if indent:
                raise _Decline
            root = [] if dash else {}
            frames.append((0, root, bool(dash)))
        while frames[-1][0] > indent:
            frames.pop()
            if not frames:
                raise _Decline
        top_indent, container, is_list = frames[-1]
        if top_indent != indent:
            raise _Decline  # a continued plain scalar, or a line out of place
        if is_list:
            if not dash:
                raise _Decline
            if not key:
                value = _inline(rest)
                if value is _NESTED:
                    raise _Decline
                container.append(value)
                continue
            mapping: dict[str, Any] = {}
            container.append(mapping)
            indent += len(dash)
            frames.append((indent, mapping, False))
            if len(frames) >= _DEEPEST:
                raise _Decline
            container = mapping
        elif dash or not key:
            raise _Decline
        if key in container or key in plain_values:
            raise _Decline  # a duplicate, or a key YAML would type: libyaml reports it
        if rest and rest[0] not in special and rest[-1] not in " :" and " #" not in rest and ": " not in rest:
            # A plain scalar, the common case, typed as _plain types it.
            typed = plain_values.get(rest, _TEXT)
            if typed is _TEXT:
                typed = int(rest) if rest[0] in _INT_START and _INT.fullmatch(rest) else rest
            container[key] = typed
        elif rest[:1] == "|":
            container[key], i = _literal(lines, i, rest[1:], indent)
        else:
            value = _inline(rest)
            if value is _NESTED:
                pending, pending_key, pending_indent = container, key, indent
            else:
                container[key] = value
    if pending is not None:
        pending[pending_key] = None
    if root is None:
        raise _Decline  # an empty document: libyaml says what it is
    return root


def _inline(text: str) -> Any:
    """A scalar or flow list written on one line, _NESTED for nothing (or only a comment)."""
    if not text or text[0] == "#":
        return _NESTED
    first = text[0]
    if first == "'":
        end = text.find("'", 1)
        while end != -1 and text[end + 1 : end + 2] == "'":
            end = text.find("'", end + 2)
        if end == -1 or not _TAIL.fullmatch(text, end + 1):
            raise _Decline
        return text[1:end].replace("''", "'")
    if first == '"':
        end = text.find('"', 1)
        if end == -1 or "\\" in text[1:end] or not _TAIL.fullmatch(text, end + 1):
            raise _Decline
        return text[1:end]
    if first == "[":
        end = text.find("]")
        if end == -1 or not _TAIL.fullmatch(text, end + 1):
            raise _Decline
        inner = text[1:end]
        if not inner.strip(" "):
            return []
        items = []
        for item in inner.split(","):
            item = item.strip(" ")
            if not _FLOW_ITEM.fullmatch(item):
                raise _Decline
            items.append(_plain(item))
        return items
    if first == "{":
        if text[1:2] == "}" and _TAIL.fullmatch(text, 2):
            return {}
        raise _Decline
    if first in _SPECIAL:
        raise _Decline
    comment = text.find(" #")
    if comment != -1:
        text = text[:comment]
    text = text.rstrip(" ")
    if ": " in text or text[-1] == ":":
        raise _Decline
    return _plain(text)


def _literal(lines: list[str], i: int, header: str, indent: int) -> tuple[str, int]:
    """A ``|`` or ``|-`` block starting on line ``i``, its lines indented more than ``indent``:
    its text and the index of the line after it."""
    keep_last = True
    if header[:1] == "-":
        keep_last, header = False, header[1:]
    if header and not _TAIL.fullmatch(header):
        raise _Decline
    count = len(lines)
    if i >= count:
        raise _Decline
    first = lines[i]
    width = len(first) - len(first.lstrip(" "))
    if width <= indent or width == len(first):
        raise _Decline  # an empty block, or one that starts with a blank line
    body: list[str] = []
    while i < count:
        line = lines[i]
        if not line:
            body.append("")
        else:
            stripped = line.lstrip(" ")
            if not stripped:
                raise _Decline  # a line of blanks: its meaning depends on the block's indentation
            if len(line) - len(stripped) < width:
                break
            body.append(line[width:])
        i += 1
    while body and not body[-1]:
        body.pop()
    return "\n".join(body) + ("\n" if keep_last else ""), i


def _plain(text: str) -> Any:
    """A plain scalar's value under the module's typing rules (as _scalar types them)."""
    typed = _PLAIN_VALUES.get(text, _TEXT)
    if typed is not _TEXT:
        return typed
    if text[:1] in _INT_START and _INT.fullmatch(text):
        return int(text)
    return text


def _scalar(node: Any) -> Any:
    """A scalar's value: text, except that a plain `true`/`false`, `null`/`~`/empty and a
    plain decimal integer without a leading zero are typed; an explicit tag is refused."""
    tag: Any = node.tag
    if tag.__class__ is not slice:
        line, column = _mark(node)
        raise YamlError("tags (!name, !!type) are not allowed", line, column)
    value = node.value
    if tag.step[0]:  # plain (unquoted): the only scalars YAML would type
        typed = _PLAIN_VALUES.get(value, _TEXT)
        if typed is not _TEXT:
            return typed
        if value[:1] in _INT_START and _INT.fullmatch(value):
            return int(value)
    return value


def _build(node: Node) -> Any:
    """The value of a composed node, under the strict rules. A direct recursive walk: the
    depth is already bounded by MAX_DEPTH, and it costs a fraction of PyYAML's generic
    constructor machinery (this is most of the time a valid case takes to check)."""
    cls = node.__class__
    if cls is ScalarNode:
        return _scalar(node)
    tag: Any = node.tag
    if tag.__class__ is not slice:
        line, column = _mark(node)
        raise YamlError("tags (!name, !!type) are not allowed", line, column)
    if cls is SequenceNode:
        return [_build(child) for child in node.value]
    data: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _scalar(key_node) if key_node.__class__ is ScalarNode else None
        if not isinstance(key, str):
            line, column = _mark(key_node)
            raise YamlError("mapping keys must be plain text (not numbers, booleans, null, lists or mappings)", line, column)
        if key in data:
            line, column = _mark(key_node)
            shown = repr(key) if _FIELD_NAME.fullmatch(key) else "(a key withheld because it may hold personal data)"
            raise YamlError(f"duplicate key {shown}", line, column)
        if key == "<<" and key_node.style not in ("'", '"'):
            line, column = _mark(key_node)
            raise YamlError("merge keys (<<) are not allowed", line, column)
        data[key] = _build(value_node)
    return data


def compose_yaml(data: bytes) -> Node | None:
    """The node tree (with positions) of a document already accepted by load_yaml.

    Used only to put line numbers on problems, so valid files never pay for it."""
    text = _decode(data)
    loader = _StrictLoader(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


def locate(root: Node | None, path: tuple[str | int, ...]) -> Position | None:
    """Position of the value at ``path`` (keys and list indexes); the deepest existing
    ancestor's position when the path goes further than the document."""
    node = root
    best: Position | None = None
    if node is not None:
        best = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    for step in path:
        if isinstance(node, MappingNode) and isinstance(step, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode) and key_node.value == step:
                    node = value_node
                    # A key's own line reads better than the line its block value starts on.
                    best = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                    break
            else:
                return best
        elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
            best = Position(node.start_mark.line + 1, node.start_mark.column + 1)
        else:
            return best
    return best
