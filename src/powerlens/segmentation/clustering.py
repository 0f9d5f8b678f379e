"""Load-shape clustering on normalized profiles, with a readable name per cluster.

Interval-metered customers are clustered on their weekday 24-hour shape plus day-of-week and
month shapes; daily-only customers are assigned to the nearest centroid on the part of the
profile their data supports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

HOURS = [f"wd_h{h:02d}" for h in range(24)]
WEEKEND_HOURS = [f"we_h{h:02d}" for h in range(24)]
DOW = [f"dow_{d}" for d in range(7)]
MONTHS = [f"month_{m:02d}" for m in range(1, 13)]


def normalize_profiles(raw: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Each block divided by its mean (shape, not size); blocks weighted to count alike.
    Returns the normalized vectors and a mask of customers that have hourly data."""
    out = pd.DataFrame(index=raw.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = raw.reindex(columns=HOURS).to_numpy(dtype=float)
        hm = np.nanmean(h, axis=1, keepdims=True) if h.size else h
        hourly = h / hm
        d = raw.reindex(columns=DOW).to_numpy(dtype=float)
        dow = d / np.nanmean(d, axis=1, keepdims=True)
        m = raw.reindex(columns=MONTHS).to_numpy(dtype=float)
        mon = m / np.nanmean(m, axis=1, keepdims=True)
    has_hourly = np.isfinite(hourly).all(axis=1)
    mon = np.where(np.isfinite(mon), mon, 1.0)
    dow = np.where(np.isfinite(dow), dow, 1.0)
    out[HOURS] = hourly
    out[DOW] = dow * np.sqrt(24 / 7)
    out[MONTHS] = mon * np.sqrt(24 / 12)
    return out, has_hourly


@dataclass
class ClusteringResult:
    labels: pd.Series          # cluster id per customer
    names: dict[int, str]      # cluster id -> readable name
    centroids: pd.DataFrame    # normalized centroid per cluster
    candidates: pd.DataFrame   # one row per k with validity indices
    chosen_k: int


def name_cluster(centroid: pd.Series, intraday: bool = True) -> str:
    """A readable name from the shape: when the day peaks, weekend level, seasonality."""
    h = centroid[HOURS].to_numpy()
    dow = centroid[DOW].to_numpy() / np.sqrt(24 / 7)
    mon = centroid[MONTHS].to_numpy() / np.sqrt(24 / 12)
    night = (h[list(range(0, 6)) + list(range(19, 24))].sum()) / h.sum()
    weekend = dow[5:].mean() / dow[:5].mean()
    seasonal = mon.max() / max(mon.min(), 1e-6)
    if not intraday:  # no interval data: name from the weekly and seasonal shape
        return _daily_name(dow, mon)
    if night > 0.8:
        return "night_lighting"
    if seasonal > 2.5:
        return "seasonal_agri"
    if h.max() / max(h.min(), 1e-6) < 1.6:
        return "flat_multishift"
    if weekend < 0.75 and h[9:17].mean() > h[[0, 1, 2, 3, 4, 22, 23]].mean() * 2:
        return "daytime_weekday"
    evening, morning = h[17:22].max(), h[6:10].max()
    return "double_peak" if morning >= 0.75 * evening else "evening_peak"


def _daily_name(dow: np.ndarray, mon: np.ndarray) -> str:
    winter = mon[[11, 0, 1]].mean()
    summer = mon[[5, 6, 7]].mean()
    ratio = winter / max(summer, 1e-6)
    if mon.max() / max(mon.min(), 1e-6) > 2.5 and mon[3:9].mean() > mon.mean():
        season = "seasonal_agri"
    elif ratio > 1.6:
        season = "winter_peaking"
    elif ratio > 1.15:
        season = "mild_winter_peak"
    elif ratio < 0.85:
        season = "summer_peaking"
    else:
        season = "flat_seasonal"
    weekend = dow[5:].mean() / max(dow[:5].mean(), 1e-6)
    if weekend > 1.12:
        return f"{season}_weekend_heavy"
    if weekend < 0.8:
        return f"{season}_weekday_heavy"
    return season


def dispersion_indices(X: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The load-profiling literature's adequacy indices (lower is better):
    MIA, the root mean square of each cluster's RMS distance to its centroid, and CDI, the
    within-cluster spread relative to the spread of the centroids."""
    ks = np.unique(labels)
    centroids = np.stack([X[labels == k].mean(axis=0) for k in ks])
    within = np.array([np.mean(((X[labels == k] - c) ** 2).sum(axis=1)) for k, c in zip(ks, centroids, strict=True)])
    mia = float(np.sqrt(np.mean(within)))
    between = float(np.mean(((centroids - centroids.mean(axis=0)) ** 2).sum(axis=1)))
    cdi = float(np.sqrt(np.mean(within / 2)) / np.sqrt(between / 2)) if between > 0 else float("inf")
    return mia, cdi


def _fit_candidate(algorithm: str, k: int, X: np.ndarray, seed: int) -> np.ndarray:
    """Labels of one candidate clustering."""
    if algorithm == "kmeans":
        return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(X)
    if algorithm == "gmm":
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(n_components=k, covariance_type="diag", random_state=seed, n_init=2).fit_predict(X)
    if algorithm == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering

        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
    raise ValueError(f"unknown clustering algorithm {algorithm!r}; known: kmeans, gmm, agglomerative")


def _nearest(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return ((X[:, None, :] - centroids[None]) ** 2).sum(axis=2).argmin(axis=1)


def bootstrap_stability(algorithm: str, k: int, X: np.ndarray, reference: np.ndarray, seed: int,
                        rounds: int = 5) -> float:
    """Mean adjusted Rand index between the reference labels and clusterings refit on
    bootstrap resamples of the customers (each resample's centroids label every customer)."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed)
    scores = []
    for r in range(rounds):
        idx = rng.choice(len(X), size=len(X), replace=True)
        lab = _fit_candidate(algorithm, k, X[idx], seed + r + 1)
        centroids = np.stack([X[idx][lab == c].mean(axis=0) for c in np.unique(lab)])
        scores.append(adjusted_rand_score(reference, _nearest(X, centroids)))
    return float(np.mean(scores))


def cluster_load_shapes(raw_profiles: pd.DataFrame, k_min: int, k_max: int, seed: int,
                        sample_size: int = 3000, algorithms: tuple[str, ...] = ("kmeans", "gmm", "agglomerative"),
                        stability_rounds: int = 5, min_stability: float = 0.8) -> ClusteringResult:
    """Candidates = algorithms x k on normalized profiles of interval customers (all customers
    on their daily shape when none has interval data), fitted on a sample of at most
    `sample_size` customers. The winner rule: rank candidates by the mean of their ranks on
    silhouette (high), Davies-Bouldin, CDI and MIA (low); of the three best, take the first
    whose bootstrap stability (ARI) reaches `min_stability`, else the most stable of them."""
    vectors, has_hourly = normalize_profiles(raw_profiles)
    fit = vectors[has_hourly]
    if len(fit) < k_min + 1:  # no interval data: cluster on the daily part only
        fit = vectors.drop(columns=HOURS)
        has_hourly = np.zeros(len(vectors), dtype=bool)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(len(fit), size=min(sample_size, len(fit)), replace=False))
    X = fit.to_numpy()[sample]
    rows, fitted = [], {}
    for algorithm in algorithms:
        for k in range(k_min, min(k_max, len(X) - 1) + 1):
            lab = _fit_candidate(algorithm, k, X, seed)
            if len(np.unique(lab)) < 2:
                continue
            mia, cdi = dispersion_indices(X, lab)
            rows.append({"algorithm": algorithm, "k": k,
                         "silhouette": float(silhouette_score(X, lab)),
                         "davies_bouldin": float(davies_bouldin_score(X, lab)),
                         "calinski_harabasz": float(calinski_harabasz_score(X, lab)),
                         "mia": mia, "cdi": cdi})
            fitted[(algorithm, k)] = lab
    candidates = pd.DataFrame(rows)
    ranks = pd.concat([candidates["silhouette"].rank(ascending=False), candidates["davies_bouldin"].rank(),
                       candidates["cdi"].rank(), candidates["mia"].rank()], axis=1).mean(axis=1)
    candidates["mean_rank"] = ranks
    candidates["stability_ari"] = np.nan
    shortlist = candidates.sort_values(["mean_rank", "k"]).head(3).index
    for i in shortlist:
        algorithm, k = candidates.loc[i, "algorithm"], int(candidates.loc[i, "k"])
        candidates.loc[i, "stability_ari"] = bootstrap_stability(algorithm, k, X, fitted[(algorithm, k)], seed,
                                                                 stability_rounds)
    stable = [i for i in candidates.loc[shortlist].sort_values(["mean_rank", "k"]).index
              if candidates.loc[i, "stability_ari"] >= min_stability]
    chosen = stable[0] if stable else candidates.loc[shortlist, "stability_ari"].idxmax()
    candidates["chosen"] = candidates.index == chosen
    algorithm, k = candidates.loc[chosen, "algorithm"], int(candidates.loc[chosen, "k"])
    lab = fitted[(algorithm, k)]
    present = np.unique(lab)
    centroids = pd.DataFrame(np.stack([X[lab == c].mean(axis=0) for c in present]), columns=fit.columns)
    k = len(present)
    labels = pd.Series(-1, index=vectors.index, dtype=int)
    labels[fit.index] = _nearest(fit.to_numpy(), centroids.to_numpy())
    rest = vectors.index[labels.to_numpy() < 0]
    if len(rest):  # daily-only customers: nearest centroid on day-of-week and month shape
        cols = DOW + MONTHS
        labels[rest] = _nearest(vectors.loc[rest, cols].to_numpy(), centroids[cols].to_numpy())
    intraday = HOURS[0] in centroids
    if not intraday:
        centroids[HOURS] = 1.0
    names, used = {}, {}
    for c in range(k):
        base = name_cluster(centroids.loc[c], intraday)
        used[base] = used.get(base, 0) + 1
        names[c] = base if used[base] == 1 else f"{base}_{used[base]}"
    return ClusteringResult(labels, names, centroids, candidates, k)
