"""A shared DVC remote, as a team uses it: the project that ran `dvc repro` pushes to a remote on
a (shared) file system; a second clone of its git pulls and is up to date without re-running a
stage (docs/operations.md, "Team mode")."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from support import run

pytestmark = pytest.mark.slow

DVC = [sys.executable, "-m", "dvc"]


def test_a_second_clone_pulls_from_the_shared_remote_and_is_up_to_date(pipeline_run, tmp_path):
    project, env, _ = pipeline_run
    remote = tmp_path / "shared-remote"
    # --local: in the project's .dvc/config.local (not in its git), removed at the end, so that the
    # session's project stays as the other tests expect it
    run(DVC + ["remote", "add", "--local", "shared", str(remote)], project, env)
    try:
        pushed = run(DVC + ["push", "-r", "shared"], project, env)
    finally:
        (project / ".dvc" / "config.local").unlink(missing_ok=True)
    assert "pushed" in pushed.stdout.lower() and any(remote.rglob("*"))

    # what the team commits after a repro: the lock file and the metrics (cache: false, in git)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(project), str(clone)], tmp_path, env)
    shutil.copy2(project / "dvc.lock", clone / "dvc.lock")
    shutil.copytree(project / "metrics", clone / "metrics", dirs_exist_ok=True)
    clone_env = {**env, "POWERLENS_ROOT": str(clone), "MLFLOW_TRACKING_URI": f"sqlite:///{clone / 'mlflow.db'}"}
    run(DVC + ["remote", "add", "-d", "shared", str(remote)], clone, clone_env)
    run(["git", "add", "dvc.lock", "metrics", ".dvc/config"], clone, clone_env)
    run(["git", "commit", "-qm", "repro results and the shared remote"], clone, clone_env)
    assert not (clone / "data").exists()

    run(DVC + ["pull"], clone, clone_env)
    status = subprocess.run(DVC + ["status"], cwd=clone, env=clone_env, capture_output=True, text=True, timeout=300)
    assert status.returncode == 0 and "Data and pipelines are up to date" in status.stdout, status.stdout
    for path in ("data/features/features.parquet", "data/clean/customers.parquet", "data/scores/scores.parquet"):
        assert (clone / path).read_bytes() == (project / path).read_bytes(), path
    assert not (clone / "mlflow.db").exists()  # nothing ran: no stage opened an MLflow store
