"""One function per pipeline stage: read inputs, call the domain modules, write outputs and a
small metrics JSON. The DVC entries in `pipelines/` and the `powerlens` command both call these,
so a stage behaves the same whether DVC or a person runs it."""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import pandas as pd

from powerlens.config import load_params, project_root, write_json

warnings.filterwarnings("ignore", category=RuntimeWarning)


class Clock:
    """Prints each step of a stage with the elapsed time (long work shows progress)."""

    def __init__(self, stage: str, echo=print):
        self.stage, self.echo, self.start = stage, echo, time.perf_counter()

    def __call__(self, message: str) -> None:
        self.echo(f"[{self.stage} {self.elapsed:6.1f}s] {message}")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def generate(out: Path, customers: int, months: int, seed: int, end: str,
             interval_metered_residential_share: float = 0.10, metrics: Path | None = None) -> dict:
    from powerlens.synthetic import SyntheticConfig
    from powerlens.synthetic import generate as make

    clock = Clock("generate")
    cfg = SyntheticConfig(customers=customers, months=months, seed=seed, end=end,
                          interval_metered_residential_share=interval_metered_residential_share)
    counts = make(cfg, out, progress=clock)
    clock(f"wrote the raw export of {customers} customers x {months} months to {out}")
    result = {"rows": counts, "seconds": round(clock.elapsed, 1)}
    if metrics:
        write_json(metrics, result)
    return result


def validate(src: Path, out: Path, key_file: str | None = None, max_reject_fraction: float = 0.05,
             truth_out: Path | None = None, metrics: Path | None = None, fmt: str = "synthetic",
             mapping: Path | None = None) -> dict:
    """Import a source: drop direct identifiers, pseudonymize ids, quarantine bad rows."""
    from powerlens.anonymize import load_or_create_key
    from powerlens.importers import import_source
    from powerlens.importers.utility_export import import_utility_export

    clock = Clock("validate")
    key = load_or_create_key(key_file, inside=Path(out).resolve().parent, notify=clock)
    if fmt == "synthetic":
        summary = import_utility_export(src, out, key, max_reject_fraction, truth_out=truth_out, progress=clock)
    else:
        summary = import_source(fmt, src, out, key, mapping=mapping, max_reject_fraction=max_reject_fraction,
                                progress=clock)
        if truth_out is not None:  # only the synthetic utility has a ground truth
            Path(truth_out).parent.mkdir(parents=True, exist_ok=True)
            for stale in Path(truth_out).parent.glob("*.parquet"):
                stale.unlink()
    for line in summary.get("problems", []):
        clock(line)
    clock(f"{summary['rows_in']} rows in = {summary['rows_in'] - summary['quarantined']} accepted + "
          f"{summary['quarantined']} quarantined (reconciled: {summary['reconciled']})")
    if metrics:
        write_json(metrics, {k: summary[k] for k in ("rows_in", "quarantined", "reject_fraction", "reconciled")}
                   | {"format": fmt, "seconds": round(clock.elapsed, 1)})
    return summary


def source_settings(params: dict) -> tuple[str, Path, Path | None]:
    """`data.source` in params.yaml: `synthetic`, or a mapping {format, path, mapping}."""
    source = params.get("data", {}).get("source", "synthetic")
    if source == "synthetic" or source is None:
        return "synthetic", Path("data/raw"), None
    if not isinstance(source, dict) or "format" not in source or "path" not in source:
        raise ValueError("params.yaml data.source must be 'synthetic' or {format: ..., path: ..., mapping: ...}")
    path = Path(os.path.expandvars(str(source["path"]))).expanduser()
    mapping = Path(source["mapping"]) if source.get("mapping") else None
    return str(source["format"]), path, mapping


