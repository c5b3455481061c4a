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
