import json

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from powerlens import features as F
from powerlens.config import project_root
from powerlens.segmentation import check_params, replay_params, segment, tiers
from powerlens.segmentation.clustering import DOW, HOURS, MONTHS, bootstrap_stability, name_cluster
from powerlens.segmentation.profiles import LookBack, raw_profiles, read_look_back, resampled_days
from powerlens.segmentation.value import (
    WeightsError,
    ahp_weights,
    big_customers,
    credit_grades,
    entropy_weights,
    pareto,
    value_tiers,
)

SCORING, PREVIOUS = pd.Timestamp("2026-11-01"), pd.Timestamp("2026-10-01")


@pytest.fixture(scope="module")
def seg_params() -> dict:
    return yaml.safe_load((project_root() / "params.yaml").read_text())["segment"]


@pytest.fixture(scope="module")
def stage_run(small_data, small_clean, seg_params, tmp_path_factory):
    """The segment stage on the small utility, as DVC runs it, with its own MLflow store."""
    from powerlens import stages

    root = tmp_path_factory.mktemp("segment_stage")
    features_dir = root / "features"
    features_dir.mkdir()
    pd.concat([F.build(small_data, t) for t in (PREVIOUS, SCORING)]).to_parquet(features_dir / "features.parquet")
    (features_dir / "manifest.json").write_text(json.dumps({"scoring_cutoff": str(SCORING.date()),
                                                             "previous_cutoff": str(PREVIOUS.date())}))
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("POWERLENS_ROOT", str(root))
        params = {**seg_params, "clustering": {**seg_params["clustering"], "k_max": 6}}  # fewer child runs
        metrics = stages.segment(features_dir, root / "segments", params, experiment="test-segment",
                                 data=small_clean)
    return root, metrics, uri


