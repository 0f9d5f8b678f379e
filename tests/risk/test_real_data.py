"""Given labels from real sources train through the same stage: one snapshot, stratified
cross-validation (out-of-fold metrics), logged in MLflow, a champion in the registry. One test
per real sample asserts the issue's floor; each runs the import, the features and the train
stage with the families and search budget named in the test (the README's results table gives
the command with the full families and budget)."""

from __future__ import annotations

import pandas as pd
import pytest

from powerlens.config import load_config
from powerlens.jobs import features as features_job
from powerlens.jobs import score as score_job
from powerlens.jobs import train as train_job
from powerlens.jobs import validate as validate_job
from support import ROOT, real_data

pytestmark = [pytest.mark.slow, pytest.mark.real_data]


def _train_real(tmp_path, key_file, fmt: str, src, task: str, families: list[str],
                search: dict | None = None) -> dict:
    cfg = load_config(ROOT / "params.yaml")
    cfg = cfg.replace("train", families=tuple(families),
                      search=cfg.train.search.replace(**(search or {"enabled": False})))
    clean, feats_dir = tmp_path / "clean", tmp_path / "features"
    validate_job.run(src, out=clean, fmt=fmt, key_file=str(key_file))
    features_job.run(cfg.features, data=clean, out=feats_dir)
    return train_job.run(task, cfg, data=clean, features_dir=feats_dir, out=tmp_path / "models" / task,
                         experiment="test-real", plots=tmp_path / "plots")


def test_credit_history_arrears_reaches_its_floor(tmp_path, key_file, mlflow_store):
    """Issue floor: ROC-AUC >= 0.78, cross-validated (UCI layout; September's repayment status
    is known at the 1 October cut-off)."""
    src = real_data("uci_credit_default", "credit_default.csv.gz")
    summary = _train_real(tmp_path, key_file, "credit-history", src, "arrears", ["lightgbm", "histgb", "blend"])
    assert summary["validation"] == "stratified cross-validation" and summary["cv_folds"] == 5
    assert summary["n_train"] == 21_000 and summary["positives_train"] > 4000
    assert "bill_to_credit_limit" in summary["derived_features"]
    best = summary["families"][summary["best_family"]]
    assert best["roc_auc"] >= 0.78, summary["families"]
    assert summary["promoted"] and (tmp_path / "plots" / "roc.csv").exists()


def test_powerco_churn_reaches_its_floor(tmp_path, key_file, mlflow_store):
    """Issue floor: ROC-AUC >= 0.72, cross-validated, from client_data alone (public
    gradient-boosting results: 0.66-0.70), with every family as the README's command runs it.
    The margin is thin: LightGBM alone measures 0.715-0.724 over fold seeds 0-4 (README)."""
    src = real_data("powerco", "client_data.csv.gz")
    summary = _train_real(tmp_path, key_file, "powerco", src, "churn", ["lightgbm", "logistic", "histgb", "blend"])
    assert summary["n_train"] == 10_224 and {"margin_per_kw", "contract_days"} <= set(summary["derived_features"])
    assert "margin_per_kwh" not in summary["derived_features"]  # excluded for PowerCo churn (train.by_source)
    best = summary["families"][summary["best_family"]]
    assert best["roc_auc"] >= 0.72, summary["families"]


def test_lcl_acorn_group_from_consumption_alone_reaches_its_floor(tmp_path, key_file, mlflow_store):
    """Issue floor: macro one-vs-rest ROC-AUC >= 0.63 over Affluent / Comfortable / Adversity,
    cross-validated, from what the readings say only (no tariff arm, no tenure, no attributes);
    `powerlens score` writes one probability per class and the reasons for the predicted one."""
    src = real_data("lcl_london")
    summary = _train_real(tmp_path, key_file, "lcl", src, "acorn_group", ["logistic", "lightgbm", "blend"])
    assert set(summary["classes"]) == {"Affluent", "Comfortable", "Adversity"}
    best = summary["families"][summary["best_family"]]
    assert best["roc_auc"] >= 0.63, summary["families"]
    from powerlens import tracking

    used = tracking.load_champion("acorn_group").feature_names_in_
    assert "tou_tariff" not in used and "tenure_years" not in used
    out = tmp_path / "scores.csv"
    score_job.score_folder("acorn_group", load_config(ROOT / "params.yaml"), data=tmp_path / "clean", out=out)
    scores = pd.read_csv(out)
    assert {"score_Affluent", "score_Comfortable", "score_Adversity", "reasons"} <= set(scores.columns)
    assert scores.filter(like="score_").sum(axis=1).round(6).eq(1).all() and scores["reasons"].str.len().gt(0).mean() > 0.9
