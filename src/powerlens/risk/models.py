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


class LightGBMModel(BaseEstimator, ClassifierMixin):
    """LightGBM with categorical attributes used natively (categories fixed at fit time)."""

    def __init__(self, params: dict | None = None, seed: int = 0):
        self.params = params
        self.seed = seed

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X[self.feature_names_in_].copy()
        for col, cats in self.categories_.items():
            X[col] = pd.Categorical(X[col].astype(str), categories=cats)
        return X

    def fit(self, X: pd.DataFrame, y):
        self.feature_names_in_ = np.array(X.columns)
        self.categories_ = {c: sorted(X[c].astype(str).unique()) for c in CATEGORICAL if c in X}
        self.model_ = lgb.LGBMClassifier(**(self.params or {}), random_state=self.seed, verbose=-1, n_jobs=2)
        self.model_.fit(self._frame(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self._frame(X))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-row feature contributions to the log-odds (LightGBM's TreeSHAP)."""
        raw = self.model_.predict(self._frame(X), pred_contrib=True)
        return pd.DataFrame(raw[:, :-1], columns=self.feature_names_in_, index=X.index)

    @property
    def feature_importances_(self) -> np.ndarray:
        return self.model_.booster_.feature_importance("gain")


class LogisticModel(BaseEstimator, ClassifierMixin):
    """The baseline: imputed, scaled, one-hot, L2-regularized logistic regression with
    balanced class weights."""

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X: pd.DataFrame, y):
        self.feature_names_in_ = np.array(X.columns)
        cats = [c for c in CATEGORICAL if c in X]
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

    @property
    def feature_importances_(self) -> np.ndarray:
        coef = np.abs(self.pipeline_.named_steps["clf"].coef_[0])
        imp = dict(zip(self.nums_, coef[:len(self.nums_)], strict=True))
        return np.array([imp.get(c, 0.0) for c in self.feature_names_in_])


def make_model(family: str, params: dict, seed: int = 0, task: str | None = None):
    """A fresh model of a family, with the task's overrides (`lightgbm_by_task`) applied."""
    if family == "lightgbm":
        lgb_params = dict(params.get("lightgbm", {})) | dict(params.get("lightgbm_by_task", {}).get(task, {}))
        return LightGBMModel(params=lgb_params, seed=seed)
    if family == "logistic":
        return LogisticModel(C=float(params.get("logistic", {}).get("C", 1.0)))
    raise ValueError(f"unknown model family {family!r}; known: lightgbm, logistic")
