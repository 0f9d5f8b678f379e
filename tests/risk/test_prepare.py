"""Feature selection per task and derived features."""


import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from powerlens.risk import prepare
from powerlens.risk.explain import reason_codes
from powerlens.risk.models import make_model
from support import acorn_like as _acorn_like


def test_feature_groups_keep_a_task_to_consumption():
    feats, y = _acorn_like(60)
    feats = feats.assign(tenure_years=1.0 + np.arange(60), attr_acorn_hint="x", region="london")
    cols = prepare.select_columns(feats, "acorn_group",
                                  {"feature_groups_by_task": {"acorn_group": ["load_profile", "theft_signal"]}})
    assert cols == ["kwh_365d", "winter_index", "daily_cv"]
    everything = prepare.select_columns(feats, "churn", {"exclude_features_by_task": {"churn": ["daily_cv"]}})
    assert "tenure_years" in everything and "daily_cv" not in everything and "region" not in everything


def test_derived_features_are_computed_inside_the_model_and_named_in_words():
    rng = np.random.default_rng(1)
    n = 800
    X = pd.DataFrame({"attr_net_margin": rng.gamma(2, 50, n), "attr_cons_12m": rng.gamma(2, 500, n)})
    X.loc[:4, "attr_cons_12m"] = 0.0  # a division by zero is a missing value, not infinity
    y = (X["attr_net_margin"] / X["attr_cons_12m"].replace(0, np.nan) > 0.12).astype(int)
    spec = prepare.applicable({"margin_per_kwh": {"expr": "attr_net_margin / attr_cons_12m",
                                                  "meaning": "net margin per kWh used"},
                               "needs_other_columns": {"expr": "a / b"}}, X.columns)
    assert list(spec) == ["margin_per_kwh"]
    assert prepare.add_derived(X, spec)["margin_per_kwh"].head(5).isna().all()
    model = make_model("lightgbm", {"lightgbm": {"n_estimators": 60, "min_child_samples": 10}}, derived=spec).fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)  # the signature: the feature table
    assert model.model_columns[-1] == "margin_per_kwh"
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.95
    assert all(r.startswith("net margin per kWh used") for r in reason_codes(model, X[y == 1].head(5), top=1))
    with pytest.raises(ValueError, match="only"):
        prepare.expression_columns("__import__('os').getcwd()")
