"""Pseudonyms at the edge: direct identifiers never pass the import step.

Raw account/meter numbers become keyed pseudonyms (HMAC-SHA256 with a key kept outside the
repository, the data folder and MLflow), so one key links every table of a utility and a secure
system holding the key can link action lists back to accounts.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerlens.errors import PowerlensError

KEY_ENV = "POWERLENS_KEY_FILE"
DEFAULT_KEY_FILE = Path.home() / ".config" / "powerlens" / "pseudonym.key"
PSEUDONYM_PREFIX = "c"
PSEUDONYM_HEX = 16

# column names that are direct identifiers wherever they appear in a source
DIRECT_IDENTIFIER_HINTS = (
    "name", "address", "phone", "mobile", "email", "e_mail", "id_card", "idcard",
    "national_id", "passport", "account_no", "meter_no", "contact",
)


class PseudonymKeyError(PowerlensError, RuntimeError):
    """The pseudonym key cannot be read or is unsafe to use."""


def key_path(key_file: str | Path | None = None) -> Path:
    return Path(key_file or os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE).expanduser()


def load_or_create_key(key_file: str | Path | None = None, inside: Path | None = None,
                       notify=print) -> bytes:
    """Read the pseudonym key, creating a new random one (with a message) when absent.

    `inside` is a folder the key must not live in (the data folder, the repository)."""
    path = key_path(key_file)
    if inside is not None:
        try:
            path.resolve().relative_to(Path(inside).resolve())
            raise PseudonymKeyError("the pseudonym key must not live inside the project or data folder; "
                            f"set {KEY_ENV} to a path outside it")
        except ValueError:
            pass
    if not path.exists() and _create_key(path):
        notify("created a new pseudonym key outside the project (keep it safe: it links "
               f"pseudonyms back to accounts); set {KEY_ENV} to use another")
    return read_key(path)


def _create_key(path: Path) -> bool:
    """Write a new random key at `path`, readable by its owner only from the first byte, and
    complete before it appears (written aside, then hard-linked into place). Two processes
    creating it at once: one key wins, the other process reads it. True if this one created it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(staging, path)  # fails if another process created the key meanwhile
            return True
        except FileExistsError:
            return False
    finally:
        staging.unlink(missing_ok=True)


def read_key(path: Path) -> bytes:
    """The key in an existing key file, refused when others can read it or it is too short."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PseudonymKeyError(f"the pseudonym key file is readable by others (mode {mode:03o}); "
                                f"make it private with `chmod 600` on the file {KEY_ENV} names")
    try:
        key = path.read_text(encoding="ascii").strip()
    except (UnicodeDecodeError, IsADirectoryError):
        raise PseudonymKeyError("the pseudonym key file is not a text key (expected >= 32 hex characters "
                                "on one line); restore the right file") from None
    if len(key) < 32:
        raise PseudonymKeyError("the pseudonym key file is too short (need >= 32 hex characters)")
    return key.encode("ascii")


def pseudonym(key: bytes, raw_id: str) -> str:
    # one C call (millions of bill and payment numbers per import)
    digest = hmac.digest(key, str(raw_id).strip().encode("utf-8"), "sha256").hex()
    return f"{PSEUDONYM_PREFIX}{digest[:PSEUDONYM_HEX]}"


def _large_text(values: pd.Index) -> pa.Array:
    arr = pa.array(values.astype(str).array)
    return (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(pa.large_string())


def pseudonymize(key: bytes, raw_ids: pd.Series | Iterable[str], made: pd.Series | None = None) -> pd.Series:
    """Pseudonyms for a column of raw ids; each distinct id is hashed once. `made`: pseudonyms
    made before with the same key (indexed by their distinct raw ids as text, e.g. the bill
    numbers of the bills when the payments name them), looked up instead of hashed again."""
    series = pd.Series(raw_ids) if not isinstance(raw_ids, pd.Series) else raw_ids
    codes, uniques = pd.factorize(series.astype("string"), use_na_sentinel=True)
    uniques = uniques.astype(str)
    at = np.full(len(uniques), -1)
    if made is not None and len(uniques) and len(made):
        at = pc.index_in(_large_text(uniques), value_set=_large_text(made.index)).fill_null(-1).to_numpy()
    mapped = np.empty(len(uniques), dtype=object)
    mapped[at >= 0] = made.to_numpy(dtype=object)[at[at >= 0]] if (at >= 0).any() else []
    mapped[at < 0] = [pseudonym(key, u) for u in uniques.to_numpy(dtype=object)[at < 0]]
    out = np.where(codes >= 0, mapped[np.maximum(codes, 0)] if len(mapped) else None, None)
    return pd.Series(out, index=series.index, dtype="string")


def identifier_columns(columns: Iterable[str]) -> list[str]:
    """Columns whose names say they hold a direct identifier."""
    lowered = {c: str(c).lower() for c in columns}
    return [c for c, low in lowered.items() if any(h in low for h in DIRECT_IDENTIFIER_HINTS)]
