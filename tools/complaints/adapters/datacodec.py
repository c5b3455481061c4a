"""Plain data to and from JSON for the result cache: nothing in a cache file can name code.

A cached value is built only from JSON's own types and the record classes registered with
``register`` (frozen dataclasses and named tuples holding ids, dates, keys and numbers; this
module knows none of them by name). Decoding looks a class up by name among those and calls
its constructor with the stored fields;
anything else (an unknown tag or class, the wrong number of fields, a key that is not text)
is a ``DataFormatError``, and the caller throws the whole file away. Unlike pickle, a file
cannot import a module or call a function of its choosing.

Encoding (JSON arrays always start with a tag, so lists and records never look alike):
``["t", x...]`` a tuple, ``["l", x...]`` a list, ``["d", ordinal]`` a date,
``["o", "Class", field...]`` a registered record, a JSON object for a mapping with text keys,
``["p", "Class", value...]`` a registered record that packs itself: a class with
``codec_pack(self) -> list`` (plain JSON values only: text, finite numbers, booleans, null, in a
fixed layout, e.g. dates as ordinals) and ``codec_unpack(cls, values) -> record``, which checks
every value and raises ``DataFormatError`` (or TypeError / ValueError) for anything else. A
record a scan's workers encode by the hundred thousand (the deadline engine's stages, the
statistics' facts) is a few flat values that way, for the JSON writer (orjson) alone to write.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
import typing
from collections.abc import Mapping
from operator import attrgetter
from typing import Any, Callable


class DataFormatError(ValueError):
    """A cached value that is not one this module writes."""


# name -> (constructor, field names) of every record class a cache may hold.
_CLASSES: dict[str, tuple[type, tuple[str, ...]]] = {}


def register(*classes: type) -> None:
    """Allow records of these classes (frozen dataclasses or named tuples of plain data) in a
    cache. Whoever caches a value registers the classes it is made of before reading or writing
    it (registering a class again does nothing); a value holding any other class is not
    cached, and a stored record of any other class makes its file be thrown away."""
    for cls in classes:
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        elif issubclass(cls, tuple) and hasattr(cls, "_fields"):
            names = tuple(getattr(cls, "_fields"))
        else:
            raise TypeError(f"{cls.__name__} is neither a dataclass nor a named tuple")
        known = _CLASSES.get(cls.__name__)
        # The same class loaded again (a module reloaded) takes the old one's place.
        if known is not None and (known[0].__module__, known[0].__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"two record classes named {cls.__name__}: {known[0].__module__} and {cls.__module__}")
        _CLASSES[cls.__name__] = (cls, names)
        if callable(getattr(cls, "codec_pack", None)) and callable(getattr(cls, "codec_unpack", None)):
            _PACKED[cls.__name__] = cls
        else:
            _PACKED.pop(cls.__name__, None)
        _RECORDS.pop(cls, None)  # decided again: it may have been seen before it was registered


_PLAIN = frozenset({type(None), bool, int, float, str})
# What encode passes on as it is without a look: a number that is not finite is refused (the
# cache's JSON writer would write it as null), so a float is looked at.
_AS_IS = _PLAIN - {float}
# type -> (name, getter of its fields) for a registered record class, None for any other type:
# decided once per type, since a cache holds hundreds of thousands of records.
_RECORDS: dict[type, tuple[str, Callable[[Any], Any]] | None] = {}


# Registered classes that pack themselves: name -> the class.
_PACKED: dict[str, type] = {}


def _record(kind: type) -> tuple[str, Callable[[Any], Any]] | None:
    entry = _CLASSES.get(kind.__name__)
    if entry is None or entry[0] is not kind:
        return None
    if kind.__name__ in _PACKED:
        return "", _packer(kind)
    fields = entry[1]
    if issubclass(kind, tuple) and fields == getattr(kind, "_fields", None):
        return kind.__name__, tuple  # a named tuple holds its fields in order
    if len(fields) == 1:
        field = fields[0]
        return kind.__name__, lambda value: (getattr(value, field),)
    return kind.__name__, attrgetter(*fields)


def _packer(kind: type) -> Callable[[Any], Any]:
    name = kind.__name__

    def pack(value: Any) -> list[Any]:
        values = value.codec_pack()
        if not _AS_IS.issuperset(map(type, values)):
            for v in values:
                if type(v) not in _PLAIN:
                    raise DataFormatError("a packed value that is not plain data")
                if type(v) is float:
                    _finite(v)
        return ["p", name, *values]

    return pack


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise DataFormatError("a number that is not finite")
    return value


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data; DataFormatError for anything not plain data."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is float:
        return _finite(value)
    try:
        record = _RECORDS[kind]
    except KeyError:
        record = _RECORDS[kind] = _record(kind)
    plain, date = _AS_IS, dt.date
    # Plain values and dates, most of a record's fields, are encoded in line.
    if record is not None:
        if not record[0]:
            return record[1](value)
        return ["o", record[0], *[v if (t := type(v)) in plain else ["d", v.toordinal()] if t is date else encode(v)
                                  for v in record[1](value)]]
    if kind is tuple:
        return ["t", *[v if (t := type(v)) in plain else ["d", v.toordinal()] if t is date else encode(v) for v in value]]
    if kind is list:
        return ["l", *[v if (t := type(v)) in plain else ["d", v.toordinal()] if t is date else encode(v) for v in value]]
    if kind is dt.date:
        return ["d", value.toordinal()]
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise DataFormatError(f"a mapping key of type {type(key).__name__}")
            out[key] = encode(item)
        return out
    raise DataFormatError(f"a value of type {kind.__name__}")


# Decoded dates and short texts, one object per value (up to a bound): a cache's records
# repeat a few thousand days and a few dozen vocabulary keys, and a run that decodes 100,000
# records would otherwise hold a copy of each per record.
_SHARED: dict[Any, Any] = {}
_MAX_SHARED = 100_000
_SHORT = 40


def _shared(value: Any) -> Any:
    found = _SHARED.get(value)
    if found is not None:
        return found
    if len(_SHARED) < _MAX_SHARED:
        _SHARED[value] = value
    return value


def decode(data: Any) -> Any:
    """The value ``encode`` turned into ``data``; DataFormatError for anything else."""
    kind = type(data)
    if kind in _PLAIN:
        return _shared(data) if kind is str and len(data) <= _SHORT else data
    plain = _PLAIN
    if kind is list or isinstance(data, list):
        if not data or not isinstance(data[0], str):
            raise DataFormatError("an untagged list")
        tag = data[0]
        if tag == "o":
            if len(data) < 2 or not isinstance(data[1], str):
                raise DataFormatError("a record without a class")
            entry = _CLASSES.get(data[1])
            if entry is None or len(data) - 2 != len(entry[1]):
                raise DataFormatError("an unknown record or the wrong number of fields")
            try:
                return entry[0](*[(_shared(v) if type(v) is str and len(v) <= _SHORT else v) if type(v) in plain else decode(v)
                                  for v in data[2:]])
            except (TypeError, ValueError) as exc:
                raise DataFormatError("a record its class refuses") from exc
        if tag == "p":
            cls = _PACKED.get(data[1]) if len(data) >= 2 and isinstance(data[1], str) else None
            if cls is None:
                raise DataFormatError("an unknown packed record")
            values = data[2:]
            if not plain.issuperset(map(type, values)):
                raise DataFormatError("a packed record holding more than plain values")
            try:
                return getattr(cls, "codec_unpack")(values)
            except (TypeError, ValueError, IndexError, OverflowError) as exc:
                raise DataFormatError("a packed record its class refuses") from exc
        if tag == "t":
            return tuple([(_shared(v) if type(v) is str and len(v) <= _SHORT else v) if type(v) in plain else decode(v) for v in data[1:]])
        if tag == "l":
            return [(_shared(v) if type(v) is str and len(v) <= _SHORT else v) if type(v) in plain else decode(v) for v in data[1:]]
        if tag == "d":
            if len(data) != 2 or type(data[1]) is not int:
                raise DataFormatError("a malformed date")
            day = _SHARED.get(("d", data[1]))
            if day is not None:
                return day
            try:
                day = dt.date.fromordinal(data[1])
            except (ValueError, OverflowError) as exc:
                raise DataFormatError("a date out of range") from exc
            if len(_SHARED) < _MAX_SHARED:
                _SHARED[("d", data[1])] = day
            return day
        raise DataFormatError("an unknown tag")
    if isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, dict):
        return {key: decode(item) for key, item in data.items()}
    raise DataFormatError("an unknown value")


# ---- the shape of a decoded value ----------------------------------------------------------

# record class -> (field name, its type hint, and for a hint that names plain types only --
# text, numbers, booleans, dates, None, or a union of them -- the set of exact types allowed)
# for each field its constructor takes.
_HINTS: dict[type, tuple[tuple[str, Any, frozenset[type] | None], ...]] = {}
_PLAIN_HINTS = {str: (str,), bool: (bool,), int: (int,), float: (float, int), dt.date: (dt.date,), type(None): (type(None),)}


def _registered(hint: Any) -> bool:
    return isinstance(hint, type) and _CLASSES.get(hint.__name__, (None, ()))[0] is hint


def _plain_types(hint: Any) -> frozenset[type] | None:
    parts = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if not all(part in _PLAIN_HINTS or part is None for part in parts):
        return None
    return frozenset(t for part in parts for t in _PLAIN_HINTS[type(None) if part is None else part])


def _hints(cls: type) -> tuple[tuple[str, Any, frozenset[type] | None], ...]:
    found = _HINTS.get(cls)
    if found is None:
        entry = _CLASSES.get(cls.__name__)
        if entry is None or entry[0] is not cls:
            raise TypeError(f"{cls.__name__} is not a registered record")
        # The annotations are text (postponed): resolved in the class's module, once.
        resolved = typing.get_type_hints(cls)
        found = _HINTS[cls] = tuple((name, resolved[name], _plain_types(resolved[name])) for name in entry[1])
    return found


def _record_conforms(value: Any, cls: type) -> bool:
    if type(value) is not cls:
        return False
    for name, hint, plain in _hints(cls):
        item = getattr(value, name)
        if plain is not None:
            if type(item) not in plain:
                return False
        elif not _conforms(item, hint):
            return False
    return True


def conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of the type ``hint`` names, all the way down: the check a value
    decoded from a cache passes before it is used as what the code expects. Each record
    (a registered class) must hold, in each field, a value of that field's annotated type;
    text, numbers, booleans, dates, None, tuples, lists, mappings, unions and literals are
    checked as written (a bool is not an int). A hint it does not know is refused. A cache
    file is authenticated (cache.py), so this guards against a file the tool's own earlier
    version wrote, or one forged with the secret: a wrong value is computed afresh rather
    than stopping a command with a traceback."""
    try:
        return _conforms(value, hint)
    except RecursionError:
        return False


