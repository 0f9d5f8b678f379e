"""Stage `score`: each task's champion scores every account open at the scoring cut-off (and,
for the report's score drift, the cut-off a month earlier), with reason codes for the top of
each list; and `score_folder`, which scores any imported data folder for `powerlens score TASK`.

Scoring itself is `risk.scoring`'s; MLflow only through `powerlens.tracking`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens import rules
from powerlens.atomic import write_csv, write_parquet
from powerlens.config import load_config, write_json
from powerlens.errors import UsageError
from powerlens.jobs.common import Clock, entry, features_manifest
from powerlens.paths import ProjectPaths

Log = Callable[[str], Any]
PREVIOUS_COLUMNS = ["customer_id", "task", "score"]


def explained_ids(frame: pd.DataFrame, feats: pd.DataFrame, cfg) -> pd.Index:
    """The accounts of one task's scores that get reason codes: the lists people read, i.e. the
    top `score.explained(n)` of the utility and the top `report.top_n` of every region."""
    top = frame.loc[frame["rank"] <= cfg.score.explained(len(frame)), "customer_id"]
    if "region" not in feats:
        return pd.Index(top)
    region = frame["customer_id"].map(feats.set_index("customer_id")["region"])
    regional = frame.assign(region=region.to_numpy()).sort_values("rank").groupby("region", dropna=False).head(
        cfg.report.top_n)["customer_id"]
    return pd.Index(top).union(pd.Index(regional))


def run(cfg, *, features_dir: Path, out: Path, metrics: Path | None = None, echo: Log = print) -> dict:
    """Every task of `train.tasks` with a champion in the registry scores the scoring cut-off
    (`out/scores.parquet`, reasons for the top of each list) and the previous cut-off
    (`out/scores_previous.parquet`); a task without a champion is skipped and said."""
    from powerlens import tracking
    from powerlens.risk.scoring import add_reasons, empty_scores, score_frame

    clock = Clock("score", echo)
    manifest = features_manifest(features_dir)
    path = Path(features_dir) / "features.parquet"
    scoring = pd.Timestamp(manifest["scoring_cutoff"])
    previous = pd.Timestamp(manifest["previous_cutoff"])
    feats = pd.read_parquet(path, filters=[("as_of", "==", scoring)])
    prev_feats = pd.read_parquet(path, filters=[("as_of", "==", previous)])
    tracking.use_experiment(rules.RISK_EXPERIMENT)
    frames, prev_frames, result = [], [], {}
    for task in cfg.train.tasks:
        version = tracking.champion_version(task)
        if version is None:
            clock(f"{task}: no champion in the registry yet, skipped (run the train stage)")
            continue
        model = tracking.load_champion(task)
        frame = score_frame(model, feats, task, model_version=int(version.version))
        frames.append(add_reasons(frame, model, feats, explained_ids(frame, feats, cfg)))
        if len(prev_feats):  # the same champion a month earlier: the report's score drift
            prev_frames.append(score_frame(model, prev_feats, task)[PREVIOUS_COLUMNS])
        result[task] = {"champion_version": int(version.version), "mean_score": round(float(frame["score"].mean()), 5)}
        clock(f"{task}: scored {len(frame)} accounts with champion v{version.version}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scores = pd.concat(frames, ignore_index=True) if frames else empty_scores(model_version=True)
    write_parquet(scores, out / "scores.parquet")
    write_parquet(pd.concat(prev_frames, ignore_index=True) if prev_frames else pd.DataFrame(columns=PREVIOUS_COLUMNS),
                  out / "scores_previous.parquet")
    result["seconds"] = round(clock.elapsed, 1)
    if metrics:
        write_json(metrics, result)
    return result


def score_folder(task: str, cfg, *, data: Path, out: Path, model_uri: str | None = None,
                 as_of: str | pd.Timestamp | None = None, echo: Log = print) -> int:
    """Score one task on any imported data folder into a CSV: customer_id, score (binary) or
    score_<class>, reasons. Features are as of `as_of` when given, else as of the data's end
    (its last reading, bill, payment or event, else the date its source describes, e.g. a
    PowerCo snapshot's): customers whose outcome is unknown are what a model scores. The model
    is the task's champion unless `model_uri` names another; data whose features do not match
    its signature are refused (risk.scoring.FeatureMismatch). Returns the number of accounts
    scored."""
    from powerlens import features as F
    from powerlens import tracking
    from powerlens.risk.scoring import check_signature, score_wide

    clock = Clock(f"score {task}", echo)
    clean = F.load_clean(data)
    if as_of is None:
        _, as_of = F.cutoffs_for(clean.data_end, 1, 1, 0)
    else:
        as_of = rules.parse_date(as_of, "--as-of")
    feats = F.build(clean, as_of, **F.build_options(cfg.features.as_dict()))
    tracking.use_experiment(rules.RISK_EXPERIMENT)
    uri = model_uri or f"models:/{rules.registered_name(task)}@{rules.CHAMPION}"
    model = tracking.load_model(uri)
    extra = check_signature(model, feats)
    if extra:
        clock(f"ignoring {len(extra)} feature(s) the model does not use: {', '.join(extra[:5])}")
    frame = score_wide(model, feats)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, out)
    clock(f"scored {len(frame)} accounts as of {as_of.date()} with {uri}")
    return len(frame)


def main() -> None:
    """The DVC stage (`python pipelines/score.py`, under `jobs.common.entry`): params.yaml and
    the project's paths."""
    if len(sys.argv) != 1:
        raise UsageError("usage: python pipelines/score.py")
    paths = ProjectPaths()
    run(load_config(), features_dir=paths.features, out=paths.scores, metrics=paths.metrics_file("score"))


if __name__ == "__main__":
    entry(main)
