"""pretty_json writes exactly what json.dumps(doc, ensure_ascii=False, indent=2) writes."""
from __future__ import annotations

import json
import random
from typing import Any

import pytest

from complaints.render.jsontext import pretty_json


def _document(rnd: random.Random, depth: int = 0) -> Any:
    roll = rnd.random()
    if depth > 4 or roll < 0.4:
        return rnd.choice([None, True, False, 0, -5, 3.25, float("nan"), float("inf"), 1e300, 10**30, "",
                           'quote " backslash \\ line\nbreak', "\u2028 é 中文 \x00", "plain"])
    if roll < 0.7:
        return {rnd.choice(["a", "é", "k\n", "", "中"]) + str(i): _document(rnd, depth + 1) for i in range(rnd.randint(0, 4))}
    items = [_document(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return items if rnd.random() < 0.8 else tuple(items)


def test_same_text_as_the_standard_library() -> None:
    rnd = random.Random(17)
    for _ in range(2000):
        doc = _document(rnd)
        assert pretty_json(doc) == json.dumps(doc, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("doc", [{1: 2}, {"a": {1.5: None}}, {"a": [1, {True: None}]}, [True, 1, 1.0, False], {"a": [[], {}]}])
def test_unusual_keys_and_nesting(doc: Any) -> None:
    assert pretty_json(doc) == json.dumps(doc, ensure_ascii=False, indent=2)


def test_values_json_cannot_write_fail_the_same_way() -> None:
    with pytest.raises(TypeError):
        pretty_json({"a": [object()]})
