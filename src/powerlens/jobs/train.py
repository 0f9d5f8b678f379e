"""Stage `train@<task>`: fit and compare the model families of one task (risk.train), log them
to MLflow (a parent run, a child run per family), calibrate the best (risk.champion.calibrate),
register it and apply the champion rule (risk.train.decide_promotion); the curves go to
`plots/train/<task>/*.csv` for `dvc plots` and to the parent run.

MLflow only through `powerlens.tracking`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens import rules
from powerlens.atomic import write_csv
from powerlens.config import load_config, write_json
from powerlens.errors import UsageError
from powerlens.jobs.common import Clock, entry, features_manifest
from powerlens.paths import ProjectPaths
from powerlens.risk import evaluate
from powerlens.risk.results import NotEnoughLabels, TaskResult

Log = Callable[[str], Any]


def run(task: str, cfg, *, data: Path, features_dir: Path, out: Path, metrics: Path | None = None,
        plots: Path | None = None, experiment: str = rules.RISK_EXPERIMENT, search_seconds: float | None = None,
        echo: Log = print) -> dict:
    """Train and compare the families of one task on the clean data in `data` and the features
    in `features_dir`; `out/metrics.json` (and `metrics`) get the summary, `plots` the curves'
    CSV files (written even when the task is skipped, so the stage's outputs exist).
    `search_seconds` budgets the search by time (`powerlens train --search-seconds`)."""
    from powerlens import tracking

    clock = Clock(f"train {task}", echo)
    params = train_params(cfg, data, search_seconds, clock)
    feats, y = task_rows(task, data, features_dir, params, int(cfg.features.horizon_months), clock)
    tags = tracking.run_tags(f"train@{task}", [Path(features_dir) / "features.parquet"])
    try:
        summary = fit_and_log(task, feats, y, params, tags, experiment=experiment, log=clock, plots=plots,
                              source=str(Path(features_dir) / "features.parquet"))
    except NotEnoughLabels as exc:  # a task without labels is skipped, not an error
        clock(f"skipped: {exc}")
        summary = {"task": task, "skipped": str(exc)}
        if plots is not None:
            write_plots(evaluate.empty_plot_tables(), plots)
    summary["seconds"] = round(clock.elapsed, 1)
    write_json(Path(out) / "metrics.json", summary)
    if metrics:
        write_json(metrics, summary)
    return summary


def main() -> None:
    """The DVC stage (`python pipelines/train.py TASK`, under `jobs.common.entry`): the task
    from the command line, params.yaml and the project's paths."""
    if len(sys.argv) != 2:
        raise UsageError("usage: python pipelines/train.py TASK")
    task, paths = sys.argv[1], ProjectPaths()
    run(task, load_config(), data=paths.clean, features_dir=paths.features, out=paths.model_dir(task),
        metrics=paths.metrics_file(f"train_{task}"), plots=paths.plots_dir(task))


def train_params(cfg, data: Path, search_seconds: float | None = None, log: Log = print) -> dict:
    """`train` of params.yaml as a plain dict, with the data source's own settings
    (`train.by_source.<format>`, by the format in `data/validation.json`) and a time budget
    for the search when asked for."""
    from powerlens.risk.search import by_time
    from powerlens.risk.train import for_source

    params = cfg.train.as_dict()
    if search_seconds is not None:
        params["search"] = by_time(params.get("search") or {}, search_seconds)
    summary_path = Path(data) / "validation.json"
    fmt = json.loads(summary_path.read_text()).get("format") if summary_path.exists() else None
    params = for_source(params, fmt)
    if fmt in (params.get("by_source") or {}):
        log(f"with the {fmt} settings of train.by_source")
    return params


def task_rows(task: str, data: Path, features_dir: Path, params: dict, horizon_months: int,
              log: Log = print) -> tuple[pd.DataFrame, pd.Series]:
    """The feature rows of a task and their labels: given by the source (one snapshot,
    cross-validated), else derived from the events after each training cut-off."""
    from powerlens import features as F
    from powerlens.risk import labels

    manifest = features_manifest(features_dir, data)
    path = Path(features_dir) / "features.parquet"
    given = manifest.get("label_cutoffs", {}).get(task)
    if given:
        cutoffs = [pd.Timestamp(t) for t in given]
        feats = pd.read_parquet(path, filters=[("as_of", "in", cutoffs)])
        y, feats = labels.given(F.load_clean(data, with_readings=False).labels, task, feats)
        source = "given by the source"
    else:
        if task not in rules.TASKS:
            raise UsageError(f"no labels for task {task!r}: derived tasks are {', '.join(rules.TASKS)}; "
                             f"given ones: {', '.join(manifest.get('label_cutoffs', {})) or 'none'}")
        cutoffs = [pd.Timestamp(t) for t in manifest["training_cutoffs"]]
        feats = pd.read_parquet(path, filters=[("as_of", "in", cutoffs)])
        clean = F.load_clean(data, with_readings=False)
        y = labels.derive(task, clean, feats, horizon_months, params["arrears_days_past_due"])
        source = "derived from events"
    counts = (f"{int(y.sum())} positives" if not labels.is_multiclass(y) else
              "classes " + ", ".join(f"{k} {v}" for k, v in y.value_counts().sort_index().items()))
    log(f"{len(feats)} rows over {len(cutoffs)} cut-off(s), {counts} (labels {source})")
    return feats, y


def summarize(task: str, result: TaskResult, params: dict, search_enabled: bool) -> dict:
    """The stage's metrics summary before the families' metrics and the decision are added."""
    primary = params["primary_metric"]
    summary = {"task": task, "primary_metric": primary, "n_train": int(len(result.y_train)),
               "n_valid": int(len(result.y_valid)),
               "train_cutoffs": [str(t.date()) for t in result.train_cutoffs],
               "valid_cutoff": str(result.valid_cutoff.date()), "families": {},
               "n_features": len(result.X_train.columns), "derived_features": sorted(result.derived),
               "hyperparameter_search": "optuna" if search_enabled else "off (params.yaml)",
               "validation": (f"stratified {params.get('cv_folds', 5)}-fold cross-validation"
                              if result.cross_validated
                              else "time-aware: train on earlier cut-offs, validate on the latest")}
    if result.training_sample:
        summary["training_sample"] = result.training_sample
    if result.cross_validated:
        summary["validation"] = "stratified cross-validation"
        summary["cv_folds"] = int(params["cv_folds"])
    if result.multiclass:
        summary["classes"] = {str(c): int((result.y_train == c).sum()) for c in result.classes}
    else:
        summary.update({"positives_train": int(result.y_train.sum()), "positives_valid": int(result.y_valid.sum())})
    return summary


def fit_and_log(task: str, feats: pd.DataFrame, y: pd.Series, params: dict, tags: dict[str, str], *,
                experiment: str = rules.RISK_EXPERIMENT, log: Log = print, plots: Path | None = None,
                source: str = "features.parquet") -> dict:
    """Fit, compare, log (parent run + a child per family), calibrate the best, register and
    promote. Returns the summary written to the stage's metrics file. Raises NotEnoughLabels."""
    from powerlens import tracking
    from powerlens.risk.train import fit_and_compare

    search_enabled = bool((params.get("search") or {}).get("enabled", False))
    started = time.perf_counter()
    result = fit_and_compare(task, feats, y, params, search=search_enabled, log=log)
    summary = summarize(task, result, params, search_enabled)
    tags = {**tags, "task": task, "cutoffs": ",".join(summary["train_cutoffs"] + [summary["valid_cutoff"]])}
    scores = {f: r.valid_score for f, r in result.families.items()}
    tables = evaluate.curve_tables(result.y_valid, scores, result.classes)
    with tracking.run(f"train-{task}", experiment, tags=tags, params={"train": params}) as parent:
        tracking.log_dataset(feats.assign(label=pd.Series(y).to_numpy()), name=f"features-{task}",
                             source=source, context="training")
        _log_families(task, result, summary, params, experiment, tags, log)
        where = "out of fold" if result.cross_validated else f"validation on {summary['valid_cutoff']}"
        tracking.log_figure(evaluate.curves_figure(result.y_valid, scores, f"{task}: {where}", result.classes,
                                                   tables), "curves.png")
        best = result.best(summary["primary_metric"])
        calibrated, method = _calibrate_and_log(task, best, result, tables, plots)
        summary.update(_register_and_promote(task, result, best, calibrated, params, started, log))
        summary.update({"best_family": best.family, "calibration": method, "run_id": parent.info.run_id})
        summary = _in_order(summary)
    log(f"  {task}: {summary['decision']}")
    return summary


def _log_families(task: str, result: TaskResult, summary: dict, params: dict, experiment: str,
                  tags: dict[str, str], log: Log) -> None:
    """A child run per family (metrics, hyperparameters, importance figure, model), and their
    metrics in the summary."""
    from powerlens import tracking
    from powerlens.risk.models import BLEND

    primary = summary["primary_metric"]
    for family, fr in result.families.items():
        with tracking.run(family, experiment, tags={**tags, "family": family}, nested=True):
            tracking.log_metrics({**fr.metrics, "fit_seconds": fr.fit_seconds,
                                  "search_seconds": fr.search_seconds, "search_trials": fr.search_trials})
            tracking.log_params({f"hp.{k}": v for k, v in fr.hyperparameters.items()})
            imp = fr.model.importance(result.X_valid)
            fig = evaluate.importance_figure([fr.model.describe(c) for c in imp.index], imp.to_numpy(),
                                             f"{task}: {family} importance")
            tracking.log_figure(fig, f"importance_{family}.png")
            if family != BLEND:  # the blend's members are the other children's models
                tracking.log_model(fr.model, "model", result.X_valid)
        summary["families"][family] = {k: round(v, 5) for k, v in fr.metrics.items()} | {
            "fit_seconds": round(fr.fit_seconds, 2), "search_seconds": round(fr.search_seconds, 2),
            "search_trials": fr.search_trials}
        summary.setdefault("hyperparameters", {})[family] = fr.hyperparameters
        log(f"  {task} {family}: {primary}={fr.metrics.get(primary, float('nan')):.4f} "
            f"({fr.fit_seconds:.1f}s{f', search {fr.search_seconds:.1f}s' if fr.search_trials else ''})")
    tracking.log_metrics({f"seconds_{f}": r.fit_seconds for f, r in result.families.items()})


def _calibrate_and_log(task: str, best, result: TaskResult, tables: dict[str, pd.DataFrame],
                       plots: Path | None) -> tuple[Any, str]:
    """The best family calibrated (risk.champion.calibrate), its reliability figure and every
    curve table logged to the parent run and written for `dvc plots`."""
    from powerlens import tracking
    from powerlens.risk.champion import calibrate, calibrated_scores

    calibrated, method, briers = calibrate(best, result)
    cal_scores = calibrated_scores(calibrated, result)
    tables["calibration"] = evaluate.calibration_table(result.y_valid, best.valid_score, cal_scores, method,
                                                       result.classes)
    fig = evaluate.reliability_figure(result.y_valid, best.valid_score, cal_scores, method,
                                      f"{task}: {best.family} calibration", classes=result.classes,
                                      table=tables["calibration"])
    tracking.log_figure(fig, "reliability.png")
    for kind, table in tables.items():
        tracking.log_table(table.round(5), f"{kind}.csv", artifact_path="plots")
    if plots is not None:
        write_plots(tables, plots)
    tracking.log_metrics({f"brier_{m}": b for m, b in briers.items()})
    return calibrated, method


def _register_and_promote(task: str, result: TaskResult, best, calibrated, params: dict, started: float,
                          log: Log) -> dict:
    """Log and register the calibrated model; champion when it beats the current champion on
    the same validation rows by the threshold (risk.train.decide_promotion), else challenger."""
    from powerlens import tracking
    from powerlens.risk.train import decide_promotion

    primary = params["primary_metric"]
    new_metric = best.metrics.get(primary, float("nan"))
    model_uri = tracking.log_model(calibrated, "calibrated_model", result.X_valid)
    current = tracking.champion_version(task)
    champion_metric, champion_version = _champion_metric(current, task, result, primary, log)
    promote, decision = decide_promotion(new_metric, champion_metric, params["promotion_threshold"])
    version_tags = {"family": best.family, primary: f"{new_metric:.4f}"}
    if tracking.dvc_experiment():  # an experiment's model never replaces the champion
        promote, decision = False, f"experiment: registered as challenger ({decision})"
        version_tags["dvc_experiment"] = tracking.dvc_experiment()
    version = tracking.register(model_uri, task, promote, tags=version_tags)
    if promote:  # a training that promoted at the same time with a better model keeps the alias
        holder = tracking.champion_version(task)
        if holder is None or str(holder.version) != str(version):
            promote = False
            decision += (f"; not champion: version {holder.version if holder else '?'} "
                         "was promoted at the same time with a better metric")
    seconds = time.perf_counter() - started
    tracking.log_metrics({f"best_{primary}": new_metric, "training_seconds": seconds,
                          **({"champion_" + primary: champion_metric} if champion_metric is not None else {})})
    tracking.log_dict({"decision": decision, "promoted": promote, "new_version": version,
                       "previous_champion_version": champion_version, "new_metric": new_metric,
                       "champion_metric": champion_metric}, "promotion.json")
    return {"registered_version": int(version), "promoted": promote, "decision": decision,
            "champion_metric_before": champion_metric,
            "champion_family": best.family if promote else ((current.tags or {}) if current else {}).get("family"),
            "training_seconds": round(seconds, 1)}


def _champion_metric(current, task: str, result: TaskResult, primary: str, log: Log) -> tuple[float | None, Any]:
    """The current champion's primary metric on the same validation data (cross-validated: the
    metric it was registered with, since it saw every row in training)."""
    from powerlens import tracking
    from powerlens.risk.train import champion_metric_on

    if current is None:
        return None, None
    if result.cross_validated:
        recorded = (current.tags or {}).get(primary)
        return (float(recorded) if recorded not in (None, "") else None), current.version
    try:
        return champion_metric_on(tracking.load_champion(task), result, primary), current.version
    except Exception as exc:  # a champion on other features or classes cannot be compared
        log(f"  {task}: the current champion cannot score these features ({type(exc).__name__})")
        return None, current.version


SUMMARY_ORDER = ("best_family", "calibration", "registered_version", "promoted", "decision", "champion_metric_before",
                 "run_id", "champion_family", "training_seconds")


def _in_order(summary: dict) -> dict:
    """The summary's keys in the order the stage has always written them (metrics.json diffs)."""
    head = {k: v for k, v in summary.items() if k not in SUMMARY_ORDER}
    return head | {k: summary[k] for k in SUMMARY_ORDER if k in summary}


def write_plots(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """The curves as CSV files for `dvc plots` (ROC, PR, gain, lift, calibration)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, table in evaluate.plot_tables(tables).items():
        path = out_dir / f"{kind}.csv"
        paths.append(write_csv(table, path))
    return paths


if __name__ == "__main__":
    entry(main)
