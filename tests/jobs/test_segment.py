"""The segment stage on the small utility, as DVC runs it: labels with reasons, latent-big
ranking, MLflow runs, a replay of its choice at another cut-off."""

import json

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from powerlens import features as F
from powerlens.segmentation import replay_params, segment

pytestmark = pytest.mark.slow

SCORING, PREVIOUS = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-10-01")


@pytest.fixture(scope="module")
def stage_run(small_data, small_clean, seg_params, tmp_path_factory):
    """The segment stage on the small utility, as DVC runs it, with its own MLflow store."""
    from powerlens.config import load_config
    from powerlens.jobs import segment as job
    from powerlens.jobs.common import data_fingerprint
    from support import ROOT

    root = tmp_path_factory.mktemp("segment_stage")
    features_dir = root / "features"
    features_dir.mkdir()
    pd.concat([F.build(small_data, t) for t in (PREVIOUS, SCORING)]).to_parquet(features_dir / "features.parquet")
    (features_dir / "manifest.json").write_text(json.dumps({"scoring_cutoff": str(SCORING.date()),
                                                             "previous_cutoff": str(PREVIOUS.date()),
                                                             "data_fingerprint": data_fingerprint(small_clean)}))
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("POWERLENS_ROOT", str(root))
        params = {**seg_params, "clustering": {**seg_params["clustering"], "k_max": 6}}  # fewer child runs
        settings = load_config(ROOT / "params.yaml").replace("segment", **params).segment
        metrics = job.run(settings, features_dir=features_dir, data=small_clean, out=root / "segments",
                          experiment="test-segment")
    return root, metrics, uri


def test_every_customer_gets_segment_labels_with_reasons(stage_run, small_truth):
    root, metrics, _ = stage_run
    seg = pd.read_parquet(root / "segments" / "segments.parquet")
    assert seg["customer_id"].is_unique and len(seg) == metrics["customers"]
    for col in ("value_tier", "credit_grade", "big_customer", "latent_big_customer", "load_shape",
                "load_shape_family", "segment_reasons"):
        assert seg[col].notna().all(), col
    assert set(seg["value_tier"]) == {"high", "medium", "low"}
    assert metrics["pareto_top20_share"] > 0.6
    assert metrics["big_customers"] == int(seg["big_customer"].sum()) > 0
    assert seg["segment_reasons"].str.contains("; load shape ").all()
    # two shape families: interval-metered customers by their 24 hours, the others by their days
    truth = pd.read_parquet(small_truth)
    x = seg.merge(truth, on="customer_id")
    interval = x["load_shape_family"] == "intraday"
    assert 50 < interval.sum() < len(x) - 50
    assert x.loc[~interval, "load_shape_basis"].str.contains("no interval readings").all()
    # the chosen intraday clusters recover the generator's shape classes
    # (measured 0.997 on this utility, docs/segmentation.md: a floor near it, not far below)
    assert adjusted_rand_score(x.loc[interval, "load_shape_class"], x.loc[interval, "load_shape_cluster"]) >= 0.95
    assert set(x.loc[interval, "load_shape"]) >= {"evening_peak", "double_peak", "daytime_weekday"}
    assert set(x.loc[~interval, "load_shape"]).isdisjoint(x.loc[interval, "load_shape"])
    families = metrics["load_shape_families"]
    assert families["intraday"]["stability_ari"] >= 0.8 and families["intraday"]["stable"]
    assert metrics["stability_ari"] == min(f["stability_ari"] for f in families.values())


def test_latent_big_customers_are_the_generators_in_the_value_quadrant(stage_run, small_truth):
    """Flagged: small and medium customers high on both current and potential value. They hold
    the generator's latent big customers (fast growers that would need a big connection within
    three years), and none is below the eligible customers' median current value."""
    root, metrics, _ = stage_run
    seg = pd.read_parquet(root / "segments" / "segments.parquet").merge(
        pd.read_parquet(small_truth), on="customer_id", suffixes=("", "_truth"))
    eligible, flagged, latent = seg["latent_big_score"].notna(), seg["latent_big_customer"], seg["latent_big"]
    assert latent.sum() >= 4 and (latent & flagged).sum() / latent.sum() >= 0.8  # measured 5 of 5
    assert (latent & flagged).sum() / flagged.sum() >= 0.5  # measured 5 of 7
    assert (seg.loc[flagged, "current_value"] >= seg.loc[eligible, "current_value"].median()).all()
    assert (seg.loc[flagged, "potential_value"] >= metrics["latent_big_thresholds"]["potential_min"]).all()
    assert (seg.loc[flagged, "latent_big_reason"].str.len() > 0).all()
    assert seg.loc[seg["over_contract_truth"], "over_contract"].all()


def test_mlflow_has_a_parent_run_with_a_child_per_candidate_and_the_profiles(stage_run):
    from mlflow import MlflowClient

    root, metrics, uri = stage_run
    candidates = pd.read_csv(root / "segments" / "clustering_candidates.csv")
    assert set(candidates["family"]) == {"intraday", "daily"}
    assert set(candidates["algorithm"]) == {"kmeans", "gmm", "agglomerative"}
    assert candidates.groupby("family")["chosen"].sum().eq(1).all()
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "mia", "cdi", "stability_ari"} <= set(candidates)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("test-segment")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == len(candidates)
    assert sum(r.data.tags["chosen"] == "True" for r in children) == 2
    artifacts = {a.path for a in client.list_artifacts(parents[0].info.run_id)}
    assert {"clustering_candidates.csv", "load_shape_profiles.png", "load_shape_profiles.csv",
            "value_weights.json"} <= artifacts
    assert parents[0].data.metrics["intraday_stability_ari"] == pytest.approx(
        metrics["load_shape_families"]["intraday"]["stability_ari"])
    profiles = pd.read_parquet(root / "segments" / "profiles.parquet")
    assert set(profiles.loc[profiles["family"] == "intraday", "axis"]) == {"hour"}
    assert set(profiles.loc[profiles["family"] == "daily", "axis"]) == {"month"}
    assert (profiles["p10"] <= profiles["p90"]).all() and profiles.groupby("load_shape")["x"].count().isin([12, 24]).all()


def test_replayed_choice_on_averaged_profiles_keeps_the_stage_shapes(stage_run, small_data, seg_params):
    """Another cut-off (the report's backfill) replays the stage's algorithm and k per family."""
    root, metrics, _ = stage_run
    params = replay_params(seg_params, metrics)
    seg, clusters, again = segment(F.build(small_data, SCORING), F.profile_matrix(small_data, SCORING), params)
    assert len(clusters.candidates) == 2 and clusters.candidates["chosen"].all()
    for family, chosen in metrics["load_shape_families"].items():
        assert (again["load_shape_families"][family]["algorithm"], again["load_shape_families"][family]["k"]) == (
            chosen["algorithm"], chosen["k"])
    stage = pd.read_parquet(root / "segments" / "segments.parquet").set_index("customer_id")
    same = seg.set_index("customer_id")["load_shape"].reindex(stage.index)
    assert (same == stage["load_shape"]).mean() > 0.8
