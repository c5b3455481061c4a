"""Plain data to and from JSON for the result cache: nothing in a cache file can name code.

A cached value is built only from JSON's own types and a fixed list of the package's record
classes (frozen dataclasses and named tuples holding ids, dates, keys and numbers). Decoding
looks a class up by name in that list and calls its constructor with the stored fields;
anything else (an unknown tag or class, the wrong number of fields, a key that is not text)
is a ``DataFormatError``, and the caller throws the whole file away. Unlike pickle, a file
cannot import a module or call a function of its choosing.

Encoding (JSON arrays always start with a tag, so lists and records never look alike):
``["t", x...]`` a tuple, ``["l", x...]`` a list, ``["d", ordinal]`` a date,
``["o", "Class", field...]`` a registered record, a JSON object for a mapping with text keys.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from operator import attrgetter
from typing import Any, Callable


class DataFormatError(ValueError):
    """A cached value that is not one this module writes."""


# Where each record class lives; imported on first use of its name, so that this module
# imports none of the modules whose records it carries (they import the cache) and a command
# loads only the modules whose records its cache holds.
_HOMES: dict[str, str] = {
    "StageDeadline": "complaints.core.stages", "HandlerGroup": "complaints.commands.overdue", "OverdueReport": "complaints.commands.overdue", "LookupEntry": "complaints.core.receipt",
    "Problem": "complaints.checker.result", "FileResult": "complaints.checker.result", "ValidationReport": "complaints.checker.result", "CaseFacts": "complaints.core.stats",
    "Cell": "complaints.core.stats", "Label": "complaints.core.stats", "MetricDef": "complaints.core.stats", "MetricResult": "complaints.core.stats", "Period": "complaints.core.stats",
    "Slice": "complaints.core.stats", "StageFact": "complaints.core.stats", "StatsReport": "complaints.core.stats", "Checked": "complaints.engine.scan", "Verdict": "complaints.engine.scan",
    "HistoryFigure": "complaints.core.stats_history", "HistoryPeriod": "complaints.core.stats_history",
}
# name -> (constructor, field names), filled as names are used.
_CLASSES: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {}


def _lookup(name: str) -> tuple[Callable[..., Any], tuple[str, ...]] | None:
    entry = _CLASSES.get(name)
    if entry is None and name in _HOMES:
        from importlib import import_module

        cls = getattr(import_module(_HOMES[name]), name)
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        else:
            names = tuple(getattr(cls, "_fields"))
        entry = _CLASSES[name] = (cls, names)
    return entry


_PLAIN = frozenset({type(None), bool, int, float, str})
# type -> (name, getter of its fields) for a registered record class, None for any other type:
# decided once per type, since a cache holds hundreds of thousands of records.
_RECORDS: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]] | None] = {}


def _record(kind: type) -> tuple[str, Callable[[Any], tuple[Any, ...]]] | None:
    entry = _lookup(kind.__name__) if kind.__module__.startswith("complaints.") else None
    if entry is None or entry[0] is not kind:
        return None
    fields = entry[1]
    if issubclass(kind, tuple) and fields == getattr(kind, "_fields", None):
        return kind.__name__, tuple  # a named tuple holds its fields in order
    if len(fields) == 1:
        field = fields[0]
        return kind.__name__, lambda value: (getattr(value, field),)
    return kind.__name__, attrgetter(*fields)


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data; DataFormatError for anything not plain data."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    try:
        record = _RECORDS[kind]
    except KeyError:
        record = _RECORDS[kind] = _record(kind)
    plain, date = _PLAIN, dt.date
    # Plain values and dates, most of a record's fields, are encoded in line.
    if record is not None:
        return ["o", record[0], *[v if (t := type(v)) in plain else ["d", v.toordinal()] if t is date else encode(v)
                                  for v in record[1](value)]]
    if kind is tuple:
        return ["t", *[v if (t := type(v)) in plain else ["d", v.toordinal()] if t is date else encode(v) for v in value]]
    if kind is list:
        return ["l", *[v if (t := type(v)) in plain else ["d", v.toordinal()] if t is date else encode(v) for v in value]]
    if kind is dt.date:
        return ["d", value.toordinal()]
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DataFormatError(f"a mapping key of type {type(key).__name__}")
            out[key] = encode(item)
        return out
    raise DataFormatError(f"a value of type {kind.__name__}")


def decode(data: Any) -> Any:
    """The value ``encode`` turned into ``data``; DataFormatError for anything else."""
    kind = type(data)
    if kind in _PLAIN:
        return data
    plain = _PLAIN
    if kind is list or isinstance(data, list):
        if not data or not isinstance(data[0], str):
            raise DataFormatError("an untagged list")
        tag = data[0]
        if tag == "o":
            if len(data) < 2 or not isinstance(data[1], str):
                raise DataFormatError("a record without a class")
            entry = _lookup(data[1])
            if entry is None or len(data) - 2 != len(entry[1]):
                raise DataFormatError("an unknown record or the wrong number of fields")
            try:
                return entry[0](*[v if type(v) in plain else decode(v) for v in data[2:]])
            except (TypeError, ValueError) as exc:
                raise DataFormatError("a record its class refuses") from exc
        if tag == "t":
            return tuple([v if type(v) in plain else decode(v) for v in data[1:]])
        if tag == "l":
            return [v if type(v) in plain else decode(v) for v in data[1:]]
        if tag == "d":
            if len(data) != 2 or type(data[1]) is not int:
                raise DataFormatError("a malformed date")
            try:
                return dt.date.fromordinal(data[1])
            except (ValueError, OverflowError) as exc:
                raise DataFormatError("a date out of range") from exc
        raise DataFormatError("an unknown tag")
    if isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, dict):
        return {key: decode(item) for key, item in data.items()}
    raise DataFormatError("an unknown value")
