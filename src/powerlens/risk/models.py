"""Model families, all scikit-learn compatible so that MLflow logs and loads them alike.

Every family handles binary (0/1) and multi-class (class names) labels. `contributions(X, target)`
explains, per row, the log-odds of one class: the positive class of a binary task, else the
class named by `target` (indices into `classes_`), by default the predicted class.

Imbalance is handled deliberately, per family (`class_weight` in params.yaml): the trees are
trained unweighted on the true base rate (their log-loss then gives probabilities near the
truth, and reweighting did not improve their ranking here), the logistic baseline with balanced
class weights (an L2-regularized linear model otherwise shrinks towards predicting the majority);
folds are stratified, the metrics that matter for a capped list (PR-AUC, lift, capture, precision
at k) are reported next to ROC-AUC, and the calibration fitted on validation scores
(`calibration.CalibratedModel`, re-exported here) turns every family's score into an honest
probability.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from powerlens.errors import InvalidInput
from powerlens.features.definitions import CATEGORICAL
from powerlens.risk.calibration import (  # noqa: F401  (re-exported: models.CalibratedModel and co.)
    CalibratedModel,
    apply_calibrator,
    brier,
    choose_calibration,
    fit_calibrator,
    log_odds,
    one_hot,
    raw_score,
)
from powerlens.risk.explain import typical_values
from powerlens.risk.prepare import add_derived, meaning

FAMILIES = ("lightgbm", "logistic", "histgb")
BLEND = "blend"


def one_thread():
    """BLAS and OpenMP on one thread: on a small shared machine (2 cores, other jobs running)
    threads that wait for each other made fits 3-5x slower than one thread, measured."""
    return threadpool_limits(limits=1)


def workers_for(params: dict, rows: int) -> int:
    """The processes to fit families in: `train.workers` from `train.workers_min_rows` training
    rows, else one (small data: a worker's start-up, seconds of imports, costs more than it saves)."""
    return int(params.get("workers", 1)) if rows >= int(params.get("workers_min_rows", 0)) else 1


def side_by_side(jobs: list[Callable[[Callable[[str], None] | None], Any]], workers: int,
                 log: Callable[[str], None] | None = None) -> list[Any]:
    """The results of `jobs` (functions of a log), in order: one after the other, or in `workers`
    processes (each fit on one thread; the data is pickled to them once per job). The same
    results either way: each job is seeded and owns its rows. A job in another process says
    its lines to `log` here when it is done (a log may be a list's append)."""
    if workers <= 1 or len(jobs) <= 1:
        return [job(log) for job in jobs]
    from joblib import Parallel, delayed

    done = Parallel(n_jobs=min(workers, len(jobs)), backend="loky", return_as="generator")(
        delayed(_said)(job, log is not None) for job in jobs)
    results = []
    for result, lines in done:
        for line in lines:
            log(line)
        results.append(result)
    return results


def _said(job: Callable[[Callable[[str], None] | None], Any], logging: bool) -> tuple[Any, list[str]]:
    """A job's result and the lines it said (in a worker process)."""
    lines: list[str] = []
    return job(lines.append if logging else None), lines


def categorical_columns(X: pd.DataFrame) -> list[str]:
    """The known categorical attributes plus any other non-numeric column (source attributes)."""
    return [c for c in X.columns if c in CATEGORICAL or not pd.api.types.is_numeric_dtype(X[c])]


def target_index(proba: np.ndarray, target=None) -> np.ndarray:
    """Per row, the class whose log-odds an explanation is about: the positive class of a binary
    task, else `target` (class indices), else the predicted class."""
    if target is not None:
        return np.broadcast_to(np.asarray(target, dtype=int), (len(proba),))
    if proba.shape[1] == 2:
        return np.ones(len(proba), dtype=int)
    return proba.argmax(axis=1)


def _class_weight(value):
    return "balanced" if str(value).lower() == "balanced" else None


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

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        self.feature_names_in_ = np.array(X.columns)
        self.typical_ = typical_values(X)  # what a reason must differ from (risk.explain)
        self.categories_ = {c: sorted(X[c].astype(str).unique()) for c in categorical_columns(X)}
        self.model_ = self._make()
        with one_thread():
            self.model_.fit(self._frame(X), np.asarray(y), sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        with one_thread():
            return self.model_.predict_proba(self._frame(X))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class LightGBMModel(_NativeCategoricalModel):
    """LightGBM with categorical attributes used natively."""

    def _make(self):
        params = dict(self.params or {})
        weight = _class_weight(params.pop("class_weight", None))
        return lgb.LGBMClassifier(**params, class_weight=weight, random_state=self.seed, verbose=-1, n_jobs=1)

    def contributions(self, X: pd.DataFrame, target=None) -> pd.DataFrame:
        """Per-row feature contributions to the class's log-odds (LightGBM's TreeSHAP)."""
        frame = self._frame(X)
        with one_thread():
            raw = np.asarray(self.model_.predict(frame, pred_contrib=True))
        n_features = len(self.feature_names_in_)
        if len(self.classes_) > 2:
            cls = target_index(self.model_.predict_proba(frame), target)
            raw = raw.reshape(len(X), len(self.classes_), n_features + 1)[np.arange(len(X)), cls]
        return pd.DataFrame(raw[:, :n_features], columns=self.feature_names_in_, index=X.index)

    def importance(self, X: pd.DataFrame | None = None) -> np.ndarray:
        """Total gain of the splits on each feature."""
        return self.model_.booster_.feature_importance("gain")


class LogisticModel(BaseEstimator, ClassifierMixin):
    """The baseline: imputed, scaled (standard, or to normal quantiles when heavy tails would let
    a few customers dominate), one-hot, L2-regularized logistic regression (multinomial for
    several classes)."""

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced", transform: str = "standard"):
        self.C = C
        self.class_weight = class_weight
        self.transform = transform

    def _scaler(self, n_rows: int):
        if self.transform == "quantile":
            return QuantileTransformer(output_distribution="normal", n_quantiles=max(10, min(200, n_rows)),
                                       random_state=0)
        return StandardScaler()

    def _clip(self, X: pd.DataFrame) -> pd.DataFrame:
        X = X[self.feature_names_in_].copy()
        X[self.nums_] = X[self.nums_].astype(float).clip(-1e9, 1e9)
        return X

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        self.feature_names_in_ = np.array(X.columns)
        self.typical_ = typical_values(X)  # what a reason must differ from (risk.explain)
        cats = categorical_columns(X)
        nums = [c for c in X.columns if c not in cats]
        self.nums_, self.cats_ = nums, cats
        self.pipeline_ = Pipeline([
            ("prep", ColumnTransformer([
                ("num", Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                  ("scale", self._scaler(len(X)))]), nums),
                ("cat", OneHotEncoder(handle_unknown="ignore"), cats),
            ])),
            ("clf", LogisticRegression(C=float(self.C), class_weight=_class_weight(self.class_weight),
                                       max_iter=3000)),
        ])
        with one_thread():
            self.pipeline_.fit(self._clip(X), np.asarray(y), clf__sample_weight=sample_weight)
        self.classes_ = self.pipeline_.classes_
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        with one_thread():
            return self.pipeline_.predict_proba(self._clip(X))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _coef(self) -> np.ndarray:
        return self.pipeline_.named_steps["clf"].coef_

    def contributions(self, X: pd.DataFrame, target=None) -> pd.DataFrame:
        """coefficient x transformed value, summed back onto the original columns."""
        Xc = self._clip(X)
        prep = self.pipeline_.named_steps["prep"]
        Z = prep.transform(Xc)
        Z = Z.toarray() if hasattr(Z, "toarray") else np.asarray(Z)
        coef = self._coef()
        if coef.shape[0] == 1:
            contrib = Z * coef[0]
        else:
            cls = target_index(self.pipeline_.predict_proba(Xc), target)
            contrib = Z * coef[cls]
        out = pd.DataFrame(contrib[:, :len(self.nums_)], columns=self.nums_, index=X.index)
        if self.cats_:
            enc = prep.named_transformers_["cat"]
            offset = len(self.nums_)
            for col, cats in zip(self.cats_, enc.categories_, strict=True):
                out[col] = contrib[:, offset:offset + len(cats)].sum(axis=1)
                offset += len(cats)
        return out[list(self.feature_names_in_)]

    def importance(self, X: pd.DataFrame | None = None) -> np.ndarray:
        """Absolute coefficient of each (scaled) numeric feature, averaged over classes."""
        coef = np.abs(self._coef()).mean(axis=0)
        imp = dict(zip(self.nums_, coef[:len(self.nums_)], strict=True))
        return np.array([imp.get(c, 0.0) for c in self.feature_names_in_])


