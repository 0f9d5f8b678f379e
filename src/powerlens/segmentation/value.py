"""Customer value x credit tiers, big customers, latent big customers and the Pareto curve."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pct(values: pd.Series) -> pd.Series:
    """Percentile rank in [0, 1]; missing values sit in the middle."""
    return values.rank(pct=True, method="average").fillna(0.5)


def value_scores(feats: pd.DataFrame, value_weights: dict[str, float],
                 potential_weights: dict[str, float], potential_share: float) -> pd.DataFrame:
    """Current value (what the customer brings now) and potential value (where it is going),
    each a weighted mean of percentile ranks; value_score blends the two."""
    basis = feats.assign(capacity_headroom=1 - feats["capacity_utilisation"].clip(0, 1.5))
    cur = sum(w * _pct(basis[k]) for k, w in value_weights.items()) / sum(value_weights.values())
    pot = sum(w * _pct(basis[k]) for k, w in potential_weights.items()) / sum(potential_weights.values())
    return pd.DataFrame({
        "current_value": cur,
        "potential_value": pot,
        "value_score": (1 - potential_share) * cur + potential_share * pot,
    }, index=feats.index)


def value_tiers(score: pd.Series, quantiles: list[float]) -> pd.Series:
    hi, mid = score.quantile(quantiles[0]), score.quantile(quantiles[1])
    return pd.Series(np.select([score >= hi, score >= mid], ["high", "medium"], "low"), index=score.index)


def credit_grades(feats: pd.DataFrame) -> pd.Series:
    """A: pays on time, nothing overdue; C: long overdue arrears or mostly late; B: between."""
    overdue_long = (feats["arrears_61_90d"] + feats["arrears_over_90d"]) > 0
    grade_c = overdue_long | (feats["on_time_rate"].fillna(1) < 0.5) | (feats["days_past_due_max"].fillna(0) > 60)
    grade_a = (feats["on_time_rate"].fillna(1) >= 0.9) & (feats["arrears_amount"] <= 0) & (
        feats["days_past_due_max"].fillna(0) <= 15)
    return pd.Series(np.select([grade_c, grade_a], ["C", "A"], "B"), index=feats.index)


def big_customers(feats: pd.DataFrame, min_capacity_kva: float, min_peak_kw: float) -> pd.Series:
    """Big customer (大客户) by contracted capacity or by measured peak demand."""
    return (feats["capacity_kva"].fillna(0) >= min_capacity_kva) | (feats["peak_kw"].fillna(0) >= min_peak_kw)


def latent_big(feats: pd.DataFrame, big: pd.Series, top_share: float) -> pd.DataFrame:
    """Small/medium non-residential customers ranked by growth, capacity pressure and capacity
    requests; the top share is flagged, each with its reason."""
    eligible = ~big & (feats["customer_class"] != "residential")
    trend = feats["trend_pct_per_year"].clip(-50, 200)
    util = feats["capacity_utilisation"]
    requests = feats["capacity_increase_requests"]
    score = 0.5 * _pct(trend) + 0.2 * _pct(util) + 0.3 * _pct(requests)
    score = score.where(eligible)
    n_flag = max(int(round(top_share * eligible.sum())), 1 if eligible.any() else 0)
    rank = score.rank(ascending=False, method="first")
    flagged = rank <= n_flag
    reasons = []
    for t, u, r in zip(trend, util, requests, strict=True):
        parts = []
        if t == t and t > 10:
            parts.append(f"consumption growing {t:.0f}%/year")
        if u == u and u > 0.6:
            parts.append(f"peak at {u:.0%} of contracted capacity")
        if r > 0:
            parts.append(f"{int(r)} capacity increase request(s)")
        reasons.append("; ".join(parts) or "above-average growth")
    return pd.DataFrame({
        "latent_big_customer": flagged.fillna(False).astype(bool),
        "latent_big_score": score,
        "latent_big_rank": rank.where(flagged),
        "latent_big_reason": pd.Series(reasons, index=feats.index).where(flagged, ""),
    }, index=feats.index)


def pareto(revenue: pd.Series) -> tuple[pd.DataFrame, float]:
    """The Pareto curve (share of customers, largest first -> share of revenue) and the share
    of the top 20%; NaN when there is nothing to share."""
    values = np.sort(np.clip(np.asarray(revenue, dtype=float), 0, None))[::-1]
    values = values[np.isfinite(values)]
    total = values.sum()
    if len(values) == 0 or total <= 0:
        return pd.DataFrame({"customer_share": [], "revenue_share": []}), float("nan")
    curve = pd.DataFrame({"customer_share": np.arange(1, len(values) + 1) / len(values),
                          "revenue_share": np.cumsum(values) / total})
    top = int(np.ceil(0.2 * len(values)))
    return curve, float(values[:top].sum() / total)
