"""Segments for every customer at the scoring cut-off, in one table with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.config import TouOfferConfig
from powerlens.errors import InvalidInput
from powerlens.industry import efficiency_audit
from powerlens.segmentation.clustering import (
    HOURS,
    INTRADAY_SUMMARY,
    MONTHS,
    ClusteringResult,
    cluster_load_shapes,
    normalize_profiles,
)
from powerlens.segmentation.profiles import (
    LookBack,
    Profiles,
    look_back,
    raw_profiles,
    read_look_back,
    read_profiles,
)
from powerlens.segmentation.value import (
    WeightsError,
    apparent_power,
    big_customer_changes,
    big_customer_rules,
    credit_criteria,
    credit_grades,
    credit_scores,
    credit_weights,
    latent_big,
    pareto,
    region_rules,
    value_scores,
    value_tiers,
    value_weights,
    weights_spec,
)
from powerlens.tariffs import tou_offer_candidates

__all__ = ["segment", "tiers", "profile_table", "pareto", "replay_params", "cluster_from_params", "LookBack", "look_back",
           "read_look_back", "Profiles", "read_profiles", "WeightsError", "check_params", "big_customer_changes"]


def check_params(params: dict) -> None:
    """Fail early, in one line, on weights that cannot work whatever the data (unknown method,
    a credit criterion among the value criteria, incomplete or inconsistent AHP judgments) and
    on a region rule with an unknown key."""
    spec = weights_spec(params)
    if spec["method"] != "entropy":
        value_weights(pd.DataFrame(), spec)
    if params["credit"]["method"] != "entropy":
        credit_weights(pd.DataFrame(), params["credit"])
    region_rules(pd.Series(dtype=object), params["big_customer"])


def _scores(feats: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, dict]:
    current, potential, info = value_weights(feats, weights_spec(params))
    return value_scores(feats, current, potential, params["potential_share"]), info


def _customer_segments(feats: pd.DataFrame, params: dict, tariffs: pd.DataFrame | None = None
                       ) -> tuple[pd.DataFrame, dict]:
    """Everything but the load shapes, per customer (`feats` indexed by customer_id, in the
    canonical order): value scores and tier, credit score and grade, apparent power, big
    customer with its rule, over-contract use, latent big, the ToU offer's expected saving
    (priced from `tariffs`); and what the metrics report."""
    big_rule, credit = params["big_customer"], params["credit"]
    apparent = apparent_power(feats, big_rule["power_factor_by_class"], big_rule["power_factor_default"])
    feats = feats.join(apparent[["capacity_utilisation_kva"]])  # headroom and reasons on apparent power
    scores, weights = _scores(feats, params)
    criteria = credit_criteria(feats, credit["arrears_bills_at_zero"], credit["tenure_years_full"])
    c_weights, c_info = credit_weights(criteria, credit)
    credit_score = credit_scores(criteria, c_weights)
    big = big_customer_rules(feats, apparent, big_rule)
    latent, thresholds = latent_big(feats, scores, big["big_customer"], params["latent_big"]["min_current_quantile"],
                                    params["latent_big"]["min_potential_quantile"])
    seg = pd.concat([scores, latent], axis=1)
    seg["value_tier"] = value_tiers(scores["value_score"], params["tier_quantiles"])
    seg["credit_score"] = credit_score
    seg["credit_grade"] = credit_grades(credit_score, credit["grade_a_min"], credit["grade_b_min"])
    seg = pd.concat([seg, big, apparent], axis=1)
    audit_rule = params.get("efficiency_audit") or {"demand_charge_per_kw_month": 28.0, "min_peers": 10}
    audit = efficiency_audit(feats.reset_index(), big["big_customer"].to_numpy(),
                             audit_rule["demand_charge_per_kw_month"], audit_rule["min_peers"]).set_index("customer_id")
    seg["efficiency_annual_saving"] = audit["annual_saving"].reindex(seg.index.astype(str)).to_numpy()
    seg["efficiency_reason"] = audit["reason"].reindex(seg.index.astype(str)).fillna("").to_numpy()
    as_of = feats["as_of"].max() if "as_of" in feats and len(feats) else pd.Timestamp.now().normalize()
    load_shift = (params.get("tou_offer") or {}).get("load_shift", TouOfferConfig.load_shift)
    tou = tou_offer_candidates(feats, tariffs, load_shift, as_of)
    seg = pd.concat([seg, tou], axis=1)
    info = {"value_weights": weights, "credit_weights": c_info,
            "latent_big_thresholds": {k: round(v, 4) for k, v in thresholds.items()}}
    return seg, info


def tiers(feats: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Value tier, credit grade and the big-customer list without load shapes (cheap): for an
    earlier cut-off, to show migration and the accounts entering and leaving the big-customer
    list (`big_customer_changes`)."""
    from powerlens.features.engine import canonical_positions

    given_order = pd.Index(feats["customer_id"])
    f = feats.iloc[canonical_positions(feats)].set_index("customer_id")
    seg, _ = _customer_segments(f, params)
    cols = ["value_tier", "current_value", "potential_value", "value_score", "credit_grade", "credit_score",
            "big_customer", "big_customer_rule", "over_contract", "latent_big_customer"]
    return seg[cols].reindex(given_order).rename_axis("customer_id").reset_index()


