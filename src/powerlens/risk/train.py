"""Train and compare model families for one task on the same folds, log them in MLflow and
promote the best by rule (never by hand).

Validation: with several cut-offs, time-aware (train on the earlier cut-offs, validate on the
latest); with one snapshot (labels given by a source), stratified k-fold cross-validation with
out-of-fold scores. Hyperparameters are searched inside that scheme (`risk.search`), so the
rows that measure a model never chose its hyperparameters. Binary and multi-class tasks go the
same way; multi-class metrics are one-vs-rest (`evaluate.multiclass_metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from powerlens.risk import evaluate, prepare
from powerlens.risk.labels import is_multiclass
from powerlens.risk.models import (
    BLEND,
    FAMILIES,
    BlendModel,
    CalibratedModel,
    choose_calibration,
    fit_calibrator,
    make_model,
    raw_score,
)

ID_COLUMNS = prepare.ID_COLUMNS
PLOT_COLUMNS = {"roc": ["series", "false_positive_rate", "true_positive_rate"],
                "pr": ["series", "recall", "precision"],
                "gain": ["series", "share_contacted", "share_found"],
                "lift": ["series", "share_contacted", "lift"],
                "calibration": ["series", "predicted", "observed"]}


class NotEnoughLabels(ValueError):
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


def feature_columns(feats: pd.DataFrame) -> list[str]:
    return [c for c in feats.columns if c not in ID_COLUMNS]


def time_split(feats: pd.DataFrame) -> tuple[pd.Series, pd.Timestamp]:
    """Train on the earlier cut-offs, validate on the latest one."""
    cutoffs = sorted(feats["as_of"].unique())
    if len(cutoffs) < 2:
        raise ValueError("a time-aware split needs at least two training cut-offs")
    valid = pd.Timestamp(cutoffs[-1])
    return feats["as_of"] < valid, valid


def _labels(y: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels as an array, and the classes of a multi-class task (None for binary)."""
    if is_multiclass(y):
        values = pd.Series(y).astype(str).to_numpy(dtype=object)
        return values, np.array(sorted(set(values)), dtype=object)
    return pd.Series(y).to_numpy().astype(int), None


def _check_counts(task: str, y_train: np.ndarray, y_valid: np.ndarray, classes, min_train: int, min_valid: int) -> None:
    if classes is None:
        if y_train.sum() < min_train or y_valid.sum() < min_valid:
            raise NotEnoughLabels(f"{task}: too few positive labels to train (train {int(y_train.sum())}, "
                                  f"validation {int(y_valid.sum())})")
        return
    for cls in classes:
        if (y_train == cls).sum() < min_train or (y_valid == cls).sum() < min_valid:
            raise NotEnoughLabels(f"{task}: too few labels of class {cls!r} to train and validate")


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


def _search_on(params: dict, family: str, enabled: bool) -> dict | None:
    from powerlens.risk.search import search_settings

    s = search_settings(params, family)
    if not enabled or not s.get("enabled", False):
        return None
    return s


def fit_and_compare(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, families=None,
                    search: bool = False, log: Callable[[str], None] | None = None) -> TaskResult:
    """Every family on the same folds. With several cut-offs: train on the earlier ones,
    validate on the latest (time-aware). With one snapshot (given labels): stratified k-fold
    cross-validation, out-of-fold scores for the metrics, final models refit on all rows.
    `search=True` searches hyperparameters (when `train.search.enabled`) inside that scheme."""
    families = _with_members(tuple(families or params.get("families", FAMILIES)), params)
    if feats["as_of"].nunique() == 1:
        return _add_leads(_add_blend(_fit_and_compare_cv(task, feats, y, params, families, search, log),
                                     families, params, task), params)
    is_train, valid_cutoff = time_split(feats)
    # features the source cannot support at all (e.g. billing for smart-meter data) are left out
    cols = prepare.select_columns(feats, task, params, rows=is_train)
    derived = prepare.derived_for(task, params, cols)
    X_train, X_valid = feats.loc[is_train, cols], feats.loc[~is_train, cols]
    yy, classes = _labels(y)
    y_train, y_valid = yy[is_train.to_numpy()], yy[~is_train.to_numpy()]
    _check_counts(task, y_train, y_valid, classes, 5, 2)
    result = TaskResult(task, sorted(pd.Timestamp(t) for t in feats.loc[is_train, "as_of"].unique()),
                        valid_cutoff, X_train, y_train, X_valid, y_valid, classes=classes, derived=derived,
                        valid_rows=feats.loc[~is_train, feature_columns(feats)])
    seed = int(params.get("seed", 0))
    for family in (f for f in families if f != BLEND):
        start = time.perf_counter()
        hp, found = None, None
        settings = _search_on(params, family, search)
        if settings:
            found = _search(family, X_train, y_train, _inner_time_splits(feats.loc[is_train, "as_of"], y_train, seed),
                            params, task, settings, settings.get("timeout_seconds", 30), seed, derived, log)
            hp = found.params
        model = make_model(family, params, seed=seed, task=task, hyperparameters=hp, derived=derived)
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        score = raw_score(model.predict_proba(X_valid))
        result.families[family] = _family_result(family, model, score, y_valid, classes, task, params, seconds,
                                                 found, hp)
    return _add_leads(_add_blend(result, families, params, task), params)