def features(data: Path, out: Path, params: dict, metrics: Path | None = None, engine: str | None = None,
             scheduler: str | None = None) -> dict:
    """Features at every training cut-off and at the scoring cut-off, plus raw load profiles,
    computed a partition of customers at a time on the chosen engine (params `features.engine`)."""
    from powerlens import features as F
    from powerlens.features.engine import build_features, data_end_of
    from powerlens.schema import read_table

    clock = Clock("features")
    data_end = data_end_of(data)
    training, scoring = F.cutoffs_from_params(data_end, params)
    clock(f"data ends {data_end.date()}; training cut-offs "
          f"{', '.join(str(t.date()) for t in training)}; scoring cut-off {scoring.date()}")
    label_cutoffs = F.label_cutoffs(read_table(data, "labels"))
    previous = scoring - pd.DateOffset(months=1)  # for segment migration and score drift
    extra = sorted(({t for ts in label_cutoffs.values() for t in ts} | {previous}) - {*training, scoring})
    if label_cutoffs:
        clock("given labels: " + ", ".join(f"{task} as of {', '.join(str(t.date()) for t in ts)}"
                                          for task, ts in label_cutoffs.items()))
    cutoffs = [*training, *extra, scoring]
    engine = engine or params.get("engine", "local")
    feats, profiles = build_features(data, cutoffs, F.build_options(params), profile_cutoff=scoring,
                                     engine=engine, scheduler=scheduler,
                                     customers_per_partition=int(params.get("customers_per_partition", 20_000)),
                                     threads=int(params.get("threads", 1)), progress=clock)
    for cutoff, n in feats.groupby("as_of").size().items():
        clock(f"as of {pd.Timestamp(cutoff).date()}: {n} customers")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    feats.to_parquet(out / "features.parquet", index=False)
    profiles.reset_index().to_parquet(out / "profiles.parquet", index=False)
    # the one list of what each feature means, next to the features (MLflow runs log it as an artifact)
    definitions = F.definitions.table()
    definitions[definitions["name"].isin(feats.columns)].to_csv(out / "feature_definitions.csv", index=False)
    manifest = {"training_cutoffs": [str(t.date()) for t in training], "scoring_cutoff": str(scoring.date()),
                "label_cutoffs": {task: [str(t.date()) for t in ts] for task, ts in label_cutoffs.items()},
                "previous_cutoff": str(previous.date()),
                "data_end": str(data_end.date()), "horizon_months": params["horizon_months"],
                "features": [c for c in feats.columns if c not in ("customer_id", "as_of")]}
    write_json(out / "manifest.json", manifest)
    n_scoring = int((feats["as_of"] == scoring).sum())
    result = {"rows": len(feats), "customers_at_scoring_cutoff": n_scoring, "engine": engine,
              "n_features": len(manifest["features"]), "seconds": round(clock.elapsed, 1)}
    if metrics:
        write_json(metrics, result)
    return result


def _manifest(features_dir: Path) -> dict:
    path = Path(features_dir) / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run the features stage first")
    return json.loads(path.read_text())


