"""The only module that talks to MLflow: where runs go, how they are tagged, how models are
registered and promoted.

Default store: `sqlite:///<project>/mlflow.db` with artifacts in `<project>/mlartifacts`;
`MLFLOW_TRACKING_URI` points it at a server instead.

Importing this module changes nothing in the process and does not import MLflow (MLflow reads
its environment, e.g. `MLFLOW_DISABLE_TELEMETRY`, when it is imported): each function imports it
when called, after `powerlens.jobs.common.configure_process()` has set the process up in a job
or command. Experiment and registry names are `powerlens.rules`'.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from powerlens.config import flatten
from powerlens.errors import MissingInput
from powerlens.paths import ProjectPaths, project_paths, project_root
from powerlens.rules import (  # noqa: F401  (re-exported)
    CHALLENGER,
    CHAMPION,
    RISK_EXPERIMENT,
    SEGMENTATION_EXPERIMENT,
    registered_name,
)

PIP_REQUIREMENTS = ["scikit-learn", "lightgbm", "pandas", "numpy"]

# what each MLflow experiment holds: its description in the UI (the `mlflow.note.content` tag)
EXPERIMENT_DESCRIPTIONS = {
    RISK_EXPERIMENT: ("The train@<task> stages (churn, arrears, theft): a parent run per task with a child run "
                      "per model family, the calibrated best model and the champion decision. Runs of a DVC "
                      "experiment (`dvc exp run`) are tagged `dvc_experiment` and only register challengers."),
    SEGMENTATION_EXPERIMENT: ("The segment stage: value x credit tiers, big and latent-big customers and the "
                              "load-shape clustering candidates."),
}


def dvc_experiment() -> str | None:
    """The DVC experiment this process runs in (`dvc exp run` sets DVC_EXP_NAME), else None."""
    return os.environ.get("DVC_EXP_NAME") or None


def tracking_uri(root: Path | None = None) -> str:
    """MLFLOW_TRACKING_URI, else the project's sqlite store (of `root`, default the project root)."""
    paths = ProjectPaths(Path(root).resolve()) if root is not None else project_paths()
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{paths.mlflow_db}"


def _is_local(uri: str) -> bool:
    return uri.startswith("sqlite:") or uri.startswith("file:") or "://" not in uri


def use_experiment(name: str) -> str:
    """Point MLflow at the store and the experiment (created with a local artifact root)."""
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    exp = mlflow.get_experiment_by_name(name)
    if exp is None:
        location = project_paths().mlartifacts.as_uri() if _is_local(uri) else None
        description = EXPERIMENT_DESCRIPTIONS.get(name, f"powerlens runs ({name})")
        experiment_id = mlflow.create_experiment(name, artifact_location=location,
                                                 tags={"mlflow.note.content": description})
        mlflow.set_experiment(experiment_id=experiment_id)  # else the first run lands in "Default"
        return experiment_id
    mlflow.set_experiment(name)
    return exp.experiment_id


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=project_root(), timeout=10).stdout.strip()
        return sha or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_hash(*paths: str | Path) -> str:
    """A content hash of the files a run read (the data lineage tag)."""
    h = hashlib.md5()
    for path in paths:
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            h.update(f.name.encode())
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    h.update(chunk)
    return h.hexdigest()


def run_tags(stage: str, data_paths: list[str | Path], **extra: Any) -> dict[str, str]:
    tags = {"git_commit": git_commit(), "dvc_stage": stage, "data_hash": data_hash(*data_paths)}
    if dvc_experiment():
        tags["dvc_experiment"] = dvc_experiment()
    tags.update({k: str(v) for k, v in extra.items()})
    return tags


@contextmanager
def run(name: str, experiment: str, tags: dict[str, str] | None = None, nested: bool = False,
        params: dict | None = None):
    """A run (nested under the active one when `nested`), tagged and with flattened params."""
    import mlflow

    if not nested:
        use_experiment(experiment)
    with mlflow.start_run(run_name=name, nested=nested, tags=tags or {}) as active:
        if params:
            mlflow.log_params({k: str(v)[:500] for k, v in flatten(params).items()})
        yield active


def log_metrics(metrics: dict[str, float]) -> None:
    """Numeric metrics of the active run (missing values left out)."""
    import mlflow

    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v and v is not None})


def log_params(params: dict) -> None:
    """Flat params of the active run (values cut to MLflow's length limit)."""
    import mlflow

    if params:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})


