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
    FORECAST_EXPERIMENT,
    RISK_EXPERIMENT,
    SEGMENTATION_EXPERIMENT,
    registered_name,
)

PIP_REQUIREMENTS = ["scikit-learn", "lightgbm", "pandas", "numpy"]

# what each MLflow experiment holds: its description in the UI (the `mlflow.note.content` tag)
EXPERIMENT_DESCRIPTIONS = {
    FORECAST_EXPERIMENT: ("The forecast stage: a parent run per horizon (forecast-hourly, forecast-monthly) with a child "
                          "run per model and reconciliation, each with its rolling-origin backtest; the registered "
                          "forecasters powerlens-forecast-hourly / -monthly (docs/forecasting.md)."),
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
        try:
            experiment_id = mlflow.create_experiment(name, artifact_location=location,
                                                     tags={"mlflow.note.content": description})
        except mlflow.exceptions.MlflowException as exc:
            # another process (a second training at once) created it between our look and ours
            if exc.error_code != "RESOURCE_ALREADY_EXISTS" or mlflow.get_experiment_by_name(name) is None:
                raise
            experiment_id = mlflow.get_experiment_by_name(name).experiment_id
        mlflow.set_experiment(experiment_id=experiment_id)  # else the first run lands in "Default"
        return experiment_id
    mlflow.set_experiment(name)
    return exp.experiment_id


NOT_IN_GIT = "none (not a git repository)"


def git_commit() -> str:
    """The sha of the project's HEAD commit; NOT_IN_GIT outside a git repository (or a repository
    without a commit, or without git), so that a run's tag never looks like a commit it is not."""
    try:
        result = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD^{commit}"], capture_output=True,
                                text=True, cwd=project_root(), timeout=10)
    except (OSError, subprocess.SubprocessError):
        return NOT_IN_GIT
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and len(sha) >= 40 else NOT_IN_GIT


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


# who started a run: the machine and the process (with its start time, so that a reused pid is
# not taken for the process that started the run)
HOST_TAG = "powerlens.host"
PID_TAG = "powerlens.pid"
PID_STARTED_TAG = "powerlens.pid_started"
MACHINE_TAG = "powerlens.machine"  # boot and pid namespace: pids are only comparable within one


_ALIVE_UNKNOWN = -1.0  # a process we may not inspect: taken as alive, never ended


def _process_started(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch); None when there is no such process,
    _ALIVE_UNKNOWN when there is one we may not inspect (another user's, hidepid)."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.AccessDenied:
        return _ALIVE_UNKNOWN
    except (psutil.NoSuchProcess, ProcessLookupError):
        return None


def _machine() -> str:
    """This boot of this machine and this process's pid namespace: two containers sharing a
    host name (or one host after a reboot) have different ones, so a pid is only compared with
    the pids it can mean."""
    def read(path: str, how) -> str:
        try:
            return how(path)
        except OSError:
            return "?"

    boot = read("/proc/sys/kernel/random/boot_id", lambda p: Path(p).read_text().strip()[:8])
    namespace = read("/proc/self/ns/pid", lambda p: str(os.stat(p).st_ino))
    return f"{boot}/{namespace}"


def owner_tags() -> dict[str, str]:
    """The tags that say which process on which machine started a run."""
    import socket

    started = _process_started(os.getpid())
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), MACHINE_TAG: _machine(),
            PID_STARTED_TAG: f"{started:.2f}" if started not in (None, _ALIVE_UNKNOWN) else ""}


def _owner_gone(tags: dict[str, str]) -> bool:
    """True when the process a run's tags name is no longer alive on this machine (its pid is
    free, or now belongs to a process started at another time)."""
    try:
        pid = int(tags.get(PID_TAG, ""))
    except ValueError:
        return False
    started = _process_started(pid)
    if started is None:
        return True
    if started == _ALIVE_UNKNOWN:
        return False
    recorded = tags.get(PID_STARTED_TAG) or ""
    try:
        return abs(float(recorded) - started) > 1.0
    except ValueError:
        return False


