"""Load-shape clustering on normalized profiles, with a readable name per cluster.

Two shape families, because a meter can only show the shape it measures:

- `intraday`: customers with interval readings, clustered on their weekday and weekend 24-hour
  shapes plus their day-of-week and month shapes (evening peak, daytime weekday, ...);
- `daily`: customers with daily readings only, clustered on their day-of-week and month shapes
  and, where the daily aggregate carries its largest and smallest interval, on their peak and
  base load relative to the mean (winter peaking, high base load, ...).

Putting a daily-only home into "evening peak" by the nearest centroid would be a guess shown as a
fact: the family says which kind of shape a label describes. Interval customers too few to
cluster (`min_family_customers`) join the daily family on their daily part; daily-only customers
too few to cluster are labelled `not_clustered`, customers without readings `no_readings`.

Candidates (algorithms x k) are fitted per family on a sample of customers whose readings cover
most of the look-back and whose profile is not far off every usual shape (months of absence,
meter faults); the others are labelled with the nearest centroid, and their reason says so.

The winner rule, per family: a candidate is admissible when its smallest cluster holds at least
`min_cluster_share` of the customers (a segment the business can address, not a handful of odd
profiles) and its clusters get distinct names (segments an analyst cannot tell apart in words
are not segments to act on). Admissible candidates are ranked by the mean of their ranks on
silhouette (high), Davies-Bouldin, CDI and MIA (low); going down that ranking, the first whose
bootstrap stability reaches `min_stability` wins (at most `stability_candidates` are checked; if
none reaches it, the most stable of those checked, and the family is reported as not stable).
Stability is the mean adjusted Rand index between a candidate's labels and the labels that refits
on bootstrap samples of the customers give them when every profile is rebuilt from a bootstrap
sample of the look-back's days (within each month): a segment should not depend on which
customers or which days happened to be observed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)

from powerlens.config import ClusteringConfig
from powerlens.errors import InvalidInput
from powerlens.segmentation.profiles import (
    DOW,
    HOURS,
    INTRADAY_SUMMARY,
    MONTHS,
    WEEKEND_HOURS,
    LookBack,
    Profiles,
    raw_profiles,
    resampled_days,
    summarize,
)

__all__ = ["HOURS", "WEEKEND_HOURS", "DOW", "MONTHS", "INTRADAY_SUMMARY", "ClusteringResult", "cluster_load_shapes",
           "name_cluster", "normalize_profiles", "shape_vectors", "dispersion_indices", "bootstrap_stability"]

FAMILIES = ("intraday", "daily")
_DEFAULTS = ClusteringConfig()  # cluster_load_shapes' defaults: params.yaml's `segment.clustering`
RATIO_CAP = 4.0  # a month or hour above 4x the customer's mean is an event (move-in, outage), not a shape
WEEKEND_WEIGHT = np.sqrt(0.5)  # the weekend's 24 hours count half as much as the weekday's
DOW_WEIGHT = np.sqrt(24 / 7)  # blocks weighted so each counts like 24 hours of shape
MONTH_WEIGHT = np.sqrt(24 / 12)
SUMMARY_WEIGHT = np.sqrt(24 / 2)


def _ratio(x: np.ndarray) -> np.ndarray:
    """Each row divided by its mean (shape, not size), capped at RATIO_CAP; NaN rows stay NaN."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without readings: NaN, said once elsewhere
        mean = np.nanmean(x, axis=1, keepdims=True) if x.shape[1] else x
        out = np.where(mean > 0, x / mean, np.nan)
    return np.clip(out, 0.0, RATIO_CAP)


