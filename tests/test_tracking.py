"""A real MLflow store (sqlite in a temp folder): tags, registry, the champion rule; the git
commit tag in a real repository; runs of killed processes ended as FAILED."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from powerlens import tracking
from powerlens.jobs.train import fit_and_log
from powerlens.risk.models import LogisticModel


def _task_data(seed=0, n=600, signal=2.0):
    rng = np.random.default_rng(seed)
    rows = []
    for as_of in pd.to_datetime(["2026-01-01", "2026-04-01", "2026-07-01"]):
        x = rng.normal(size=n)
        rows.append(pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "as_of": as_of,
                                  "on_time_rate": x, "kwh_365d": rng.normal(size=n), "region": "north"}))
    feats = pd.concat(rows, ignore_index=True)
    p = 1 / (1 + np.exp(-(signal * feats["on_time_rate"] - 2.5)))
    y = pd.Series((rng.random(len(feats)) < p).astype(int))
    return feats, y


PARAMS = {"primary_metric": "roc_auc", "promotion_threshold": 0.01, "lightgbm": {"n_estimators": 30},
          "logistic": {"C": 1.0}}


@pytest.mark.slow
def test_runs_are_tagged_and_first_model_becomes_champion(mlflow_store, tmp_path):
    feats, y = _task_data()
    data = tmp_path / "features.parquet"
    feats.to_parquet(data)
    tags = tracking.run_tags("train@demo", [data])
    assert len(tags["data_hash"]) == 32 and tags["dvc_stage"] == "train@demo" and tags["git_commit"]
    summary = fit_and_log("demo", feats, y, PARAMS, tags, experiment="test-risk", log=lambda m: None)
    assert summary["promoted"] and summary["registered_version"] == 1
    client = MlflowClient()
    parent = client.get_run(summary["run_id"])
    assert parent.data.tags["dvc_stage"] == "train@demo" and parent.data.tags["task"] == "demo"
    assert parent.data.tags["data_hash"] == tags["data_hash"]
    children = client.search_runs([parent.info.experiment_id],
                                  f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert {c.data.tags["family"] for c in children} == {"lightgbm", "logistic", "histgb"}
    assert all({"roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10pct"} <= set(c.data.metrics)
               for c in children)
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"curves.png", "reliability.png", "promotion.json"} <= artifacts
    assert summary["calibration"] in {"none", "platt", "isotonic"}
    assert len(parent.inputs.dataset_inputs) == 1
    champion = tracking.champion_version("demo")
    assert champion is not None and str(champion.version) == "1"
    model = tracking.load_champion("demo")
    assert model.predict_proba(feats.drop(columns=["customer_id", "as_of"]).head(3)).shape == (3, 2)


@pytest.mark.slow
def test_a_model_that_does_not_beat_the_champion_becomes_challenger(mlflow_store):
    feats, y = _task_data()
    first = fit_and_log("demo", feats, y, PARAMS, {}, experiment="test-risk", log=lambda m: None)
    second = fit_and_log("demo", feats, y, PARAMS, {}, experiment="test-risk", log=lambda m: None)
    assert first["promoted"] and not second["promoted"]
    assert second["champion_metric_before"] is not None
    client = MlflowClient()
    assert str(client.get_model_version_by_alias("powerlens-demo", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("powerlens-demo", "challenger").version) == "2"


@pytest.mark.slow
def test_a_clearly_better_model_is_promoted(mlflow_store):
    feats, y = _task_data()
    cols = ["on_time_rate", "kwh_365d", "region"]
    weak = LogisticModel().fit(feats[["kwh_365d"]].assign(on_time_rate=0.0, region="north")[cols], y)
    tracking.use_experiment("test-risk")
    import mlflow

    with mlflow.start_run():
        uri = tracking.log_model(weak, "model", feats[cols])
    tracking.register(uri, "demo", promote=True, tags={})
    summary = fit_and_log("demo", feats, y, PARAMS, {}, experiment="test-risk", log=lambda m: None)
    assert summary["promoted"] and "promoted" in summary["decision"]
    assert str(MlflowClient().get_model_version_by_alias("powerlens-demo", "champion").version) == "2"


IMPORT_CHECK = """
import json, os, sys
import matplotlib, numpy, pandas, pandera, sklearn, lightgbm  # libraries that set variables of their own
before_env = dict(os.environ)
before_backend = matplotlib.get_backend()
import powerlens.risk.evaluate, powerlens.tracking, powerlens.jobs.train, powerlens.jobs.score
changed = {k for k in set(before_env) | set(os.environ) if before_env.get(k) != os.environ.get(k)}
print(json.dumps({"backend": [before_backend, matplotlib.get_backend()], "env": sorted(changed),
                  "mlflow_imported": "mlflow" in sys.modules}))