BASELINE = "logistic"


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
                                          _metrics(task, result.y_valid, score, params, result.classes,
                                                   result.folds), 0.0,
                                          hyperparameters={"members": [fr.family for fr in members]})
    return result


def _family_result(family, model, score, y, classes, task, params, seconds, found, hp, folds=None) -> FamilyResult:
    return FamilyResult(family, model, score, _metrics(task, y, score, params, classes, folds), seconds,
                        found.seconds if found else 0.0, found.n_trials if found else 0,
                        dict(hp) if hp is not None else dict(_default_hp(family, params, task)))


def _default_hp(family: str, params: dict, task: str) -> dict:
    from powerlens.risk.models import family_params

    return family_params(family, params, task)


def _search(family, X, y, splits, params, task, settings, budget, seed, derived, log):
    from powerlens.risk.search import search

    return search(family, X, y, splits, params, task, timeout=float(budget),
                  n_trials=int(settings.get("n_trials", 30)), seed=seed, derived=derived,
                  metric=params.get("primary_metric", "roc_auc"), log=log,
                  max_rows=settings.get("max_rows"),
                  keep_defaults_within_se=float(settings.get("keep_defaults_within_se", 0.0)))


def _inner_time_splits(as_of: pd.Series, y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inside the training cut-offs: fit on the earlier ones, judge on the latest training
    cut-off (one snapshot: a stratified 3-fold split)."""
    cutoffs = sorted(as_of.unique())
    if len(cutoffs) >= 2:
        latest = (as_of == cutoffs[-1]).to_numpy()
        return [(np.flatnonzero(~latest), np.flatnonzero(latest))]
    return _stratified(y, 3, seed)


def _stratified(y: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _metrics(task: str, y, score, params: dict, classes=None, folds=None) -> dict[str, float]:
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


def _fit_and_compare_cv(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, families, search: bool,
                        log) -> TaskResult:
    cols = prepare.select_columns(feats, task, params)
    derived = prepare.derived_for(task, params, cols)
    X = feats[cols].reset_index(drop=True)
    yy, classes = _labels(y)
    folds = int(params.get("cv_folds", 5))
    _check_counts(task, yy, yy, classes, 2 * folds, 2 * folds)
    if classes is None and (len(yy) - yy.sum()) < 2 * folds:
        raise NotEnoughLabels(f"{task}: too few negative labels for {folds}-fold cross-validation")
    as_of = pd.Timestamp(feats["as_of"].iloc[0])
    result = TaskResult(task, [as_of], as_of, X, yy, X, yy, classes=classes, derived=derived)
    seed = int(params.get("seed", 0))
    outer = _stratified(yy, folds, seed)
    for family in (f for f in families if f != BLEND):
        start = time.perf_counter()
        settings = _search_on(params, family, search)
        if settings and not settings.get("cross_validated", False):
            # nested in k folds a search costs k searches, and on the real sources it did not help
            if log:
                log(f"    search {family}: off under cross-validation (train.search.cross_validated; "
                    f"--search-seconds N turns it on)")
            settings = None
        per_fold = float(settings.get("timeout_seconds", 30)) / folds if settings else 0.0
        if settings and per_fold < float(settings.get("min_seconds_per_fold", 0)):
            # a budget that cannot pay for a second trial only refits params.yaml's setting on inner folds
            if log:
                log(f"    search {family}: skipped, {per_fold:.1f}s per outer fold is below "
                    f"train.search.min_seconds_per_fold (raise it with --search-seconds)")
            settings = None
        oof = np.zeros((len(yy), len(classes))) if classes is not None else np.zeros(len(yy))
        candidates, search_seconds, trials = [], 0.0, 0
        for fit_idx, eval_idx in outer:
            hp = None
            if settings:  # nested: the search sees only this outer fold's training rows
                inner = _stratified(yy[fit_idx], int(settings.get("inner_folds", 3)), seed)
                found = _search(family, X.iloc[fit_idx].reset_index(drop=True), yy[fit_idx], inner, params, task,
                                settings, per_fold, seed, derived, log)
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
        found = _Found(search_seconds, trials) if settings else None
        result.families[family] = _family_result(family, model, oof, yy, classes, task, params, seconds, found, hp,
                                                 folds=outer)
    result.folds = outer
    return result


@dataclass
class _Found:
    seconds: float
    n_trials: int


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


def empty_plot_tables() -> dict[str, pd.DataFrame]:
    """The plot files with their columns and no rows (a skipped task still writes them, so the
    DVC stage's plot outputs exist)."""
    return {kind: pd.DataFrame(columns=cols) for kind, cols in PLOT_COLUMNS.items()}


def write_plot_tables(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """The curves as CSV files for `dvc plots` (ROC, PR, gain, lift, calibration)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, cols in PLOT_COLUMNS.items():
        table = tables.get(kind)
        table = table if table is not None and len(table) else pd.DataFrame(columns=cols)
        path = out_dir / f"{kind}.csv"
        table[cols].round(5).to_csv(path, index=False)
        paths.append(path)
    return paths


def _champion_metric(tracking, current, task: str, result: TaskResult, primary: str,
                     log) -> tuple[float | None, str | None]:
    """The current champion's primary metric on the same validation data (cross-validated: the
    metric it was registered with, since it saw every row in training)."""
    if current is None:
        return None, None
    if result.cross_validated:
        recorded = (current.tags or {}).get(primary)
        return (float(recorded) if recorded not in (None, "") else None), current.version
    try:
        old = tracking.load_model(f"models:/{tracking.registered_name(task)}@{tracking.CHAMPION}")
        X_old = result.valid_features[list(old.feature_names_in_)]
        old_score = old.raw_score(X_old) if hasattr(old, "raw_score") else raw_score(old.predict_proba(X_old))
        return evaluate.metrics(result.y_valid, old_score, classes=result.classes).get(primary), current.version
    except Exception as exc:  # a champion on other features or classes cannot be compared
        log(f"  {task}: the current champion cannot score these features ({type(exc).__name__})")
        return None, current.version


def train_and_log(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, tags: dict[str, str],
                  experiment: str = "powerlens-risk", log=print, plots_dir: str | Path | None = None) -> dict:
    """Fit, compare, log (parent run + a child per family), register and promote. Returns the
    summary written to the stage's metrics file; the curves go to `plots_dir` as CSV (DVC
    plots) and to the parent run as figures and CSV."""
    from powerlens import tracking

    primary = params.get("primary_metric", "roc_auc")
    search_enabled = bool((params.get("search") or {}).get("enabled", False))
    started = time.perf_counter()
    result = fit_and_compare(task, feats, y, params, search=search_enabled, log=log)
    summary = {"task": task, "primary_metric": primary, "n_train": int(len(result.y_train)),
               "n_valid": int(len(result.y_valid)),
               "train_cutoffs": [str(t.date()) for t in result.train_cutoffs],
               "valid_cutoff": str(result.valid_cutoff.date()), "families": {},
               "n_features": len(result.X_train.columns), "derived_features": sorted(result.derived),
               "hyperparameter_search": "optuna" if search_enabled else "off (params.yaml)",
               "validation": (f"stratified {params.get('cv_folds', 5)}-fold cross-validation"
                              if result.cross_validated
                              else "time-aware: train on earlier cut-offs, validate on the latest")}
    if result.cross_validated:
        summary["validation"] = "stratified cross-validation"
        summary["cv_folds"] = int(params.get("cv_folds", 5))
    if result.multiclass:
        summary["classes"] = {str(c): int((result.y_train == c).sum()) for c in result.classes}
    else:
        summary.update({"positives_train": int(result.y_train.sum()), "positives_valid": int(result.y_valid.sum())})
    tags = {**tags, "task": task, "cutoffs": ",".join(summary["train_cutoffs"] + [summary["valid_cutoff"]])}
    scores = {f: r.valid_score for f, r in result.families.items()}
    tables = evaluate.curve_tables(result.y_valid, scores, result.classes)
    with tracking.run(f"train-{task}", experiment, tags=tags, params={"train": params}) as parent:
        tracking.log_dataset(feats.assign(label=pd.Series(y).to_numpy()), name=f"features-{task}",
                             source="data/features/features.parquet", context="training")
        for family, fr in result.families.items():
            with tracking.run(family, experiment, tags={**tags, "family": family}, nested=True):
                tracking.log_metrics({**fr.metrics, "fit_seconds": fr.fit_seconds,
                                      "search_seconds": fr.search_seconds, "search_trials": fr.search_trials})
                tracking.log_params({f"hp.{k}": v for k, v in fr.hyperparameters.items()})
                imp = fr.model.importance(result.X_valid)
                fig = evaluate.importance_figure([fr.model.describe(c) for c in imp.index], imp.to_numpy(),
                                                 f"{task}: {family} importance")
                tracking.log_figure(fig, f"importance_{family}.png")
                plt.close(fig)
                if family != BLEND:  # the blend's members are the other children's models
                    tracking.log_model(fr.model, "model", result.X_valid)
            summary["families"][family] = {k: round(v, 5) for k, v in fr.metrics.items()} | {
                "fit_seconds": round(fr.fit_seconds, 2), "search_seconds": round(fr.search_seconds, 2),
                "search_trials": fr.search_trials}
            summary.setdefault("hyperparameters", {})[family] = fr.hyperparameters
            log(f"  {task} {family}: {primary}={fr.metrics.get(primary, float('nan')):.4f} "
                f"({fr.fit_seconds:.1f}s{f', search {fr.search_seconds:.1f}s' if fr.search_trials else ''})")
        tracking.log_metrics({f"seconds_{f}": r.fit_seconds for f, r in result.families.items()})
        where = "out of fold" if result.cross_validated else f"validation on {summary['valid_cutoff']}"
        fig = evaluate.curves_figure(result.y_valid, scores, f"{task}: {where}", result.classes, tables)
        tracking.log_figure(fig, "curves.png")
        plt.close(fig)

        best = result.best(primary)
        new_metric = best.metrics.get(primary, float("nan"))
        method, briers = choose_calibration(best.valid_score, result.y_valid, classes=result.classes)
        calibrated = CalibratedModel(best.model, method,
                                     fit_calibrator(method, best.valid_score, result.y_valid, result.classes))
        cal_scores = raw_score(calibrated.predict_proba(result.X_valid))
        tables["calibration"] = evaluate.calibration_table(result.y_valid, best.valid_score, cal_scores, method,
                                                           result.classes)
        fig = evaluate.reliability_figure(result.y_valid, best.valid_score, cal_scores, method,
                                          f"{task}: {best.family} calibration", classes=result.classes,
                                          table=tables["calibration"])
        tracking.log_figure(fig, "reliability.png")
        plt.close(fig)
        for kind, table in tables.items():
            tracking.log_table(table.round(5), f"{kind}.csv", artifact_path="plots")
        if plots_dir is not None:
            write_plot_tables(tables, plots_dir)
        tracking.log_metrics({f"brier_{m}": b for m, b in briers.items()})
        model_uri = tracking.log_model(calibrated, "calibrated_model", result.X_valid)
        current = tracking.champion_version(task)
        champion_metric, champion_version = _champion_metric(tracking, current, task, result, primary, log)
        promote, decision = decide_promotion(new_metric, champion_metric, params.get("promotion_threshold", 0.0))
        version = tracking.register(model_uri, task, promote,
                                    tags={"family": best.family, primary: f"{new_metric:.4f}"})
        seconds = time.perf_counter() - started
        tracking.log_metrics({f"best_{primary}": new_metric, "training_seconds": seconds,
                              **({"champion_" + primary: champion_metric} if champion_metric is not None else {})})
        tracking.log_dict({"decision": decision, "promoted": promote, "new_version": version,
                           "previous_champion_version": champion_version, "new_metric": new_metric,
                           "champion_metric": champion_metric}, "promotion.json")
        summary.update({"best_family": best.family, "calibration": method,
                        "registered_version": int(version), "promoted": promote,
                        "decision": decision, "champion_metric_before": champion_metric,
                        "run_id": parent.info.run_id, "champion_family": best.family if promote else (current.tags or {}).get("family"),
                        "training_seconds": round(seconds, 1)})
    log(f"  {task}: {decision}")
    return summary