def normalize_profiles(raw: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Every block divided by its mean and weighted to count alike; missing day-of-week or month
    means are neutral (1), a missing intraday summary is NaN. Returns the vectors and a mask of
    customers whose weekday 24-hour profile is known (interval readings)."""
    out = pd.DataFrame(index=raw.index)
    hourly = _ratio(raw.reindex(columns=HOURS).to_numpy(dtype=float))
    weekend = _ratio(raw.reindex(columns=WEEKEND_HOURS).to_numpy(dtype=float))
    has_hourly = np.isfinite(hourly).all(axis=1)
    weekend = np.where(np.isfinite(weekend).all(axis=1, keepdims=True), weekend, hourly)
    dow = _ratio(raw.reindex(columns=DOW).to_numpy(dtype=float))
    mon = _ratio(raw.reindex(columns=MONTHS).to_numpy(dtype=float))
    out[HOURS] = hourly
    out[WEEKEND_HOURS] = weekend * WEEKEND_WEIGHT
    out[DOW] = np.where(np.isfinite(dow), dow, 1.0) * DOW_WEIGHT
    out[MONTHS] = np.where(np.isfinite(mon), mon, 1.0) * MONTH_WEIGHT
    summary = raw.reindex(columns=INTRADAY_SUMMARY).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        peak = np.log(np.where(summary[:, 0] > 0, summary[:, 0], np.nan))
    out[INTRADAY_SUMMARY[0]] = np.clip(peak, 0.0, np.log(48)) * SUMMARY_WEIGHT
    out[INTRADAY_SUMMARY[1]] = np.clip(summary[:, 1], 0.0, 1.0) * SUMMARY_WEIGHT
    return out, has_hourly


def shape_vectors(vectors: pd.DataFrame, family: str, with_summary: bool) -> pd.DataFrame:
    """The columns one family is clustered on (a missing intraday summary: the family median)."""
    if family == "intraday":
        return vectors[HOURS + WEEKEND_HOURS + DOW + MONTHS]
    cols = DOW + MONTHS + (INTRADAY_SUMMARY if with_summary else [])
    out = vectors[cols].copy()
    if with_summary:
        out[INTRADAY_SUMMARY] = out[INTRADAY_SUMMARY].fillna(out[INTRADAY_SUMMARY].median())
    return out


@dataclass
class ClusteringResult:
    labels: pd.Series            # cluster id per customer
    names: dict[int, str]        # cluster id -> readable name
    centroids: pd.DataFrame      # normalized centroid per cluster id (NaN: a column the family lacks)
    candidates: pd.DataFrame     # one row per family x algorithm x k with validity indices
    chosen_k: int                # clusters over all families
    families: dict[int, str] = field(default_factory=dict)  # cluster id -> shape family
    reasons: pd.Series | None = None  # per customer: what the label rests on


def name_cluster(centroid: pd.Series, intraday: bool = True, summary: pd.Series | None = None) -> str:
    """A readable name from the shape: when the day peaks, weekend level, seasonality; for
    daily shapes, the season, the week and (given the family's median summary) peak/base load."""
    dow = centroid[DOW].to_numpy(dtype=float) / DOW_WEIGHT
    mon = centroid[MONTHS].to_numpy(dtype=float) / MONTH_WEIGHT
    if not intraday:  # no interval data: name from the weekly and seasonal shape
        name = _daily_name(dow, mon)
        if summary is not None and INTRADAY_SUMMARY[0] in centroid and np.isfinite(centroid[INTRADAY_SUMMARY]).all():
            base = centroid[INTRADAY_SUMMARY[1]] - summary[INTRADAY_SUMMARY[1]]
            peak = centroid[INTRADAY_SUMMARY[0]] - summary[INTRADAY_SUMMARY[0]]
            if base > 0.1 * SUMMARY_WEIGHT:
                name += "_high_base_load"
            elif peak > 0.2 * SUMMARY_WEIGHT:
                name += "_peaky"
        return name
    h = centroid[HOURS].to_numpy(dtype=float)
    night = (h[list(range(0, 6)) + list(range(19, 24))].sum()) / h.sum()
    weekend = dow[5:].mean() / dow[:5].mean()
    seasonal = mon.max() / max(mon.min(), 1e-6)
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
    """Season by the winter (Dec-Feb) to summer (Jun-Aug) ratio of daily energy (electric
    heating and air conditioning show here), then a weekend-heavy or weekday-heavy week."""
    ratio = mon[[11, 0, 1]].mean() / max(mon[[5, 6, 7]].mean(), 1e-6)
    if mon.max() / max(mon.min(), 1e-6) > 2.5 and mon[3:9].mean() > mon.mean():
        season = "seasonal_agri"
    else:
        bands = [(2.0, "strong_winter_peak"), (1.4, "winter_peaking"), (1.15, "mild_winter_peak"),
                 (0.87, "flat_seasonal"), (0.7, "mild_summer_peak")]
        season = next((name for floor, name in bands if ratio > floor), "summer_peaking")
    weekend = dow[5:].mean() / max(dow[:5].mean(), 1e-6)
    if weekend > 1.1:
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
    raise InvalidInput(f"unknown clustering algorithm {algorithm!r}; known: kmeans, gmm, agglomerative")


def _centroids(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.stack([X[labels == c].mean(axis=0) for c in np.unique(labels)])


def _nearest(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    return ((X[:, None, :] - centroids[None]) ** 2).sum(axis=2).argmin(axis=1)


def bootstrap_stability(algorithm: str, k: int, X: np.ndarray, reference: np.ndarray, seed: int,
                        rounds: int = 5, remeasure: Callable[[np.random.Generator], np.ndarray] | None = None) -> float:
    """Mean adjusted Rand index between the reference labels and refits on bootstrap resamples
    of the customers. `remeasure(rng)` gives every customer's vector rebuilt from a bootstrap
    sample of days (same rows as X): the refit sees resampled customers and days, and the
    labels compared are those the refit's centroids give the customers' re-measured profiles."""
    rng = np.random.default_rng(seed)
    scores = []
    for r in range(rounds):
        Xr = remeasure(rng) if remeasure is not None else X
        idx = rng.choice(len(X), size=len(X), replace=True)
        lab = _fit_candidate(algorithm, k, Xr[idx], seed + r + 1)
        scores.append(adjusted_rand_score(reference, _nearest(Xr, _centroids(Xr[idx], lab))))
    return float(np.mean(scores))


@dataclass
class _Family:
    name: str
    members: pd.Index            # customers labelled in this family
    vectors: pd.DataFrame        # their clustering vectors
    sample: pd.Index             # the customers candidates are fitted and judged on
    with_summary: bool
    atypical: pd.Index           # members far from every usual shape (not in the sample)


def _atypical(vectors: pd.DataFrame) -> np.ndarray:
    """Profiles far from the family's median (beyond the upper quartile of distances plus three
    interquartile ranges): months of absence, meter faults. They would take clusters of their
    own; they are labelled with the nearest shape but do not shape the clusters."""
    distance = np.sqrt(((vectors - vectors.median()) ** 2).sum(axis=1)).to_numpy()
    q1, q3 = np.percentile(distance, [25, 75])
    return distance > q3 + 3 * (q3 - q1)


def _families(vectors: pd.DataFrame, has_hourly: np.ndarray, has_readings: np.ndarray, coverage: pd.Series,
              min_coverage: float, min_customers: int, sample_size: int,
              rng: np.random.Generator) -> tuple[list[_Family], pd.Index]:
    """The shape families to cluster, and the customers of families too small to cluster."""
    intraday = pd.Series(has_hourly, index=vectors.index)
    if intraday.sum() < min_customers:  # too few interval customers: everyone on the daily part
        intraday[:] = False
    out, too_few = [], pd.Index([])
    for name in FAMILIES:
        members = vectors.index[((intraday if name == "intraday" else ~intraday) & has_readings).to_numpy()]
        if len(members) < min_customers:
            too_few = too_few.append(members)
            continue
        summary = vectors.loc[members, INTRADAY_SUMMARY[0]].notna().mean() >= 0.9
        fam_vectors = shape_vectors(vectors.loc[members], name, bool(summary))
        typical = ~_atypical(fam_vectors)
        well_covered = members[(coverage.reindex(members).fillna(0) >= min_coverage).to_numpy() & typical]
        pool = well_covered if len(well_covered) >= min_customers else members
        sample = pool[np.sort(rng.choice(len(pool), size=min(sample_size, len(pool)), replace=False))]
        out.append(_Family(name, members, fam_vectors, sample, bool(summary), members[~typical]))
    return out, too_few


def _choose(family: _Family, X: np.ndarray, k_range: range, seed: int, algorithms: tuple[str, ...],
            stability_rounds: int, min_stability: float, min_cluster_share: float, stability_candidates: int,
            remeasure, namer: Callable[[np.ndarray], list[str]]) -> tuple[pd.DataFrame, np.ndarray]:
    """All candidates of one family with their indices, and the chosen one's labels."""
    rows, fitted = [], {}
    for algorithm in algorithms:
        for k in k_range:
            if k >= len(X):
                continue
            lab = _fit_candidate(algorithm, k, X, seed)
            if len(np.unique(lab)) < 2:
                continue
            lab = np.unique(lab, return_inverse=True)[1]
            mia, cdi = dispersion_indices(X, lab)
            names = namer(_centroids(X, lab))
            rows.append({"family": family.name, "algorithm": algorithm, "k": k,
                         "customers_fitted": len(X),
                         "silhouette": float(silhouette_score(X, lab)),
                         "davies_bouldin": float(davies_bouldin_score(X, lab)),
                         "calinski_harabasz": float(calinski_harabasz_score(X, lab)),
                         "mia": mia, "cdi": cdi, "smallest_share": float(np.bincount(lab).min() / len(lab)),
                         "distinct_names": len(set(names)) == len(names)})
            fitted[len(rows) - 1] = lab
    if not rows:
        raise InvalidInput(f"too few customers ({len(X)}) in the {family.name} shape family to cluster into "
                         f"{k_range.start}..{k_range.stop - 1} load shapes")
    c = pd.DataFrame(rows)
    c["admissible"] = (c["smallest_share"] >= min_cluster_share) & c["distinct_names"]
    if not c["admissible"].any():  # no interpretable candidate: judge them all on the indices
        c["admissible"] = True
    ok = c[c["admissible"]]
    c["mean_rank"] = pd.concat([ok["silhouette"].rank(ascending=False), ok["davies_bouldin"].rank(),
                                ok["cdi"].rank(), ok["mia"].rank()], axis=1).mean(axis=1)
    c["stability_ari"] = np.nan
    ranked = ok.assign(mean_rank=c["mean_rank"]).sort_values(["mean_rank", "k"]).index
    if stability_rounds < 1:  # a replayed choice: one candidate, nothing to judge its stability against
        c["stable"], c["chosen"] = False, c.index == ranked[0]
        return c, fitted[ranked[0]]
    chosen = None
    for i in ranked[:max(stability_candidates, 1)]:
        c.loc[i, "stability_ari"] = bootstrap_stability(c.loc[i, "algorithm"], int(c.loc[i, "k"]), X, fitted[i],
                                                        seed, stability_rounds, remeasure)
        if c.loc[i, "stability_ari"] >= min_stability:
            chosen = i
            break
    if chosen is None:  # none stable enough: the most stable of those checked
        chosen = c["stability_ari"].idxmax()
    c["stable"] = c["stability_ari"] >= min_stability
    c["chosen"] = c.index == chosen
    return c, fitted[chosen]


def _remeasurer(profiles: Profiles, family: _Family) -> Callable[[np.random.Generator], np.ndarray]:
    """Rebuilds the family sample's vectors from a bootstrap sample of the look-back's days."""
    sub = profiles.read_days(family.sample)

    def remeasure(rng: np.random.Generator) -> np.ndarray:
        vectors, _ = normalize_profiles(raw_profiles(sub, resampled_days(sub.days, rng)))
        return shape_vectors(vectors, family.name, family.with_summary).to_numpy()

    return remeasure


def _namer(family: _Family) -> Callable[[np.ndarray], list[str]]:
    median = family.vectors.median() if family.with_summary else None

    def namer(centroids: np.ndarray) -> list[str]:
        return [name_cluster(pd.Series(c, index=family.vectors.columns), family.name == "intraday", median)
                for c in centroids]

    return namer


def cluster_load_shapes(profiles: LookBack | Profiles | pd.DataFrame, k_min: int, k_max: int, seed: int,
                        sample_size: int = _DEFAULTS.sample_size,
                        algorithms: tuple[str, ...] = _DEFAULTS.algorithms,
                        stability_rounds: int = _DEFAULTS.stability_rounds,
                        min_stability: float = _DEFAULTS.min_stability,
                        min_cluster_share: float = _DEFAULTS.min_cluster_share,
                        stability_candidates: int = _DEFAULTS.stability_candidates,
                        min_coverage: float = _DEFAULTS.min_coverage,
                        min_family_customers: int = _DEFAULTS.min_family_customers,
                        fixed: dict[str, dict] | None = None) -> ClusteringResult:
    """Load shapes per shape family (see the module docstring for the families and the winner
    rule). `profiles` is the look-back's readings (in memory, or summarized as Profiles with the
    sample's days read on demand: stability resamples customers and days) or raw profiles
    already averaged (stability resamples customers only). `fixed` ({family:
    {algorithm, k}}) replays an earlier choice instead of comparing candidates."""
    from threadpoolctl import threadpool_limits

    lb = summarize(profiles) if isinstance(profiles, LookBack) else profiles if isinstance(profiles, Profiles) else None
    raw = lb.raw if lb is not None else profiles
    coverage = lb.coverage if lb is not None else pd.Series(1.0, index=raw.index)
    vectors, has_hourly = normalize_profiles(raw)
    rng = np.random.default_rng(seed)
    has_readings = has_hourly | raw.reindex(columns=DOW).notna().any(axis=1).to_numpy()
    min_customers = max(min_family_customers, k_max + 1)
    families, too_few = _families(vectors, has_hourly, has_readings, coverage, min_coverage, min_customers,
                                  sample_size, rng)
    labels = pd.Series(-1, index=vectors.index, dtype=int)
    names, fams, all_candidates, centroid_rows = {}, {}, [], []
    reasons = pd.Series("", index=vectors.index, dtype=object)
    for members, name, reason in ((vectors.index[~has_readings], "no_readings", "no readings in the look-back"),
                                  (too_few, "not_clustered", f"fewer than {min_customers} customers with this kind "
                                                             "of readings: too few to cluster")):
        if len(members):
            labels[members] = len(names)
            names[len(names)], fams[len(fams)] = name, "none"
            reasons[members] = reason
    for family in families:
        X = family.vectors.loc[family.sample].to_numpy()
        namer = _namer(family)
        k_range, algos, rounds = range(k_min, k_max + 1), algorithms, stability_rounds
        if fixed and family.name in fixed:  # replayed: no bootstrap (nor its second read of the sample's days)
            k_range, algos, rounds = range(int(fixed[family.name]["k"]), int(fixed[family.name]["k"]) + 1), (
                str(fixed[family.name]["algorithm"]),), 0
        with threadpool_limits(limits=1):  # a few thousand rows: threads cost more than they save
            candidates, lab = _choose(family, X, k_range, seed, algos, rounds, min_stability,
                                      min_cluster_share, stability_candidates,
                                      _remeasurer(lb, family) if lb is not None and rounds else None, namer)
        all_candidates.append(candidates)
        centroids = _centroids(X, lab)
        offset = len(names)
        labels[family.members] = offset + _nearest(family.vectors.to_numpy(), centroids)
        used: dict[str, int] = {}
        for c, (centroid, base) in enumerate(zip(centroids, namer(centroids), strict=True)):
            used[base] = used.get(base, 0) + 1
            names[offset + c] = base if used[base] == 1 else f"{base}_{used[base]}"
            fams[offset + c] = family.name
            centroid_rows.append(pd.Series(centroid, index=family.vectors.columns, name=offset + c))
        basis = ("weekday/weekend 24-hour profile" if family.name == "intraday" else
                 "day-of-week and monthly profile" + (" with daily peak/base load" if family.with_summary else "")
                 + " (no interval readings)")
        cov = coverage.reindex(family.members).fillna(0)
        reasons[family.members] = [basis if v >= min_coverage else f"{basis}; readings on {v:.0%} of the look-back"
                                   for v in cov]
        reasons[family.atypical] = reasons[family.atypical] + "; atypical profile, nearest shape"
    candidates = pd.concat(all_candidates, ignore_index=True) if all_candidates else pd.DataFrame(
        columns=["family", "algorithm", "k", "silhouette", "davies_bouldin", "calinski_harabasz", "mia", "cdi",
                 "smallest_share", "admissible", "mean_rank", "stability_ari", "stable", "chosen"])
    return ClusteringResult(labels, names, pd.DataFrame(centroid_rows), candidates, len(centroid_rows), fams,
                            reasons)