class HistGBModel(_NativeCategoricalModel):
    """scikit-learn's histogram gradient boosting, categorical attributes as native categories."""

    def _make(self):
        from sklearn.ensemble import HistGradientBoostingClassifier

        params = dict(self.params or {})
        weight = _class_weight(params.pop("class_weight", None))
        return HistGradientBoostingClassifier(**params, class_weight=weight, categorical_features="from_dtype",
                                              random_state=self.seed)

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        super().fit(X, y, sample_weight)
        # the stand-in reference values for contributions: medians, and modes for categories
        self.reference_ = {c: (X[c].mode().iloc[0] if c in self.categories_ else X[c].median())
                           for c in X.columns}
        return self

    def contributions(self, X: pd.DataFrame, target=None) -> pd.DataFrame:
        """No exact contributions for this family: the change in the class's log-odds when one
        feature is replaced by its training median (one at a time) is a serviceable stand-in.
        The replaced copies are scored in batches (one prediction call per batch, not per
        feature: each call has a fixed cost)."""
        proba = self.predict_proba(X)
        cls = target_index(proba, target)
        rows = np.arange(len(X))
        base = log_odds(proba[rows, cls])
        cols = list(self.feature_names_in_)
        out = np.zeros((len(X), len(cols)))
        step = max(1, 60_000 // max(len(cols), 1))
        for start in range(0, len(X), step):
            part = X.iloc[start:start + step]
            n = len(part)
            copies = pd.concat([part] * len(cols), ignore_index=True)
            for j, col in enumerate(cols):
                copies.loc[j * n:(j + 1) * n - 1, col] = self.reference_.get(col)
            p = self.predict_proba(copies).reshape(len(cols), n, -1)
            c = cls[start:start + n]
            out[start:start + n] = (base[start:start + n][None, :]
                                    - log_odds(p[:, np.arange(n), c])).T
        return pd.DataFrame(out, columns=cols, index=X.index)

    def importance(self, X: pd.DataFrame) -> np.ndarray:
        """Mean absolute stand-in contribution on a sample of rows."""
        sample = X.sample(min(300, len(X)), random_state=self.seed)
        return self.contributions(sample).abs().mean().to_numpy()


class RiskModel(BaseEstimator, ClassifierMixin):
    """A family model behind the task-agnostic preparation: it takes the feature table's columns
    (its signature, `feature_names_in_`) and derives the declared features itself
    (`prepare.add_derived`), so scoring new data needs nothing but the feature table."""

    def __init__(self, model=None, derived: dict | None = None, family: str = ""):
        self.model = model
        self.derived = derived
        self.family = family

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        return add_derived(X[list(self.feature_names_in_)], self.derived)

    def fit(self, X: pd.DataFrame, y, sample_weight=None):
        self.feature_names_in_ = np.array(X.columns)
        self.model.fit(self.prepare(X), y, sample_weight=sample_weight)
        self.classes_ = self.model.classes_
        return self

    @property
    def model_columns(self) -> list[str]:
        """The columns the family model sees: the features plus the derived ones."""
        return list(self.model.feature_names_in_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self.prepare(X))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X: pd.DataFrame, target=None) -> pd.DataFrame:
        return self.model.contributions(self.prepare(X), target)

    def importance(self, X: pd.DataFrame | None = None) -> pd.Series:
        """Importance per model column (derived features included)."""
        values = self.model.importance(self.prepare(X) if X is not None else None)
        return pd.Series(np.asarray(values, dtype=float), index=self.model_columns)

    def describe(self, column: str) -> str:
        return meaning(column, self.derived)


