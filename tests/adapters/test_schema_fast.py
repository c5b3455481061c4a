"""The compiled case validator (adapters/schemas._compile_fast) is arranged for speed: local
references written in place, timeline events dispatched on their kind. Whatever the document,
it must give the verdict of the schema as written: fastjsonschema on the document unchanged
and the reference validator (jsonschema) agree with it on every instance."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.adapters import schemas
from complaints.adapters.yamlload import load_yaml

from conftest import ROOT, json_paths as _paths

TEMPLATE = ROOT / "tests" / "fixtures" / "template"
CASE_SCHEMA = json.loads((TEMPLATE / "schema" / "case.schema.json").read_text(encoding="utf-8"))
CASES = [load_yaml(p.read_bytes()) for p in sorted((TEMPLATE / "cases").rglob("*.yml"))]
KINDS = sorted(CASE_SCHEMA["$defs"]["event"]["properties"]["kind"]["enum"])


_COMPILED: dict[str, tuple[Any, Any, Any]] = {}


def verdicts(document: dict[str, Any], instance: Any) -> tuple[bool, bool, bool]:
    """(arranged, plain fastjsonschema, reference) verdicts on ``instance``."""
    key = json.dumps(document, sort_keys=True)
    if key not in _COMPILED:
        _COMPILED[key] = (schemas._compile_fast(copy.deepcopy(document)), fastjsonschema.compile(copy.deepcopy(document), use_formats=False),
                          jsonschema.Draft202012Validator(copy.deepcopy(document)))
    arranged, plain, reference = _COMPILED[key]

    def ok(fn: Any) -> bool:
        try:
            fn(copy.deepcopy(instance))
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return ok(arranged), ok(plain), reference.is_valid(instance)


def test_the_arranged_validator_takes_the_fast_shape_on_the_template_schema() -> None:
    # The template's union is recognised (else every event costs an exception per branch),
    # and its references are written in place.
    assert schemas._discriminated(CASE_SCHEMA["$defs"]["event"]) is not None
    inlined = schemas._Inliner(CASE_SCHEMA).document(CASE_SCHEMA)
    body = {k: v for k, v in inlined.items() if k != "$defs"}
    assert '"$ref"' not in json.dumps(body)
    assert '"$ref"' in json.dumps(CASE_SCHEMA["properties"])


def test_every_template_case_is_valid_under_every_arrangement() -> None:
    assert CASES
    validate = schemas._compile_fast(CASE_SCHEMA)
    for case in CASES:
        assert validate(case) is case


# Edits that reach every part the arrangement touches: events of another kind, without their
# kind, not objects, with a kind that is not text or unknown; duplicated list items; values of
# every type where a referenced definition stands.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 400), st.sampled_from(KINDS), st.sampled_from(["x", "", " ", "2026-02-30", "2026-03-05", "permits", "a\u200bb"]),
    st.lists(st.sampled_from(["permits", "permits", "x", 1]), max_size=3),
    st.dictionaries(st.sampled_from(["kind", "date", "note", "reason", "outcome", "department"]),
                    st.one_of(st.sampled_from(KINDS), st.sampled_from(["2026-03-05", "permits", "late", ""]), st.integers(0, 3), st.lists(st.just("x"), max_size=2)),
                    max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(CASES) - 1), st.data())
def test_arranged_plain_and_reference_validators_agree(index: int, data: st.DataObject) -> None:
    case = copy.deepcopy(CASES[index])
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(case) if p]
        path = data.draw(st.sampled_from(paths))
        parent: Any = case
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["set", "delete", "kind", "duplicate"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "kind" and isinstance(parent, dict) and "kind" in parent:
            parent["kind"] = data.draw(st.sampled_from(KINDS))
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = data.draw(ODD)
    arranged, plain, reference = verdicts(CASE_SCHEMA, case)
    assert arranged == plain == reference


def _union_schema(shell: dict[str, Any]) -> dict[str, Any]:
    """A small document with a timeline of a discriminated union, for the cases the template's
    schema does not have."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"timeline": {"type": "array", "items": {"$ref": "#/$defs/event"}}},
        "$defs": {
            "when": {"type": "string", "pattern": "^[0-9]{4}$"},
            "event": {**shell, "allOf": [
                {"if": {"properties": {"kind": {"const": "a"}}}, "then": {"$ref": "#/$defs/event_a"}},
                {"if": {"properties": {"kind": {"const": "b"}}}, "then": {"$ref": "#/$defs/event_b"}},
            ]},
            "event_a": {"properties": {"when": {"$ref": "#/$defs/when"}}, "required": ["when"]},
            "event_b": {"properties": {"n": {"type": "integer"}}, "required": ["n"]},
        },
    }


