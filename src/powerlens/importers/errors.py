"""The one error every importer raises for a source it cannot read."""

from __future__ import annotations

from powerlens.errors import PowerlensError


class ImportFailed(PowerlensError, RuntimeError):
    """The source cannot be imported; the message names the file and the problem (one line)."""
