"""Model families, all scikit-learn compatible so that MLflow logs and loads them alike."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from powerlens.features.definitions import CATEGORICAL


def categorical_columns(X: pd.DataFrame) -> list[str]:
    """The known categorical attributes plus any other non-numeric column (source attributes)."""
    return [c for c in X.columns if c in CATEGORICAL or not pd.api.types.is_numeric_dtype(X[c])]


class _NativeCategoricalModel(BaseEstimator, ClassifierMixin):
    """A boosting model that takes categories natively: the categories seen at fit time are
    fixed, so unseen values at scoring time become missing instead of new codes."""

    def __init__(self, params: dict | None = None, seed: int = 0):
        self.params = params
        self.seed = seed

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X[self.feature_names_in_].copy()
        for col, cats in self.categories_.items():
            X[col] = pd.Categorical(X[col].astype(str), categories=cats)
        return X

    def _make(self):
        raise NotImplementedError

    def fit(self, X: pd.DataFrame, y):
        self.feature_names_in_ = np.array(X.columns)
        self.categories_ = {c: sorted(X[c].astype(str).unique()) for c in categorical_columns(X)}
        self.model_ = self._make()
        self.model_.fit(self._frame(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self._frame(X))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class LightGBMModel(_NativeCategoricalModel):
    """LightGBM with categorical attributes used natively."""

    def _make(self):
        return lgb.LGBMClassifier(**(self.params or {}), random_state=self.seed, verbose=-1, n_jobs=2)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-row feature contributions to the log-odds (LightGBM's TreeSHAP)."""
        raw = self.model_.predict(self._frame(X), pred_contrib=True)
        return pd.DataFrame(raw[:, :-1], columns=self.feature_names_in_, index=X.index)

    def importance(self, X: pd.DataFrame | None = None) -> np.ndarray:
        """Total gain of the splits on each feature."""
        return self.model_.booster_.feature_importance("gain")


class LogisticModel(BaseEstimator, ClassifierMixin):
    """The baseline: imputed, scaled, one-hot, L2-regularized logistic regression with
    balanced class weights."""

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X: pd.DataFrame, y):
        self.feature_names_in_ = np.array(X.columns)
        cats = categorical_columns(X)
        nums = [c for c in X.columns if c not in cats]
        self.pipeline_ = Pipeline([
            ("prep", ColumnTransformer([
                ("num", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                  ("scale", StandardScaler())]), nums),
                ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
            ])),
            ("clf", LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000)),
        ])
        Xc = X.copy()
        Xc[nums] = Xc[nums].clip(-1e9, 1e9)
        self.pipeline_.fit(Xc, y)
        self.classes_ = self.pipeline_.classes_
        self.nums_, self.cats_ = nums, cats
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        X = X[self.feature_names_in_].copy()
        X[self.nums_] = X[self.nums_].clip(-1e9, 1e9)
        return self.pipeline_.predict_proba(X)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """coefficient x transformed value, summed back onto the original columns."""
        X = X[self.feature_names_in_].copy()
        X[self.nums_] = X[self.nums_].clip(-1e9, 1e9)
        prep = self.pipeline_.named_steps["prep"]
        Z = prep.transform(X)
        Z = Z.toarray() if hasattr(Z, "toarray") else Z
        contrib = Z * self.pipeline_.named_steps["clf"].coef_[0]
        out = pd.DataFrame(contrib[:, :len(self.nums_)], columns=self.nums_, index=X.index)
        if self.cats_:
            enc = prep.named_transformers_["cat"]
            offset = len(self.nums_)
            for col, cats in zip(self.cats_, enc.categories_, strict=True):
                out[col] = contrib[:, offset:offset + len(cats)].sum(axis=1)
                offset += len(cats)
        return out

    def importance(self, X: pd.DataFrame | None = None) -> np.ndarray:
        """Absolute coefficient of each (scaled) numeric feature."""
        coef = np.abs(self.pipeline_.named_steps["clf"].coef_[0])
        imp = dict(zip(self.nums_, coef[:len(self.nums_)], strict=True))
        return np.array([imp.get(c, 0.0) for c in self.feature_names_in_])