def cluster_from_params(profiles: LookBack | Profiles | pd.DataFrame, cl: dict) -> ClusteringResult:
    """cluster_load_shapes with the `segment.clustering` section (`cfg.segment.clustering.as_dict()`;
    `fixed`, set by replay_params, is optional)."""
    return cluster_load_shapes(
        profiles, cl["k_min"], cl["k_max"], cl["seed"], sample_size=cl["sample_size"],
        algorithms=tuple(cl["algorithms"]), stability_rounds=cl["stability_rounds"],
        min_stability=cl["min_stability"], min_cluster_share=cl["min_cluster_share"],
        stability_candidates=cl["stability_candidates"], min_coverage=cl["min_coverage"],
        min_family_customers=cl["min_family_customers"], fixed=cl.get("fixed"))


def segment(feats: pd.DataFrame, profiles: LookBack | Profiles | pd.DataFrame, params: dict,
            tariffs: pd.DataFrame | None = None) -> tuple[pd.DataFrame, ClusteringResult, dict]:
    """Value x credit tiers, big / latent big flags and load-shape clusters for each customer.
    `profiles`: the look-back's readings (`read_look_back`, or `read_profiles` a partition at
    a time; stability then resamples customers and days) or raw profiles already averaged per customer (customers only).

    Customers are processed in the canonical order of their feature rows (`features.engine.
    canonical_order`, the features stage's order), not by customer id: the ids are keyed
    pseudonyms, and clustering samples and fits, and latent-big ranks break ties, by position.
    The table comes back in the order of `feats`."""
    from powerlens.features.engine import canonical_positions

    given_order = pd.Index(feats["customer_id"])
    feats = feats.iloc[canonical_positions(feats)].set_index("customer_id")
    seg, info = _customer_segments(feats, params, tariffs)
    if isinstance(profiles, LookBack):
        if not profiles.customer_ids.equals(feats.index):
            positions = profiles.customer_ids.get_indexer(feats.index)
            if (positions < 0).any():
                raise InvalidInput(f"{int((positions < 0).sum())} customers of the features have no look-back "
                                 "readings row: read the look-back for the features' customers")
            profiles = profiles.subset(positions)
    elif isinstance(profiles, Profiles):
        missing = ~feats.index.isin(profiles.customer_ids)
        if missing.any():
            raise InvalidInput(f"{int(missing.sum())} customers of the features have no look-back "
                               "readings row: read the look-back for the features' customers")
        profiles = profiles.reindexed(feats.index)
    else:
        profiles = profiles.reindex(feats.index)
    clusters = cluster_from_params(profiles, params["clustering"])
    big = seg["big_customer"]
    seg["load_shape_cluster"] = clusters.labels.reindex(feats.index).astype(int)
    seg["load_shape"] = seg["load_shape_cluster"].map(clusters.names)
    seg["load_shape_family"] = seg["load_shape_cluster"].map(clusters.families)
    seg["load_shape_basis"] = clusters.reasons.reindex(feats.index)
    for col in ("revenue_12m", "kwh_365d", "customer_class", "region", "capacity_kva"):
        seg[col] = feats[col]
    seg["segment_reasons"] = [
        f"{t} value ({v:.2f}), credit {g} ({c:.2f})" + (f", big customer: {rule}" if b else "")
        + (", over-contract use" if oc else "") + (f", latent big: {r}" if lb else "")
        + f"; load shape {s} ({basis})"
        for t, v, g, c, b, rule, oc, lb, r, s, basis in zip(
            seg["value_tier"], seg["value_score"], seg["credit_grade"], seg["credit_score"], seg["big_customer"],
            seg["big_customer_rule"], seg["over_contract"], seg["latent_big_customer"], seg["latent_big_reason"],
            seg["load_shape"], seg["load_shape_basis"], strict=True)
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
        "big_customers_by_rule": {str(k): int(v) for k, v in
                                  seg.loc[big, "big_customer_rule"].str.extract(r"\(([^()]*)\)$")[0]
                                  .value_counts().sort_index().items()},
        "over_contract_accounts": int(seg["over_contract"].sum()),
        "latent_big_customers": int(seg["latent_big_customer"].sum()),
        "tou_offer_customers": int((seg["tou_expected_saving"] > 0).sum()),
        "tou_offer_expected_saving": round(float(seg["tou_expected_saving"].clip(lower=0).sum()), 2),
        **info,
        "chosen_k": clusters.chosen_k,
        **_chosen(clusters, seg),
        "tiers": {k: int(v) for k, v in seg["value_tier"].value_counts().items()},
        "credit_grades": {k: int(v) for k, v in seg["credit_grade"].value_counts().items()},
    }
    return seg.reindex(given_order).rename_axis("customer_id").reset_index(), clusters, metrics


