"""The model families."""


import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from powerlens.risk.explain import reason_codes
from powerlens.risk.models import LightGBMModel


def test_lightgbm_uses_categories_natively_and_explains_itself():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"region": rng.choice(["north", "south"], 400), "kwh_365d": rng.random(400),
                      "customer_class": "residential", "industry": "household"})
    y = ((X["region"] == "north") & (X["kwh_365d"] > 0.5)).astype(int)
    model = LightGBMModel({"n_estimators": 50, "min_child_samples": 5}).fit(X, y)
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.95
    unseen = X.head(3).assign(region="mars")
    assert model.predict_proba(unseen).shape == (3, 2)
    contrib = model.contributions(X.head(5))
    assert list(contrib.columns) == list(X.columns)
    assert any("service region: north" in r for r in reason_codes(model, X[y == 1].head(5)))
