"""Fit and compare model families for one task on the same rows, and the promotion rule. Pure:
no MLflow, no files (`powerlens.jobs.train` logs, registers and writes the plots).

Validation: with several cut-offs, time-aware (train on the earlier cut-offs, validate on the
latest); with one snapshot (labels given by a source), stratified k-fold cross-validation with
out-of-fold scores (`risk.crossval`). Hyperparameters are searched inside that scheme
(`risk.search`), so the rows that measure a model never chose its hyperparameters. Binary and
multi-class tasks go the same way; multi-class metrics are one-vs-rest
(`evaluate.multiclass_metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd

from powerlens.risk import evaluate, prepare
from powerlens.risk.crossval import fit_and_compare_cv
from powerlens.risk.models import (
    BLEND,
    FAMILIES,
    BlendModel,
    make_model,
    raw_score,
    side_by_side,
    workers_for,
)
from powerlens.risk.results import (  # noqa: F401  (re-exported: risk.train.NotEnoughLabels and co.)
    FamilyResult,
    NotEnoughLabels,
    TaskResult,
    family_result,
    validation_metrics,
)
from powerlens.risk.search import enabled_settings, search_within
from powerlens.risk.splits import (  # noqa: F401  (re-exported)
    check_counts,
    feature_columns,
    inner_time_splits,
    label_array,
    time_split,
    training_sample,
)

ID_COLUMNS = prepare.ID_COLUMNS
BASELINE = "logistic"


def for_source(params: dict, source_format: str | None) -> dict:
    """The train settings with the source's own overlaid (`train.by_source.<format>`): the same
    task on another population may need other settings (PowerCo's churn snapshot gains from
    DART boosting; the synthetic utility's churn does not, at 3x the fit time). Nested mappings
    are merged one level deep (`lightgbm_by_task: {churn: ...}` adds a task, keeps the others)."""
    overlay = (params.get("by_source") or {}).get(source_format) or {}
    out = dict(params)
    for key, value in overlay.items():
        out[key] = (out.get(key) or {}) | value if isinstance(value, dict) else value
    return out


def fit_and_compare(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, families=None,
                    search: bool = False, log: Callable[[str], None] | None = None) -> TaskResult:
    """Every family on the same folds. With several cut-offs: train on the earlier ones,
    validate on the latest (time-aware). With one snapshot (given labels): stratified k-fold
    cross-validation, out-of-fold scores for the metrics, final models refit on all rows.
    `search=True` searches hyperparameters (when `train.search.enabled`) inside that scheme.

    The rows are taken in canonical order (`features.engine.canonical_positions`: by cut-off and
    a hash of the feature values, not by the keyed customer id) before anything that depends on
    position (inner splits, folds, samples, bootstraps, the models' own row order), so the same
    customers give the same models and metrics whatever the pseudonym key or the input order;
    the result's rows are in that order."""
    from powerlens.features.engine import canonical_positions

    families = _with_members(tuple(families or params.get("families", FAMILIES)), params)
    order = canonical_positions(feats)
    if not np.array_equal(order, np.arange(len(feats))):
        feats = feats.iloc[order]
        y = y.iloc[order] if isinstance(y, pd.Series) else np.asarray(y)[order]
    if feats["as_of"].nunique() == 1:
        result = fit_and_compare_cv(task, feats, y, params, families, search, log)
    else:
        result = _fit_and_compare_in_time(task, feats, y, params, families, search, log)
    return _add_leads(_add_blend(result, families, params, task), params)


def _fit_and_compare_in_time(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, families, search: bool,
                             log) -> TaskResult:
    is_train, valid_cutoff = time_split(feats)
    # features the source cannot support at all (e.g. billing for smart-meter data) are left out
    cols = prepare.select_columns(feats, task, params, rows=is_train)
    derived = prepare.derived_for(task, params, cols)
    X_train, X_valid = feats.loc[is_train, cols], feats.loc[~is_train, cols]
    yy, classes = label_array(y)
    y_train, y_valid = yy[is_train.to_numpy()], yy[~is_train.to_numpy()]
    check_counts(task, y_train, y_valid, classes, 5, 2)
    seed = int(params.get("seed", 0))
    # a large utility: every positive and a weighted sample of the negatives (train.max_training_rows)
    rows, weight = training_sample(y_train, params.get("max_training_rows"), seed)
    sample = None
    if weight is not None:
        sample = {"rows_before": int(len(y_train)), "rows": int(len(rows)),
                  "weight_of_sampled_class": round(float(weight.max()), 4)}
        X_train, y_train = X_train.iloc[rows], y_train[rows]
        if log:
            log(f"{task}: trained on {len(rows):,} of {sample['rows_before']:,} training rows (every row of the "
                f"rarer classes, the most common one sampled and weighted x{sample['weight_of_sampled_class']})")
    train_as_of = feats.loc[is_train, "as_of"].iloc[rows]
    result = TaskResult(task, sorted(pd.Timestamp(t) for t in train_as_of.unique()),
                        valid_cutoff, X_train, y_train, X_valid, y_valid, classes=classes, derived=derived,
                        valid_rows=feats.loc[~is_train, feature_columns(feats)], training_sample=sample)
    inner = inner_time_splits(train_as_of, y_train, seed)
    fitted = [f for f in families if f != BLEND]
    jobs = [partial(_fit_family_in_time, family, X_train, y_train, X_valid, y_valid, inner, classes, derived, task,
                    params, search, weight) for family in fitted]
    for family, done in zip(fitted, side_by_side(jobs, workers_for(params, len(X_train)), log), strict=True):
        result.families[family] = done
    return result


def _fit_family_in_time(family: str, X_train: pd.DataFrame, y_train: np.ndarray, X_valid: pd.DataFrame,
                        y_valid: np.ndarray, inner: list, classes, derived, task: str, params: dict, search: bool,
                        weight: np.ndarray | None, log) -> FamilyResult:
    """One family searched (within `inner`, the training cut-offs' own split), fitted on the
    earlier cut-offs (with the training sample's weights, if any) and judged on the latest.
    The search's trials are unweighted: they rank settings by the inner ROC-AUC."""
    seed = int(params.get("seed", 0))
    start = time.perf_counter()
    hp, found = None, None
    settings = enabled_settings(params, family, search)
    if settings:
        found = search_within(family, X_train, y_train, inner, params, task, settings,
                              settings.get("timeout_seconds", 30), seed, derived, log)
        hp = found.params
    model = make_model(family, params, seed=seed, task=task, hyperparameters=hp, derived=derived)
    model.fit(X_train, y_train, sample_weight=weight)
    seconds = time.perf_counter() - start
    score = raw_score(model.predict_proba(X_valid))
    return family_result(family, model, score, y_valid, classes, task, params, seconds, found, hp)


def _add_leads(result: TaskResult, params: dict) -> TaskResult:
    """Each family's lead over the logistic baseline on the primary metric, with its 90% paired
    bootstrap interval (`lead_vs_logistic`, `_low`, `_high`): a lead whose interval excludes
    zero is more than the luck of this validation set."""
    base = result.families.get(BASELINE)
    metric = params.get("primary_metric", "roc_auc")
    if base is None or metric not in ("roc_auc", "pr_auc"):
        return result
    for family, fr in result.families.items():
        if family != BASELINE:
            lead = evaluate.paired_lead(result.y_valid, fr.valid_score, base.valid_score, metric,
                                        result.classes, seed=int(params.get("seed", 0)), folds=result.folds)
            fr.metrics.update({f"{k.replace('lead', 'lead_vs_logistic')}": v for k, v in lead.items()})
    return result


def _with_members(families: tuple, params: dict) -> tuple:
    """A blend needs its members: when only the blend is asked for (e.g. a walk-forward
    retraining of a blend champion), its members are the other families in params."""
    if BLEND not in families or any(f != BLEND for f in families):
        return families
    members = tuple(f for f in params.get("families", FAMILIES) if f != BLEND) or FAMILIES
    return (*members, BLEND)


def _add_blend(result: TaskResult, families: tuple, params: dict, task: str) -> TaskResult:
    """The equal-weight blend of the fitted families, on the same rows (no extra fitting)."""
    members = [fr for f, fr in result.families.items() if f != BLEND]
    if BLEND not in families or len(members) < 2:
        return result
    score = np.mean([fr.valid_score for fr in members], axis=0)
    model = BlendModel([fr.model for fr in members])
    result.families[BLEND] = FamilyResult(BLEND, model, score,
                                          validation_metrics(task, result.y_valid, score, params, result.classes,
                                                             result.folds), 0.0,
                                          hyperparameters={"members": [fr.family for fr in members]})
    return result


def decide_promotion(new_metric: float, champion_metric: float | None, threshold: float) -> tuple[bool, str]:
    """The first model of a task becomes champion; later ones only when they beat the current
    champion on the same validation data by the threshold."""
    if champion_metric is None or champion_metric != champion_metric:
        return True, "no comparable champion: the new model becomes champion"
    if new_metric >= champion_metric + threshold:
        return True, (f"promoted: {new_metric:.4f} beats the champion's {champion_metric:.4f} "
                      f"by >= {threshold}")
    return False, (f"kept the champion: {new_metric:.4f} does not beat {champion_metric:.4f} "
                   f"by {threshold}; the new model is the challenger")


def champion_metric_on(old_model, result: TaskResult, primary: str) -> float | None:
    """A current champion's primary metric on this result's validation rows (with all their
    features: it may use columns the new model left out). Raises when it cannot score them
    (other features or classes)."""
    X_old = result.valid_features[list(old_model.feature_names_in_)]
    old_score = (old_model.raw_score(X_old) if hasattr(old_model, "raw_score")
                 else raw_score(old_model.predict_proba(X_old)))
    return evaluate.metrics(result.y_valid, old_score, classes=result.classes).get(primary)
