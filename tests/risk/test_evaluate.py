"""Metrics: lift and capture, the paired bootstrap lead."""


import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from powerlens.risk import evaluate
from powerlens.risk.evaluate import lift_at, metrics


def test_lift_and_capture():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    lift, capture = lift_at(y, np.arange(10)[::-1], 0.2)
    assert lift == pytest.approx(5.0) and capture == pytest.approx(1.0)
    m = metrics(y, np.arange(10)[::-1])
    assert m["roc_auc"] == pytest.approx(1.0)


@pytest.mark.slow
def test_a_real_lead_has_an_interval_above_zero_and_noise_does_not():
    rng = np.random.default_rng(4)
    y = (rng.random(3000) < 0.05).astype(int)
    signal = y + rng.normal(0, 1.0, len(y))
    better = y + rng.normal(0, 0.6, len(y))
    lead = evaluate.paired_lead(y, better, signal)
    assert lead["lead_low"] > 0 and lead["lead_low"] <= lead["lead"] <= lead["lead_high"]
    as_good = y + rng.normal(0, 1.0, len(y))  # another model just as good, erring elsewhere
    tie = evaluate.paired_lead(y, as_good, signal)
    assert tie["lead_low"] < 0 < tie["lead_high"]
    classes = np.array(["a", "b", "c"])
    yc = classes[rng.integers(0, 3, 900)]
    onehot = (yc[:, None] == classes[None, :]).astype(float)
    proba = np.clip(onehot + rng.normal(0, 0.8, onehot.shape), 0.01, None)
    flat = np.full_like(proba, 1 / 3) + rng.normal(0, 0.01, proba.shape)
    assert evaluate.paired_lead(yc, proba, flat, classes=classes)["lead_low"] > 0.1
    assert evaluate.paired_lead(yc, proba, flat)["lead"] == evaluate.paired_lead(yc, proba, flat, classes=classes)["lead"]
    # cross-validated: the mean of the folds' leads, as the folds' metrics are averaged
    folds = [(None, np.arange(k, len(y), 3)) for k in range(3)]
    per_fold = [roc_auc_score(y[i], better[i]) - roc_auc_score(y[i], signal[i]) for _, i in folds]
    by_fold = evaluate.paired_lead(y, better, signal, folds=folds)
    assert by_fold["lead"] == pytest.approx(np.mean(per_fold)) and by_fold["lead_low"] > 0