def _chosen(clusters: ClusteringResult, seg: pd.DataFrame) -> dict:
    """The chosen clustering per shape family; the headline stability is the weakest family's."""
    families = {}
    for _, row in clusters.candidates[clusters.candidates["chosen"]].iterrows():
        families[str(row["family"])] = {
            "customers": int((seg["load_shape_family"] == row["family"]).sum()),
            "algorithm": str(row["algorithm"]), "k": int(row["k"]),
            **{k: round(float(row[k]), 4) for k in ("silhouette", "davies_bouldin", "calinski_harabasz", "cdi",
                                                     "mia", "stability_ari")},
            "stable": bool(row["stable"]),
        }
    if not families:  # nobody with enough readings to cluster
        return {"load_shape_families": {}, "stability_ari": None, "chosen_algorithm": None}
    weakest = min(families.values(), key=lambda f: f["stability_ari"])
    largest = max(families.values(), key=lambda f: f["customers"])
    return {"load_shape_families": families, "stability_ari": weakest["stability_ari"],
            "chosen_algorithm": largest["algorithm"]}


def replay_params(params: dict, stage_metrics: dict) -> dict:
    """The segment params with the load-shape clustering fixed to what the stage chose per
    family (one candidate, no stability bootstrap: nothing is left to choose): segments at
    another cut-off, made alike."""
    import copy

    out = copy.deepcopy(params)
    chosen = stage_metrics.get("load_shape_families") or {}
    if chosen:
        out["clustering"]["fixed"] = {f: {"algorithm": c["algorithm"], "k": int(c["k"])} for f, c in chosen.items()}
    return out


def profile_table(profiles: LookBack | Profiles | pd.DataFrame, seg: pd.DataFrame) -> pd.DataFrame:
    """Per load shape: the mean normalized profile with its 10-90% band, on the axis its family
    is clustered on: the weekday 24 hours (intraday family) or the 12 months (daily family)."""
    raw = (raw_profiles(profiles) if isinstance(profiles, LookBack) else
           profiles.raw if isinstance(profiles, Profiles) else profiles).reindex(seg["customer_id"])
    vectors, _ = normalize_profiles(raw)
    summary = raw.reindex(columns=INTRADAY_SUMMARY).to_numpy(dtype=float)
    families = seg["load_shape_family"].to_numpy() if "load_shape_family" in seg else np.full(len(seg), "daily")
    shapes = seg["load_shape"].to_numpy()
    rows = []
    for shape in sorted(set(shapes[families != "none"])):  # no profile to draw without readings
        mask = shapes == shape
        intraday = (families[mask] == "intraday").all()
        axis, cols, x, scale = ("hour", HOURS, range(24), 1.0) if intraday else (
            "month", MONTHS, range(1, 13), np.sqrt(24 / 12))
        block = vectors[cols].to_numpy()[mask] / scale
        # the daily family's peak and base load (largest / smallest interval over the mean one)
        peak, base = (float(np.nanmedian(summary[mask, i])) if np.isfinite(summary[mask, i]).any() else np.nan
                      for i in (0, 1))
        for i, pos in enumerate(x):
            rows.append({"load_shape": shape, "family": "intraday" if intraday else "daily", "axis": axis, "x": pos,
                         "mean": float(np.nanmean(block[:, i])), "p10": float(np.nanpercentile(block[:, i], 10)),
                         "p90": float(np.nanpercentile(block[:, i], 90)), "n_customers": int(mask.sum()),
                         "peak_ratio": peak, "base_ratio": base})
    return pd.DataFrame(rows, columns=["load_shape", "family", "axis", "x", "mean", "p10", "p90", "n_customers",
                                       "peak_ratio", "base_ratio"])