class BlendModel(BaseEstimator, ClassifierMixin):
    """The equal-weight average of fitted family models' probabilities: families err on
    different customers (a linear model on the smooth trends, trees on the thresholds), so the
    average ranks better than either when neither dominates. Equal weights are not fitted, so the
    blend's validation score is as honest as its members'. Its reasons average the members'
    contributions (all on the log-odds scale)."""

    def __init__(self, members: list | None = None):
        self.members = members

    @property
    def feature_names_in_(self):
        return self.members[0].feature_names_in_

    @property
    def classes_(self):
        return self.members[0].classes_

    @property
    def family(self) -> str:
        return BLEND

    @property
    def model_columns(self) -> list[str]:
        return self.members[0].model_columns

    def fit(self, X, y, sample_weight=None):
        for member in self.members:
            member.fit(X, y, sample_weight=sample_weight)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return np.mean([m.predict_proba(X) for m in self.members], axis=0)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def contributions(self, X, target=None) -> pd.DataFrame:
        if target is None and len(self.classes_) > 2:
            target = self.predict_proba(X).argmax(axis=1)  # the blend's predicted class for every member
        parts = [m.contributions(X, target) for m in self.members]
        return sum(parts) / len(parts)

    def importance(self, X=None) -> pd.Series:
        """The members' importances, each scaled to sum to one, averaged."""
        parts = [m.importance(X) for m in self.members]
        return sum(p / p.sum() if p.sum() > 0 else p for p in parts) / len(parts)

    def describe(self, column: str) -> str:
        return self.members[0].describe(column)


def family_params(family: str, params: dict, task: str | None = None) -> dict:
    """A family's hyperparameters from params.yaml, with the task's overrides
    (`<family>_by_task`) applied."""
    base = dict(params.get(family, {}) or {})
    return base | dict((params.get(f"{family}_by_task", {}) or {}).get(task, {}) or {})


def make_model(family: str, params: dict, seed: int = 0, task: str | None = None,
               hyperparameters: dict | None = None, derived: dict | None = None) -> RiskModel:
    """A fresh model of a family: params.yaml's hyperparameters (with the task's overrides), or
    the given `hyperparameters` (a search's choice), behind the derived features."""
    hp = dict(hyperparameters) if hyperparameters is not None else family_params(family, params, task)
    if family == "lightgbm":
        inner = LightGBMModel(params=hp, seed=seed)
    elif family == "logistic":
        inner = LogisticModel(C=float(hp.get("C", 1.0)), class_weight=hp.get("class_weight", "balanced"),
                              transform=str(hp.get("transform", "standard")))
    elif family == "histgb":
        inner = HistGBModel(params=hp, seed=seed)
    elif family == BLEND:
        raise InvalidInput("the blend is made of fitted families: list them before it in train.families")
    else:
        raise InvalidInput(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}, {BLEND}")
    return RiskModel(inner, derived=derived or None, family=family)
