"""Crash-safe writes: a write that fails (or is killed) leaves the previous output, never half a
file; leftovers of dead writers are recognised and removed, a live writer's are not."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from powerlens.atomic import (
    atomic_dir,
    atomic_file,
    is_temporary,
    remove_leftovers,
    write_json,
    write_parquet,
)


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "scores.parquet"
    write_parquet(pd.DataFrame({"a": [1, 2]}), target)
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_bytes(b"half a parquet file")
        raise RuntimeError("killed")
    assert pd.read_parquet(target)["a"].tolist() == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    folder = tmp_path / "2026-10"
    with atomic_dir(folder) as staging:
        write_json(staging / "manifest.json", {"v": 1})
        (staging / "old.txt").write_text("only in the first version")
    with pytest.raises(RuntimeError), atomic_dir(folder) as staging:
        write_json(staging / "manifest.json", {"v": 2})
        raise RuntimeError("killed half way")
    assert (folder / "old.txt").exists() and '"v": 1' in (folder / "manifest.json").read_text()
    with atomic_dir(folder) as staging:
        write_json(staging / "manifest.json", {"v": 3})
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]  # nothing of the old folder stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-10"]


def test_leftovers_of_dead_writers_are_removed_a_live_writers_kept(tmp_path):
    target = tmp_path / "features.parquet"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    leftover = tmp_path / f".features.parquet.tmp-{dead_pid}-abcdef12"
    leftover.write_bytes(b"partial")
    live = tmp_path / f".features.parquet.tmp-{os.getpid()}-0123abcd"
    live.write_bytes(b"being written")
    unrelated = tmp_path / ".features.parquet.bak"
    unrelated.write_bytes(b"not ours")
    assert is_temporary(leftover) and is_temporary(live) and not is_temporary(unrelated)
    assert remove_leftovers(target) == [leftover]
    assert not leftover.exists() and live.exists() and unrelated.exists()
