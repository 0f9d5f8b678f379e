"""The project's own error types. Only these become one-line messages for people (the CLI and
the DVC stage entries print them and exit 2); any other exception is a bug and keeps its
traceback."""

from __future__ import annotations

import functools


class PowerlensError(Exception):
    """A problem the user can fix (bad input, missing step, wrong option): said in one line."""


class UsageError(PowerlensError):
    """A command or function was called with options that do not fit together."""


class MissingInput(PowerlensError):
    """An input a step needs does not exist yet; the message names the step that makes it."""


class InvalidInput(PowerlensError, ValueError):
    """A file or setting the user gave is malformed (a playbook key, a data folder with nothing
    to date it, an unknown engine...): the message names what to fix."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@functools.cache
def yaml_loader() -> type:
    """PyYAML's SafeLoader (no Python objects, no code) with YAML 1.2 booleans: only true/false
    are booleans, so a key or value `on`, `off`, `yes`, `no` stays the string it is (YAML 1.1 reads
    a mapping key `on:` as True, which would silently rename a source column or a region called
    "on"). Every YAML the project reads (params, playbook, mappings) goes through it."""
    import re

    import yaml

    class Yaml12SafeLoader(yaml.SafeLoader):
        pass

    bool_tag = "tag:yaml.org,2002:bool"
    Yaml12SafeLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != bool_tag]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Yaml12SafeLoader.add_implicit_resolver(bool_tag, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                           list("tTfF"))
    return Yaml12SafeLoader


def read_yaml(path, error: type[PowerlensError] = InvalidInput):
    """A YAML file's content (safe loader, YAML 1.2 booleans: `yaml_loader`); a syntax error is
    `error` in one line naming the file and line."""
    import yaml

    try:
        with open(path, encoding="utf-8-sig") as fh:
            return yaml.load(fh, Loader=yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{getattr(path, 'name', path)}: not valid YAML{where}: {problem}") from None
