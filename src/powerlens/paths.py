"""Every path the pipeline reads or writes, named once.

`ProjectPaths(root)` is the project's layout (data/, metrics/, plots/, reports/, the MLflow
store); `dvc.yaml` declares the same paths for DVC. Jobs, the CLI and the report take their
paths from here rather than spelling them out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """The project root: `POWERLENS_ROOT`, else the nearest parent holding params.yaml."""
    env = os.environ.get("POWERLENS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "params.yaml").exists():
            return candidate
    return here


def project_relative(path: str | Path, root: str | Path | None = None) -> str:
    """A path as metrics, manifests and reports record it: relative to the project root (default
    `project_root()`) with forward slashes when inside it, so that `dvc metrics diff` and the
    outputs' bytes do not differ between machines or checkouts; else the absolute path."""
    path = Path(path).resolve()
    try:
        return path.relative_to(Path(root or project_root()).resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class DataPaths:
    """The layout of a data folder (`data/` of the project, or any folder a command is given)."""

    data: Path

    @property
    def raw(self) -> Path:
        """The source export (the synthetic utility's, with direct identifiers)."""
        return self.data / "raw"

    @property
    def clean(self) -> Path:
        """Anonymized, validated canonical tables (and quarantine/)."""
        return self.data / "clean"

    @property
    def truth(self) -> Path:
        """The synthetic utility's ground truth file."""
        return self.data / "truth" / "ground_truth.parquet"

    @property
    def features(self) -> Path:
        return self.data / "features"

    @property
    def features_file(self) -> Path:
        """Features of every customer at every cut-off the features stage built."""
        return self.features / "features.parquet"

    @property
    def features_manifest(self) -> Path:
        """The features stage's cut-offs (training, scoring, previous, given labels)."""
        return self.features / "manifest.json"

    @property
    def segments(self) -> Path:
        return self.data / "segments"

    @property
    def clustering_candidates(self) -> Path:
        return self.segments / "clustering_candidates.csv"

    @property
    def models(self) -> Path:
        return self.data / "models"

    def model_dir(self, task: str) -> Path:
        return self.models / task

    def model_metrics(self, task: str) -> Path:
        """The train stage's summary of a task (families, champion family, decision)."""
        return self.model_dir(task) / "metrics.json"

    @property
    def scores(self) -> Path:
        return self.data / "scores"

    @property
    def scores_file(self) -> Path:
        return self.scores / "scores.parquet"

    @property
    def scores_previous_file(self) -> Path:
        """The champions' scores a month before the scoring cut-off (score drift)."""
        return self.scores / "scores_previous.parquet"

    @property
    def regional(self) -> Path:
        """The regional stage's tables (monthly, steps, sales_by_class, regions)."""
        return self.data / "regional"

    @property
    def forecast(self) -> Path:
        """The forecast stage's forecasts and backtests."""
        return self.data / "forecast"

    @property
    def snapshots(self) -> Path:
        return self.data / "snapshots"

    def snapshot_dir(self, period: str) -> Path:
        return self.snapshots / period



@dataclass(frozen=True)
class ProjectPaths:
    """The project's files, relative to `root` (the current directory by default, as DVC runs)."""

    root: Path = Path(".")

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"

    @property
    def playbook(self) -> Path:
        return self.root / "playbook.yaml"

    @property
    def report_notebook(self) -> Path:
        return self.root / "notebooks" / "reports" / "strategy_report.py"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def data_paths(self) -> DataPaths:
        return DataPaths(self.data)

    def __getattr__(self, name: str):
        # raw, clean, truth, features, segments, models, model_dir, scores, snapshots,
        # snapshot_dir: the data folder's layout, named once in DataPaths
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(DataPaths(self.data), name)

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def runs(self) -> Path:
        """Where commands run by hand write (`powerlens train`, `powerlens score`): never into the
        pipeline's DVC-tracked outputs unless told to."""
        return self.root / "runs"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics"

    def metrics_file(self, stage: str) -> Path:
        """metrics/<stage>.json (`train_churn`, `snapshot_2026-10`...)."""
        return self.metrics / f"{stage}.json"

    def plots_dir(self, task: str) -> Path:
        return self.root / "plots" / "train" / task

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def mlartifacts(self) -> Path:
        return self.root / "mlartifacts"


def project_paths() -> ProjectPaths:
    """The layout at the project root (absolute paths)."""
    return ProjectPaths(project_root())
