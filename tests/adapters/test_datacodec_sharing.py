"""Decoding a cache shares equal dates and short texts (a run over 100,000 cached records
would otherwise hold a copy of each per record), and sharing changes no value."""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, NamedTuple

import pytest

from complaints.adapters.cache import _loads, _utf8_json
from complaints.adapters.datacodec import DataFormatError, decode, encode, register


class _Packed(NamedTuple):
    """A record that packs itself into its values as they are."""

    values: tuple[Any, ...]

    def codec_pack(self) -> list[Any]:
        return list(self.values)

    @classmethod
    def codec_unpack(cls, values: list[Any]) -> _Packed:
        return cls(tuple(values))


def test_equal_dates_and_short_texts_decode_to_one_object() -> None:
    value = [("delay", dt.date(2026, 3, 5), "XN-20260305-7K3QH"), ("delay", dt.date(2026, 3, 5), "x" * 200)]
    first, second = decode(json.loads(json.dumps(encode(value))))
    assert [first, second] == value
    assert first[0] is second[0] and first[1] is second[1]
    long_a = decode(json.loads(json.dumps("y" * 200)))
    long_b = decode(json.loads(json.dumps("y" * 200)))
    assert long_a == long_b and long_a is not long_b  # long texts (free text, paths) are not kept


def test_cache_lines_are_the_json_the_standard_encoder_writes() -> None:
    """The cache's JSON writer (orjson) writes what json.dumps writes with the same options
    (non-ASCII kept, escapes, nested records), and what orjson refuses is written by the
    standard library, with escapes that read back to the same value."""

    values = [
        "cases/2026/XN-20260305-7K3QH.yml",
        "示例：补正材料\t\"quoted\"\\ \n\u2028 \x00",
        ["t", 1, -2, 0, 2**63 - 1, -(2**63), True, False, None, ["d", 739000]],
        {"result": ["o", "Record", "键", {"nested": []}], "": 0},
        [],
        {},
        0,
    ]
    for value in values:
        assert _utf8_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        assert _loads(_utf8_json(value)) == value
    for number in (3.5, 1e300, -0.0, 1 / 3):
        assert _loads(_utf8_json(number)) == number == json.loads(_utf8_json(number))
    # beyond orjson: a lone surrogate (a file name of bytes that are not UTF-8), written with escapes
    for odd in ["cases/2026/\udcff.yml", ["t", "\ud800", {"k": ["\udc80x"]}]]:
        written = _utf8_json(odd)
        assert written.isascii() and _loads(written) == odd
        assert _loads(memoryview(written)) == odd
    # an integer past 64 bits would read back as a float: not cached at all
    for wide in [2**64, -(2**63) - 1, ["t", 1, ["l", 2**70]], {"k": -(2**80)}]:
        with pytest.raises(DataFormatError):
            _utf8_json(wide)
    assert _loads(_utf8_json([2**64 - 1, -(2**63)])) == [2**64 - 1, -(2**63)]


def test_a_number_that_is_not_finite_is_not_cached() -> None:
    """orjson writes NaN and the infinities as null: encode refuses them instead, in records,
    packed records, tuples and mappings alike (the value then is not cached)."""
    assert decode(json.loads(json.dumps(encode(["t", 1.5, {"x": -2.25}])))) == ["t", 1.5, {"x": -2.25}]
    for bad in (math.nan, math.inf, -math.inf):
        for value in (bad, (1, bad), [bad], {"x": bad}, ("a", [("b", bad)])):
            with pytest.raises(DataFormatError):
                encode(value)


def test_a_packed_record_with_a_number_that_is_not_finite_is_not_cached() -> None:
    register(_Packed)
    assert decode(json.loads(json.dumps(encode(_Packed(("a", 1, 2.5, None, True)))))) == _Packed(("a", 1, 2.5, None, True))
    for bad in (math.nan, math.inf):
        with pytest.raises(DataFormatError):
            encode(_Packed(("a", bad)))
    with pytest.raises(DataFormatError):
        encode(_Packed(("a", dt.date(2026, 1, 1))))
