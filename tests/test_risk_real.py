"""Given labels from real sources train through the same stage: one snapshot, stratified
cross-validation, a champion in the registry."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import ROOT, real_data
from powerlens import stages
from powerlens.risk import labels


def test_given_labels_join_the_features_at_their_as_of():
    table = pd.DataFrame({"customer_id": ["a", "b", "c"], "task": ["churn", "churn", "other"],
                          "as_of": pd.to_datetime(["2016-01-01"] * 3), "label": ["1", "f", "1"]})
    feats = pd.DataFrame({"customer_id": ["a", "b", "z"], "as_of": pd.to_datetime(["2016-01-01"] * 3),
                          "x": [1.0, 2.0, 3.0]})
    y, rows = labels.given(table, "churn", feats)
    assert list(rows["customer_id"]) == ["a", "b"] and list(y) == [1, 0]
    # two text labels that are not yes/no: which one is the risk would be a guess, so it is refused
    named = table.assign(task="churn", label=["Affluent", "Comfortable", "Adversity"])
    with pytest.raises(ValueError, match="give a binary task as 0/1"):
        labels.given(named, "churn", feats)


def test_credit_history_arrears_trains_cross_validated(tmp_path, key_file, mlflow_store):
    src = real_data("uci_credit_default", "credit_default.csv.gz")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    clean, feats_dir = tmp_path / "clean", tmp_path / "features"
    stages.validate(src, clean, str(key_file), fmt="credit-history")
    stages.features(clean, feats_dir, params["features"])
    train = params["train"] | {"families": ["lightgbm", "logistic"], "cv_folds": 3}
    summary = stages.train("arrears", clean, feats_dir, tmp_path / "models" / "arrears", train,
                           params["features"]["horizon_months"], experiment="test-real")
    assert summary["validation"] == "stratified cross-validation"
    assert summary["n_train"] == 21_000 and summary["positives_train"] > 4000
    assert summary["families"]["lightgbm"]["roc_auc"] > 0.72
    assert summary["promoted"]
