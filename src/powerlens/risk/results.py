"""What fitting a task's families gives back: each family's fitted model, validation scores and
metrics (`FamilyResult`), and the task's rows and split (`TaskResult`); the metrics of
validation scores (`validation_metrics`); and the error of a task with too few labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from powerlens.errors import PowerlensError
from powerlens.risk import evaluate
from powerlens.risk.models import family_params


class NotEnoughLabels(PowerlensError, ValueError):
    """The task has too few positive labels to train and validate on."""


@dataclass
class FamilyResult:
    family: str
    model: object
    valid_score: np.ndarray
    metrics: dict[str, float]
    fit_seconds: float
    search_seconds: float = 0.0
    search_trials: int = 0
    hyperparameters: dict = field(default_factory=dict)


@dataclass
class TaskResult:
    task: str
    train_cutoffs: list[pd.Timestamp]
    valid_cutoff: pd.Timestamp
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_valid: pd.DataFrame
    y_valid: np.ndarray
    families: dict[str, FamilyResult] = field(default_factory=dict)
    classes: np.ndarray | None = None
    derived: dict = field(default_factory=dict)
    valid_rows: pd.DataFrame | None = None  # every feature column of the validation rows
    folds: list | None = None  # cross-validation: (fit rows, held-out rows) per outer fold
    training_sample: dict | None = None  # train.max_training_rows: rows before and kept, the sampled class's weight

    @property
    def valid_features(self) -> pd.DataFrame:
        """The validation rows with all their features (an older model may use columns this
        one left out)."""
        return self.valid_rows if self.valid_rows is not None else self.X_valid

    @property
    def multiclass(self) -> bool:
        return self.classes is not None and len(self.classes) > 2

    @property
    def cross_validated(self) -> bool:
        return self.X_train is self.X_valid

    def best(self, metric: str) -> FamilyResult:
        sign = -1 if metric in ("brier", "log_loss") else 1
        return max(self.families.values(), key=lambda r: sign * r.metrics.get(metric, float("-inf") * sign))


@dataclass
class Found:
    """What a hyperparameter search cost: its seconds and trials (summed over outer folds)."""

    seconds: float
    n_trials: int


def validation_metrics(task: str, y, score, params: dict, classes=None, folds=None) -> dict[str, float]:
    """Metrics of validation scores. Cross-validated (`folds`): each outer fold's model judged on
    its own held-out rows, averaged over the folds (the k-fold estimate; pooling out-of-fold
    scores of models with different hyperparameters would mix score scales and understate
    them); the pooled ROC-AUC is kept as `roc_auc_pooled`."""
    def one(yy, ss, capacity=None):
        return evaluate.metrics(yy, ss, params.get("lift_top_share", 0.10), capacity=capacity, classes=classes)

    capacity = params.get("capacity", {}).get(task)
    if not folds:
        return one(y, score, capacity)
    per_fold = [one(y[idx], score[idx], round(capacity * len(idx) / len(y)) if capacity else None)
                for _, idx in folds]
    keys = set.intersection(*(set(m) for m in per_fold))
    out = {k: float(np.nanmean([m[k] for m in per_fold])) for k in keys}
    out.update({k: float(sum(m[k] for m in per_fold)) for k in ("n", "positives") if k in keys})
    out["roc_auc_pooled"] = one(y, score).get("roc_auc", float("nan"))
    return out


def family_result(family, model, score, y, classes, task, params, seconds, found, hp, folds=None) -> FamilyResult:
    """A fitted family's result: its validation metrics, and the hyperparameters it was fitted
    with (a search's choice, else params.yaml's)."""
    return FamilyResult(family, model, score, validation_metrics(task, y, score, params, classes, folds), seconds,
                        found.seconds if found else 0.0, found.n_trials if found else 0,
                        dict(hp) if hp is not None else dict(family_params(family, params, task)))
