"""complaints.core.events against schema/case.schema.json: every event kind the schema knows has
exactly one entry in the table (and the other way round), with the same fields, the same
required ones, and free text exactly where the schema has text."""
from __future__ import annotations

import json
from typing import Any

import pytest

from complaints.core import events, lifecycle
from complaints.core.receipt import COARSE_STATES
from conftest import TEMPLATE

SCHEMA: dict[str, Any] = json.loads((TEMPLATE / "schema" / "case.schema.json").read_text(encoding="utf-8"))
SCHEMA_KINDS: list[str] = SCHEMA["$defs"]["event"]["properties"]["kind"]["enum"]


def test_every_kind_in_the_schema_has_exactly_one_entry_and_vice_versa() -> None:
    assert len(SCHEMA_KINDS) == len(set(SCHEMA_KINDS))
    assert len(events.EVENT_KINDS) == len(set(events.EVENT_KINDS))
    assert set(events.EVENT_KINDS) == set(SCHEMA_KINDS)
    assert {name.removeprefix("event_") for name in SCHEMA["$defs"] if name.startswith("event_")} == set(SCHEMA_KINDS)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_fields_match_the_schema(kind: str) -> None:
    definition = SCHEMA["$defs"][f"event_{kind}"]
    names = [name for name in definition["properties"] if name not in ("kind", "date")]
    required = tuple(name for name in names if name in definition["required"])
    spec = events.EVENTS[kind]
    assert spec.required == required
    assert spec.optional == tuple(name for name in names if name not in required)
    for name in names:
        schema_field = definition["properties"][name]
        field = spec.fields[name]
        assert field.text == (schema_field.get("$ref") == "#/$defs/text"), name
        assert field.many == (schema_field.get("type") == "array"), name
        is_key = schema_field.get("$ref") == "#/$defs/key" or schema_field.get("items", {}).get("$ref") == "#/$defs/key"
        assert (field.vocabulary is not None) == is_key, name
        bounds = (schema_field["minimum"], schema_field["maximum"]) if "minimum" in schema_field else None
        assert events.field_bounds(name) == bounds, name


def test_words_and_states_are_unambiguous() -> None:
    commands = [spec.command for spec in events.EVENTS.values() if spec.command]
    assert len(commands) == len(set(commands))
    zh = [word for spec in events.EVENTS.values() for word in spec.words_zh]
    assert len(zh) == len(set(zh))
    assert all(spec.coarse is None or spec.coarse in COARSE_STATES for spec in events.EVENTS.values())
    for spec in events.EVENTS.values():
        if spec.command:
            assert events.event_command(spec.command) == spec.command
            assert events.event_command(spec.kind) == spec.command
            assert all(events.event_command(word) == spec.command for word in spec.words_zh)


def test_every_option_names_a_field_of_some_kind_and_every_field_has_an_option() -> None:
    fields = {name for spec in events.EVENTS.values() for name in spec.fields}
    assert {option.field for option in events.EVENT_OPTIONS} == fields


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_the_lifecycle_knows_every_kind(kind: str) -> None:
    track = lifecycle.Track(started=True, accepted=True)
    assert lifecycle.problem(track, {"kind": kind}) != f"unknown event kind {kind!r}"



def test_the_lifecycle_states_are_the_schemas_status_values() -> None:
    assert tuple(SCHEMA["properties"]["status"]["enum"]) == lifecycle.STATES


def test_event_help_names_every_word() -> None:
    from complaints.cli import cli

    command = cli.commands["event"]
    assert command.callback is not None and command.callback.__doc__ is not None
    listed = " ".join(command.callback.__doc__.split()).split("KIND is one of: ", 1)[1].split(";", 1)[0]
    assert [word.split(" (")[0] for word in listed.split(", ")] == list(events.EVENT_COMMANDS)
