"""Stage `segment`: value x credit tiers, big and latent-big customers, load-shape clusters at
the scoring cut-off; the comparison of clusterings is logged to MLflow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from powerlens.atomic import write_csv, write_parquet
from powerlens.config import load_config, write_json
from powerlens.jobs.common import Clock, entry, features_manifest
from powerlens.paths import ProjectPaths
from powerlens.rules import SEGMENTATION_EXPERIMENT
from powerlens.schema import read_table_if_present

CANDIDATE_METRICS = ("k", "silhouette", "davies_bouldin", "calinski_harabasz", "mia", "cdi", "smallest_share",
                     "mean_rank", "stability_ari")


def _log(seg_metrics: dict, clusters: Any, profiles: pd.DataFrame, params: dict, tags: dict, experiment: str) -> None:
    """The segment run in MLflow: metrics, weights, the candidates (one child run each), profiles."""
    from powerlens import tracking
    from powerlens.report.figures import profile_figure

    with tracking.run("segment", experiment, tags=tags, params={"segment": params}):
        tracking.log_metrics({k: v for k, v in seg_metrics.items() if isinstance(v, int | float)}
                             | {f"{f}_{k}": v for f, c in seg_metrics["load_shape_families"].items()
                                for k, v in c.items() if isinstance(v, int | float)})
        tracking.log_dict(seg_metrics["value_weights"], "value_weights.json")
        tracking.log_table(clusters.candidates, "clustering_candidates.csv")
        tracking.log_table(profiles, "load_shape_profiles.csv")
        tracking.log_figure(profile_figure(profiles), "load_shape_profiles.png")
        for row in clusters.candidates.itertuples():
            with tracking.run(f"{row.family}-{row.algorithm}-k{row.k}", experiment, nested=True,
                              tags={**tags, "family": row.family, "algorithm": row.algorithm,
                                    "chosen": str(row.chosen), "admissible": str(row.admissible)}):
                tracking.log_metrics({m: getattr(row, m) for m in CANDIDATE_METRICS})


def _say(clock: Clock, seg_metrics: dict, clusters: Any) -> None:
    basis = "revenue" if seg_metrics["pareto_basis"] == "revenue_12m" else "consumption"
    clock(f"{seg_metrics['customers']} customers: top 20% carry {seg_metrics['pareto_top20_share']:.0%} of "
          f"{basis}; {seg_metrics['big_customers']} big customers; value weights "
          f"{seg_metrics['value_weights']['method']}")
    for family, chosen in seg_metrics["load_shape_families"].items():
        shapes = sorted(n for c, n in clusters.names.items() if clusters.families[c] == family)
        clock(f"{family} load shapes ({chosen['customers']} customers): {chosen['algorithm']} k={chosen['k']}, "
              f"stability ARI {chosen['stability_ari']:.2f}{'' if chosen['stable'] else ' (below the minimum)'}: "
              f"{', '.join(shapes)}")


def run(settings: Any, *, features_dir: Path, data: Path, out: Path, experiment: str = SEGMENTATION_EXPERIMENT,
        scheduler: str | None = None, echo: Callable[[str], Any] = print) -> dict:
    """Segments at the scoring cut-off (load shapes from the clean readings in `data`, so that
    stability can resample days) and the previous cut-off's tiers."""
    from powerlens import tracking
    from powerlens.segmentation import check_params, profile_table, read_profiles, segment, tiers

    clock = Clock("segment", echo)
    params = settings.as_dict()
    check_params(params)
    manifest = features_manifest(features_dir, data)
    scoring = pd.Timestamp(manifest["scoring_cutoff"])
    features_file = Path(features_dir) / "features.parquet"
    feats = pd.read_parquet(features_file, filters=[("as_of", "==", scoring)])
    cl = params["clustering"]
    look_back = read_profiles(data, pd.Index(feats["customer_id"]), scoring, cl["history_days"],
                              cl["customers_per_partition"], progress=clock, engine=params["engine"],
                              scheduler=scheduler)
    clock(f"readings of the {cl['history_days']} days before {scoring.date()}: "
          f"{len(look_back.customer_ids)} customers, {look_back.n_hourly} with interval readings")
    seg, clusters, seg_metrics = segment(feats, look_back, params, read_table_if_present(data, "tariffs"))
    profiles = profile_table(look_back, seg)
    out = Path(out)
    write_parquet(seg, out / "segments.parquet")
    previous = pd.Timestamp(manifest["previous_cutoff"])
    prev_feats = pd.read_parquet(features_file, filters=[("as_of", "==", previous)])
    write_parquet(tiers(prev_feats, params), out / "segments_previous.parquet")
    write_parquet(profiles, out / "profiles.parquet")
    write_csv(clusters.candidates, out / "clustering_candidates.csv")
    _say(clock, seg_metrics, clusters)
    tags = tracking.run_tags("segment", [features_file], cutoff=manifest["scoring_cutoff"])
    _log(seg_metrics, clusters, profiles, params, tags, experiment)
    # the output's copy without the time taken: the same inputs give the same bytes (DVC md5)
    write_json(out / "metrics.json", seg_metrics)
    seg_metrics["seconds"] = round(clock.elapsed, 1)
    return seg_metrics


def main() -> None:
    paths = ProjectPaths()
    result = run(load_config().segment, features_dir=paths.features, data=paths.clean, out=paths.segments)
    write_json(paths.metrics_file("segment"), result)


if __name__ == "__main__":
    entry(main)
