"""One snapshot (labels given by a source, e.g. PowerCo churn): every family on the same
stratified k folds, out-of-fold scores for the metrics and curves, the final model refit on all
rows. A hyperparameter search, when asked for (`train.search.cross_validated`), is nested: it
sees only each outer fold's training rows."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from powerlens.risk import prepare
from powerlens.risk.models import BLEND, make_model, raw_score, side_by_side, workers_for
from powerlens.risk.results import FamilyResult, Found, NotEnoughLabels, TaskResult, family_result
from powerlens.risk.search import enabled_settings, search_within
from powerlens.risk.splits import check_counts, label_array, stratified


def fit_and_compare_cv(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, families, search: bool,
                       log: Callable[[str], None] | None) -> TaskResult:
    """The families of `families` (the blend left to the caller) cross-validated on one snapshot."""
    cols = prepare.select_columns(feats, task, params)
    derived = prepare.derived_for(task, params, cols)
    X = feats[cols].reset_index(drop=True)
    yy, classes = label_array(y)
    folds = int(params.get("cv_folds", 5))
    check_counts(task, yy, yy, classes, 2 * folds, 2 * folds)
    if classes is None and (len(yy) - yy.sum()) < 2 * folds:
        raise NotEnoughLabels(f"{task}: too few negative labels for {folds}-fold cross-validation")
    as_of = pd.Timestamp(feats["as_of"].iloc[0])
    result = TaskResult(task, [as_of], as_of, X, yy, X, yy, classes=classes, derived=derived)
    seed = int(params.get("seed", 0))
    outer = stratified(yy, folds, seed)
    fitted = [f for f in families if f != BLEND]
    jobs = [partial(_fit_family_cv, family, X, yy, outer, classes, derived, task, params, search, folds)
            for family in fitted]
    for family, done in zip(fitted, side_by_side(jobs, workers_for(params, len(X)), log), strict=True):
        result.families[family] = done
    result.folds = outer
    return result


def _fit_family_cv(family: str, X: pd.DataFrame, yy: np.ndarray, outer: list, classes, derived, task: str,
                   params: dict, search: bool, folds: int, log) -> FamilyResult:
    """One family's out-of-fold scores (searched within each outer fold when asked) and its
    final model refit on all rows."""
    seed = int(params.get("seed", 0))
    start = time.perf_counter()
    settings = _nested_settings(params, family, search, folds, log)
    per_fold = float(settings.get("timeout_seconds", 30)) / folds if settings else 0.0
    oof = np.zeros((len(yy), len(classes))) if classes is not None else np.zeros(len(yy))
    candidates, search_seconds, trials = [], 0.0, 0
    for fit_idx, eval_idx in outer:
        hp = None
        if settings:  # nested: the search sees only this outer fold's training rows
            inner = stratified(yy[fit_idx], int(settings.get("inner_folds", 3)), seed)
            found = search_within(family, X.iloc[fit_idx].reset_index(drop=True), yy[fit_idx], inner, params,
                                  task, settings, per_fold, seed, derived, log)
            hp = found.params
            candidates.append((found.value, found.params))
            search_seconds += found.seconds
            trials += found.n_trials
        fold_model = make_model(family, params, seed=seed, task=task, hyperparameters=hp, derived=derived)
        fold_model.fit(X.iloc[fit_idx], yy[fit_idx])
        oof[eval_idx] = raw_score(fold_model.predict_proba(X.iloc[eval_idx]))
    scored = [c for c in candidates if c[0] == c[0]]
    hp = max(scored, key=lambda c: c[0])[1] if scored else None
    model = make_model(family, params, seed=seed, task=task, hyperparameters=hp, derived=derived).fit(X, yy)
    seconds = time.perf_counter() - start
    found = Found(search_seconds, trials) if settings else None
    return family_result(family, model, oof, yy, classes, task, params, seconds, found, hp, folds=outer)


def _nested_settings(params: dict, family: str, search: bool, folds: int, log) -> dict | None:
    """The search settings under cross-validation, None (and why, in the log) when it is off."""
    settings = enabled_settings(params, family, search)
    if settings and not settings.get("cross_validated", False):
        # nested in k folds a search costs k searches, and on the real sources it did not help
        if log:
            log(f"    search {family}: off under cross-validation (train.search.cross_validated; "
                f"--search-seconds N turns it on)")
        return None
    per_fold = float(settings.get("timeout_seconds", 30)) / folds if settings else 0.0
    if settings and per_fold < float(settings.get("min_seconds_per_fold", 0)):
        # a budget that cannot pay for a second trial only refits params.yaml's setting on inner folds
        if log:
            log(f"    search {family}: skipped, {per_fold:.1f}s per outer fold is below "
                f"train.search.min_seconds_per_fold (raise it with --search-seconds)")
        return None
    return settings
