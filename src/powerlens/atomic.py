"""Crash-safe writes: an output either is complete or is not there.

Every file a job writes goes through `atomic_file` (or the helpers built on it): it is written to a
hidden temporary name beside its target and renamed over it only when the write finished, so a
kill -9 in the middle leaves the old file (or none), never a half-written one that a later
stage would read as valid. `atomic_dir` does the same for a folder written as one unit.

Temporary names carry the process id and a random part, so two processes writing the same
target at once never write into each other's files; the last rename wins whole.

    with atomic_file(out / "scores.parquet") as tmp:
        frame.to_parquet(tmp, index=False)
    write_text(path, text)
    with atomic_dir(out / "2026-10") as staging:
        ...  # write the folder's files into staging
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_file", "atomic_dir", "write_text", "write_json", "write_parquet", "write_csv",
           "is_temporary", "remove_leftovers"]

_MARK = ".tmp-"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}{_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def is_temporary(path: str | Path) -> bool:
    """True for the leftovers of an interrupted atomic write (safe to delete)."""
    name = Path(path).name
    return name.startswith(".") and _MARK in name


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove(tmp)


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it takes the place of `path` (the old folder,
    if any, is moved aside first and deleted after). A failure leaves `path` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _temporary(path)
    staging.mkdir()
    retired = _temporary(path)
    try:
        yield staging
        if path.exists():
            os.replace(path, retired)
        os.replace(staging, path)
    finally:
        _remove(staging)
        _remove(retired)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Small JSON files (metrics, manifests), indented, so reruns diff cleanly."""
    return write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def write_parquet(frame, path: str | Path, **kwargs) -> Path:
    with atomic_file(path) as tmp:
        frame.to_parquet(tmp, **{"index": False, **kwargs})
    return Path(path)


def write_csv(frame, path: str | Path, **kwargs) -> Path:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, **{"index": False, **kwargs})
    return Path(path)


def _writer_alive(name: str) -> bool:
    """Whether the process that made a temporary name (`.<target>.tmp-<pid>-<random>`) runs."""
    match = re.search(r"\.tmp-(\d+)-", name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(target: Path) -> list[Path]:
    """Delete what killed writes of `target` left beside it (staging folders, temporary files
    of `powerlens.atomic` whose process is gone); a running writer's are left alone."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    removed = []
    for path in target.parent.glob(f".{glob.escape(target.name)}.tmp-*"):
        if is_temporary(path) and not _writer_alive(path.name):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed.append(path)
    return removed
