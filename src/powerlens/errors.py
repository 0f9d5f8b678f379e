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
