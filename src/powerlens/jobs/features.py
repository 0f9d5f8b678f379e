"""Stage `features`: customer features at every training cut-off and at the scoring cut-off
(point-in-time correct), plus raw load profiles, a partition of customers at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.atomic import write_csv, write_parquet
from powerlens.config import load_config, write_json
from powerlens.errors import MissingInput
from powerlens.jobs.common import Clock, data_fingerprint, entry
from powerlens.paths import ProjectPaths, project_relative
from powerlens.rules import previous_cutoff


def _cutoffs(data: Path, settings: Any, clock: Clock) -> tuple[list, pd.Timestamp, dict, pd.Timestamp, pd.Timestamp]:
    """Training cut-offs, the scoring cut-off, the cut-offs of labels a source gives, the
    previous month (segment migration, score drift) and the data's end."""
    from powerlens import features as F
    from powerlens.features.engine import data_end_of
    from powerlens.schema import read_table

    data_end = data_end_of(data)
    training, scoring = F.cutoffs_from_params(data_end, settings.as_dict())
    clock(f"data ends {data_end.date()}; training cut-offs "
          f"{', '.join(str(t.date()) for t in training)}; scoring cut-off {scoring.date()}")
    label_cutoffs = F.label_cutoffs(read_table(data, "labels"))
    if label_cutoffs:
        clock("given labels: " + ", ".join(f"{task} as of {', '.join(str(t.date()) for t in ts)}"
                                          for task, ts in label_cutoffs.items()))
    return training, scoring, label_cutoffs, previous_cutoff(scoring), data_end


def run(settings: Any, *, data: Path, out: Path, engine: str | None = None, scheduler: str | None = None,
        echo: Callable[[str], Any] = print) -> dict:
    """Build features with the `features` settings on the chosen engine (default: settings.engine)."""
    from powerlens import features as F
    from powerlens.features.engine import build_features, canonical_order

    clock = Clock("features", echo)
    if not (Path(data) / "validation.json").exists():
        raise MissingInput(f"{data} has no validation.json: not an imported data folder, or its import did not "
                           "finish; run `powerlens validate` / `powerlens import` into it again")
    training, scoring, label_cutoffs, previous, data_end = _cutoffs(data, settings, clock)
    extra = sorted(({t for ts in label_cutoffs.values() for t in ts} | {previous}) - {*training, scoring})
    engine = engine or settings.engine
    feats, profiles = build_features(data, [*training, *extra, scoring], F.build_options(settings.as_dict()),
                                     profile_cutoff=scoring, engine=engine, scheduler=scheduler,
                                     customers_per_partition=int(settings.customers_per_partition),
                                     threads=int(settings.threads), progress=clock)
    # rows in an order the pseudonym key does not decide (segments and models follow it)
    feats = canonical_order(feats)
    first = pd.Index(feats.loc[feats["as_of"] == scoring, "customer_id"].astype(str))
    first = first[first.isin(profiles.index)]
    profiles = profiles.reindex(first.append(profiles.index.difference(first, sort=True)))
    for cutoff, n in feats.groupby("as_of").size().items():
        clock(f"as of {pd.Timestamp(cutoff).date()}: {n} customers")
    out = Path(out)
    # each file whole or not at all (powerlens.atomic), the manifest last: it is what says the
    # folder is complete, and what train, segment and score read first; the previous one goes
    # first, so a kill in between leaves no manifest rather than an old one beside new features
    (out / "manifest.json").unlink(missing_ok=True)
    write_parquet(feats, out / "features.parquet")
    write_parquet(profiles.reset_index(), out / "profiles.parquet")
    # the one list of what each feature means, next to the features (MLflow runs log it)
    definitions = F.definitions.table()
    write_csv(definitions[definitions["name"].isin(feats.columns)], out / "feature_definitions.csv")
    manifest = {"training_cutoffs": [str(t.date()) for t in training], "scoring_cutoff": str(scoring.date()),
                "label_cutoffs": {task: [str(t.date()) for t in ts] for task, ts in label_cutoffs.items()},
                "previous_cutoff": str(previous.date()), "data_end": str(data_end.date()),
                "data_folder": project_relative(data), "data_fingerprint": data_fingerprint(data),
                "horizon_months": settings.horizon_months,
                "features": [c for c in feats.columns if c not in ("customer_id", "as_of")]}
    write_json(out / "manifest.json", manifest)
    return {"rows": len(feats), "customers_at_scoring_cutoff": int((feats["as_of"] == scoring).sum()),
            "engine": engine, "n_features": len(manifest["features"]), "seconds": round(clock.elapsed, 1)}


def main() -> None:
    paths = ProjectPaths()
    result = run(load_config().features, data=paths.clean, out=paths.features)
    write_json(paths.metrics_file("features"), result)


if __name__ == "__main__":
    entry(main)