EVENTS = st.one_of(
    st.none(), st.integers(), st.text(max_size=2), st.lists(st.just("a"), max_size=1),
    st.fixed_dictionaries({}, optional={"kind": st.one_of(st.sampled_from(["a", "b", "c"]), st.integers(0, 1), st.lists(st.just("a"), max_size=1)),
                                        "when": st.sampled_from(["2026", "26", 7]), "n": st.one_of(st.integers(0, 2), st.just("1"))}),
)
SHELLS = [
    {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["a", "b", "c"]}}},  # the dispatched shape
    {"type": "object", "required": ["kind"]},  # any kind, of any type
    {"type": "object"},  # kind optional: with no kind every branch applies
    {"type": "object", "required": ["when"]},  # the same, with something else required
    {"required": ["kind"]},  # not necessarily an object
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(SHELLS))), st.lists(EVENTS, max_size=4), st.booleans())
def test_a_union_of_any_shell_gets_the_schema_verdict(shell: int, events: list[Any], wrap: bool) -> None:
    instance: Any = {"timeline": events} if wrap else events
    arranged, plain, reference = verdicts(_union_schema(SHELLS[shell]), instance)
    assert arranged == plain == reference


def test_only_a_shell_that_makes_the_kind_an_object_property_is_dispatched() -> None:
    assert schemas._discriminated(_union_schema(SHELLS[0])["$defs"]["event"]) is not None
    for shell in SHELLS[2:]:
        assert schemas._discriminated(_union_schema(shell)["$defs"]["event"]) is None


# (No schema here has siblings beside a $ref: fastjsonschema ignores them, as draft 7 did.)
RECURSIVE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.org/tree.json",
    "$ref": "#/$defs/node",
    "$defs": {
        "node": {"type": "object", "properties": {"v": {"$ref": "https://example.org/tree.json#/$defs/leaf"},
                                                  "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                                                  "names": {"$ref": "#/$defs/names"}, "const": {"const": {"$ref": "#/$defs/leaf"}}}},
        "leaf": {"type": "integer", "minimum": 0},
        "elsewhere": {"$id": "https://example.org/other.json", "type": "string"},
        "anchored": {"$anchor": "here", "type": "string"},
        "names": {"type": "array", "items": {"$ref": "#/$defs/elsewhere"}, "prefixItems": [{"$ref": "#/$defs/anchored"}]},
    },
}
TREES = st.recursive(
    st.one_of(st.integers(-1, 1), st.text(max_size=1), st.none()),
    lambda kids: st.one_of(st.lists(kids, max_size=2), st.fixed_dictionaries({}, optional={"v": kids, "kids": st.lists(kids, max_size=2),
                                                                                          "names": st.lists(kids, max_size=2), "const": kids})),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_recursive_anchored_and_identified_definitions_keep_their_verdicts(tree: Any) -> None:
    arranged, plain, reference = verdicts(RECURSIVE, tree)
    assert arranged == plain == reference


def test_what_is_written_in_place_and_what_is_not() -> None:
    document = copy.deepcopy(RECURSIVE)
    inline = schemas._Inliner(document)
    body = inline({"$ref": "#/$defs/node"})
    # A definition that refers to itself stays a reference where it recurs.
    assert body["type"] == "object"
    assert body["properties"]["kids"]["items"] == {"$ref": "#/$defs/node"}
    # A reference by the document's own $id is local.
    assert body["properties"]["v"] == {"type": "integer", "minimum": 0}
    # Definitions with their own $id or $anchor keep their place; data keywords are data.
    assert body["properties"]["names"]["items"] == {"$ref": "#/$defs/elsewhere"}
    assert body["properties"]["names"]["prefixItems"] == [{"$ref": "#/$defs/anchored"}]
    assert body["properties"]["const"] == {"const": {"$ref": "#/$defs/leaf"}}
    assert inline.document(document)["$defs"] == RECURSIVE["$defs"]
    assert document == RECURSIVE  # nothing is changed in place


@pytest.mark.parametrize("name", ["case", "policy", "calendar", "stats", "submission"])
def test_every_shipped_schema_compiles_arranged(name: str) -> None:
    document = json.loads((TEMPLATE / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert callable(schemas._compile_fast(document))


def test_a_schema_edit_reaches_the_arranged_validator(tmp_path: Path) -> None:
    # The cache of compiled schemas is keyed by the file; an edited definition is honoured
    # in every place it was written.
    document = copy.deepcopy(CASE_SCHEMA)
    document["$defs"]["date"]["pattern"] = "^2026-[0-9]{2}-[0-9]{2}$"
    validate = schemas._compile_fast(document)
    case = copy.deepcopy(CASES[0])
    case["timeline"][-1]["date"] = "2025-01-01"
    with pytest.raises(fastjsonschema.JsonSchemaException):
        validate(case)


def test_only_the_definitions_still_referred_to_are_kept() -> None:
    inline = schemas._Inliner(CASE_SCHEMA)
    header = {k: v for k, v in CASE_SCHEMA.items() if k in ("$schema", "$id", "$defs")}
    resolved = inline.document({**header, **inline({"$ref": "#/$defs/event_resolved"})})
    assert resolved["$defs"] == {} and resolved["properties"]["date"]["pattern"]
    tree = copy.deepcopy(RECURSIVE)
    tree["$defs"]["unused"] = {"type": "null"}
    assert set(schemas._Inliner(tree).document(tree)["$defs"]) == {"node", "leaf", "names", "elsewhere", "anchored"}
    # A reference of a form not followed here keeps every definition.
    tree["$defs"]["node"]["properties"]["w"] = {"$ref": "#/$defs/leaf/minimum"}
    assert set(schemas._Inliner(tree).document(tree)["$defs"]) == set(tree["$defs"])
