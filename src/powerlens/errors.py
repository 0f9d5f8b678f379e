"""The project's own error types. Only these become one-line messages for people (the CLI and
the DVC stage entries print them and exit 2); any other exception is a bug and keeps its
traceback."""

from __future__ import annotations


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


def read_yaml(path, error: type[PowerlensError] = InvalidInput):
    """A YAML file's content; a syntax error is `error` in one line naming the file and line."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{getattr(path, 'name', path)}: not valid YAML{where}: {problem}") from None
