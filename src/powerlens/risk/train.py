"""Train and compare model families for one task on a time-aware split, log them in MLflow and
promote the best by rule (never by hand)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from powerlens.features.definitions import describe
from powerlens.risk import evaluate
from powerlens.risk.models import CalibratedModel, choose_calibration, fit_calibrator

FAMILIES = ("lightgbm", "logistic", "histgb")
ID_COLUMNS = ("customer_id", "as_of")


class NotEnoughLabels(ValueError):
    """The task has too few positive labels to train and validate on."""


@dataclass
class FamilyResult:
    family: str
    model: object
    valid_score: np.ndarray
    metrics: dict[str, float]
    fit_seconds: float


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

    def best(self, metric: str) -> FamilyResult:
        return max(self.families.values(), key=lambda r: r.metrics.get(metric, float("-inf")))


def feature_columns(feats: pd.DataFrame) -> list[str]:
    return [c for c in feats.columns if c not in ID_COLUMNS]


def time_split(feats: pd.DataFrame) -> tuple[pd.Series, pd.Timestamp]:
    """Train on the earlier cut-offs, validate on the latest one."""
    cutoffs = sorted(feats["as_of"].unique())
    if len(cutoffs) < 2:
        raise ValueError("a time-aware split needs at least two training cut-offs")
    valid = pd.Timestamp(cutoffs[-1])
    return feats["as_of"] < valid, valid


def fit_and_compare(task: str, feats: pd.DataFrame, y: pd.Series, params: dict,
                    families=None) -> TaskResult:
    """Every family on the same folds. With several cut-offs: train on the earlier ones,
    validate on the latest (time-aware). With one snapshot (given labels): stratified k-fold
    cross-validation, out-of-fold scores for the metrics, final models refit on all rows."""
    families = families or tuple(params.get("families", FAMILIES))
    if feats["as_of"].nunique() == 1:
        return _fit_and_compare_cv(task, feats, y, params, families)
    is_train, valid_cutoff = time_split(feats)
    # features the source cannot support at all (e.g. billing for smart-meter data) are left out
    cols = [c for c in feature_columns(feats) if feats.loc[is_train, c].notna().any()]
    X_train, X_valid = feats.loc[is_train, cols], feats.loc[~is_train, cols]
    y_train, y_valid = y[is_train].to_numpy(), y[~is_train].to_numpy()
    if y_train.sum() < 5 or y_valid.sum() < 2:
        raise NotEnoughLabels(f"{task}: too few positive labels to train (train {int(y_train.sum())}, "
                              f"validation {int(y_valid.sum())})")
    from powerlens.risk.models import make_model

    result = TaskResult(task, sorted(pd.Timestamp(t) for t in feats.loc[is_train, "as_of"].unique()),
                        valid_cutoff, X_train, y_train, X_valid, y_valid)
    for family in families:
        start = time.perf_counter()
        model = make_model(family, params, seed=params.get("seed", 0), task=task).fit(X_train, y_train)
        seconds = time.perf_counter() - start
        score = model.predict_proba(X_valid)[:, 1]
        result.families[family] = FamilyResult(family, model, score, _metrics(task, y_valid, score, params), seconds)
    return result


def _metrics(task: str, y, score, params: dict) -> dict[str, float]:
    return evaluate.metrics(y, score, params.get("lift_top_share", 0.10), capacity=params.get("capacity", {}).get(task))


def _fit_and_compare_cv(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, families) -> TaskResult:
    from sklearn.model_selection import StratifiedKFold

    from powerlens.risk.models import make_model

    cols = [c for c in feature_columns(feats) if feats[c].notna().any()]
    X, yy = feats[cols].reset_index(drop=True), y.to_numpy().astype(int)
    folds = int(params.get("cv_folds", 5))
    if yy.sum() < 2 * folds or (len(yy) - yy.sum()) < 2 * folds:
        raise NotEnoughLabels(f"{task}: too few labels of each class for {folds}-fold cross-validation "
                              f"({int(yy.sum())} positive of {len(yy)})")
    as_of = pd.Timestamp(feats["as_of"].iloc[0])
    result = TaskResult(task, [as_of], as_of, X, yy, X, yy)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=params.get("seed", 0))
    for family in families:
        start = time.perf_counter()
        oof = np.zeros(len(yy))
        for fit_idx, eval_idx in splitter.split(X, yy):
            fold_model = make_model(family, params, seed=params.get("seed", 0), task=task)
            fold_model.fit(X.iloc[fit_idx], yy[fit_idx])
            oof[eval_idx] = fold_model.predict_proba(X.iloc[eval_idx])[:, 1]
        model = make_model(family, params, seed=params.get("seed", 0), task=task).fit(X, yy)
        seconds = time.perf_counter() - start
        result.families[family] = FamilyResult(family, model, oof, _metrics(task, yy, oof, params), seconds)
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


def train_and_log(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, tags: dict[str, str],
                  experiment: str = "powerlens-risk", log=print) -> dict:
    """Fit, compare, log (parent run + a child per family), register and promote. Returns the
    summary written to the stage's metrics file."""
    from powerlens import tracking

    primary = params.get("primary_metric", "roc_auc")
    result = fit_and_compare(task, feats, y, params)
    summary = {"task": task, "primary_metric": primary, "n_train": int(len(result.y_train)),
               "n_valid": int(len(result.y_valid)), "positives_train": int(result.y_train.sum()),
               "positives_valid": int(result.y_valid.sum()),
               "train_cutoffs": [str(t.date()) for t in result.train_cutoffs],
               "valid_cutoff": str(result.valid_cutoff.date()), "families": {},
               "validation": ("stratified cross-validation" if result.X_train is result.X_valid
                              else "time-aware: train on earlier cut-offs, validate on the latest")}
    tags = {**tags, "task": task, "cutoffs": ",".join(summary["train_cutoffs"] + [summary["valid_cutoff"]])}
    with tracking.run(f"train-{task}", experiment, tags=tags, params={"train": params}) as parent:
        tracking.log_dataset(feats.assign(label=y.to_numpy().astype(float)), name=f"features-{task}",
                             source="data/features/features.parquet", context="training")
        for family, fr in result.families.items():
            with tracking.run(family, experiment, tags={**tags, "family": family}, nested=True):
                tracking.log_metrics({**fr.metrics, "fit_seconds": fr.fit_seconds})
                fig = evaluate.importance_figure(
                    [describe(c) for c in result.X_train.columns], fr.model.importance(result.X_valid),
                    f"{task}: {family} importance")
                tracking.log_figure(fig, f"importance_{family}.png")
                plt.close(fig)
                tracking.log_model(fr.model, "model", result.X_valid)
            summary["families"][family] = {k: round(v, 5) for k, v in fr.metrics.items()} | {
                "fit_seconds": round(fr.fit_seconds, 2)}
            log(f"  {task} {family}: {primary}={fr.metrics.get(primary, float('nan')):.4f} "
                f"({fr.fit_seconds:.1f}s)")
        fig = evaluate.curves_figure(result.y_valid, {f: r.valid_score for f, r in result.families.items()},
                                     f"{task}: validation on {summary['valid_cutoff']}")
        tracking.log_figure(fig, "curves.png")
        plt.close(fig)

        best = result.best(primary)
        new_metric = best.metrics.get(primary, float("nan"))
        method, briers = choose_calibration(best.valid_score, result.y_valid)
        calibrated = CalibratedModel(best.model, method,
                                     fit_calibrator(method, best.valid_score, result.y_valid))
        fig = evaluate.reliability_figure(result.y_valid, best.valid_score,
                                          calibrated.predict_proba(result.X_valid)[:, 1], method,
                                          f"{task}: {best.family} calibration")
        tracking.log_figure(fig, "reliability.png")
        plt.close(fig)
        tracking.log_metrics({f"brier_{m}": b for m, b in briers.items()})
        model_uri = tracking.log_model(calibrated, "calibrated_model", result.X_valid)
        champion_metric, champion_version = None, None
        current = tracking.champion_version(task)
        cross_validated = len(result.train_cutoffs) == 1 and result.X_train is result.X_valid
        if current is not None and cross_validated:
            # one snapshot: the champion saw these rows in training, so its in-sample score
            # would flatter it; compare with the cross-validated metric it was registered with
            champion_version = current.version
            recorded = (current.tags or {}).get(primary)
            champion_metric = float(recorded) if recorded not in (None, "") else None
        elif current is not None:
            champion_version = current.version
            try:
                old = tracking.load_model(f"models:/{tracking.registered_name(task)}@{tracking.CHAMPION}")
                old_score = old.raw_score(result.X_valid) if hasattr(old, "raw_score") else \
                    old.predict_proba(result.X_valid)[:, 1]
                champion_metric = evaluate.metrics(result.y_valid, old_score).get(primary)
            except Exception as exc:  # a champion on other features cannot be compared
                log(f"  {task}: the current champion cannot score these features ({type(exc).__name__})")
        promote, decision = decide_promotion(new_metric, champion_metric, params.get("promotion_threshold", 0.0))
        version = tracking.register(model_uri, task, promote,
                                    tags={"family": best.family, primary: f"{new_metric:.4f}"})
        tracking.log_metrics({f"best_{primary}": new_metric,
                              **({"champion_" + primary: champion_metric} if champion_metric is not None else {})})
        tracking.log_dict({"decision": decision, "promoted": promote, "new_version": version,
                           "previous_champion_version": champion_version, "new_metric": new_metric,
                           "champion_metric": champion_metric}, "promotion.json")
        summary.update({"best_family": best.family, "calibration": method,
                        "registered_version": int(version), "promoted": promote,
                        "decision": decision, "champion_metric_before": champion_metric,
                        "run_id": parent.info.run_id})
        summary["champion_family"] = best.family if promote else summary.get("champion_family_before", best.family)
    log(f"  {task}: {decision}")
    return summary
