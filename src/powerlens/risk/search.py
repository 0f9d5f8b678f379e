"""Hyperparameter search within a budget, on training rows only.

The budget is a trial count (`train.search.n_trials` per family and task), with a seeded
sampler, so that `dvc repro` chooses the same hyperparameters on any machine; wall time
(`train.search.timeout_seconds`) is only a cap, and a search it stops says so. A budget that
was wall time made the choice, and the metrics, depend on how busy the machine was.
`powerlens train --search-seconds N` asks for a budget in seconds instead (`by_time`).

Optuna (TPE sampler, median pruning), not a DVC experiment grid, because:
- a sequential sampler spends the budget where earlier trials were good, and pruning stops a
  poor trial after its first inner fold; a grid has to be sized in advance and spends its time
  evenly on bad corners;
- the search has to run *inside* the validation scheme (nested), once per outer fold, which a
  `dvc exp run` grid over the whole stage cannot do without seeing the validation rows;
- the first trial is always the hyperparameters of params.yaml, so the search never reports
  something worse on its own inner split than the hand-set defaults.
`dvc exp run -S train.lightgbm.num_leaves=...` still works for hand-set experiments with the
search off (`train.search.enabled: false`).

Where it searches (never on the rows that measure the model):
- several cut-offs (time-aware): fit on the earlier training cut-offs, judge on the latest
  training cut-off; the validation cut-off is not touched;
- one snapshot (cross-validated): only when asked (`train.search.cross_validated`, or
  `--search-seconds`), nested, inside each outer training fold, on stratified inner folds; the
  outer fold's rows only ever score the model. The final model (refit on all rows)
  takes the configuration with the best inner score over the outer folds' searches.

The spaces (below) cover capacity (leaves, depth of interactions), learning rate and rounds,
row/column subsampling and L2 for the trees; C and the scaling (standard or normal quantiles)
for the logistic baseline. Class weights are not searched but set per family in params.yaml
(see `models`): a weight chosen differently in each outer fold would put the folds' scores on
different scales, which the pooled out-of-fold scores (curves, calibration) cannot mix.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.risk import evaluate
from powerlens.risk.models import family_params, make_model, raw_score


@dataclass
class SearchResult:
    family: str
    params: dict
    value: float
    n_trials: int
    seconds: float
    history: list[dict] = field(default_factory=list)


def suggest(trial, family: str) -> dict:
    """One point of a family's search space."""
    if family == "lightgbm":
        return {
            "n_estimators": trial.suggest_int("n_estimators", 80, 700, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 64, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 300, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "subsample_freq": 1,
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
        }
    if family == "histgb":
        return {
            "max_iter": trial.suggest_int("max_iter", 60, 500, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, 64, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 5, 300, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-3, 30.0, log=True),
        }
    if family == "logistic":
        return {
            "C": trial.suggest_float("C", 1e-3, 10.0, log=True),
            "transform": trial.suggest_categorical("transform", ["standard", "quantile"]),
        }
    raise InvalidInput(f"no search space for family {family!r}")


_LOG_SCALE = ("reg_lambda", "l2_regularization", "C")


def _as_trial(defaults: dict, family: str) -> dict:
    """params.yaml's hyperparameters in the space's terms (the first trial)."""
    out = {k: v for k, v in defaults.items() if k != "class_weight"}
    for key in _LOG_SCALE:  # a log-scale dimension cannot hold 0: the space's smallest value instead
        if key in out and float(out[key]) <= 0:
            out[key] = 1e-3
    if family == "logistic":
        out.setdefault("transform", "standard")
    return out


def primary_value(y, proba: np.ndarray, classes, metric: str) -> float:
    """The primary metric (higher is better) of a fold's predictions."""
    score = raw_score(proba)
    value = evaluate.metrics(y, score, classes=classes).get(metric, float("nan"))
    if metric in ("brier", "log_loss"):
        value = -value
    return float(value)


def search(family: str, X: pd.DataFrame, y: np.ndarray, splits: Iterable[tuple[np.ndarray, np.ndarray]],
           params: dict, task: str | None, timeout: float, n_trials: int, seed: int = 0,
           derived: dict | None = None, metric: str = "roc_auc", log: Callable[[str], None] | None = None,
           max_rows: int | None = None, keep_defaults_within_se: float = 0.0) -> SearchResult:
    """The best hyperparameters of a family on the given inner splits: `n_trials` trials (the
    first is params.yaml's own), seeded, so the same data give the same choice on any machine;
    `timeout` seconds is a cap (a slow machine stops early, and the log says so). `max_rows` caps the rows each
    trial fits on (a random sample of the inner training rows, every class kept): more trials
    in the same budget, at the price of judging settings on less data.
    `keep_defaults_within_se` (the one-standard-error rule, binary ROC-AUC only): params.yaml's
    hyperparameters stay unless the best trial beats them by more than that many standard
    errors of their inner ROC-AUC. The best of many trials on a few dozen inner positives is
    partly luck, and that luck does not carry over to the validation cut-off."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    y = np.asarray(y)
    splits = [(_cap(fit_idx, y, max_rows, seed), eval_idx) for fit_idx, eval_idx in splits]
    classes = np.unique(y)
    base = family_params(family, params, task)
    start = time.perf_counter()

    def objective(trial) -> float:
        hp = base | suggest(trial, family)
        values = []
        for step, (fit_idx, eval_idx) in enumerate(splits):
            model = make_model(family, params, seed=seed, task=task, hyperparameters=hp, derived=derived)
            model.fit(X.iloc[fit_idx], y[fit_idx])
            values.append(primary_value(y[eval_idx], model.predict_proba(X.iloc[eval_idx]), classes, metric))
            trial.report(float(np.mean(values)), step)
            if step + 1 < len(splits) and trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(values))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=3))
    study.enqueue_trial(_as_trial({k: v for k, v in base.items()}, family), skip_if_exists=True)
    with warnings.catch_warnings():  # params.yaml's settings may lie outside the space: tried as they are
        warnings.filterwarnings("ignore", message="Fixed parameter", category=UserWarning)
        study.optimize(objective, n_trials=max(int(n_trials), 1), timeout=max(float(timeout), 0.0) or None,
                       catch=(ValueError,))
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    seconds = time.perf_counter() - start
    if log and len(study.trials) < int(n_trials) and timeout:
        log(f"    search {family}: the {timeout:g}s time cap stopped it after {len(study.trials)} of {n_trials} "
            f"trials (a slower machine tries fewer and may choose differently)")
    if not done:  # nothing finished (a tiny budget): keep params.yaml's hyperparameters
        return SearchResult(family, base, float("nan"), len(study.trials), seconds)
    best = study.best_trial
    tolerance = keep_defaults_within_se * _inner_auc_se(done[0].value, y, splits) if (
        done[0].number == 0 and metric == "roc_auc" and len(classes) == 2) else 0.0
    if done[0].number == 0 and best.number != 0 and best.value - done[0].value <= tolerance:
        if log:
            log(f"    search {family}: kept params.yaml's (inner {metric} {done[0].value:.4f}): the best of "
                f"{len(study.trials)} trials ({best.value:.4f}) is within {keep_defaults_within_se:g} "
                f"standard error ({tolerance:.4f})")
        return SearchResult(family, base, float(done[0].value), len(study.trials), time.perf_counter() - start,
                            [{"number": t.number, "value": t.value, **t.params} for t in done])
    chosen = base | {k: v for k, v in best.params.items()}
    if family != "logistic" and "subsample" in chosen:
        chosen["subsample_freq"] = 1
    history = [{"number": t.number, "value": t.value, **t.params} for t in done]
    if log:
        log(f"    search {family}: {len(study.trials)} trials in {seconds:.1f}s, best inner {metric} "
            f"{best.value:.4f} (params.yaml's: {done[0].value:.4f})" if done[0].number == 0 else
            f"    search {family}: {len(study.trials)} trials in {seconds:.1f}s, best inner {metric} {best.value:.4f}")
    return SearchResult(family, chosen, float(best.value), len(study.trials), seconds, history)


def _inner_auc_se(auc: float, y: np.ndarray, splits) -> float:
    """Hanley and McNeil's standard error of a ROC-AUC on the inner evaluation rows."""
    rows = np.concatenate([eval_idx for _, eval_idx in splits])
    n1 = float((y[rows] == 1).sum())
    n0 = float(len(rows) - n1)
    if n1 < 1 or n0 < 1 or not np.isfinite(auc):
        return 0.0
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2) + (n0 - 1) * (q2 - auc ** 2)) / (n1 * n0)
    return float(np.sqrt(max(var, 0.0)))


