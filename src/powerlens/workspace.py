"""The workspace: what the pipeline made, loaded for a notebook in one line.

    from powerlens import workspace
    ws = workspace.open()                 # the project around the current folder (or a path)
    ws.features()                         # features at the scoring cut-off (as_of=... for another)
    ws.scores()                           # one row per customer: score_<task>, rank_<task>
    ws.reasons("churn", ws.scores().head(20)["customer_id"])   # feature, value, contribution rows
    ws.customer("c0a1...").to_dict()      # one customer's card: profile, segment, scores, actions

Everything is read from the pipeline's outputs (`data/`, the MLflow registry); nothing here
computes what a stage computes, except reasons for customers the score stage did not explain,
which the champion model gives on demand. Loads are lazy and kept: after the first use of a
table or model, a customer's card takes a fraction of a second.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.errors import MissingInput, UsageError
from powerlens.paths import ProjectPaths, project_root
from powerlens.rules import TASKS

__all__ = ["CustomerCard", "Workspace", "open"]


def open(project_dir: str | Path | None = None) -> Workspace:  # noqa: A001 - workspace.open() reads as intended
    """The workspace of a project (default: the project around the current folder, as the
    `powerlens` command finds it), so a notebook works from any folder inside the project."""
    root = Path(project_dir).resolve() if project_dir is not None else project_root()
    if not (root / "params.yaml").exists():
        raise MissingInput(f"{root} is not a powerlens project (no params.yaml): pass the project folder")
    return Workspace(ProjectPaths(root))


@dataclass
class CustomerCard:
    """One customer as the pipeline sees them: profile (account and key features), segment (tiers,
    flags, load shape and why), scores per task (score, rank, reasons as rows) and actions."""

    customer_id: str
    profile: dict[str, Any]
    segment: dict[str, Any]
    scores: dict[str, dict[str, Any]]
    actions: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILE_FEATURES = ["kwh_365d", "revenue_12m", "load_factor", "on_time_rate", "days_past_due_mean",
                    "arrears_amount", "trend_pct_per_year", "tenure_years"]


class Workspace:
    """Lazy, cached access to one project's pipeline outputs (see the module docstring)."""

    def __init__(self, paths: ProjectPaths):
        self.paths = paths
        self.data = paths.data_paths
        self._cache: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"Workspace({self.paths.root})"

    def _once(self, key: Any, load):
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def _by_id(self, name: str, load) -> pd.DataFrame:
        """A table indexed by customer_id, made once (a customer's card looks rows up in it)."""
        return self._once(("by_id", name), lambda: load().set_index("customer_id"))

    def _parquet(self, path: Path, step: str) -> pd.DataFrame:
        if not path.exists():
            raise MissingInput(f"no {path}: run {step} first (make run, or uv run dvc repro)")
        return self._once(path, lambda: pd.read_parquet(path))

    # ------------------------------------------------------------------ tables and features

    def tables(self) -> list[str]:
        """The canonical tables of the clean folder."""
        return sorted(p.stem for p in self.data.clean.glob("*.parquet"))

    def table(self, name: str) -> pd.DataFrame:
        """A clean canonical table (`customers`, `bills`, `readings_daily`...)."""
        known = self.tables()
        if name not in known:
            raise MissingInput(f"no clean table {name!r}; the clean folder has: {', '.join(known) or 'none'}")
        return self._parquet(self.data.clean / f"{name}.parquet", "the validate stage")

    @property
    def manifest(self) -> dict[str, Any]:
        """The features stage's cut-offs (training, scoring, previous, given labels)."""
        path = self.data.features_manifest
        if not path.exists():
            raise MissingInput(f"no {path}: run the features stage first (make run, or uv run dvc repro)")
        return self._once("manifest", lambda: json.loads(path.read_text(encoding="utf-8")))

    def cutoffs(self) -> list[str]:
        """Every cut-off the features stage built (YYYY-MM-DD)."""
        as_of = self._once("as_of", lambda: pd.read_parquet(self.data.features_file, columns=["as_of"])["as_of"])
        return sorted(str(pd.Timestamp(t).date()) for t in as_of.unique())

    def features(self, as_of: str | None = None) -> pd.DataFrame:
        """Features at a cut-off the features stage built (default: the scoring cut-off)."""
        cutoff = as_of or self.manifest["scoring_cutoff"]
        if str(pd.Timestamp(cutoff).date()) not in self.cutoffs():
            raise MissingInput(f"no features as of {cutoff}; built cut-offs: {', '.join(self.cutoffs())}")
        return self._once(("features", cutoff), lambda: pd.read_parquet(
            self.data.features_file, filters=[("as_of", "==", pd.Timestamp(cutoff))]).reset_index(drop=True))

    def feature_definitions(self) -> pd.DataFrame:
        """What each feature means, with its unit."""
        return self._once("definitions", lambda: pd.read_csv(self.data.features / "feature_definitions.csv"))

    def segments(self) -> pd.DataFrame:
        """Segments at the scoring cut-off: tiers, big / latent big, load shape, and why."""
        return self._parquet(self.data.segments / "segments.parquet", "the segment stage")

    # ------------------------------------------------------------------ risk

    def scores(self) -> pd.DataFrame:
        """One row per customer: `score_<task>` and `rank_<task>` for every scored task."""
        def wide() -> pd.DataFrame:
            long = self._parquet(self.data.scores_file, "the score stage")
            table = long.pivot(index="customer_id", columns="task", values=["score", "rank"])
            table.columns = [f"{what}_{task}" for what, task in table.columns]
            return table.reset_index()
        return self._once("scores_wide", wide)

    def tasks(self) -> list[str]:
        """The scored tasks (the derived ones first)."""
        scored = set(self._parquet(self.data.scores_file, "the score stage")["task"])
        return [t for t in TASKS if t in scored] + sorted(scored - set(TASKS))

    def champion(self, task: str):
        """The task's champion model (the registry's `@champion`), loaded once."""
        from powerlens import tracking

        if task not in self.tasks():
            raise MissingInput(f"no scores for task {task!r}; scored tasks: {', '.join(self.tasks())}")
        return self._once(("champion", task), lambda: tracking.champion_of(task, self.paths.root))[0]

    def champion_metrics(self, task: str) -> dict[str, Any]:
        """The train stage's summary of a task: every family's metrics, the champion, the decision."""
        path = self.data.model_metrics(task)
        if not path.exists():
            raise MissingInput(f"no {path}: run the train stage for {task} first")
        return json.loads(path.read_text(encoding="utf-8"))

    def reasons(self, task: str, customer_ids=None, top: int = 3) -> pd.DataFrame:
        """Why the champion scored these customers (default: everyone scored) as it did: one row
        per reason (customer_id, order, feature, meaning, value, contribution)."""
        from powerlens.risk.explain import reason_table

        model = self.champion(task)
        by_id = self._by_id("features", self.features)
        ids = by_id.index if customer_ids is None else pd.Index(pd.Series(customer_ids, dtype=str))
        rows = by_id.reindex(ids)
        if rows.isna().all(axis=1).any():
            missing = rows.index[rows.isna().all(axis=1)][:3].tolist()
            raise MissingInput(f"not open at the scoring cut-off: {', '.join(missing)}")
        X = rows.reset_index()[list(model.feature_names_in_)]
        return reason_table(model, X, rows.index.to_numpy(), top=top)

    # ------------------------------------------------------------------ one customer

    def customer(self, customer_id: str) -> CustomerCard:
        """One customer's card. Unknown ids are refused with examples of known ones."""
        customers = self.table("customers")
        match = customers[customers["customer_id"].astype(str) == str(customer_id)]
        if match.empty:
            examples = ", ".join(customers["customer_id"].astype(str).head(3))
            raise UsageError(f"no customer {customer_id!r} (pseudonymized ids look like {examples})")
        feats = self._by_id("features", self.features)
        profile = _plain(match.iloc[0].drop(labels=["customer_id"]).to_dict())
        if customer_id in feats.index:
            profile |= {k: _plain(feats.at[customer_id, k]) for k in PROFILE_FEATURES if k in feats.columns}
        seg = self._by_id("segments", self.segments)
        segment = _plain(seg.loc[customer_id].to_dict()) if customer_id in seg.index else {}
        return CustomerCard(str(customer_id), profile, segment, self._scores_of(customer_id), self._actions_of(customer_id))

    def _scores_of(self, customer_id: str) -> dict[str, dict[str, Any]]:
        wide = self._by_id("scores", self.scores)
        if customer_id not in wide.index:
            return {}
        out = {}
        for task in self.tasks():
            reasons = self.reasons(task, [customer_id]).drop(columns="customer_id")
            out[task] = {"score": float(wide.at[customer_id, f"score_{task}"]),
                         "rank": int(wide.at[customer_id, f"rank_{task}"]),
                         "of": int(wide[f"rank_{task}"].notna().sum()),
                         "reasons": reasons.to_dict("records")}
        return out

    def _actions_of(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's rows in the latest snapshot's action plan (none without a snapshot)."""
        from powerlens.snapshots import load_snapshot, snapshot_exists

        periods = sorted(p.name for p in self.data.snapshots.glob("*") if snapshot_exists(p))
        if not periods:
            return []
        plan = self._once(("plan", periods[-1]), lambda: load_snapshot(
            self.data.snapshot_dir(periods[-1]), tables=["plan"]).plan)
        mine = plan[plan["customer_id"].astype(str) == str(customer_id)]
        return [_plain(r) | {"period": periods[-1]} for r in mine.drop(columns=["customer_id"]).to_dict("records")]


def _plain(value: Any) -> Any:
    """numpy / pandas scalars and timestamps as plain Python values (a card prints as JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value
