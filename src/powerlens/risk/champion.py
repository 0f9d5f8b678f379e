"""One family of a task fitted and calibrated as the train job fits its best one: what a
point-in-time snapshot retrains walk-forward, and the one calibration code path (`calibrate`)
that the train job uses for its best family too. Pure: no MLflow, no files."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from powerlens.risk.calibration import (
    CalibratedModel,
    choose_calibration,
    fit_calibrator,
    raw_score,
)
from powerlens.risk.models import one_thread
from powerlens.risk.results import FamilyResult, TaskResult
from powerlens.risk.train import fit_and_compare

SUMMARY_METRICS = ("roc_auc", "pr_auc", "brier")


@dataclass
class Champion:
    """A fitted, calibrated model of one task and family, and what it learned from."""

    task: str
    family: str
    model: CalibratedModel
    train_cutoffs: list[str]
    valid_cutoff: str
    metrics: dict[str, float] = field(default_factory=dict)  # the family's on the validation rows
    calibration: str = "none"


def calibrate(fitted: FamilyResult, result: TaskResult) -> tuple[CalibratedModel, str, dict[str, float]]:
    """The fitted family's calibration, chosen (none / Platt / isotonic, by 2-fold Brier) and
    fitted on its validation scores: the calibrated model, the method and each method's Brier."""
    method, briers = choose_calibration(fitted.valid_score, result.y_valid, classes=result.classes)
    calibrator = fit_calibrator(method, fitted.valid_score, result.y_valid, result.classes)
    return CalibratedModel(fitted.model, method, calibrator), method, briers


def fit_champion(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, family: str,
                 search: bool = False) -> Champion:
    """`family` fitted on the feature rows' cut-offs as the train job fits it (the earlier
    cut-offs, validated on the latest; one snapshot: cross-validated), params.yaml's
    hyperparameters unless `search`, then calibrated on the validation rows.
    Raises NotEnoughLabels when the labels cannot train and validate it."""
    with one_thread():  # one OpenMP thread: 3x faster than two for these sizes on a busy 2-core machine
        result = fit_and_compare(task, feats, y, params, families=(family,), search=search)
    fitted = result.families[family]
    model, method, _ = calibrate(fitted, result)
    return Champion(task, family, model, [str(t.date()) for t in result.train_cutoffs],
                    str(result.valid_cutoff.date()),
                    {k: float(v) for k, v in fitted.metrics.items() if k in SUMMARY_METRICS}, method)


def calibrated_scores(model: CalibratedModel, result: TaskResult) -> np.ndarray:
    """The calibrated model's scores of the validation rows (positive class, or n x K)."""
    return raw_score(model.predict_proba(result.X_valid))
