"""fit_champion: one family fitted and calibrated as the train job fits its best one."""

import numpy as np
import pandas as pd
import pytest

from powerlens.errors import PowerlensError
from powerlens.risk.calibration import CalibratedModel
from powerlens.risk.champion import Champion, calibrate, fit_champion
from powerlens.risk.results import NotEnoughLabels
from powerlens.risk.train import fit_and_compare

PARAMS = {"lightgbm": {"n_estimators": 30, "num_leaves": 4, "min_child_samples": 10}, "logistic": {"C": 1.0},
          "search": {"enabled": False}}


def _rows(n=300, signal=2.5, seed=0, cutoffs=("2026-01-01", "2026-04-01", "2026-07-01")):
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    for as_of in pd.to_datetime(list(cutoffs)):
        x = rng.normal(size=n)
        frames.append(pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(n)], "as_of": as_of,
                                    "on_time_rate": x, "kwh_365d": rng.normal(size=n), "region": rng.choice(["n", "s"], n)}))
        labels.append((rng.random(n) < 1 / (1 + np.exp(-(signal * x - 2.0)))).astype(int))
    return pd.concat(frames, ignore_index=True), pd.Series(np.concatenate(labels))


@pytest.mark.parametrize("family", ["logistic", "lightgbm"])
def test_a_champion_is_calibrated_and_its_scores_are_probabilities(family):
    feats, y = _rows()
    champion = fit_champion("demo", feats, y, PARAMS, family)
    assert isinstance(champion, Champion) and isinstance(champion.model, CalibratedModel)
    assert champion.family == family and champion.task == "demo"
    assert champion.train_cutoffs == ["2026-01-01", "2026-04-01"] and champion.valid_cutoff == "2026-07-01"
    assert set(champion.metrics) == {"roc_auc", "pr_auc", "brier"} and champion.metrics["roc_auc"] > 0.75
    assert champion.calibration in {"none", "platt", "isotonic"} and champion.model.method == champion.calibration
    proba = champion.model.predict_proba(feats[list(champion.model.feature_names_in_)])
    assert proba.shape == (len(feats), 2) and ((proba >= 0) & (proba <= 1)).all()
    assert np.allclose(proba.sum(axis=1), 1)


def test_the_champion_is_the_train_jobs_calibration_of_the_same_family():
    """One calibration code path: fit_champion calibrates as the train job calibrates its best."""
    feats, y = _rows(seed=1)
    result = fit_and_compare("demo", feats, y, PARAMS, families=("logistic",))
    model, method, briers = calibrate(result.families["logistic"], result)
    champion = fit_champion("demo", feats, y, PARAMS, "logistic")
    assert champion.calibration == method and set(briers) == {"none", "platt", "isotonic"}
    X = feats[list(model.feature_names_in_)]
    assert np.allclose(champion.model.predict_proba(X), model.predict_proba(X))


def test_a_blend_champion_brings_its_members():
    feats, y = _rows(seed=2)
    champion = fit_champion("demo", feats, y, PARAMS | {"families": ["lightgbm", "logistic", "blend"]}, "blend")
    assert champion.family == "blend" and len(champion.model.model.members) == 2


def test_too_few_positives_is_not_enough_labels():
    feats, y = _rows(signal=0.0)
    y[:] = 0
    y.iloc[[0, 1, 350]] = 1
    with pytest.raises(NotEnoughLabels, match="too few positive labels") as info:
        fit_champion("demo", feats, y, PARAMS, "logistic")
    assert isinstance(info.value, PowerlensError) and isinstance(info.value, ValueError)
