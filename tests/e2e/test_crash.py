"""Crash safety, by fault injection: `dvc repro` of a small project is killed with SIGKILL (the
whole process group, and any kernel that left it) in the features stage, in a train stage and
in the report stage, and run again after each kill. The last run completes; `dvc status` is
clean; no temporary file of an interrupted write (`powerlens.atomic.is_temporary`) is inside
any output; the outputs are the uninterrupted run's (`pipeline_run`: same params, same key);
the runs of the killed training end FAILED and none is left RUNNING.

90-140 s on 2 cores, plus `pipeline_run` (75-135 s, shared with the other end-to-end tests).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from support import project_copy, run

pytestmark = pytest.mark.slow

# the same project as conftest.pipeline_run: its outputs are the reference
PARAMS = {
    "generate": {"customers": 500, "months": 24},
    "features": {"n_training_cutoffs": 3},
    "segment": {"clustering": {"k_max": 6, "sample_size": 500}},
    "forecast": {"backtest_origins": 2, "calibration_weeks": 8, "lightgbm": {"n_estimators": 100, "learning_rate": 0.12}},
}
# outputs whose every byte depends only on the params and the key: the same md5 in dvc.lock
DETERMINISTIC = [("generate", "data/raw"), ("validate", "data/truth"), ("score", "data/scores")]
# outputs whose tables are byte-identical but whose JSON files carry run details (the seconds a
# stage took; validation.json's tables in the order their imports finished, and the features'
# fingerprint of it): parquet files compared byte by byte, JSON files as data without those
SAME_FILES = ["data/clean", "data/features", "data/segments"]
RUN_DETAILS = {"seconds", "data_fingerprint"}


def without_run_details(value):
    if isinstance(value, dict):
        return {k: without_run_details(v) for k, v in value.items() if k not in RUN_DETAILS}
    if isinstance(value, list):
        return [without_run_details(v) for v in value]
    return value


def assert_same_files(mine: Path, reference: Path) -> None:
    import json

    files = sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(mine) for p in mine.rglob("*") if p.is_file()), mine
    for name in files:
        if name.suffix == ".json":
            a, b = (json.loads((root / name).read_text()) for root in (mine, reference))
            assert without_run_details(a) == without_run_details(b), name
        else:
            assert (mine / name).read_bytes() == (reference / name).read_bytes(), name


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to dvc's process group and to every descendant (a notebook kernel may run in a
    session of its own)."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    os.killpg(proc.pid, signal.SIGKILL)
    for child in family:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=60)


def temporaries(folder: Path) -> list[Path]:
    from powerlens.atomic import is_temporary

    return [p for p in folder.rglob("*") if is_temporary(p)] if folder.is_dir() else []


def repro(project: Path, env: dict, log: Path, kill_when: Callable[[str], bool] | None = None,
          timeout: float = 600) -> tuple[float, str]:
    """`dvc repro` in the project; with kill_when(log text), SIGKILL it when that becomes true.
    Returns the seconds it ran and its output."""
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "dvc", "repro"], cwd=project, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while proc.poll() is None and time.perf_counter() - start < timeout:
            if kill_when is not None and kill_when(log.read_text(errors="replace")):
                kill_group(proc)
                return time.perf_counter() - start, log.read_text(errors="replace")
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            kill_group(proc)
    text = log.read_text(errors="replace")
    assert kill_when is None, f"dvc repro ended (exit {proc.returncode}) before the kill point:\n{text[-3000:]}"
    assert proc.returncode == 0, f"dvc repro failed after the kills:\n{text[-5000:]}"
    return time.perf_counter() - start, text


class After:
    """A kill point: a line of the stage's own output, then `also` (a file appearing) or `wait` s."""

    def __init__(self, line: str, wait: float, also: Callable[[], bool] = lambda: False):
        self.line, self.wait, self.also, self.seen = line, wait, also, None

    def __call__(self, text: str) -> bool:
        if self.seen is None:
            if self.line not in text:
                return False
            self.seen = time.perf_counter()
        return self.also() or time.perf_counter() - self.seen >= self.wait


def mlflow_runs(project: Path, status: str) -> list[str]:
    """Ids of the project's MLflow runs with this status (read from its SQLite store)."""
    store = project / "mlflow.db"
    if not store.exists():
        return []
    # read-write: after a kill -9 the store may hold a hot journal, which only a writable
    # connection rolls back (a read-only one fails); retried while another process holds the lock
    for _ in range(20):
        try:
            with sqlite3.connect(store, timeout=5) as db:
                return [r[0] for r in db.execute("select run_uuid from runs where status = ?", (status,))]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # not created yet
                return []
            time.sleep(0.25)
    raise AssertionError(f"{store} stayed unreadable")


