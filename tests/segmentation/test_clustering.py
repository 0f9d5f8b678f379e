"""Load-shape clustering: cluster names, validity indices, bootstrap stability."""


import numpy as np
import pandas as pd

from powerlens.segmentation.clustering import DOW, HOURS, MONTHS, bootstrap_stability, name_cluster


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