class HistGBModel(_NativeCategoricalModel):
    """scikit-learn's histogram gradient boosting, categorical attributes as native categories."""

    def _make(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(**(self.params or {}), categorical_features="from_dtype",
                                              random_state=self.seed)

    def fit(self, X: pd.DataFrame, y):
        super().fit(X, y)
        # the stand-in reference values for contributions: medians, and modes for categories
        self.reference_ = {c: (X[c].mode().iloc[0] if c in self.categories_ else X[c].median())
                           for c in X.columns}
        return self

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """No exact contributions for this family: the change in log-odds when one feature is
        replaced by its training median (one at a time) is a serviceable stand-in."""
        base = self._logit(X)
        out = {}
        for col in self.feature_names_in_:
            ref = X.copy()
            ref[col] = self.reference_.get(col, ref[col])
            out[col] = base - self._logit(ref)
        return pd.DataFrame(out, index=X.index)

    def _logit(self, X):
        p = np.clip(self.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    def importance(self, X: pd.DataFrame) -> np.ndarray:
        """Mean absolute stand-in contribution on a sample of rows."""
        sample = X.sample(min(300, len(X)), random_state=self.seed)
        return self.contributions(sample).abs().mean().to_numpy()


class CalibratedModel(BaseEstimator, ClassifierMixin):
    """A fitted model whose scores are mapped to probabilities by a calibrator fitted on
    validation data (isotonic or Platt), so that a score of 0.2 means 20 in 100."""

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

    def raw_score(self, X) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]

    def predict_proba(self, X) -> np.ndarray:
        p = apply_calibrator(self.method, self.calibrator, self.raw_score(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X):
        return self.model.contributions(X)

    def importance(self, X=None):
        return self.model.importance(X)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def apply_calibrator(method: str, calibrator, score: np.ndarray) -> np.ndarray:
    if method == "isotonic":
        p = calibrator.predict(score)
    elif method == "platt":
        p = calibrator.predict_proba(_logit(score)[:, None])[:, 1]
    else:
        p = score
    return np.clip(p, 0, 1)


def fit_calibrator(method: str, score: np.ndarray, y: np.ndarray):
    from sklearn.isotonic import IsotonicRegression

    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(score, y)
    if method == "platt":
        return LogisticRegression(C=1e6).fit(_logit(score)[:, None], y)
    return None


def choose_calibration(score: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[str, dict[str, float]]:
    """Pick none / Platt / isotonic by the Brier score of 2-fold cross-fitting on the
    validation data (fit on one half, judge on the other)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    briers = {m: 0.0 for m in ("none", "platt", "isotonic")}
    if min(np.bincount(y, minlength=2)) < 4:
        return "none", briers
    for fit_idx, eval_idx in StratifiedKFold(2, shuffle=True, random_state=seed).split(score, y):
        for method in briers:
            cal = fit_calibrator(method, score[fit_idx], y[fit_idx])
            q = apply_calibrator(method, cal, score[eval_idx])
            briers[method] += float(np.mean((q - y[eval_idx]) ** 2)) / 2
    return min(briers, key=briers.get), briers


def make_model(family: str, params: dict, seed: int = 0, task: str | None = None):
    """A fresh model of a family, with the task's overrides (`lightgbm_by_task`) applied."""
    if family == "lightgbm":
        lgb_params = dict(params.get("lightgbm", {})) | dict(params.get("lightgbm_by_task", {}).get(task, {}))
        return LightGBMModel(params=lgb_params, seed=seed)
    if family == "logistic":
        return LogisticModel(C=float(params.get("logistic", {}).get("C", 1.0)))
    if family == "histgb":
        return HistGBModel(params=dict(params.get("histgb", {})), seed=seed)
    raise ValueError(f"unknown model family {family!r}; known: lightgbm, logistic, histgb")
