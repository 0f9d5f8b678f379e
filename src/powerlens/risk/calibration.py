"""Calibration: scores mapped to honest probabilities by a calibrator fitted on validation
data (none, Platt or isotonic, chosen by the Brier score of 2-fold cross-fitting), and the
calibrated model that carries the calibrator with the fitted family model.

Every calibrator is strictly increasing, so calibration keeps the model's ranking: two customers
with different raw scores get different probabilities, in the same order (a list cut at
capacity takes the customers the model ranks first, not the ones a plateau's customer ids
happen to put first). The isotonic calibrator is `StrictIsotonic`: isotonic regression whose
plateaus hold at least `MIN_BLOCK` validation rows (a rate estimated from two customers is not
one), interpolated linearly between the plateaus' centres ("centred isotonic regression").
No probability is 0 or 1: plateau rates are clipped to [1/(n+1), n/(n+1)] of the n calibration
rows, and beyond the outermost plateau centres the map runs on, nearly flat, to 10% of the way
from the lowest rate to 0 at a raw score of 0 and from the highest rate to 1 at a raw score of 1
(`TAIL`: raw scores beyond what calibration saw keep their order too, with little change in
probability). Platt is squeezed affinely into [1/(n+1), n/(n+1)] and "none" into
[1e-6, 1 - 1e-6] (strictly increasing, no clipping: no ties at the ends)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from powerlens.risk.prepare import meaning

MIN_BLOCK = 10  # validation rows a plateau of the isotonic calibrator holds at least
EDGE = 1e-6  # Platt's and the raw score's distance from 0 and 1
TAIL = 0.1  # beyond the outermost plateau centres: the share of the way to 0 (1) reached at a raw score of 0 (1)


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
        return self.proba_and_raw(X)[0]

    def proba_and_raw(self, X) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated probabilities (n x K) and the raw scores behind them, from one
        prediction (scoring ranks by both: the raw score orders equal probabilities)."""
        raw = self.raw_score(X)
        p = apply_calibrator(self.method, self.calibrator, raw)
        return (p if p.ndim == 2 else np.column_stack([1 - p, p])), raw

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X, target=None):
        return self.model.contributions(X, target)

    def importance(self, X=None):
        return self.model.importance(X)

    def describe(self, column: str) -> str:
        return self.model.describe(column) if hasattr(self.model, "describe") else meaning(column)


class StrictIsotonic:
    """A strictly increasing isotonic calibrator (see the module's docstring): `fit(score, y)`,
    `predict(score)`; `knots_` are the (raw score, probability) points it interpolates."""

    def __init__(self, min_block: int = MIN_BLOCK):
        self.min_block = min_block

    def fit(self, score, y) -> StrictIsotonic:
        from sklearn.isotonic import IsotonicRegression

        score, y = np.asarray(score, dtype=float), np.asarray(y, dtype=float)
        fitted = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(score, y).predict(score)
        order = np.argsort(score, kind="stable")
        s, f, yy = score[order], fitted[order], y[order]
        starts = np.flatnonzero(np.r_[True, np.diff(f) != 0])  # plateaus: runs of one fitted value
        blocks = [[float(yy[a:b].sum()), float(b - a), float(s[a:b].sum())]
                  for a, b in zip(starts, np.r_[starts[1:], len(s)], strict=True)]
        blocks = _pool_small(blocks, self.min_block)
        n = len(y)
        centre = np.array([b[2] / b[1] for b in blocks])
        rate = np.clip([b[0] / b[1] for b in blocks], 1 / (n + 1), n / (n + 1))
        x, p = list(centre), list(rate)
        if x[0] > 0:
            x, p = [0.0, *x], [rate[0] * (1 - TAIL), *p]
        if x[-1] < 1:
            x, p = [*x, 1.0], [*p, rate[-1] + (1 - rate[-1]) * TAIL]
        self.knots_ = (np.array(x), np.array(p))
        self.n_ = n
        return self

    def predict(self, score) -> np.ndarray:
        x, p = self.knots_
        return np.interp(np.asarray(score, dtype=float), x, p)


def _pool_small(blocks: list[list[float]], min_block: int) -> list[list[float]]:
    """Adjacent isotonic plateaus ([positives, rows, sum of scores]) pooled until each holds at
    least `min_block` rows (or there is one left): the smallest plateau joins the neighbour
    whose rate is closest. Pooling neighbours of an increasing sequence keeps it increasing."""
    blocks = [list(b) for b in blocks]
    while len(blocks) > 1:
        sizes = [b[1] for b in blocks]
        i = int(np.argmin(sizes))
        if sizes[i] >= min_block:
            break
        rate = blocks[i][0] / blocks[i][1]
        if i == 0:
            j = 1
        elif i == len(blocks) - 1:
            j = i - 1
        else:
            left, right = blocks[i - 1], blocks[i + 1]
            j = i - 1 if abs(rate - left[0] / left[1]) <= abs(right[0] / right[1] - rate) else i + 1
        a, b = min(i, j), max(i, j)
        blocks[a:b + 1] = [[blocks[a][k] + blocks[b][k] for k in range(3)]]
    return blocks


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
        p = calibrator.predict(score)  # StrictIsotonic (a model saved before it: sklearn's, with plateaus)
        return p if isinstance(calibrator, StrictIsotonic) else np.clip(p, 0, 1)
    if method == "platt":
        p = calibrator.predict_proba(_platt_input(score))[:, 1]
        n = getattr(calibrator, "n_calibration_", None)
        edge = 1 / (n + 1) if n else EDGE  # a Platt calibrator saved before it knew its n: EDGE
    else:
        p, edge = np.clip(score, 0, 1), EDGE
    return edge + (1 - 2 * edge) * p


def _platt_input(score: np.ndarray) -> np.ndarray:
    """The raw score's log-odds, clipped only where float64 runs out (1e-15 from 0 and 1), so
    that saturated raw scores keep their order."""
    p = np.clip(score, 1e-15, 1 - 1e-15)
    return np.log(p / (1 - p))[:, None]


def fit_calibrator(method: str, score: np.ndarray, y: np.ndarray, classes=None):
    """A calibrator of `method` for binary scores (n,) against 0/1 labels, or per class for
    multi-class scores (n x K) against class labels (`classes` in column order)."""
    score = np.asarray(score, dtype=float)
    if score.ndim == 2:
        if method == "none":
            return None
        Y = one_hot(y, classes)
        return [fit_calibrator(method, score[:, k], Y[:, k].astype(int)) for k in range(score.shape[1])]
    if method == "isotonic":
        return StrictIsotonic().fit(score, y)
    if method == "platt":
        platt = LogisticRegression(C=1e6).fit(_platt_input(score), y)
        platt.n_calibration_ = len(score)
        return platt
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
