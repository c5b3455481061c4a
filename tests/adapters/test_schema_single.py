"""A schema that checks one document at a time (policy.yml, calendar.yml, a submission) is not
compiled (adapters/schemas.py, ``compiled=False``): the reference validator answers alone. It
must judge every document as the compiled schema does, and refuse the same unusable schemas
when it is loaded, before any document is judged."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from complaints.adapters import schemas
from complaints.adapters.config import load_calendar, load_policy
from complaints.adapters.schemas import load_schema
from complaints.errors import ConfigError

from conftest import TEMPLATE

SINGLE = {"policy": TEMPLATE / "policy.yml", "calendar": TEMPLATE / "calendar.yml"}


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(TEMPLATE / "schema", root / "schema")
    shutil.copy(TEMPLATE / "policy.yml", root / "policy.yml")
    if (TEMPLATE / "calendar.yml").exists():
        shutil.copy(TEMPLATE / "calendar.yml", root / "calendar.yml")
    return root


def _edit(root: Path, name: str, change: Any) -> None:
    path = root / "schema" / f"{name}.schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _variants(document: Any) -> list[Any]:
    """The document, and copies with one value replaced, dropped or mistyped at a time."""
    out = [document]
    todo: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    paths: list[tuple[Any, ...]] = []
    while todo:
        node, path = todo.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            paths.append((*path, key))
            todo.append((value, (*path, key)))
    for path in paths[:: max(1, len(paths) // 60)]:
        for replacement in (None, "", -1, [], {"x": 1}, "not-a-key !"):
            changed = copy.deepcopy(document)
            node = changed
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = replacement
            out.append(changed)
        dropped = copy.deepcopy(document)
        node = dropped
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
        out.append(dropped)
    return out


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_the_reference_validator_alone_judges_as_the_compiled_schema(name: str) -> None:
    document = yaml.safe_load(SINGLE[name].read_text(encoding="utf-8"))
    single = load_schema(TEMPLATE, name, compiled=False)
    compiled = load_schema(TEMPLATE, name)
    assert single.fast is None and compiled.fast is not None
    verdicts = [(single.is_valid(v), compiled.is_valid(v)) for v in _variants(document)]
    assert all(a == b for a, b in verdicts)
    assert verdicts[0] == (True, True)
    assert sum(1 for a, _ in verdicts if not a) >= len(verdicts) // 10  # the variants reach the schema's rules


def test_the_configuration_is_read_without_compiling_its_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    schemas._load.cache_clear()
    compiled: list[Any] = []
    real = schemas._compile_fast
    monkeypatch.setattr(schemas, "_compile_fast", lambda document: compiled.append(document) or real(document))
    load_policy(TEMPLATE)
    load_calendar(TEMPLATE)
    assert compiled == []
    load_schema(TEMPLATE, "case")  # the case schema, asked about every case, is compiled
    assert len(compiled) == 1


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("ref, reason", [
    ("https://example.net/other.json#/$defs/x", "remote document"),
    ("other.schema.json", "remote document"),
    ("#/$defs/nowhere", "leads nowhere"),
    ("#/properties/~1no", "leads nowhere"),
])
def test_an_unusable_policy_schema_is_refused_when_loaded(tmp_path: Path, ref: str, reason: str, compiled: bool) -> None:
    root = _copy(tmp_path)
    _edit(root, "policy", lambda d: d.setdefault("properties", {}).__setitem__("extra_field", {"$ref": ref}))
    with pytest.raises(ConfigError) as caught:
        load_schema(root, "policy", compiled=compiled)
    message = str(caught.value)
    assert "policy.schema.json" in message and "not a usable JSON Schema" in message
    if not compiled:
        assert reason in message
    with pytest.raises(ConfigError):
        load_policy(root)


def _anchored(document: dict[str, Any]) -> None:
    document.setdefault("$defs", {})["named"] = {"$anchor": "named", "type": "string"}
    document.setdefault("properties", {})["extra_field"] = {"$ref": "#named"}


def _identified(document: dict[str, Any]) -> None:
    document.setdefault("$defs", {})["inner"] = {"$id": "inner.json", "type": "string"}
    document.setdefault("properties", {})["extra_field"] = {"$ref": "#/$defs/inner"}


@pytest.mark.parametrize("change", [_anchored, _identified], ids=["anchor", "nested-id"])
def test_a_schema_this_does_not_follow_is_left_to_the_compiler(tmp_path: Path, change: Any) -> None:
    # An anchor or an $id below the root: compiling decides whether the schema is usable,
    # exactly as when it is compiled anyway.
    root = _copy(tmp_path)
    _edit(root, "policy", change)
    outcomes = []
    for compiled in (True, False):
        schemas._load.cache_clear()
        try:
            schema = load_schema(root, "policy", compiled=compiled)
        except ConfigError as exc:
            outcomes.append(str(exc))
        else:
            assert schema.fast is not None  # compiled in both cases
            outcomes.append(str(schema.is_valid({"extra_field": 3})))
    assert outcomes[0] == outcomes[1]


def test_pointers_follow_rfc_6901() -> None:
    document = {"a/b": {"m~n": [{"x": 1}, {"%": 2}]}}
    assert schemas._points(document, "/a~1b/m~0n/1/%25")
    assert schemas._points(document, "")
    assert not schemas._points(document, "/a~1b/m~0n/2")
    assert not schemas._points(document, "/a~1b/m~0n/01")
    assert not schemas._points(document, "/a/b")


def test_a_property_named_like_a_data_keyword_has_its_references_followed(tmp_path: Path) -> None:
    # "default" under properties is a property's name, its value a schema: a reference that
    # leads nowhere there is refused when the schema is loaded, not met later.
    root = _copy(tmp_path)
    _edit(root, "policy", lambda d: d.setdefault("properties", {}).__setitem__("default", {"$ref": "#/$defs/nowhere"}))
    with pytest.raises(ConfigError, match="leads nowhere"):
        load_schema(root, "policy", compiled=False)


def test_a_reference_met_only_while_judging_is_a_configuration_error() -> None:
    # The last guard: whatever the loading missed, the reference validator's failure to
    # follow a reference is reported as the schema's fault, never as a traceback.
    import jsonschema

    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"a": {"$ref": "#/$defs/x"}}}
    single = schemas.Schema("broken.schema.json", document, None, jsonschema.Draft202012Validator(document))
    with pytest.raises(ConfigError, match="broken.schema.json: not a usable JSON Schema"):
        single.is_valid({"a": 1})
    with pytest.raises(ConfigError, match="broken.schema.json: not a usable JSON Schema"):
        single.problems({"a": 1})