def test_pareto_curve_and_top_share():
    curve, top20 = pareto(pd.Series([80.0, 10, 5, 3, 2, 0, 0, 0, 0, 0]))
    assert top20 == pytest.approx(0.9)
    assert curve["revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["revenue_share"].is_monotonic_increasing


def test_tiers_follow_the_quantiles():
    tiers = value_tiers(pd.Series(np.linspace(0, 1, 100)), [0.8, 0.5])
    assert (tiers == "high").sum() == 20 and (tiers == "medium").sum() == 30 and (tiers == "low").sum() == 50


def test_credit_grades():
    feats = pd.DataFrame({
        "on_time_rate": [1.0, 0.7, 0.95, 0.2],
        "arrears_amount": [0.0, 0.0, 0.0, 500.0],
        "days_past_due_max": [0, 20, 5, 120],
        "arrears_61_90d": [0.0, 0.0, 0.0, 0.0],
        "arrears_over_90d": [0.0, 0.0, 0.0, 500.0],
    })
    assert list(credit_grades(feats)) == ["A", "B", "A", "C"]


def test_big_customer_rule_uses_params_thresholds():
    feats = pd.DataFrame({"capacity_kva": [100, 315, 630, 200], "peak_kw": [50, 100, 400, 450]})
    assert list(big_customers(feats, 315, 400)) == [False, True, True, True]
    assert list(big_customers(feats, 500, 1000)) == [False, False, True, False]


def test_entropy_weights_favour_the_criterion_customers_differ_on():
    rng = np.random.default_rng(0)
    values = pd.DataFrame({"constant": np.full(500, 3.0), "spread": rng.uniform(0, 1, 500),
                           "concentrated": np.where(rng.random(500) < 0.05, 100.0, 1.0)})
    w = entropy_weights(values)
    assert w["constant"] == 0 and sum(w.values()) == pytest.approx(1.0)
    assert w["concentrated"] > w["spread"] > 0


def test_ahp_weights_and_consistency_ratio():
    criteria = ["revenue", "kwh", "reliability"]
    w, cr = ahp_weights({"revenue/kwh": 2, "revenue/reliability": 4, "kwh/reliability": 2}, criteria)
    assert cr == pytest.approx(0.0, abs=1e-9)
    assert [round(w[c], 4) for c in criteria] == [round(4 / 7, 4), round(2 / 7, 4), round(1 / 7, 4)]
    # revenue > kwh > reliability, but reliability > revenue: a circle, not a judgment
    with pytest.raises(WeightsError, match=r"inconsistent \(consistency ratio \d\.\d\d > 0\.10\)"):
        ahp_weights({"revenue/kwh": 5, "kwh/reliability": 5, "reliability/revenue": 5}, criteria, "x")
    with pytest.raises(WeightsError, match="missing pairwise judgment.*kwh/reliability"):
        ahp_weights({"revenue/kwh": 2, "revenue/reliability": 4}, criteria)
    with pytest.raises(WeightsError, match="outside Saaty's scale"):
        ahp_weights({"revenue/kwh": 20, "revenue/reliability": 4, "kwh/reliability": 2}, criteria)


def test_value_weight_methods_from_params(small_data, seg_params):
    import copy

    feats = F.build(small_data, SCORING)
    spec = copy.deepcopy(seg_params)
    manual = tiers(feats, spec)
    spec["value_weights"]["method"] = "ahp"
    check_params(spec)
    ahp = tiers(feats, spec)
    spec["value_weights"]["method"] = "entropy"
    entropy = tiers(feats, spec)
    assert len(manual) == len(ahp) == len(entropy) == len(feats)
    assert (manual["value_tier"] != entropy["value_tier"]).any()  # the weights change who is high value
    spec["value_weights"]["method"] = "ahp"
    spec["value_weights"]["ahp"]["current"]["kwh_365d/on_time_rate"] = 1 / 9  # contradicts the other two
    with pytest.raises(WeightsError, match="ahp.current: the pairwise judgments are inconsistent"):
        check_params(spec)
    spec["value_weights"]["method"] = "votes"
    with pytest.raises(WeightsError, match="not one of manual, entropy, ahp"):
        check_params(spec)


def _centroid(hours, dow=None, months=None):
    return pd.Series(np.concatenate([
        np.asarray(hours, dtype=float) / np.mean(hours),
        np.asarray(dow or [1.0] * 7) * np.sqrt(24 / 7),
        np.asarray(months or [1.0] * 12) * np.sqrt(24 / 12),
    ]), index=HOURS + DOW + MONTHS)


def test_cluster_names_read_the_shape():
    evening = [0.5] * 17 + [2.0] * 5 + [0.8] * 2
    assert name_cluster(_centroid(evening)) == "evening_peak"
    flat = [1.0] * 24
    assert name_cluster(_centroid(flat)) == "flat_multishift"
    office = [0.3] * 8 + [2.0] * 10 + [0.3] * 6
    assert name_cluster(_centroid(office, dow=[1.15] * 5 + [0.5, 0.4])) == "daytime_weekday"
    lights = [2.0] * 6 + [0.05] * 13 + [2.0] * 5
    assert name_cluster(_centroid(lights)) == "night_lighting"
    assert name_cluster(_centroid(office, months=[0.3] * 3 + [2.0] * 6 + [0.3] * 3)) == "seasonal_agri"


def test_daily_only_clusters_are_named_by_season_and_week():
    winter = [1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.6, 0.6, 0.8, 1.0, 1.3, 1.6]
    assert name_cluster(_centroid([1.0] * 24, months=winter), intraday=False) == "strong_winter_peak"
    mild = [1.2, 1.2, 1.1, 1.0, 0.95, 0.9, 0.9, 0.9, 0.95, 1.0, 1.1, 1.2]
    assert name_cluster(_centroid([1.0] * 24, months=mild), intraday=False) == "mild_winter_peak"
    weekendy = [0.95] * 5 + [1.2, 1.2]
    assert name_cluster(_centroid([1.0] * 24, dow=weekendy), intraday=False) == "flat_seasonal_weekend_heavy"


def test_validity_indices_and_stability_prefer_well_separated_clusters():
    from powerlens.segmentation.clustering import dispersion_indices

    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.concatenate([c + rng.normal(0, 0.5, (60, 2)) for c in centers])
    truth = np.repeat([0, 1, 2], 60)
    mia_good, cdi_good = dispersion_indices(X, truth)
    mia_bad, cdi_bad = dispersion_indices(X, rng.integers(0, 3, len(X)))
    assert mia_good < mia_bad and cdi_good < cdi_bad
    assert bootstrap_stability("kmeans", 3, X, truth, seed=1, rounds=3) > 0.95
    # stability judges re-measured profiles: if re-measuring scrambled them, the clusters are not stable
    scrambled = bootstrap_stability("kmeans", 3, X, truth, seed=1, rounds=3,
                                    remeasure=lambda r: X[r.permutation(len(X))])
    assert scrambled < 0.2


def _look_back(n_customers: int, days: pd.DatetimeIndex, rng) -> LookBack:
    daily = rng.gamma(5.0, 2.0, (n_customers, len(days))).astype(np.float32)
    hourly = rng.gamma(5.0, 0.1, (2, len(days), 24)).astype(np.float32)
    return LookBack(pd.Index([f"c{i}" for i in range(n_customers)]), days, daily, np.array([0, 1]), hourly)


def test_day_bootstrap_keeps_every_month_and_weights_the_profile():
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-11-01", "2026-10-31", freq="D")
    weights = resampled_days(days, rng)
    per_month = pd.Series(weights, index=days).groupby(days.month).sum()
    assert (per_month == pd.Series(days.month).value_counts().sort_index().to_numpy()).all()
    assert (weights != 1).any() and (weights == np.round(weights)).all()
    # a weighted profile is the profile of the look-back with each day repeated `weight` times
    lb = _look_back(3, days, rng)
    weighted = raw_profiles(lb, weights)
    picked = np.repeat(np.arange(len(days)), weights.astype(int))
    repeated = LookBack(lb.customer_ids, days[picked], lb.daily[:, picked], lb.hourly_rows, lb.hourly[:, picked])
    expected = raw_profiles(repeated)
    pd.testing.assert_frame_equal(weighted[HOURS + DOW + MONTHS], expected[HOURS + DOW + MONTHS], rtol=1e-6)
    assert not np.allclose(weighted[MONTHS], raw_profiles(lb)[MONTHS])


def test_look_back_reads_only_readings_before_the_cut_off(tmp_path):
    """Point in time: readings on or after the cut-off, or before the look-back, change nothing."""
    as_of = pd.Timestamp("2026-03-01")
    days = pd.date_range("2025-01-01", "2026-06-30", freq="D")
    hours = pd.date_range("2025-12-01", "2026-06-30 23:00", freq="h")

    def write(kwh_after: float) -> None:
        daily = pd.DataFrame({"customer_id": np.repeat(["a", "b"], len(days)), "ts": np.tile(days, 2),
                              "kwh": np.tile(np.where(days >= as_of, kwh_after, 10.0 + days.month), 2)})
        daily.loc[daily["ts"] < as_of - pd.Timedelta(days=365), "kwh"] = kwh_after
        hourly = pd.DataFrame({"customer_id": "a", "ts": hours,
                               "kwh": np.where(hours >= as_of, kwh_after, 1.0 + hours.hour / 10)})
        daily.to_parquet(tmp_path / "readings_daily.parquet")
        hourly.to_parquet(tmp_path / "readings_hourly.parquet")

    write(10.0)
    before = raw_profiles(read_look_back(tmp_path, pd.Index(["a", "b", "c"]), as_of, 365))
    write(9999.0)
    lb = read_look_back(tmp_path, pd.Index(["a", "b", "c"]), as_of, 365)
    after = raw_profiles(lb)
    pd.testing.assert_frame_equal(before, after)
    assert lb.days[-1] == as_of - pd.Timedelta(days=1) and len(lb.days) == 365
    assert list(lb.hourly_rows) == [0] and after.loc["a", "wd_h12"] == pytest.approx(2.2)
    assert after.loc["c"].isna().all() and lb.coverage()["c"] == 0  # no readings: no made-up profile


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
    assert adjusted_rand_score(x.loc[interval, "load_shape_class"], x.loc[interval, "load_shape_cluster"]) >= 0.7
    assert set(x.loc[interval, "load_shape"]) >= {"evening_peak", "double_peak", "daytime_weekday"}
    assert set(x.loc[~interval, "load_shape"]).isdisjoint(x.loc[interval, "load_shape"])
    families = metrics["load_shape_families"]
    assert families["intraday"]["stability_ari"] >= 0.8 and families["intraday"]["stable"]
    assert metrics["stability_ari"] == min(f["stability_ari"] for f in families.values())


def test_when_every_meter_records_hours_every_customers_shape_class_is_recovered(tmp_path, key, seg_params):
    """The stage's own data has daily-only homes, whose evening / double peak class a daily read
    cannot show (so the test above scores the intraday family). Give every home an interval
    meter and the chosen clusters recover the generator's shape class of every customer."""
    from powerlens.importers.utility_export import import_utility_export
    from powerlens.synthetic import SyntheticConfig, generate

    generate(SyntheticConfig(customers=500, months=13, seed=5, interval_metered_residential_share=1.0),
             tmp_path / "raw")
    import_utility_export(tmp_path / "raw", tmp_path / "clean", key, truth_out=tmp_path / "truth.parquet")
    feats = F.build(F.load_clean(tmp_path / "clean"), SCORING)
    look_back = read_look_back(tmp_path / "clean", pd.Index(feats["customer_id"]), SCORING,
                               seg_params["clustering"]["history_days"])
    seg, _, metrics = segment(feats, look_back, seg_params)
    x = seg.merge(pd.read_parquet(tmp_path / "truth.parquet"), on="customer_id")
    assert set(x["load_shape_family"]) == {"intraday"} and len(x) > 400
    assert adjusted_rand_score(x["load_shape_class"], x["load_shape_cluster"]) >= 0.7
    assert metrics["load_shape_families"]["intraday"]["stable"]


def test_latent_big_ranking_puts_the_generators_latent_big_customers_first(stage_run, small_truth):
    root, _, _ = stage_run
    seg = pd.read_parquet(root / "segments" / "segments.parquet").merge(pd.read_parquet(small_truth), on="customer_id")
    ranked = seg[seg["latent_big_score"].notna()].sort_values("latent_big_score", ascending=False)
    top_decile = ranked.head(int(np.ceil(0.1 * len(ranked))))
    assert ranked["latent_big"].sum() >= 5
    assert top_decile["latent_big"].sum() / ranked["latent_big"].sum() > 0.5
    assert top_decile["latent_big"].mean() >= 0.8
    flagged = seg[seg["latent_big_customer"]]
    assert len(flagged) > 0 and (flagged["latent_big_reason"].str.len() > 0).all()


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


def test_customers_without_enough_readings_are_named_not_clustered(seg_params):
    from powerlens.segmentation import cluster_from_params

    days = pd.date_range("2025-11-01", "2026-10-31", freq="D")
    lb = _look_back(40, days, np.random.default_rng(5))
    lb.daily[:5] = np.nan
    lb.hourly[:] = np.nan
    result = cluster_from_params(lb, seg_params["clustering"])
    shapes = result.labels.map(result.names)
    assert (shapes.iloc[:5] == "no_readings").all() and (shapes.iloc[5:] == "not_clustered").all()
    assert result.chosen_k == 0 and result.candidates.empty
    assert result.reasons.iloc[0] == "no readings in the look-back" and "too few to cluster" in result.reasons.iloc[-1]
