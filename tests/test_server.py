"""Team mode for real: `powerlens server` starts PostgreSQL and `mlflow server`; `powerlens train`
and `powerlens score` run against it as separate processes (two trainings of a task at once, and
one killed with -9), and the runs, the registry and the aliases are read back from the server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from powerlens.server import free_port
from support import ROOT

CLI = [sys.executable, "-m", "powerlens.cli"]


class _Output:
    """A process's stdout read by a thread into `lines` (so the pipe never fills and a silent hang
    fails at a deadline instead of blocking); `text()` once the process has ended."""

    def __init__(self, proc: subprocess.Popen):
        import queue
        import threading

        self.queue: queue.Queue = queue.Queue()
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._pump, args=(proc,), daemon=True)
        self.thread.start()

    def _pump(self, proc):
        for line in proc.stdout:
            self.lines.append(line)
            self.queue.put(line)
        self.queue.put(None)

    def text(self, timeout: float = 30) -> str:
        self.thread.join(timeout)
        return "".join(self.lines)


def _wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float,
                   output: _Output) -> tuple[str, list[str]]:
    """The first stdout line starting with `prefix` (read through `output`), before `timeout` s."""
    import queue

    lines = output.queue
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.rstrip())
        if line.startswith(prefix):
            return line.strip(), seen
    raise AssertionError(f"no {prefix!r} from powerlens server (exit {proc.poll()}):\n" + "\n".join(seen))


@pytest.fixture(scope="module")
def team(small_clean, tmp_path_factory):
    """A running `powerlens server` (its own PostgreSQL, free ports, a temp store) and a project
    folder whose params.yaml trains two quick families without a search: (tracking URI, the
    environment of a client process, the project, the store). Stopped with SIGTERM at the end,
    which must stop PostgreSQL too."""
    from powerlens.config import load_config
    from powerlens.jobs import features

    base = tmp_path_factory.mktemp("team")
    # not under pytest's base folder: each pytest session takes o+x away from it again, and under
    # root PostgreSQL runs as another user, which must reach its data folder
    store = Path(tempfile.mkdtemp(prefix="powerlens-server-")) / "store"
    project = base / "project"
    project.mkdir()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["train"].update(families=["lightgbm", "logistic"], tasks=["churn"])
    params["train"]["search"]["enabled"] = False
    params["train"]["lightgbm"]["n_estimators"] = 60
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    features.run(load_config(project / "params.yaml").features, data=small_clean, out=project / "features",
                 echo=lambda m: None)

    port, db_port = free_port(), free_port()
    server = subprocess.Popen(CLI + ["server", "--store", str(store), "--port", str(port), "--db-port", str(db_port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=base,
                              env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    output = _Output(server)
    try:
        line, seen = _wait_for_line(server, "export MLFLOW_TRACKING_URI=", timeout=180, output=output)
        uri = line.split("=", 1)[1]
        assert uri == f"http://127.0.0.1:{port}"
        assert any(f"PostgreSQL on 127.0.0.1:{db_port}" in s for s in seen)
        env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "POWERLENS_ROOT": str(project),
               "MLFLOW_DISABLE_TELEMETRY": "true"}
        yield uri, env, project, store
    finally:
        postmaster = store / "postgres" / "postmaster.pid"
        pg_pid = int(postmaster.read_text().split()[0]) if postmaster.exists() else None
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=90)
        out = output.text()
    assert server.returncode == 0, out
    assert "stopping" in out
    assert pg_pid is not None and not _alive(pg_pid), "PostgreSQL still runs after the server stopped"
    assert not postmaster.exists()  # a clean shutdown removes it
    shutil.rmtree(store.parent)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def _train(env, project, small_clean) -> subprocess.Popen:
    return subprocess.Popen(CLI + ["train", "churn", "--data", str(small_clean), "--features",
                                   str(project / "features"), "--out", str(project / "runs" / f"t{time.monotonic_ns()}")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=project)


def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@pytest.mark.slow
def test_two_trainings_at_once_land_on_the_server_with_one_champion_then_score(team, small_clean, tmp_path):
    uri, env, project, store = team
    started = time.perf_counter()
    both = [_train(env, project, small_clean) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], "\n\n".join(o[-3000:] for o in outs)
    print(f"two concurrent trainings: {time.perf_counter() - started:.1f} s")

    client = _client(uri)
    experiment = client.get_experiment_by_name("powerlens-risk")
    runs = client.search_runs([experiment.experiment_id], "tags.`mlflow.runName` = 'train-churn'")
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FINISHED"}
    run_ids = {r.info.run_id for r in runs}
    assert all(f"run id: {r}" in "".join(outs) for r in run_ids)
    children = [c for c in client.search_runs([experiment.experiment_id], "tags.family != ''")
                if c.data.tags.get("mlflow.parentRunId") in run_ids]
    assert len(children) == 4 and {c.data.tags["family"] for c in children} == {"lightgbm", "logistic"}
    assert all(r.data.tags["powerlens.pid"] in {str(p.pid) for p in both} for r in runs)
    # artifacts went through the server into its store
    assert any((store / "artifacts").rglob("MLmodel"))

    versions = sorted(client.search_model_versions("name = 'powerlens-churn'"), key=lambda v: int(v.version))
    assert [v.version for v in versions] == ["1", "2"]
    metrics = [float(v.tags["roc_auc"]) for v in versions]
    assert metrics[0] == metrics[1]  # the same data and seed: equal models, so the rule keeps the first
    champion = client.get_registered_model("powerlens-churn").aliases
    assert champion == {"champion": "1", "challenger": "2"}
    assert all(v.tags.get("powerlens.promotion") in (None, "done") or v.tags["powerlens.promotion"].startswith("lost")
               for v in versions)

    out = tmp_path / "scores.csv"
    scored = subprocess.run(CLI + ["score", "churn", "--data", str(small_clean), "--out", str(out)],
                            capture_output=True, text=True, env=env, cwd=project, timeout=600)
    assert scored.returncode == 0, scored.stderr[-3000:]
    scores = pd.read_csv(out)
    assert len(scores) > 100 and scores["score"].between(0, 1).all()
    assert f"wrote {len(scores)} scores" in scored.stdout


@pytest.mark.slow
def test_a_training_killed_with_sigkill_ends_failed_at_the_next_run(team, small_clean):
    uri, env, project, _ = team
    client = _client(uri)
    killed = _train(env, project, small_clean)
    deadline, running = time.monotonic() + 300, []
    while not running and time.monotonic() < deadline and killed.poll() is None:
        experiment = client.get_experiment_by_name("powerlens-risk")
        if experiment is not None:
            running = client.search_runs([experiment.experiment_id], "attributes.status = 'RUNNING' and "
                                         f"tags.`powerlens.pid` = '{killed.pid}'")
        time.sleep(0.2)
    assert running, f"never saw the run of {killed.pid} open: {killed.communicate()[0][-2000:]}"
    killed.kill()
    killed.wait(30)
    experiment_id = running[0].info.experiment_id
    orphaned = client.search_runs([experiment_id], f"tags.`powerlens.pid` = '{killed.pid}'")
    assert {r.info.status for r in orphaned} == {"RUNNING"}  # what MLflow leaves on its own

    again = _train(env, project, small_clean)
    out = again.communicate(timeout=600)[0]
    assert again.returncode == 0, out[-3000:]
    after = client.search_runs([experiment_id], f"tags.`powerlens.pid` = '{killed.pid}'")
    assert {r.info.run_id for r in after} == {r.info.run_id for r in orphaned}
    assert {r.info.status for r in after} == {"FAILED"}
    assert all("is gone" in r.data.tags["powerlens.ended_because"] for r in after)
    assert not client.search_runs([experiment_id], "attributes.status = 'RUNNING'")


def test_a_port_in_use_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(CLI + ["server", "--store", str(tmp_path / "store"), "--port", str(port)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: port {port} is in use: pass another --port"
    assert not (tmp_path / "store").exists()