def log_figure(fig, name: str) -> None:
    import mlflow

    mlflow.log_figure(fig, name)


def log_dict(data: dict, name: str) -> None:
    import mlflow

    mlflow.log_dict(data, name)


def log_table(df, name: str, artifact_path: str | None = None) -> None:
    """A small table as a CSV artifact (readable in the UI), optionally in a folder."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        df.to_csv(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=artifact_path)


def log_dataset(df, name: str, source: str, context: str) -> None:
    """Dataset lineage: which table (by digest) fed this run."""
    import mlflow

    dataset = mlflow.data.from_pandas(df, source=source, name=name)
    mlflow.log_input(dataset, context=context)


def log_model(model, name: str, X_example) -> str:
    """Log a scikit-learn-compatible model with its signature; returns its model URI."""
    import mlflow
    from mlflow.models import infer_signature

    sample = X_example.head(50)
    proba = model.predict_proba(sample)
    signature = infer_signature(sample, proba[:, -1] if proba.shape[1] == 2 else proba)
    import skops.io

    # skops (not pickle) serialization; our own model classes and LightGBM's are trusted
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    info = mlflow.sklearn.log_model(model, name=name, signature=signature,
                                    pip_requirements=PIP_REQUIREMENTS, skops_trusted_types=trusted)
    return info.model_uri


def champion_version(task: str):
    """The registry's champion version of a task (None when it has none)."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    try:
        return client.get_model_version_by_alias(registered_name(task), CHAMPION)
    except mlflow.exceptions.MlflowException:
        return None


def load_model(uri: str):
    import mlflow

    return mlflow.sklearn.load_model(uri)


def load_champion(task: str):
    return load_model(f"models:/{registered_name(task)}@{CHAMPION}")


def champion_of(task: str, root: Path | None = None):
    """The champion model of a task and its registry version, from the store of the project at
    `root`; MissingInput when the task has none yet."""
    import mlflow

    from powerlens.errors import MissingInput

    uri = tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    version = champion_version(task)
    if version is None:
        raise MissingInput(f"no champion for {task!r} in {uri}: run the train stage (powerlens train {task})")
    return load_champion(task), version


def register(model_uri: str, task: str, promote: bool, tags: dict[str, str]) -> str:
    """Register a model version; alias it champion when promoted, else challenger."""
    import mlflow
    from mlflow import MlflowClient

    version = mlflow.register_model(model_uri, registered_name(task), tags=tags)
    client = MlflowClient()
    client.set_registered_model_alias(registered_name(task), CHAMPION if promote else CHALLENGER,
                                      version.version)
    if promote:
        try:
            client.delete_registered_model_alias(registered_name(task), CHALLENGER)
        except mlflow.exceptions.MlflowException:
            pass
    return version.version


def latest_comparison(task: str, experiment: str = RISK_EXPERIMENT):
    """Families x metrics (a DataFrame) of the latest training run of a task (its child runs)."""
    import mlflow

    use_experiment(experiment)
    exp = mlflow.get_experiment_by_name(experiment)
    parents = mlflow.search_runs([exp.experiment_id], filter_string=f"tags.task = '{task}' and "
                                 "tags.`mlflow.runName` = 'train-" + task + "'",
                                 order_by=["attributes.start_time DESC"], max_results=1)
    if parents.empty:
        raise MissingInput(f"no training run for task {task!r} in experiment {experiment!r}: train it first")
    parent_id = parents.iloc[0]["run_id"]
    children = mlflow.search_runs([exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    metric_cols = [c for c in children.columns if c.startswith("metrics.")]
    table = children.set_index("tags.family")[metric_cols]
    table.columns = [c[len("metrics."):] for c in metric_cols]
    table.index.name = "family"
    table.attrs["run_id"] = parent_id
    order = ["roc_auc", "roc_auc_weighted", "pr_auc", "brier", "log_loss", "accuracy", "balanced_accuracy",
             "f1_macro", "lift_at_5pct", "lift_at_10pct", "lift_at_20pct", "capture_at_10pct", "precision_at_k",
             "lead_vs_logistic", "lead_vs_logistic_low", "lead_vs_logistic_high"]
    order += sorted(c for c in table.columns if c.startswith("roc_auc_") and c not in order)
    order += ["fit_seconds", "search_seconds"]
    return table[[c for c in order if c in table.columns]].sort_values(
        "roc_auc" if "roc_auc" in table else table.columns[0], ascending=False)