def _cap(rows: np.ndarray, y: np.ndarray, max_rows: int | None, seed: int) -> np.ndarray:
    """At most `max_rows` of `rows`, sampled within each class (stratified)."""
    if not max_rows or len(rows) <= max_rows:
        return rows
    rng = np.random.default_rng(seed)
    share = max_rows / len(rows)
    kept = [rng.choice(part, size=max(1, int(round(len(part) * share))), replace=False)
            for cls in np.unique(y[rows]) for part in [rows[y[rows] == cls]]]
    return np.sort(np.concatenate(kept))


def by_time(search: dict, seconds: float) -> dict:
    """`train.search` with a budget in seconds instead of trials (`--search-seconds`): as many
    trials as fit in `seconds` per family, under cross-validation too; 0 turns the search off.
    The choice then depends on the machine's speed."""
    s = dict(search) | {"enabled": seconds > 0, "timeout_seconds": float(seconds), "cross_validated": True,
                        "n_trials": max(int(search.get("n_trials", 0)), 1000)}
    s["by_family"] = {f: {k: v for k, v in (o or {}).items() if k not in ("timeout_seconds", "n_trials")}
                      for f, o in (search.get("by_family") or {}).items()}
    return s


def search_settings(params: dict, family: str) -> dict:
    """`train.search` with a family's overrides (`by_family`)."""
    s = dict(params.get("search") or {})
    by_family = s.pop("by_family", {}) or {}
    return s | dict(by_family.get(family, {}) or {})


def enabled_settings(params: dict, family: str, enabled: bool) -> dict | None:
    """A family's search settings when this fit searches (`enabled`) and params.yaml turns the
    search on (`train.search.enabled`); None otherwise."""
    s = search_settings(params, family)
    if not enabled or not s.get("enabled", False):
        return None
    return s


def search_within(family: str, X: pd.DataFrame, y: np.ndarray, splits, params: dict, task: str | None,
                  settings: dict, budget: float, seed: int, derived: dict | None,
                  log: Callable[[str], None] | None) -> SearchResult:
    """`search` with the settings of `train.search` (trials, row cap, one-standard-error rule)
    and a time cap of `budget` seconds."""
    return search(family, X, y, splits, params, task, timeout=float(budget),
                  n_trials=int(settings["n_trials"]), seed=seed, derived=derived,
                  metric=params.get("primary_metric", "roc_auc"), log=log,
                  max_rows=settings.get("max_rows"),
                  keep_defaults_within_se=float(settings.get("keep_defaults_within_se", 0.0)))
