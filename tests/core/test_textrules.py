"""Characters that make a reviewed diff read differently from what is stored, or that shift
libyaml's line count away from git's, are refused with their physical line and column."""
from __future__ import annotations

import pytest

from complaints.core.textrules import text_problem
from complaints.adapters.yamlload import YamlError, load_yaml

REFUSED = [
    "\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x1c", "\x1f", "\x7f", "\x80", "\x85", "\x9f",
    "\u061c", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff",
]  # fmt: skip


@pytest.mark.parametrize("ch", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_refused_in_a_file_at_its_physical_line(ch: str) -> None:
    # Two lines before it, one of them CRLF-terminated; the character sits at column 8.
    data = f"a: 1\r\nb: 2\nc: 'xx{ch}yy'\nd: 4\n".encode()
    with pytest.raises(YamlError) as info:
        load_yaml(data)
    assert (info.value.line, info.value.column) == (3, 7)
    assert f"U+{ord(ch):04X}" in info.value.message


def test_a_lone_carriage_return_is_refused() -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(b"a: 1\rb: 2\n")
    assert (info.value.line, info.value.column) == (1, 5)


@pytest.mark.parametrize("text", ["a: 'x\ty'\n", "a: 1\r\nb: 2\r\n", "\ufeffa: 1\n", "a: 中文　全角空格\n", "a: \u00a0x\n", "a: 🙂\n"])
def test_allowed_characters(text: str) -> None:
    assert load_yaml(text.encode()) is not None


def test_a_second_byte_order_mark_is_refused() -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(b"\xef\xbb\xbf\xef\xbb\xbfa: 1\n")
    assert (info.value.line, info.value.column) == (1, 1) and "byte-order mark" in info.value.message


@pytest.mark.parametrize("value", ["", " ", "\t\n", "\u3000\u3000", "\u00a0", " \u2003 "])
def test_blank_text_is_refused(value: str) -> None:
    assert text_problem(value) == "is empty or blank"


@pytest.mark.parametrize("value", [f"a{ch}b" for ch in REFUSED if ch != "\n"] + ["a\rb", "a\x00b"])
def test_refused_characters_in_text(value: str) -> None:
    problem = text_problem(value)
    assert problem is not None
    assert "U+" in problem or "carriage return" in problem


@pytest.mark.parametrize("value", ["正常的文字", "tab\tand\nnewline", "  padded  ", "emoji 🙂"])
def test_ordinary_text_passes(value: str) -> None:
    assert text_problem(value) is None


def test_a_refused_character_is_found_wherever_it_stands_among_printable_ones() -> None:
    # first_refused_in_file skips its search for a text str.isprintable accepts (line feeds
    # aside): that is only sound while every refused character is one isprintable refuses.
    from complaints.core.textrules import first_refused_in_file

    refused = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and first_refused_in_file(f"ab\n{chr(c)}") is not None]
    assert len(refused) > 60 and "\u2028" in refused and "\ufeff" in refused and "\x85" in refused
    for char in refused:
        assert first_refused_in_file(f"示例\n  text {char} more\n") == 10
    assert first_refused_in_file("示例\u3000text\n") is None and first_refused_in_file("a\tb\r\n") is None
