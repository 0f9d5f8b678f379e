"""Segments for every customer at the scoring cut-off, in one table with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.segmentation.clustering import (
    HOURS,
    MONTHS,
    ClusteringResult,
    cluster_load_shapes,
    normalize_profiles,
)
from powerlens.segmentation.value import (
    big_customers,
    credit_grades,
    latent_big,
    pareto,
    value_scores,
    value_tiers,
)

__all__ = ["segment", "tiers", "profile_table", "pareto"]


def tiers(feats: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Value tier and credit grade only (cheap): for an earlier cut-off, to show migration."""
    f = feats.set_index("customer_id")
    scores = value_scores(f, params["value_weights"], params["potential_weights"], params["potential_share"])
    return pd.DataFrame({"customer_id": f.index, "value_tier": value_tiers(scores["value_score"],
                                                                            params["tier_quantiles"]).to_numpy(),
                         "credit_grade": credit_grades(f).to_numpy()})


def segment(feats: pd.DataFrame, raw_profiles: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, ClusteringResult, dict]:
    """Value x credit tiers, big / latent big flags and load-shape clusters for each customer."""
    feats = feats.set_index("customer_id")
    big_rule = params["big_customer"]
    scores = value_scores(feats, params["value_weights"], params["potential_weights"], params["potential_share"])
    tiers = value_tiers(scores["value_score"], params["tier_quantiles"])
    grades = credit_grades(feats)
    big = big_customers(feats, big_rule["min_capacity_kva"], big_rule["min_peak_kw"])
    latent = latent_big(feats, big, params["latent_big_top_share"])
    cl = params["clustering"]
    clusters = cluster_load_shapes(raw_profiles.reindex(feats.index), cl["k_min"], cl["k_max"], cl["seed"],
                                   cl.get("sample_size", 2000), tuple(cl.get("algorithms", ["kmeans"])),
                                   cl.get("stability_rounds", 5), cl.get("min_stability", 0.8))
    seg = pd.concat([scores, latent], axis=1)
    seg["value_tier"] = tiers
    seg["credit_grade"] = grades
    seg["big_customer"] = big
    seg["load_shape_cluster"] = clusters.labels.reindex(feats.index).astype(int)
    seg["load_shape"] = seg["load_shape_cluster"].map(clusters.names)
    for col in ("revenue_12m", "kwh_365d", "customer_class", "region", "capacity_kva"):
        seg[col] = feats[col]
    seg["segment_reasons"] = [
        f"{t} value ({v:.2f}), credit {g}" + (", big customer" if b else "") + (f", latent big: {r}" if lb else "")
        for t, v, g, b, lb, r in zip(seg["value_tier"], seg["value_score"], seg["credit_grade"], seg["big_customer"],
                                     seg["latent_big_customer"], seg["latent_big_reason"], strict=True)
    ]
    # Pareto on revenue; on consumption when the source has no bills (smart-meter data)
    basis = "revenue_12m" if feats["revenue_12m"].fillna(0).sum() > 0 else "kwh_365d"
    curve, top20 = pareto(feats[basis])
    total = feats[basis].sum()
    metrics = {
        "customers": int(len(seg)),
        "pareto_top20_share": round(top20, 4) if top20 == top20 else None,
        "big_customers": int(big.sum()),
        "pareto_basis": basis,
        "big_revenue_share": round(float(feats.loc[big, basis].sum() / total) if total else 0.0, 4),
        "latent_big_customers": int(seg["latent_big_customer"].sum()),
        "chosen_k": clusters.chosen_k,
        **_chosen(clusters.candidates),
        "tiers": {k: int(v) for k, v in seg["value_tier"].value_counts().items()},
        "credit_grades": {k: int(v) for k, v in seg["credit_grade"].value_counts().items()},
    }
    return seg.reset_index(), clusters, metrics


def _chosen(candidates: pd.DataFrame) -> dict:
    row = candidates[candidates["chosen"]].iloc[0]
    return {"chosen_algorithm": str(row["algorithm"]),
            **{k: round(float(row[k]), 4) for k in ("silhouette", "davies_bouldin", "cdi", "mia", "stability_ari")}}


def profile_table(raw_profiles: pd.DataFrame, seg: pd.DataFrame) -> pd.DataFrame:
    """Per load shape: the mean normalized weekday 24-hour profile with its 10-90% band; where
    no customer has interval data, the monthly profile instead (`axis` says which)."""
    vectors, has_hourly = normalize_profiles(raw_profiles.reindex(seg["customer_id"]))
    if has_hourly.any():
        axis, cols, mask, x = "hour", HOURS, has_hourly, range(24)
    else:
        axis, cols, mask, x = "month", MONTHS, np.ones(len(vectors), dtype=bool), range(1, 13)
    block_all = vectors[cols].to_numpy()[mask]
    if axis == "month":
        block_all = block_all / np.sqrt(24 / 12)
    shapes = seg["load_shape"].to_numpy()[mask]
    rows = []
    for shape in sorted(set(shapes)):
        block = block_all[shapes == shape]
        for i, pos in enumerate(x):
            rows.append({"load_shape": shape, "axis": axis, "x": pos, "mean": float(np.nanmean(block[:, i])),
                         "p10": float(np.nanpercentile(block[:, i], 10)),
                         "p90": float(np.nanpercentile(block[:, i], 90)), "n_customers": int(len(block))})
    return pd.DataFrame(rows, columns=["load_shape", "axis", "x", "mean", "p10", "p90", "n_customers"])