def lock_outs(project: Path) -> dict[str, dict[str, str]]:
    """stage -> {out path: md5} from dvc.lock."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {stage: {o["path"]: o["md5"] for o in info.get("outs", [])} for stage, info in lock["stages"].items()}


def test_kill_during_features_train_and_report_then_repro_completes_identically(pipeline_run, key_file,
                                                                                tmp_path_factory):
    reference, _, _ = pipeline_run
    project = tmp_path_factory.mktemp("crash")
    env = {**project_copy(project, key_file, PARAMS), "PYTHONUNBUFFERED": "1"}
    period = yaml.safe_load((project / "params.yaml").read_text())["report"]["periods"][-1]
    logs = tmp_path_factory.mktemp("crash_logs")
    seconds = {}

    # 1. in features: once the stage has started writing (a temporary file appears) or 0.5 s in
    features = After("[features", 0.5, lambda: any("features" in p.name for p in temporaries(project / "data")))
    seconds["until the kill in features"], _ = repro(project, env, logs / "1.log", features)
    assert "features" not in lock_outs(project)  # the killed stage is not recorded as done

    # 2. in train: once the first task's MLflow run is open (RUNNING in the store)
    in_train = After("[train churn", 120.0, lambda: bool(mlflow_runs(project, "RUNNING")))
    seconds["re-run until the kill in train"], text = repro(project, env, logs / "2.log", in_train)
    killed = mlflow_runs(project, "RUNNING")
    assert killed, "the kill in train came before its MLflow run started"
    assert "train@churn" not in lock_outs(project) and "features" in lock_outs(project)
    assert "Running stage 'features'" in text  # the killed stage runs again...
    assert "Stage 'validate' didn't change, skipping" in text  # ...the ones before it do not

    # 3. in report: the notebook is executing in its staging folder beside reports/<period>
    #    (or 4 s after the stage started)
    reports = project / "reports"
    staging = After(f"Running stage 'report@{period}'", 4.0,
                    lambda: any(p.name.startswith(f".{period}.tmp-") for p in
                                (reports.iterdir() if reports.is_dir() else [])))
    seconds["re-run until the kill in report"], text = repro(project, env, logs / "3.log", staging)
    assert f"report@{period}" not in lock_outs(project) and f"snapshot@{period}" in lock_outs(project)
    assert "Stage 'features' didn't change, skipping" in text
    assert "Stage 'segment' didn't change, skipping" in text or "Running stage 'segment'" not in text

    # 4. the re-run completes
    seconds["re-run after the kill in report"], text = repro(project, env, logs / "4.log")
    assert f"Running stage 'report@{period}'" in text and "Running stage 'features'" not in text
    print("crash-safety seconds:", {k: round(v, 1) for k, v in seconds.items()})

    status = run([sys.executable, "-m", "dvc", "status"], project, env).stdout
    assert "up to date" in status, status

    outs = lock_outs(project)
    inside = [p for paths in outs.values() for out in paths for p in temporaries(project / out)]
    assert inside == [], inside
    assert not [p for p in (project / "reports").iterdir() if p.name.startswith(".")]

    expected = lock_outs(reference)
    for stage, out in DETERMINISTIC:
        assert outs[stage][out] == expected[stage][out], (stage, out)
    for out in SAME_FILES:
        assert_same_files(project / out, reference / out)
    from powerlens.snapshots import TABLES, load_snapshot

    mine, theirs = (load_snapshot(p / "data" / "snapshots" / period) for p in (project, reference))
    for name in ("features", "segments", "segments_previous", "profiles", "scores", "plan", "review", "kpis",
                 "pareto", "pareto_summary", "drift"):
        assert name in TABLES
        if theirs.tables[name] is None:
            assert mine.tables[name] is None, name
        else:
            pd.testing.assert_frame_equal(mine.tables[name], theirs.tables[name], obj=name)
    assert (project / "reports" / period / "strategy_report.html").stat().st_size > 100_000

    assert mlflow_runs(project, "RUNNING") == [], "MLflow runs left RUNNING after the re-run"
    assert set(killed) <= set(mlflow_runs(project, "FAILED"))  # the killed training's runs
