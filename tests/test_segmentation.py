import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from powerlens import features as F
from powerlens.config import project_root
from powerlens.segmentation import segment
from powerlens.segmentation.clustering import DOW, HOURS, MONTHS, name_cluster
from powerlens.segmentation.value import big_customers, credit_grades, pareto, value_tiers


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
    assert name_cluster(_centroid([1.0] * 24, months=winter), intraday=False) == "winter_peaking"
    weekendy = [0.95] * 5 + [1.2, 1.2]
    assert name_cluster(_centroid([1.0] * 24, dow=weekendy), intraday=False) == "flat_seasonal_weekend_heavy"


def test_segments_on_the_small_utility(small_data, small_truth):
    params = yaml.safe_load((project_root() / "params.yaml").read_text())["segment"]
    as_of = pd.Timestamp("2026-11-01")
    feats = F.build(small_data, as_of)
    seg, clusters, metrics = segment(feats, F.profile_matrix(small_data, as_of), params)
    assert len(seg) == len(feats) and seg["customer_id"].is_unique
    assert set(seg["value_tier"]) == {"high", "medium", "low"}
    assert metrics["pareto_top20_share"] > 0.6
    assert metrics["big_customers"] == int(seg["big_customer"].sum()) > 0
    assert (seg["load_shape"].notna()).all() and seg["segment_reasons"].str.len().min() > 0
    # interval-metered customers' clusters recover the generator's shape classes
    truth = pd.read_parquet(small_truth)
    interval = F.profile_matrix(small_data, as_of)["wd_h00"].notna()
    x = seg[seg["customer_id"].isin(interval[interval].index)].merge(truth, on="customer_id")
    assert adjusted_rand_score(x["load_shape_class"], x["load_shape_cluster"]) > 0.6
    assert clusters.candidates["k"].min() == params["clustering"]["k_min"]
    # latent big customers: flagged ones carry a reason
    flagged = seg[seg["latent_big_customer"]]
    assert len(flagged) > 0 and (flagged["latent_big_reason"].str.len() > 0).all()


def test_validity_indices_and_stability_prefer_well_separated_clusters():
    from powerlens.segmentation.clustering import bootstrap_stability, dispersion_indices

    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X = np.concatenate([c + rng.normal(0, 0.5, (60, 2)) for c in centers])
    truth = np.repeat([0, 1, 2], 60)
    mia_good, cdi_good = dispersion_indices(X, truth)
    mia_bad, cdi_bad = dispersion_indices(X, rng.integers(0, 3, len(X)))
    assert mia_good < mia_bad and cdi_good < cdi_bad
    assert bootstrap_stability("kmeans", 3, X, truth, seed=1, rounds=3) > 0.95


def test_candidates_cover_algorithms_and_ks_and_one_is_chosen(small_data):
    from powerlens.segmentation.clustering import cluster_load_shapes

    result = cluster_load_shapes(F.profile_matrix(small_data, pd.Timestamp("2026-11-01")), 3, 5, seed=1,
                                 sample_size=400, stability_rounds=2)
    c = result.candidates
    assert set(c["algorithm"]) == {"kmeans", "gmm", "agglomerative"} and set(c["k"]) == {3, 4, 5}
    assert c["chosen"].sum() == 1 and c.loc[c["chosen"], "stability_ari"].notna().all()
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "mia", "cdi"} <= set(c.columns)