"""


@pytest.mark.slow
def test_importing_risk_and_tracking_changes_nothing_in_the_process():
    """No side effects at import: the backend, the environment and MLflow (which reads its
    environment when imported) are left to the entry point's configure_process()."""
    import json
    import os
    import subprocess
    import sys

    # a backend other than Agg, so that switching to it would show
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["backend"][0] == seen["backend"][1]
    assert seen["env"] == [] and not seen["mlflow_imported"]


@pytest.mark.slow
def test_use_experiment_works_without_configure_process(tmp_path):
    import os
    import subprocess
    import sys

    code = ("from powerlens import tracking\n"
            "print(tracking.use_experiment('test-bare'), tracking.champion_version('nothing'))\n")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "POWERLENS_ROOT": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1].endswith(" None")


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def test_the_git_commit_tag_is_the_commit_of_the_project(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").write_text("{}\n")
    env = {**os.environ, **GIT_ENV, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    monkeypatch.setenv("POWERLENS_ROOT", str(project))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    subprocess.run(["git", "init", "-q"], cwd=project, env=env, check=True)
    assert tracking.git_commit() == tracking.NOT_IN_GIT  # a repository without a commit yet
    subprocess.run(["git", "add", "params.yaml"], cwd=project, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "first"], cwd=project, env=env, check=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert len(sha) == 40 and tracking.git_commit() == sha
    assert tracking.run_tags("train@demo", [project / "params.yaml"])["git_commit"] == sha


def test_outside_git_the_tag_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("POWERLENS_ROOT", str(tmp_path))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert tracking.git_commit() == "none (not a git repository)"


def test_a_run_owner_is_gone_when_its_process_is_dead_or_another(tmp_path):
    mine = tracking.owner_tags()
    assert mine[tracking.PID_TAG] == str(os.getpid()) and mine[tracking.HOST_TAG]
    assert not tracking._owner_gone(mine)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead = {**mine, tracking.PID_TAG: finished.stdout.strip()}
    assert tracking._owner_gone(dead)
    reused = {**mine, tracking.PID_STARTED_TAG: f"{float(mine[tracking.PID_STARTED_TAG]) - 3600:.2f}"}
    assert tracking._owner_gone(reused)  # this pid, but a process started an hour earlier
    assert not tracking._owner_gone({})  # a run without the tags is left alone


@pytest.mark.slow
def test_runs_of_dead_processes_of_this_host_end_failed(mlflow_store, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    tracking.use_experiment("test-orphans")
    client = MlflowClient()
    experiment_id = client.get_experiment_by_name("test-orphans").experiment_id
    mine = tracking.owner_tags()
    dead = client.create_run(experiment_id, tags={**mine, tracking.PID_TAG: finished.stdout.strip()}).info.run_id
    alive = client.create_run(experiment_id, tags=mine).info.run_id
    elsewhere = client.create_run(experiment_id, tags={**mine, tracking.HOST_TAG: "another-machine",
                                                        tracking.PID_TAG: finished.stdout.strip()}).info.run_id
    # a container sharing this host name (another pid namespace): its pids mean other processes
    container = client.create_run(experiment_id, tags={**mine, tracking.MACHINE_TAG: "0000/4026531836",
                                                        tracking.PID_TAG: finished.stdout.strip()}).info.run_id
    with tracking.run("next", "test-orphans") as active:
        assert active.data.tags[tracking.PID_TAG] == str(os.getpid())
    assert client.get_run(dead).info.status == "FAILED"
    assert "is gone" in client.get_run(dead).data.tags["powerlens.ended_because"]
    assert client.get_run(alive).info.status == "RUNNING"
    assert client.get_run(elsewhere).info.status == "RUNNING"
    assert client.get_run(container).info.status == "RUNNING"
