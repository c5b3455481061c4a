"""The comments of a YAML file, scanned for personal data like any free text.

A comment is not part of the data, so neither the schema nor the free-text checks see it, yet
it is committed and stays in git history for good. Finding comments exactly needs the YAML
tokens (a ``#`` inside a quoted or block scalar is text, not a comment); that costs a second
parse, so it is done only for a candidate comment that holds something worth scanning (an
``@`` or seven digits), which an ordinary case file never has.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from complaints.core.pii import scan_text



@dataclass(frozen=True)
class CommentFinding:
    line: int  # 1-based, of the "#"
    column: int  # 1-based
    kind: str  # a personal-data kind of core.pii (RESIDENT_ID, MOBILE, ...)


def _scalar_spans(root: Node | None) -> list[tuple[int, int]]:
    """(start, end) offsets of every scalar in the document, keys included."""
    spans: list[tuple[int, int]] = []
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if isinstance(node, ScalarNode):
            spans.append((node.start_mark.index, node.end_mark.index))
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
    return sorted(spans)


def _candidates(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every "#" at the start of a line or after a blank, to the line's end."""
    at = text.find("#")
    while at != -1:
        if at == 0 or text[at - 1] in " \t\n":
            end = text.find("\n", at)
            end = len(text) if end == -1 else end
            yield at, end
            at = text.find("#", end)
        else:
            at = text.find("#", at + 1)


def comment_findings(text: str, compose: Callable[[], Node | None]) -> list[CommentFinding]:
    """Personal data in the comments of ``text``; ``compose`` gives its node tree, and is
    called only when a candidate comment holds a finding."""
    candidates = list(_candidates(text))
    # One look at all comments together answers the common case (nothing worth scanning).
    if not candidates or not scan_text(" ".join(text[at:end] for at, end in candidates)):
        return []
    found: list[CommentFinding] = []
    spans: list[tuple[int, int]] | None = None
    for at, end in candidates:
        kinds = {f.kind for f in scan_text(text[at:end])}
        if not kinds:
            continue
        if spans is None:
            spans = _scalar_spans(compose())
        if any(start <= at < stop for start, stop in spans):
            continue  # a "#" inside a scalar's text, which the free-text checks cover
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        found.extend(CommentFinding(line, column, kind) for kind in sorted(kinds))
    return found
