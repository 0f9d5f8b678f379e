"""The train job on the small utility, as DVC runs it: metrics.json, DVC plots, MLflow runs and
the registry; a second run is the challenger; our own errors for a wrong task or a missing step."""

import json
import sys

import pandas as pd
import pytest
from mlflow import MlflowClient

from powerlens.errors import MissingInput, UsageError
from powerlens.risk.evaluate import PLOT_COLUMNS
from support import ROOT

pytestmark = pytest.mark.slow


def fast_config():
    """params.yaml with two quick families and no search (the job's logic, not its models)."""
    from powerlens.config import load_config

    cfg = load_config(ROOT / "params.yaml")
    return cfg.replace("train", families=("lightgbm", "logistic"), search=cfg.train.search.replace(enabled=False),
                       lightgbm=dict(cfg.train.lightgbm) | {"n_estimators": 60})


@pytest.fixture(scope="module")
def features_dir(small_clean, tmp_path_factory):
    from powerlens.jobs import features as job

    out = tmp_path_factory.mktemp("train_job") / "features"
    job.run(fast_config().features, data=small_clean, out=out, echo=lambda m: None)
    return out


def test_the_train_job_registers_a_champion_then_a_challenger(small_clean, features_dir, mlflow_store, tmp_path):
    from powerlens import tracking
    from powerlens.jobs import train

    cfg, said = fast_config(), []
    kwargs = dict(data=small_clean, features_dir=features_dir, experiment="test-train-job", echo=said.append)
    first = train.run("churn", cfg, out=tmp_path / "models" / "churn", metrics=tmp_path / "metrics" / "train_churn.json",
                      plots=tmp_path / "plots" / "churn", **kwargs)
    assert first["promoted"] and first["registered_version"] == 1 and first["best_family"] in {"lightgbm", "logistic"}
    assert set(first["families"]) == {"lightgbm", "logistic"} and first["hyperparameter_search"] == "off (params.yaml)"
    assert first["validation"].startswith("time-aware") and len(first["train_cutoffs"]) == 4
    written = json.loads((tmp_path / "models" / "churn" / "metrics.json").read_text())
    assert written == json.loads((tmp_path / "metrics" / "train_churn.json").read_text())
    assert list(written)[-10:] == ["best_family", "calibration", "registered_version", "promoted", "decision",
                                   "champion_metric_before", "run_id", "champion_family", "training_seconds", "seconds"]
    for kind, cols in PLOT_COLUMNS.items():
        table = pd.read_csv(tmp_path / "plots" / "churn" / f"{kind}.csv")
        assert list(table.columns) == cols and len(table), kind
    assert any("churn: no comparable champion" in m for m in said)

    client = MlflowClient()
    parent = client.get_run(first["run_id"])
    assert parent.data.tags["dvc_stage"] == "train@churn" and parent.data.params["train.seed"] == "0"
    artifacts = {a.path for a in client.list_artifacts(first["run_id"])}
    assert {"curves.png", "reliability.png", "promotion.json", "plots"} <= artifacts
    assert str(tracking.champion_version("churn").version) == "1"

    second = train.run("churn", cfg, out=tmp_path / "models" / "churn", **kwargs)
    assert not second["promoted"] and second["champion_metric_before"] == pytest.approx(
        first["families"][first["best_family"]]["roc_auc"], abs=1e-4)
    assert second["champion_family"] == first["best_family"]
    assert str(client.get_model_version_by_alias("powerlens-churn", "challenger").version) == "2"


def test_a_task_without_enough_labels_is_skipped_with_its_plot_files(small_clean, features_dir, mlflow_store,
                                                                        tmp_path):
    from powerlens.jobs import train

    cfg = fast_config().replace("train", arrears_days_past_due=100_000)  # nobody is ever that late
    summary = train.run("arrears", cfg, data=small_clean, features_dir=features_dir, out=tmp_path / "models",
                        plots=tmp_path / "plots", experiment="test-train-job", echo=lambda m: None)
    assert "too few positive labels" in summary["skipped"]
    assert all(list(pd.read_csv(tmp_path / "plots" / f"{k}.csv").columns) == c for k, c in PLOT_COLUMNS.items())


def test_a_wrong_task_or_a_missing_step_is_said_in_our_own_words(small_clean, features_dir, mlflow_store, tmp_path):
    from powerlens.jobs import train

    with pytest.raises(UsageError, match="no labels for task 'acorn_group'"):
        train.run("acorn_group", fast_config(), data=small_clean, features_dir=features_dir, out=tmp_path,
                  echo=lambda m: None)
    with pytest.raises(MissingInput, match="run the features stage first"):
        train.run("churn", fast_config(), data=small_clean, features_dir=tmp_path / "nowhere", out=tmp_path,
                  echo=lambda m: None)


def test_main_reads_the_task_from_the_command_line(monkeypatch):
    from powerlens.jobs import train

    monkeypatch.setattr(sys, "argv", ["pipelines/train.py"])
    with pytest.raises(UsageError, match="TASK"):
        train.main()
