"""The machinery of typed configuration: frozen dataclass sections that check their keys and
types on creation and give plain dicts back (`powerlens.config` declares params.yaml's sections
with it; this module knows nothing of params.yaml's content).

A `Section` subclass declares its keys as dataclass fields with their defaults and its place in
params.yaml (`_path`). Field types: bool, int, float (an int is accepted and kept), str, Literal,
`tuple[X, ...]` (a YAML list), `Table` (a free-form mapping, frozen as `FrozenDict`), another
Section, and unions of these with None.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Union

from powerlens.errors import PowerlensError

__all__ = ["ConfigError", "FrozenDict", "Table", "Section", "coerce", "table", "unknown_key"]


class ConfigError(PowerlensError, ValueError):
    """params.yaml (or an override of it) has an unknown key or a value of the wrong type."""


class FrozenDict(dict):
    """A read-only dict: the free-form mappings of a frozen config (nested values frozen too).
    `|` and `copy()` give plain, mutable dicts."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("the configuration is read-only: use Config.replace() for a changed copy")

    __setitem__ = __delitem__ = __ior__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


# a free-form mapping (its keys are data: tasks, families, regions, criteria...)
Table = Mapping[str, Any]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenDict({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """Plain dicts and lists (what YAML, JSON, DVC and MLflow know)."""
    if isinstance(value, Section):
        return value.as_dict()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def unknown_key(key: str, valid: list[str], prefix: str) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    hint = f"did you mean '{prefix}{close[0]}'?" if close else f"valid keys: {', '.join(valid)}"
    return ConfigError(f"unknown key '{prefix}{key}' ({hint})")


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(hint))
    if origin is tuple:
        return f"a list (each {_describe(typing.get_args(hint)[0])})"
    if hint is type(None):
        return "null"
    if origin is Mapping or (isinstance(hint, type) and issubclass(hint, Section)):
        return "a mapping"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(hint, str(hint))


def coerce(value: Any, hint: Any, key: str) -> Any:
    """`value` as the field type `hint` wants it, else a one-line ConfigError naming `key`."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        # a mapping goes to the mapping option (so that its own unknown keys are reported)
        for option in options:
            if isinstance(value, Mapping) and (typing.get_origin(option) is Mapping or (
                    isinstance(option, type) and issubclass(option, Section))):
                return coerce(value, option, key)
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, key)
            except ConfigError:
                continue
        raise _wrong(value, hint, key)
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise _wrong(value, hint, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _wrong(value, hint, key)
        return tuple(coerce(v, typing.get_args(hint)[0], f"{key}[{i}]") for i, v in enumerate(value))
    if origin is Mapping:
        if value is None:  # `key:` with nothing after it in YAML: an empty mapping
            return FrozenDict()
        if not isinstance(value, Mapping):
            raise _wrong(value, hint, key)
        return _freeze(value)
    if isinstance(hint, type) and issubclass(hint, Section):
        if isinstance(value, hint):
            return value
        if value is None:
            return hint()
        if not isinstance(value, Mapping):
            raise _wrong(value, hint, key)
        return hint.from_dict(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value  # an int stays an int (315, not 315.0: logged as written)
    elif hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, dt.date):  # an unquoted date in YAML
            return value.isoformat()
    else:
        raise TypeError(f"config field type {hint!r} of {key} is not supported")
    raise _wrong(value, hint, key)


def _wrong(value: Any, hint: Any, key: str) -> ConfigError:
    return ConfigError(f"'{key}' must be {_describe(hint)}, got {value!r} ({type(value).__name__})")


@dataclasses.dataclass(frozen=True)
class Section:
    """A typed section of params.yaml: checked on creation, read-only, `as_dict()` for the
    domain functions (which take plain dicts)."""

    _path: ClassVar[str] = ""  # where the section sits in params.yaml ("segment.clustering")

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = coerce(getattr(self, f.name), hints[f.name], f"{self._path}.{f.name}")
            object.__setattr__(self, f.name, value)
        self._check()

    def _check(self) -> None:
        """Checks beyond the field types (a section's own rules)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None):
        """The section from its params.yaml mapping: missing keys take their defaults."""
        data = {} if data is None else data
        if not isinstance(data, Mapping):
            raise ConfigError(f"'{cls._path}' must be a mapping, got {data!r} ({type(data).__name__})")
        check_keys(cls, data, f"{cls._path}.")
        return cls(**data)

    def as_dict(self) -> dict[str, Any]:
        """The section as plain dicts and lists, every default filled in."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any):
        """A copy with `changes`, checked like params.yaml. A nested section may be given as a
        dict of the keys to change (`search={"enabled": False}` keeps its other keys); a free-form
        mapping is replaced whole."""
        for key, value in changes.items():
            current = getattr(self, key, None)
            if isinstance(current, Section) and isinstance(value, Mapping):
                changes[key] = current.replace(**value)
        return type(self).from_dict(self.as_dict() | {k: _plain(v) for k, v in changes.items()})


def table(value: Mapping[str, Any]) -> FrozenDict:
    """A default for a mapping field (frozen: shared by every instance)."""
    return _freeze(value)


def check_keys(cls: type, data: Mapping[str, Any], prefix: str) -> None:
    """Every key of `data` is a field of the dataclass `cls`, else the unknown-key ConfigError."""
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise unknown_key(str(key), names, prefix)
