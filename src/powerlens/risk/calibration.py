"""Calibration: scores mapped to honest probabilities by a calibrator fitted on validation
data (none, Platt or isotonic, chosen by the Brier score of 2-fold cross-fitting), and the
calibrated model that carries the calibrator with the fitted family model."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from powerlens.risk.prepare import meaning


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class CalibratedModel(BaseEstimator, ClassifierMixin):
    """A fitted model whose scores are mapped to probabilities by a calibrator fitted on
    validation data (isotonic or Platt; one per class, renormalized, for several classes), so
    that a score of 0.2 means 20 in 100."""

    def __init__(self, model=None, method: str = "none", calibrator=None):
        self.model = model
        self.method = method
        self.calibrator = calibrator

    @property
    def feature_names_in_(self):
        return self.model.feature_names_in_

    @property
    def classes_(self):
        return self.model.classes_

    @property
    def family(self) -> str:
        return getattr(self.model, "family", "")

    def raw_score(self, X) -> np.ndarray:
        """The uncalibrated score: the positive class's probability, or all classes' (n x K)."""
        return raw_score(self.model.predict_proba(X))

    def predict_proba(self, X) -> np.ndarray:
        p = apply_calibrator(self.method, self.calibrator, self.raw_score(X))
        return p if p.ndim == 2 else np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X, target=None):
        return self.model.contributions(X, target)

    def importance(self, X=None):
        return self.model.importance(X)

    def describe(self, column: str) -> str:
        return self.model.describe(column) if hasattr(self.model, "describe") else meaning(column)


def raw_score(proba: np.ndarray) -> np.ndarray:
    """A binary model's positive-class probability (n,), a multi-class model's matrix (n x K)."""
    proba = np.asarray(proba)
    return proba[:, 1] if proba.shape[1] == 2 else proba


def one_hot(y, classes) -> np.ndarray:
    y = np.asarray(y)
    return (y[:, None] == np.asarray(classes)[None, :]).astype(float)


def apply_calibrator(method: str, calibrator, score: np.ndarray) -> np.ndarray:
    score = np.asarray(score, dtype=float)
    if score.ndim == 2:  # one calibrator per class, then back to a distribution
        if method == "none" or calibrator is None:
            return score
        p = np.column_stack([apply_calibrator(method, cal, score[:, k]) for k, cal in enumerate(calibrator)])
        total = p.sum(axis=1, keepdims=True)
        return np.where(total > 0, p / np.where(total > 0, total, 1), 1.0 / p.shape[1])
    if method == "isotonic":
        p = calibrator.predict(score)
    elif method == "platt":
        p = calibrator.predict_proba(log_odds(score)[:, None])[:, 1]
    else:
        p = score
    return np.clip(p, 0, 1)


def fit_calibrator(method: str, score: np.ndarray, y: np.ndarray, classes=None):
    """A calibrator of `method` for binary scores (n,) against 0/1 labels, or per class for
    multi-class scores (n x K) against class labels (`classes` in column order)."""
    from sklearn.isotonic import IsotonicRegression

    score = np.asarray(score, dtype=float)
    if score.ndim == 2:
        if method == "none":
            return None
        Y = one_hot(y, classes)
        return [fit_calibrator(method, score[:, k], Y[:, k].astype(int)) for k in range(score.shape[1])]
    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(score, y)
    if method == "platt":
        return LogisticRegression(C=1e6).fit(log_odds(score)[:, None], y)
    return None


def brier(y, p: np.ndarray, classes=None) -> float:
    """Mean squared error of the probabilities (summed over classes for several classes)."""
    p = np.asarray(p, dtype=float)
    if p.ndim == 2:
        return float(np.mean(np.sum((p - one_hot(y, classes)) ** 2, axis=1)))
    return float(np.mean((p - np.asarray(y)) ** 2))


def choose_calibration(score: np.ndarray, y: np.ndarray, seed: int = 0,
                       classes=None) -> tuple[str, dict[str, float]]:
    """Pick none / Platt / isotonic by the Brier score of 2-fold cross-fitting on the
    validation data (fit on one half, judge on the other)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    score = np.asarray(score, dtype=float)
    briers = {m: 0.0 for m in ("none", "platt", "isotonic")}
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2 or counts.min() < 4:
        return "none", briers
    if score.ndim == 2 and classes is None:
        classes = np.unique(y)
    for fit_idx, eval_idx in StratifiedKFold(2, shuffle=True, random_state=seed).split(score, y):
        for method in briers:
            cal = fit_calibrator(method, score[fit_idx], y[fit_idx], classes)
            q = apply_calibrator(method, cal, score[eval_idx])
            briers[method] += brier(y[eval_idx], q, classes) / 2
    return min(briers, key=briers.get), briers
