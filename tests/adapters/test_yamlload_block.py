"""The block reader (adapters/yamlload._read_block_layout) against libyaml: on every text it accepts it
must give exactly the value libyaml's path gives (types included), and it must accept the
layout the tool writes, or every check silently pays for the slower path."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints.adapters import yamlload
from complaints.adapters.yamlload import YamlError, load_yaml

from conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


def exact(value: Any) -> Any:
    """``value`` with every scalar's type made part of it (True == 1 and 1 == 1.0 in Python)."""
    if isinstance(value, dict):
        return ("map", [(type(k).__name__, k, exact(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [exact(v) for v in value])
    return (type(value).__name__, value)


def libyaml(text: str) -> Any:
    return yamlload._load_with_libyaml(text)


def reader(text: str) -> Any:
    """What the block reader makes of ``text`` inside load_yaml: it only ever sees what
    _decode let through."""
    try:
        decoded = yamlload._decode(text.encode("utf-8", "surrogatepass"))
    except YamlError:
        return yamlload._DECLINED
    return yamlload._read_block_layout(decoded)


def agrees(text: str) -> bool:
    """True when the block reader read ``text``; fails the test when it read it differently
    from libyaml (or read a text libyaml refuses)."""
    fast = reader(text)
    if fast is yamlload._DECLINED:
        return False
    try:
        slow = libyaml(text)
    except YamlError as exc:
        raise AssertionError(f"the block reader accepted a text libyaml refuses ({exc.message}):\n{text}") from None
    assert exact(fast) == exact(slow), text
    return True


def case_texts() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.yml") if "/cases/" in p.as_posix() or "writer" in p.parts)


def test_every_fixture_case_is_read_by_the_block_reader_as_libyaml_reads_it() -> None:
    files = case_texts()
    assert len(files) >= 20
    read = 0
    for path in files:
        try:
            text = yamlload._decode(path.read_bytes())
        except YamlError:
            continue
        try:
            libyaml(text)
        except YamlError:
            assert reader(text) is yamlload._DECLINED, path
            continue
        read += agrees(text)
    # The layout `complaints new` and `event` write, and the shipped samples, take the fast path.
    assert read >= len(files) * 0.9


def test_the_layout_the_tool_writes_is_read_without_libyaml() -> None:
    text = (
        "# yaml-language-server: $schema=../../schema/case.schema.json\n"
        "id: XN-20260305-7K3QH\n"
        "channel: hotline\n"
        "complainant:\n"
        "  anonymous: false\n"
        "  contact: |\n"
        "    -----BEGIN AGE ENCRYPTED FILE-----\n"
        "    YWdl\n"
        "\n"
        "    -----END AGE ENCRYPTED FILE-----\n"
        "subject:\n"
        "  departments: [registry, permits]\n"
        "  summary: '示例：窗口''三日''答复' # a comment\n"
        "timeline:\n"
        "  - kind: received\n"
        "    date: 2026-03-05\n"
        "  - kind: extended\n"
        "    days: 10\n"
        "    note: \"quoted # not a comment\"\n"
        "    empty:\n"
        "    nested:\n"
        "      - 1\n"
        "      - -x\n"
    )
    # The last item (`-x`) starts with an indicator: declined, and libyaml decides.
    assert reader(text) is yamlload._DECLINED
    text = text.replace("      - -x\n", "      - x\n")
    assert agrees(text)
    value = load_yaml(text.encode())
    assert value["complainant"]["contact"] == "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n\n-----END AGE ENCRYPTED FILE-----\n"
    assert value["timeline"][1] == {"kind": "extended", "days": 10, "note": "quoted # not a comment", "empty": None, "nested": [1, "x"]}
    assert value["subject"]["summary"] == "示例：窗口'三日'答复"


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "true: x\n",  # a key YAML types
        "a: x\n  y\n",  # a continued plain scalar
        "a:\n- x\n",  # a sequence at its key's indentation
        "a: |+\n  x\n\n",  # keep chomping
        "a: >\n  x\n",  # folded
        "a: \"x\\ty\"\n",  # an escape
        "a:\tx\n",  # a tab
        "a: x\r\nb: y\r\n",  # carriage returns
        "---\na: x\n",  # a document marker
        "a: x",  # no final line break
        "a: &x y\n",
        "a: !!str 1\n",
        "  a: x\n",  # an indented document
        "a: 'x\n  y'\n",  # a quoted scalar over two lines
        "a: [x, y,]\n",
        "a: {b: c}\n",
        "a: x: y\n",
        "- a\n-b\n",
        "a: x\u2028b: y\n",
        "",
        "# only a comment\n",
    ],
)
def test_the_block_reader_declines_what_it_does_not_read(text: str) -> None:
    assert reader(text) is yamlload._DECLINED


def test_every_character_the_decoder_lets_through_reads_as_libyaml_reads_it() -> None:
    # The reader trusts _decode to refuse what YAML treats as a line break or refuses; a
    # change there that let such a character through must show here.
    read = 0
    for code in [*range(0x0, 0x3000), *range(0xD7F0, 0xD800), *range(0xE000, 0xE010), *range(0xFE00, 0x10000), 0x1F600, 0x10FFFD]:
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        for text in (f"a: x{char}y\n", f"a: '{char}'\nb: [{char}]\n", f"a: |\n  {char}\n", f"- {char}z\n"):
            read += agrees(text)
    assert read > 20000


def test_deep_nesting_is_left_to_the_event_stream_check() -> None:
    text = "".join(" " * level + "a:\n" for level in range(40)) + " " * 40 + "b: 1\n"
    assert reader(text) is yamlload._DECLINED
    with pytest.raises(YamlError, match="nesting is deeper"):
        load_yaml(text.encode())
    shallow = "".join(" " * level + "a:\n" for level in range(20)) + " " * 20 + "b: 1\n"
    assert agrees(shallow)


PIECES = [
    "a", "b", "kind", "true", "null", "a-b", "_x", "<<", "'q'", "1", "-", "- ", "-  ", "? ", ": ", ":", ":  ", " ", "  ",
    "x", "x y", "x  y", "x # c", "x#c", "# c", "'a''b'", "'a' b", "'a'", "''", '"a"', '"a # b"', '"a\\n"', '""', "[a, b]",
    "[a,b]", "[ ]", "[a, b,]", "[a b]", "[1, true, ~]", "[]", "{}", "{a: b}", "|", "|-", "|+", "|2", "| # c", ">", "-1",
    "012", "0", "-0", "0x1F", "1_000", "true", "True", "yes", "no", "~", "null", "Null", "1:30", "a: b", "a:", "2026-03-05",
    "&a x", "*a", "!t x", "%x", "@x", "`x", "中文", "x\u3000y", "x\u00a0", "\u200b", "\\", "x:y", "x :y", "x,", "http://x",
    "99999999999999999999", "1.5", ".inf", "---", "...", "\t",
]


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        indent = " " * draw(st.sampled_from([0, 0, 0, 2, 2, 4, 4, 6, 1, 3]))
        parts = draw(st.lists(st.sampled_from(PIECES), min_size=0, max_size=4))
        lines.append(indent + "".join(parts))
    text = "\n".join(lines)
    return text + draw(st.sampled_from(["\n", "\n", "\n\n", ""]))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(documents())
def test_the_block_reader_agrees_with_libyaml_on_generated_texts(text: str) -> None:
    agrees(text)


WORDS = ["x", "a b", "中文", "registry", "1", "0", "-3", "012", "true", "false", "null", "~", "yes", "2026-03-05", "1:30",
         "a#b", "a #b", "a: b", "a:", "x:y", "http://x", "'", "''", '"', "#", "-", "- x", "[x]", "{x}", "|", ">", "&x", "*x",
         "!x", "%x", "@x", "`x", "x,y", "x ", " x", "99999999999999999999", "1.5", "\\", "\u3000", "x\u00a0"]
SAFE = ["x", "a b", "中文", "registry", "1", "0", "012", "true", "yes", "no", "2026-03-05", "a#b", "x:y", "http://x", "示例：答复",
        "null", "~", "1.5", "a  b", "x]", "x, y"]
TEXT = st.one_of(st.sampled_from(SAFE), st.sampled_from(SAFE), st.sampled_from(WORDS), st.text(st.sampled_from(list("ab1-:#' \"[],{}|>&*!%@`~?\u3000中")), min_size=1, max_size=6))
KEYS = ["id", "kind", "date", "a", "a-b", "_x", "true", "null", "K9", "k1", "k2", "k3", "k4", "k5", "k6", "k7"]


@st.composite
def scalar_text(draw: st.DrawFn, indent: int) -> str:
    """A scalar written after `key:` in one of the styles the reader takes (or nearly)."""
    text = draw(TEXT)
    style = draw(st.sampled_from(["plain", "plain", "single", "double", "flow", "literal", "comment"]))
    if style == "single":
        return " '" + text.replace("'", "''") + "'"
    if style == "double":
        return ' "' + text + '"'
    if style == "flow":
        items = draw(st.lists(TEXT, max_size=3))
        return " [" + draw(st.sampled_from([", ", ",", " , "])).join(items) + "]"
    if style == "literal":
        width = indent + draw(st.sampled_from([1, 2, 2, 4]))
        body = draw(st.lists(st.one_of(TEXT, st.just("")), min_size=1, max_size=4))
        head = draw(st.sampled_from(["|", "|", "|-", "| # c", "|+", "|2"]))
        return " " + head + "".join("\n" + (" " * width + line if line else "") for line in body)
    if style == "comment":
        return " " + text + draw(st.sampled_from([" # c", "  # c", "#c"]))
    return draw(st.sampled_from([" ", " ", "  "])) + text


@st.composite
def block(draw: st.DrawFn, indent: int, depth: int) -> list[str]:
    lines: list[str] = []
    is_list = draw(st.booleans()) if depth else False
    for _ in range(draw(st.integers(1, 4))):
        pad = " " * indent
        if draw(st.integers(0, 9)) == 0:
            lines.append(draw(st.sampled_from(["", pad + "# note", "#", pad + "  # deeper"])))
        key = draw(st.sampled_from(KEYS))
        lead = pad + (draw(st.sampled_from(["- ", "- ", "-  "])) if is_list else "")
        inner = len(lead)
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            lines.append(lead + key + ":" + draw(st.sampled_from(["", " ", " # c"])))
            lines += draw(block(inner + draw(st.sampled_from([2, 2, 4, 0, 1])), depth + 1))
        elif is_list and draw(st.booleans()):
            lines.append(lead + draw(scalar_text(indent)).lstrip(" "))
        else:
            lines.append(lead + key + ":" + draw(scalar_text(inner)))
            if is_list and draw(st.booleans()):
                lines.append(" " * inner + draw(st.sampled_from(KEYS)) + ":" + draw(scalar_text(inner)))
    return lines


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(block(0, 0), st.sampled_from(["\n", "\n", "\n\n", ""]))
def test_the_block_reader_agrees_with_libyaml_on_generated_block_documents(lines: list[str], end: str) -> None:
    agrees("\n".join(lines) + end)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_block_reader_agrees_with_libyaml_on_edited_case_files(data: st.DataObject) -> None:
    files = case_texts()
    text = data.draw(st.sampled_from(files)).read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 3))
        piece = data.draw(st.sampled_from([*PIECES, "\n", "\n  ", "\n- ", "    "]))
        text = text[:at] + piece + text[at + cut :]
    agrees(text)
