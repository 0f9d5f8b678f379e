"""Segments for every customer at the scoring cut-off, in one table with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.segmentation.clustering import (
    HOURS,
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

__all__ = ["segment", "profile_table", "pareto"]


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
                                   cl.get("sample_size", 3000))
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
    curve, top20 = pareto(feats["revenue_12m"])
    total = feats["revenue_12m"].sum()
    metrics = {
        "customers": int(len(seg)),
        "pareto_top20_share": round(top20, 4),
        "big_customers": int(big.sum()),
        "big_revenue_share": round(float(feats.loc[big, "revenue_12m"].sum() / total) if total else 0.0, 4),
        "latent_big_customers": int(seg["latent_big_customer"].sum()),
        "chosen_k": clusters.chosen_k,
        "silhouette": round(float(clusters.candidates.set_index("k").loc[clusters.chosen_k, "silhouette"]), 4),
        "tiers": {k: int(v) for k, v in seg["value_tier"].value_counts().items()},
        "credit_grades": {k: int(v) for k, v in seg["credit_grade"].value_counts().items()},
    }
    return seg.reset_index(), clusters, metrics


def profile_table(raw_profiles: pd.DataFrame, seg: pd.DataFrame) -> pd.DataFrame:
    """Per load shape: the mean normalized weekday profile with its 10-90% band."""
    vectors, has_hourly = normalize_profiles(raw_profiles.reindex(seg["customer_id"]))
    hourly = vectors[HOURS].to_numpy()[has_hourly]
    shapes = seg["load_shape"].to_numpy()[has_hourly]
    rows = []
    for shape in sorted(set(shapes)):
        block = hourly[shapes == shape]
        for h in range(24):
            rows.append({"load_shape": shape, "hour": h, "mean": float(np.mean(block[:, h])),
                         "p10": float(np.percentile(block[:, h], 10)),
                         "p90": float(np.percentile(block[:, h], 90)), "n_customers": int(len(block))})
    return pd.DataFrame(rows)