def segment(features_dir: Path, out: Path, params: dict, experiment: str = "powerlens-segmentation",
            metrics: Path | None = None, data: Path | None = None) -> dict:
    """Segments at the scoring cut-off. Load shapes are built from the clean readings (`data`,
    default the `clean` folder beside the features) so that stability can resample days."""
    from powerlens import tracking
    from powerlens.segmentation import check_params, profile_table, read_look_back, tiers
    from powerlens.segmentation import segment as make_segments

    clock = Clock("segment")
    check_params(params)
    manifest = _manifest(features_dir)
    scoring = pd.Timestamp(manifest["scoring_cutoff"])
    feats = pd.read_parquet(Path(features_dir) / "features.parquet", filters=[("as_of", "==", scoring)])
    data = Path(data) if data is not None else Path(features_dir).parent / "clean"
    look_back = read_look_back(data, pd.Index(feats["customer_id"]), scoring, params["clustering"]["history_days"])
    clock(f"readings of the {params['clustering']['history_days']} days before {scoring.date()}: "
          f"{len(look_back.customer_ids)} customers, {len(look_back.hourly_rows)} with interval readings")
    seg, clusters, seg_metrics = make_segments(feats, look_back, params)
    profiles = profile_table(look_back, seg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seg.to_parquet(out / "segments.parquet", index=False)
    previous = pd.Timestamp(manifest.get("previous_cutoff", scoring - pd.DateOffset(months=1)))
    prev_feats = pd.read_parquet(Path(features_dir) / "features.parquet", filters=[("as_of", "==", previous)])
    tiers(prev_feats, params).to_parquet(out / "segments_previous.parquet", index=False)
    profiles.to_parquet(out / "profiles.parquet", index=False)
    clusters.candidates.to_csv(out / "clustering_candidates.csv", index=False)
    basis = "revenue" if seg_metrics["pareto_basis"] == "revenue_12m" else "consumption"
    clock(f"{seg_metrics['customers']} customers: top 20% carry {seg_metrics['pareto_top20_share']:.0%} of "
          f"{basis}; {seg_metrics['big_customers']} big customers; value weights "
          f"{seg_metrics['value_weights']['method']}")
    for family, chosen in seg_metrics["load_shape_families"].items():
        shapes = sorted(n for c, n in clusters.names.items() if clusters.families[c] == family)
        clock(f"{family} load shapes ({chosen['customers']} customers): {chosen['algorithm']} k={chosen['k']}, "
              f"stability ARI {chosen['stability_ari']:.2f}{'' if chosen['stable'] else ' (below the minimum)'}: "
              f"{', '.join(shapes)}")
    tags = tracking.run_tags("segment", [Path(features_dir) / "features.parquet"], cutoff=manifest["scoring_cutoff"])
    with tracking.run("segment", experiment, tags=tags, params={"segment": params}):
        tracking.log_metrics({k: v for k, v in seg_metrics.items() if isinstance(v, int | float)}
                             | {f"{f}_{k}": v for f, c in seg_metrics["load_shape_families"].items()
                                for k, v in c.items() if isinstance(v, int | float)})
        tracking.log_dict(seg_metrics["value_weights"], "value_weights.json")
        tracking.log_table(clusters.candidates, "clustering_candidates.csv")
        tracking.log_table(profiles, "load_shape_profiles.csv")
        fig = profile_figure(profiles)
        tracking.log_figure(fig, "load_shape_profiles.png")
        for row in clusters.candidates.itertuples():  # one child run per candidate clustering
            with tracking.run(f"{row.family}-{row.algorithm}-k{row.k}", experiment, nested=True,
                              tags={**tags, "family": row.family, "algorithm": row.algorithm,
                                    "chosen": str(row.chosen), "admissible": str(row.admissible)}):
                tracking.log_metrics({m: getattr(row, m) for m in ("k", "silhouette", "davies_bouldin",
                                                                   "calinski_harabasz", "mia", "cdi",
                                                                   "smallest_share", "mean_rank",
                                                                   "stability_ari")})
    seg_metrics["seconds"] = round(clock.elapsed, 1)
    write_json(out / "metrics.json", seg_metrics)
    if metrics:
        write_json(metrics, seg_metrics)
    return seg_metrics


def profile_figure(profiles: pd.DataFrame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = profiles.sort_values(["family", "load_shape"], ascending=[False, True]) if "family" in profiles else profiles
    shapes = list(dict.fromkeys(order["load_shape"]))  # intraday shapes first, then daily ones
    ncols = min(max(len(shapes), 1), 4)
    nrows = -(-max(len(shapes), 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 3.0 * nrows), sharey=True, squeeze=False)
    for ax, shape in zip(axes.flat, shapes, strict=False):
        p = profiles[profiles["load_shape"] == shape]
        ax.fill_between(p["x"], p["p10"], p["p90"], alpha=0.3)
        ax.plot(p["x"], p["mean"])
        peak = p["peak_ratio"].iloc[0] if "peak_ratio" in p else float("nan")
        detail = f"\npeak {peak:.1f}x, base {p['base_ratio'].iloc[0]:.2f}x the mean interval" if peak == peak else ""
        ax.set_title(f"{shape} (n={int(p['n_customers'].iloc[0])}){detail}", fontsize=9)
        ax.set_xlabel(p["axis"].iloc[0])
        ax.set_xticks(range(0, 24, 3) if p["axis"].iloc[0] == "hour" else range(1, 13))
    for ax in list(axes.flat)[len(shapes):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("load / mean")
    fig.tight_layout()
    return fig


def train(task: str, data: Path, features_dir: Path, out: Path, params: dict, horizon_months: int,
          experiment: str = "powerlens-risk", metrics: Path | None = None, plots: Path | None = None) -> dict:
    """Train and compare the families of one task; `plots` is the folder for the curves' CSV
    files (DVC plots), written even when the task is skipped so the stage's outputs exist."""
    from powerlens import features as F
    from powerlens import tracking
    from powerlens.risk import labels
    from powerlens.risk.train import (
        NotEnoughLabels,
        empty_plot_tables,
        for_source,
        train_and_log,
        write_plot_tables,
    )

    clock = Clock(f"train {task}")
    summary_path = Path(data) / "validation.json"
    fmt = json.loads(summary_path.read_text()).get("format") if summary_path.exists() else None
    params = for_source(params, fmt)
    if fmt in (params.get("by_source") or {}):
        clock(f"with the {fmt} settings of train.by_source")
    manifest = _manifest(features_dir)
    given = manifest.get("label_cutoffs", {}).get(task)
    if given:  # labels given by the source (e.g. PowerCo churn): one snapshot, cross-validated
        cutoffs = [pd.Timestamp(t) for t in given]
        feats = pd.read_parquet(Path(features_dir) / "features.parquet", filters=[("as_of", "in", cutoffs)])
        labels_table = F.load_clean(data, with_readings=False).labels
        y, feats = labels.given(labels_table, task, feats)
        source = "given by the source"
    else:
        if task not in labels.TASKS:
            raise ValueError(f"no labels for task {task!r}: derived tasks are {', '.join(labels.TASKS)}; "
                             f"given ones: {', '.join(manifest.get('label_cutoffs', {})) or 'none'}")
        cutoffs = [pd.Timestamp(t) for t in manifest["training_cutoffs"]]
        feats = pd.read_parquet(Path(features_dir) / "features.parquet", filters=[("as_of", "in", cutoffs)])
        clean = F.load_clean(data, with_readings=False)
        y = labels.derive(task, clean, feats, horizon_months, params["arrears_days_past_due"])
        source = "derived from events"
    counts = (f"{int(y.sum())} positives" if not labels.is_multiclass(y) else
              "classes " + ", ".join(f"{k} {v}" for k, v in y.value_counts().sort_index().items()))
    clock(f"{len(feats)} rows over {len(cutoffs)} cut-off(s), {counts} (labels {source})")
    tags = tracking.run_tags(f"train@{task}", [Path(features_dir) / "features.parquet"])
    try:
        summary = train_and_log(task, feats, y, params, tags, experiment=experiment, log=clock, plots_dir=plots)
    except NotEnoughLabels as exc:  # a task without labels is skipped, not an error
        clock(f"skipped: {exc}")
        summary = {"task": task, "skipped": str(exc)}
        if plots is not None:
            write_plot_tables(empty_plot_tables(), plots)
    summary["seconds"] = round(clock.elapsed, 1)
    write_json(Path(out) / "metrics.json", summary)
    if metrics:
        write_json(metrics, summary)
    return summary


def score(features_dir: Path, out: Path, tasks: list[str], metrics: Path | None = None) -> dict:
    """Score every open account at the scoring cut-off with each task's champion."""
    from powerlens import tracking
    from powerlens.risk.explain import reason_codes

    clock = Clock("score")
    manifest = _manifest(features_dir)
    scoring = pd.Timestamp(manifest["scoring_cutoff"])
    feats = pd.read_parquet(Path(features_dir) / "features.parquet", filters=[("as_of", "==", scoring)])
    previous = pd.Timestamp(manifest.get("previous_cutoff", scoring - pd.DateOffset(months=1)))
    prev_feats = pd.read_parquet(Path(features_dir) / "features.parquet", filters=[("as_of", "==", previous)])
    tracking.use_experiment("powerlens-risk")
    frames, prev_frames, result = [], [], {}
    for task in tasks:
        version = tracking.champion_version(task)
        if version is None:
            clock(f"{task}: no champion in the registry yet, skipped (run the train stage)")
            continue
        model = tracking.load_champion(task)
        X = feats[list(model.feature_names_in_)]
        proba = model.predict_proba(X)
        # several classes (e.g. acorn_group): the predicted class and its probability
        s = proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)
        frame = pd.DataFrame({"customer_id": feats["customer_id"], "task": task, "score": s})
        if proba.shape[1] > 2:
            frame["predicted_class"] = model.classes_[proba.argmax(axis=1)]
        frame["rank"] = frame["score"].rank(ascending=False, method="first").astype(int)
        top = frame["rank"] <= max(200, int(0.1 * len(frame)))
        frame["reasons"] = ""
        frame.loc[top, "reasons"] = reason_codes(model, X[top.to_numpy()])
        frame["model_version"] = int(version.version)
        frames.append(frame)
        if len(prev_feats):  # the same champion a month earlier: the report's score drift
            prev = model.predict_proba(prev_feats[list(model.feature_names_in_)])
            prev_frames.append(pd.DataFrame({"customer_id": prev_feats["customer_id"], "task": task,
                                             "score": prev[:, 1] if prev.shape[1] == 2 else prev.max(axis=1)}))
        result[task] = {"champion_version": int(version.version), "mean_score": round(float(s.mean()), 5)}
        clock(f"{task}: scored {len(frame)} accounts with champion v{version.version}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scores = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["customer_id", "task", "score", "rank", "reasons", "model_version"])
    scores.to_parquet(out / "scores.parquet", index=False)
    (pd.concat(prev_frames, ignore_index=True) if prev_frames else pd.DataFrame(
        columns=["customer_id", "task", "score"])).to_parquet(out / "scores_previous.parquet", index=False)
    result["seconds"] = round(clock.elapsed, 1)
    if metrics:
        write_json(metrics, result)
    return result


def score_folder(task: str, data: Path, out: Path, model_uri: str | None, params: dict) -> int:
    """Score one task on any imported data folder (features at its data end) into a CSV:
    customer_id, score (binary) or score_<class>, reasons."""
    from powerlens import features as F
    from powerlens import tracking
    from powerlens.risk.explain import reason_codes

    clock = Clock(f"score {task}")
    clean = F.load_clean(data)
    _, as_of = F.cutoffs_for(clean.data_end, 1, 1, 0)
    feats = F.build(clean, as_of, **F.build_options(params))
    tracking.use_experiment("powerlens-risk")
    uri = model_uri or f"models:/{tracking.registered_name(task)}@{tracking.CHAMPION}"
    model = tracking.load_model(uri)
    expected = list(model.feature_names_in_)
    missing = [c for c in expected if c not in feats.columns]
    extra = [c for c in feats.columns if c not in expected and c not in ("customer_id", "as_of")]
    if missing:
        raise ValueError(f"the data does not match the model's signature: missing {', '.join(missing[:10])}"
                         + (f" (+{len(missing) - 10} more)" if len(missing) > 10 else "")
                         + (f"; extra {', '.join(extra[:10])}" if extra else ""))
    if extra:
        clock(f"ignoring {len(extra)} feature(s) the model does not use: {', '.join(extra[:5])}")
    X = feats[expected]
    proba = model.predict_proba(X)
    frame = pd.DataFrame({"customer_id": feats["customer_id"]})
    if proba.shape[1] == 2:
        frame["score"] = proba[:, 1]
    else:
        for i, cls in enumerate(model.classes_):
            frame[f"score_{cls}"] = proba[:, i]
    frame["reasons"] = reason_codes(model, X)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    clock(f"scored {len(frame)} accounts as of {as_of.date()} with {uri}")
    return len(frame)


def report(period: str, data_root: Path, out_root: Path, region: str | None, top_n: int,
           min_group_size: int, metrics: Path | None = None) -> dict:
    from powerlens.reporting import render

    clock = Clock("report")
    html = render(period, data_dir=Path(data_root), out_root=Path(out_root), region=region, top_n=top_n,
                  min_group_size=min_group_size)
    clock(f"wrote {html}")
    result = {"period": period, "html": str(html), "seconds": round(clock.elapsed, 1)}
    if metrics:
        write_json(metrics, result)
    return result


def params() -> dict:
    return load_params(project_root() / "params.yaml")
