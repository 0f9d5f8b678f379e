"""The one error every importer raises for a source it cannot read."""

from __future__ import annotations


class ImportFailed(RuntimeError):
    """The source cannot be imported; the message names the file and the problem (one line)."""