def _conforms(value: Any, hint: Any) -> bool:
    if hint is Any or isinstance(hint, typing.TypeVar):
        return True
    if hint is None:
        return value is None
    plain = _PLAIN_HINTS.get(hint)
    if plain is not None:
        return type(value) in plain
    origin = typing.get_origin(hint)
    if origin is None:
        if _registered(hint):
            return _record_conforms(value, hint)
        # Any other class named bare (``tuple``): a value of that class, its contents unchecked.
        return isinstance(hint, type) and type(value) is hint
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return any(_conforms(value, arg) for arg in args)
    if origin is typing.Literal:
        return any(type(value) is type(arg) and value == arg for arg in args)
    if origin is tuple:
        if type(value) is not tuple:
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(item, args[0]) for item in value)
        if args == ((),):
            return len(value) == 0
        return len(value) == len(args) and all(_conforms(item, arg) for item, arg in zip(value, args))
    if origin is list:
        return type(value) is list and all(_conforms(item, args[0] if args else Any) for item in value)
    if origin is dict or origin is Mapping:
        key, item = args if len(args) == 2 else (Any, Any)
        return isinstance(value, dict) and all(_conforms(k, key) and _conforms(v, item) for k, v in value.items())
    if _registered(origin):
        # A generic record (Checked[R]): its fields as annotated, the type variables anything.
        return _record_conforms(value, origin)
    return False
