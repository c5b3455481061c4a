"""Decoding a cache shares equal dates and short texts (a run over 100,000 cached records
would otherwise hold a copy of each per record), and sharing changes no value."""
from __future__ import annotations

import datetime as dt
import json

from complaints.adapters.datacodec import decode, encode


def test_equal_dates_and_short_texts_decode_to_one_object() -> None:
    value = [("delay", dt.date(2026, 3, 5), "XN-20260305-7K3QH"), ("delay", dt.date(2026, 3, 5), "x" * 200)]
    first, second = decode(json.loads(json.dumps(encode(value))))
    assert [first, second] == value
    assert first[0] is second[0] and first[1] is second[1]
    long_a = decode(json.loads(json.dumps("y" * 200)))
    long_b = decode(json.loads(json.dumps("y" * 200)))
    assert long_a == long_b and long_a is not long_b  # long texts (free text, paths) are not kept


def test_cache_lines_are_the_json_the_standard_encoder_writes() -> None:
    """The cache's JSON writer (one C encoder made once) writes what json.dumps writes with
    the same options: non-ASCII kept, escapes, floats, nested records."""
    from complaints.adapters.cache import _dumps

    values = [
        "cases/2026/XN-20260305-7K3QH.yml",
        "示例：补正材料\t\"quoted\"\\ \n\u2028 \x00",
        ["t", 1, -2, 3.5, 1e300, float("inf"), float("-inf"), True, False, None, ["d", 739000]],
        {"result": ["o", "Record", "键", {"nested": []}], "": 0},
        [],
        {},
        0,
    ]
    for value in values:
        assert _dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    assert _dumps(float("nan")) == "NaN"