def end_orphaned_runs() -> list[str]:
    """End as FAILED every RUNNING run of the store that a process of this machine started and
    that process is gone (killed with -9, a crash of the machine): MLflow cannot know, and such
    a run would stay RUNNING forever. Runs of other machines, boots or pid namespaces (containers
    sharing a host name) are left alone (their processes cannot be seen from here), as are runs
    without the owner tags and processes we may not inspect. Returns the ended runs' ids."""
    import socket

    from mlflow import MlflowClient

    client = MlflowClient()
    host = socket.gethostname()
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    ended = []
    if not experiment_ids:
        return ended
    for found in client.search_runs(experiment_ids, filter_string=f"attributes.status = 'RUNNING' and "
                                    f"tags.`{HOST_TAG}` = '{host}'", max_results=1000):
        if found.data.tags.get(MACHINE_TAG) == _machine() and _owner_gone(found.data.tags):
            client.set_tag(found.info.run_id, "powerlens.ended_because",
                           f"process {found.data.tags.get(PID_TAG)} on {host} is gone (killed?)")
            client.set_terminated(found.info.run_id, status="FAILED")
            ended.append(found.info.run_id)
    return ended


@contextmanager
def run(name: str, experiment: str, tags: dict[str, str] | None = None, nested: bool = False,
        params: dict | None = None):
    """A run (nested under the active one when `nested`), tagged and with flattened params.
    Every run carries the host and pid that started it; a top-level run first ends as FAILED the
    runs of killed processes of this machine (end_orphaned_runs)."""
    import mlflow

    if not nested:
        use_experiment(experiment)
        end_orphaned_runs()
    with mlflow.start_run(run_name=name, nested=nested, tags={**(tags or {}), **owner_tags()}) as active:
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
    """Dataset lineage: which table (by digest) fed this run. Two runs logging the same table at
    once (two trainings on one server) race to insert it into the experiment's datasets: the
    loser's insert violates the unique key, and a second try links the row the winner wrote."""
    import time

    import mlflow

    dataset = mlflow.data.from_pandas(df, source=source, name=name)
    for attempt in range(3):
        try:
            mlflow.log_input(dataset, context=context)
            return
        except mlflow.exceptions.MlflowException as exc:
            duplicate = "unique" in str(exc).lower() or "already exists" in str(exc).lower()
            if not duplicate or attempt == 2:
                raise
            time.sleep(0.5 * (attempt + 1))


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


def log_forecaster(folder: str | Path, name: str) -> str:
    """Log a forecaster folder (powerlens.forecast.store) as a pyfunc model whose code is
    powerlens/forecast/registered_model.py (MLflow's models from code: no pickle); its URI."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    code = Path(__file__).parent / "forecast" / "registered_model.py"
    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "region"), ColSpec("datetime", "ts"), ColSpec("double", "load_kw", required=False),
                       ColSpec("double", "temperature_c")]),
        params=ParamSchema([ParamSpec("origin", "string", ""), ParamSpec("weather", "string", "scenario"),
                            ParamSpec("horizon_months", "long", 12)]))
    info = mlflow.pyfunc.log_model(name=name, python_model=str(code), artifacts={"forecaster": str(folder)},
                                   pip_requirements=PIP_REQUIREMENTS, signature=signature)
    return info.model_uri


# when this process last read each task's champion (the champion rule compares with it)
_champion_read_at: dict[str, float] = {}


def champion_version(task: str):
    """The registry's champion version of a task (None when it has none)."""
    import time

    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    _champion_read_at[task] = time.time()
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


# a promotion in progress: set on the new version before it takes the champion alias, "done"
# after; the champion alias goes to the best of the versions whose promotion is in progress
PROMOTION_TAG = "powerlens.promotion"
PROMOTION_STARTED_TAG = "powerlens.promotion_started"
PROMOTION_DONE_TAG = "powerlens.promotion_done"
PROMOTION_WINDOW_SECONDS = 600  # a promotion left "pending" by a killed process counts no longer
PROMOTION_SETTLE_SECONDS = 0.5
PROMOTION_ROUNDS = 5


def _tagged_metric(tags: dict[str, str]) -> float | None:
    """The primary metric a version was registered with: its only numeric tag (the train job
    tags the version `{primary_metric: value}` beside its family)."""
    values = []
    for key, value in tags.items():
        if key.startswith(("powerlens.", "mlflow.")):
            continue
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            continue
    return values[0] if len(values) == 1 else None


def _rank(version) -> tuple[float, int]:
    """Better first: the higher tagged metric, then the earlier version (the one promoted first)."""
    metric = _tagged_metric(version.tags or {})
    return (metric if metric is not None and metric == metric else float("-inf"), -int(version.version))


