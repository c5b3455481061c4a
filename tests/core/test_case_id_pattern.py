"""complaints.core.ids holds the one case-id pattern: the case schema's `id` pattern says the same."""
from __future__ import annotations

import json
import re
import string

from complaints.core import ids
from conftest import TEMPLATE


def test_the_case_id_pattern_is_the_schemas() -> None:
    schema = json.loads((TEMPLATE / "schema" / "case.schema.json").read_text(encoding="utf-8"))
    unnamed = re.sub(r"\(\?P<\w+>([^)]*)\)", r"\1", ids.CASE_ID_PATTERN.pattern)
    assert schema["properties"]["id"]["pattern"] == f"^{unnamed}$"


def test_the_suffix_is_crockford_base32() -> None:
    allowed = {ch for ch in string.ascii_letters + string.digits if ids.CASE_ID_PATTERN.fullmatch(f"XN-20260305-{ch * ids.SUFFIX_LENGTH}")}
    assert allowed == set(ids.CROCKFORD)
