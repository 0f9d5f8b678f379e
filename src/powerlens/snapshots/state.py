"""The utility as it was at a cut-off, from data strictly before it.

At the pipeline's scoring cut-off the stages' outputs are used as they are (features,
segments, the champions' scores). At any other cut-off (an earlier period, or the month before
for migration, drift and the review of past actions) they are computed with the stages' own
functions: `features.engine.build_features`, `segmentation.segment` with the load-shape
algorithm and k the segment stage chose, and the champion's model family fitted walk-forward
(`risk.champion.fit_champion`) on the training cut-offs whose label windows closed before the
cut-off. A model trained on later labels is never used for an earlier period.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from powerlens.errors import PowerlensError, one_line
from powerlens.paths import DataPaths


@dataclass
class ScoringModel:
    """The model that scored one task at one cut-off, and on which cut-offs it learned."""

    task: str
    source: str                       # "champion vN" (score stage) or "walk-forward"
    family: str
    train_cutoffs: list[str]
    valid_cutoff: str
    model: Any = None                 # None when the score stage's scores are used as they are
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class CutoffState:
    """Features, segments, load-shape profiles, scores and models at one cut-off (None where
    not computable; `notes` says why)."""

    cutoff: pd.Timestamp
    features: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None
    profiles: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    models: dict[str, ScoringModel] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_json(path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class PointInTime:
    """Computes cut-off states from a data folder; features and walk-forward models are kept in
    memory, so the periods of one run share them."""

    def __init__(self, data: DataPaths, cfg: Any, echo: Callable[[str], Any] = lambda _m: None):
        self.paths, self.cfg, self.echo = data, cfg, echo
        self.manifest = read_json(data.features_manifest)
        scoring = self.manifest.get("scoring_cutoff")
        self.scoring_cutoff = pd.Timestamp(scoring) if scoring else None
        self._features: dict[pd.Timestamp, pd.DataFrame] = {}
        self._models: dict[tuple, tuple[ScoringModel | None, str | None]] = {}
        self._clean: Any = None
        self._feature_cutoffs: list[pd.Timestamp] | None = None

    def cutoff_of(self, period_end: pd.Timestamp, period: str) -> tuple[pd.Timestamp, str]:
        """The cut-off a period shows: its end, or the data's end when the period is not over."""
        if self.scoring_cutoff is not None and self.scoring_cutoff < period_end:
            return self.scoring_cutoff, (f"the data ends before the end of {period}: segments and scores "
                                         f"as of {self.scoring_cutoff.date()}")
        return period_end, f"segments and scores as of {period_end.date()} (data before the end of {period})"

    def light_clean(self) -> Any:
        """The clean tables without readings, for labels; loaded once."""
        if self._clean is None:
            from powerlens import features as F

            self._clean = F.load_clean(self.paths.clean, with_readings=False)
        return self._clean

    def feature_cutoffs(self) -> list[pd.Timestamp]:
        """The cut-offs the features stage built."""
        if self._feature_cutoffs is None:
            self._feature_cutoffs = []
            if self.paths.features_file.exists():
                as_of = pd.read_parquet(self.paths.features_file, columns=["as_of"])["as_of"]
                self._feature_cutoffs = sorted(pd.Timestamp(t) for t in as_of.unique())
        return self._feature_cutoffs

    def prefetch_features(self, cutoffs: list[pd.Timestamp]) -> None:
        """Features at several cut-offs: the stage's rows where it built the cut-off, the rest in
        one pass of the features engine (partitions of customers: bounded memory)."""
        from powerlens import features as F
        from powerlens.features.engine import build_features

        missing = []
        for cutoff in dict.fromkeys(cutoffs):
            if cutoff in self._features:
                continue
            if cutoff in self.feature_cutoffs():
                self._features[cutoff] = pd.read_parquet(self.paths.features_file, filters=[("as_of", "==", cutoff)])
            else:
                missing.append(cutoff)
        if not missing:
            return
        if not (self.paths.clean / "customers.parquet").exists():
            raise FileNotFoundError(f"no {self.paths.clean / 'customers.parquet'} to build features from")
        fp = self.cfg.features
        self.echo(f"building features as of {', '.join(str(t.date()) for t in missing)}")
        built, _ = build_features(self.paths.clean, missing, F.build_options(fp.as_dict()), engine="local",
                                  customers_per_partition=int(fp.customers_per_partition),
                                  threads=int(fp.threads))
        for cutoff in missing:
            self._features[cutoff] = built[built["as_of"] == cutoff].reset_index(drop=True)

    def features_at(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        if cutoff not in self._features:
            self.prefetch_features([cutoff])
        return self._features[cutoff]

    def segments_at(self, cutoff: pd.Timestamp, feats: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Segments and load-shape profiles: the segment stage's at its cut-off, else
        segmentation.segment with the load-shape algorithm and k the stage chose."""
        seg_dir = self.paths.segments
        if cutoff == self.scoring_cutoff and (seg_dir / "segments.parquet").exists():
            return pd.read_parquet(seg_dir / "segments.parquet"), pd.read_parquet(seg_dir / "profiles.parquet")
        # (the segment stage's own file names: jobs/segment.py writes them)
        from powerlens.segmentation import profile_table, read_profiles, replay_params, segment

        params = replay_params(self.cfg.segment.as_dict(), read_json(seg_dir / "metrics.json"))
        self.echo(f"segments as of {cutoff.date()}")
        look_back = read_profiles(self.paths.clean, pd.Index(feats["customer_id"]), cutoff,
                                  params["clustering"]["history_days"], params["clustering"]["customers_per_partition"],
                                  engine=params["engine"])
        seg, _, _ = segment(feats, look_back, params, self.light_clean().tariffs)  # ToU priced as the stage does
        return seg, profile_table(look_back, seg)

    def stage_scores(self, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, ScoringModel]] | None:
        """The score stage's scores when they are for this cut-off, with the champions' records."""
        path = self.paths.scores_file
        if cutoff != self.scoring_cutoff or not path.exists():
            return None
        scores = pd.read_parquet(path)
        models = {}
        for task in scores["task"].unique():
            info = read_json(self.paths.model_metrics(task))
            versions = scores.loc[scores["task"] == task, "model_version"] if "model_version" in scores else []
            source = f"champion v{int(versions.iloc[0])}" if len(versions) else "champion"
            if info.get("promoted", True):  # the last training made it: its family, cut-offs, metrics
                family = str(info.get("champion_family") or info.get("best_family") or "?")
                metrics = (info.get("families", {}).get(family, {}) or {})
                models[task] = ScoringModel(task, source, family, list(info.get("train_cutoffs", [])),
                                            str(info.get("valid_cutoff", "?")),
                                            metrics={k: v for k, v in metrics.items()
                                                     if k in ("roc_auc", "pr_auc", "brier")})
            else:  # kept from an earlier training: the MLflow registry holds its details
                models[task] = ScoringModel(task, f"{source} (an earlier training; see the registry)", "?", [], "?")
        return scores, models

    def walk_forward(self, task: str, cutoff: pd.Timestamp) -> tuple[ScoringModel | None, str | None]:
        """The champion's model family fitted as the train stage fits it, on the feature cut-offs
        whose whole label window ends by `cutoff`; None and the reason when that is not possible."""
        info = read_json(self.paths.model_metrics(task))
        if not info or info.get("skipped"):
            return None, f"{task}: no trained model (train stage)"
        family = info.get("champion_family") or info.get("best_family")
        if not family:
            return None, f"{task}: the train stage recorded no model family"
        if task in (self.manifest.get("label_cutoffs") or {}):
            return None, (f"{task}: labels given by the source are for one date only: scores only at "
                          "the scoring cut-off")
        horizon = int(self.cfg.features.horizon_months)
        usable = [t for t in self.feature_cutoffs() if t + pd.DateOffset(months=horizon) <= cutoff]
        usable = usable[-int(self.cfg.features.n_training_cutoffs):]
        if len(usable) < 2:
            return None, (f"{task}: fewer than two feature cut-offs with a full {horizon}-month label window "
                          f"before {cutoff.date()}: no point-in-time model")
        key = (task, family, tuple(usable))
        if key not in self._models:
            self._models[key] = self._fit(task, family, usable, horizon)
        return self._models[key]

    def _fit(self, task: str, family: str, usable: list[pd.Timestamp],
             horizon: int) -> tuple[ScoringModel | None, str | None]:
        from threadpoolctl import threadpool_limits

        from powerlens.risk import labels
        from powerlens.risk.champion import fit_champion
        from powerlens.risk.train import NotEnoughLabels

        train = self.cfg.train.as_dict()
        self.echo(f"{task}: {family} walk-forward on {', '.join(str(t.date()) for t in usable)}")
        feats = pd.read_parquet(self.paths.features_file, filters=[("as_of", "in", usable)])
        y = labels.derive(task, self.light_clean(), feats, horizon, train["arrears_days_past_due"])
        try:
            with threadpool_limits(limits=1):  # small fits: one thread is faster on 2 busy cores
                champion = fit_champion(task, feats, y, train, family)
        except NotEnoughLabels:  # its counts stay out of the report: they can be tiny groups
            return None, (f"{task}: too few positive labels in the label windows before "
                          f"{(usable[-1] + pd.DateOffset(months=horizon)).date()} to train a point-in-time model")
        return ScoringModel(task, "walk-forward", family, list(champion.train_cutoffs), str(champion.valid_cutoff),
                            champion.model, {k: v for k, v in champion.metrics.items()
                                             if k in ("roc_auc", "pr_auc", "brier")}), None

    def state_at(self, cutoff: pd.Timestamp) -> CutoffState:
        """Features, segments and scores at one cut-off; each missing piece leaves a note."""
        from powerlens.risk.scoring import score_frame

        state = CutoffState(cutoff)
        try:
            state.features = self.features_at(cutoff)
        except (FileNotFoundError, PowerlensError) as exc:
            state.notes.append(f"no features as of {cutoff.date()}: {one_line(exc)}")
            return state
        try:
            state.segments, state.profiles = self.segments_at(cutoff, state.features)
        except (FileNotFoundError, PowerlensError) as exc:  # e.g. too few customers to find load shapes
            state.notes.append(f"no segments as of {cutoff.date()}: {one_line(exc)}")
        staged = self.stage_scores(cutoff)
        if staged is not None:
            state.scores, state.models = staged
            return state
        for task in self.cfg.train.tasks:
            model, why = self.walk_forward(task, cutoff)
            if model is None:
                state.notes.append(why or f"{task}: no model")
            else:
                state.models[task] = model
        frames = [score_frame(m.model, state.features, task) for task, m in state.models.items()]
        state.scores = (pd.concat(frames, ignore_index=True) if frames else
                        pd.DataFrame(columns=["customer_id", "task", "score", "rank", "reasons"]))
        return state


def inputs_fingerprint(data: DataPaths, playbook, cfg: Any) -> str:
    """What a snapshot was computed from: the pipeline's files (name, size, modification time),
    the playbook, the settings that shape it and the code that computes it. A snapshot whose
    fingerprint differs from the current one is out of date (`powerlens report` recomputes it;
    in `dvc repro` DVC does)."""
    import hashlib
    from pathlib import Path

    import powerlens.industry
    import powerlens.outcomes
    import powerlens.payment_channels
    import powerlens.regional
    import powerlens.service_quality
    import powerlens.snapshots
    import powerlens.strategy
    from powerlens.snapshots.regional import regional_inputs

    files = [*sorted(data.clean.glob("*.parquet")), data.features_file, data.features_manifest,
             *sorted(data.segments.glob("*")), *sorted(data.scores.glob("*.parquet")),
             *sorted(data.models.glob("*/metrics.json")), *regional_inputs(data)]
    stamp = [(str(p.relative_to(data.data)), p.stat().st_size, p.stat().st_mtime_ns) for p in files if p.is_file()]
    code = [Path(powerlens.strategy.__file__), Path(powerlens.outcomes.__file__),
            *sorted(Path(powerlens.regional.__file__).parent.glob("*.py")), Path(powerlens.industry.__file__), Path(powerlens.service_quality.__file__),
            Path(powerlens.payment_channels.__file__), *sorted(Path(powerlens.snapshots.__file__).parent.glob("*.py"))]
    h = hashlib.sha256(json.dumps([stamp, cfg.report.top_n, cfg.report.min_group_size,
                                   cfg.service.as_dict(),
                                   cfg.payments.as_dict(), cfg.features.as_dict(),
                                   cfg.segment.as_dict(), cfg.train.as_dict()], default=str).encode())
    for path in [*code, *([Path(playbook)] if playbook is not None and Path(playbook).exists() else [])]:
        h.update(path.read_bytes())
    return h.hexdigest()[:24]