def _contenders(client, name: str, since: float) -> list:
    """The versions promoted at the same time as ours: promotions still in progress (started in
    the last PROMOTION_WINDOW_SECONDS: one left pending by a killed process counts no longer) and
    promotions that ended after `since`, when our training read the champion it compared with."""
    import time

    now = time.time()
    found = []
    for v in client.search_model_versions(f"name = '{name}'"):
        tags = v.tags or {}
        try:
            started = float(tags.get(PROMOTION_STARTED_TAG, "nan"))
            done = float(tags.get(PROMOTION_DONE_TAG, "nan"))
        except ValueError:
            continue
        if (tags.get(PROMOTION_TAG) == "pending" and now - started < PROMOTION_WINDOW_SECONDS) or done >= since:
            found.append(v)
    return found


def _set_alias(client, name: str, alias: str, version: str) -> None:
    """Set an alias; when another process set the same alias at the same moment, the tracking
    server's insert can collide with theirs (a unique-key violation on a PostgreSQL backend: its
    set is not an upsert under concurrency). The alias then exists: the caller's loop reads it
    again and sets it once more if it is not the winner."""
    import mlflow

    try:
        client.set_registered_model_alias(name, alias, version)
    except mlflow.exceptions.MlflowException as exc:
        text = str(exc).lower()
        if "unique" not in text and "already exists" not in text:
            raise


def _promote(client, name: str, version: str, since: float) -> str:
    """Give `version` the champion alias, safely when several trainings of a task promote at once.

    The champion rule is decided per training against the champion it read (at `since`); two
    trainings that run at once both read the same champion and may both decide to promote, and
    MLflow's alias is last-writer-wins with no compare-and-set (a lock in the PostgreSQL backend
    is not reachable through the tracking server's REST API). So a promotion announces itself
    first (the version's `powerlens.promotion` tag is "pending", with its time); then the process
    sets the alias to the best contender (the versions pending now or promoted after `since`:
    higher primary metric as tagged, then the earlier version), waits a moment, and reads the
    alias and the contenders again, until the alias has pointed to the best contender in two
    reads in a row. Every process computes the same winner from the same tags and only ever moves
    the alias to that winner; a process that announces itself later sees every earlier
    announcement, and a process that still sees a worse alias sets it again, so the alias ends on
    the best of the concurrent versions. The alias is only ever set, never deleted, so it is never
    lost, and it names one version, so there is exactly one champion. Concurrent trainings are
    compared by the metric each computed on its own validation rows: the same rows when they
    train the same task on the same features, which is the case this guards. Times are the
    clients' clocks. Returns the champion version after the promotion."""
    import time

    client.set_model_version_tag(name, version, PROMOTION_STARTED_TAG, f"{time.time():.3f}")
    client.set_model_version_tag(name, version, PROMOTION_TAG, "pending")
    winner, stable = version, 0
    try:
        for _ in range(PROMOTION_ROUNDS * 2):
            contenders = _contenders(client, name, since)
            winner = str(max(contenders, key=_rank).version) if contenders else version
            if _alias_version(client, name, CHAMPION) != winner:
                _set_alias(client, name, CHAMPION, winner)
                stable = 0
            else:
                stable += 1
                if stable >= 2:
                    break
            time.sleep(PROMOTION_SETTLE_SECONDS)
        return winner
    finally:
        state = "done" if winner == version else f"lost to version {winner}, promoted at the same time"
        client.set_model_version_tag(name, version, PROMOTION_TAG, state)
        client.set_model_version_tag(name, version, PROMOTION_DONE_TAG, f"{time.time():.3f}")


def _alias_version(client, name: str, alias: str) -> str | None:
    import mlflow

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except mlflow.exceptions.MlflowException:
        return None


def register(model_uri: str, task: str, promote: bool, tags: dict[str, str]) -> str:
    """Register a model version; alias it champion when promoted (safe when trainings of the task
    run at once: see _promote), else challenger. A promotion removes the challenger alias of an
    older version (it was compared with the old champion), never a newer one's."""
    import time

    import mlflow
    from mlflow import MlflowClient

    name = registered_name(task)
    version = mlflow.register_model(model_uri, name, tags=tags).version
    client = MlflowClient()
    if promote:
        since = _champion_read_at.get(task, time.time() - PROMOTION_WINDOW_SECONDS)
        promote = _promote(client, name, str(version), since) == str(version)
    if not promote:
        challenger = _alias_version(client, name, CHALLENGER)
        if challenger is None or int(challenger) < int(version):
            _set_alias(client, name, CHALLENGER, version)
        return version
    challenger = _alias_version(client, name, CHALLENGER)
    if challenger is not None and int(challenger) < int(version):
        try:
            client.delete_registered_model_alias(name, CHALLENGER)
        except mlflow.exceptions.MlflowException:
            pass
    return version


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
