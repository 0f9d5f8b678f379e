"""Customer value x credit tiers, big customers, latent big customers and the Pareto curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.config import SegmentConfig
from powerlens.errors import PowerlensError


def _pct(values: pd.Series) -> pd.Series:
    """Percentile rank in [0, 1]; missing values sit in the middle."""
    return values.rank(pct=True, method="average").fillna(0.5)


class WeightsError(PowerlensError, ValueError):
    """The value weights in params.yaml cannot be used (unknown method, missing or inconsistent judgments)."""


# Saaty's random consistency index by matrix size (AHP)
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
METHODS = ("manual", "entropy", "ahp")


def _criteria_values(feats: pd.DataFrame) -> pd.DataFrame:
    """The value criteria as benefit criteria (higher = more value): capacity headroom is the
    unused share of the contracted capacity."""
    return feats.assign(capacity_headroom=1 - feats["capacity_utilisation"].clip(0, 1.5))


def entropy_weights(values: pd.DataFrame) -> dict[str, float]:
    """The entropy weight method: a criterion on which customers differ more (lower Shannon
    entropy of its min-max scaled values, clipped to the 1st-99th percentiles so one extreme
    account does not decide) gets more weight; a constant criterion gets none."""
    n = len(values)
    divergence = {}
    for col in values.columns:
        x = pd.to_numeric(values[col], errors="coerce").astype(float)
        x = x[np.isfinite(x)]
        if len(x) < 2:
            divergence[col] = 0.0
            continue
        lo, hi = np.percentile(x, [1, 99])
        scaled = (x.clip(lo, hi) - lo) / (hi - lo) if hi > lo else x * 0.0
        total = scaled.sum()
        if total <= 0:
            divergence[col] = 0.0
            continue
        p = scaled[scaled > 0] / total
        entropy = float(-(p * np.log(p)).sum() / np.log(max(n, 2)))
        divergence[col] = max(1.0 - entropy, 0.0)
    total = sum(divergence.values())
    if total <= 0:  # every criterion constant: nothing to tell customers apart, weigh alike
        return {k: 1.0 / len(divergence) for k in divergence}
    return {k: v / total for k, v in divergence.items()}


def ahp_weights(judgments: dict[str, float], criteria: list[str], where: str = "ahp") -> tuple[dict[str, float], float]:
    """Weights from AHP pairwise judgments {"a/b": how many times more a matters than b, 1/9..9}:
    the principal eigenvector of the reciprocal matrix, and its consistency ratio. Raises
    WeightsError when a pair is missing or unknown, or when the consistency ratio exceeds 0.1."""
    index = {c: i for i, c in enumerate(criteria)}
    m = len(criteria)
    a = np.ones((m, m))
    given = set()
    for key, value in (judgments or {}).items():
        parts = str(key).split("/")
        if len(parts) != 2 or parts[0] not in index or parts[1] not in index or parts[0] == parts[1]:
            raise WeightsError(f"{where}: {key!r} is not a pair 'a/b' of two of the criteria {', '.join(criteria)}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise WeightsError(f"{where}: {key} = {value!r} is not a number") from None
        if not 1 / 9 - 1e-9 <= v <= 9 + 1e-9:
            raise WeightsError(f"{where}: {key} = {v:g} is outside Saaty's scale 1/9..9")
        i, j = index[parts[0]], index[parts[1]]
        if frozenset((i, j)) in given:
            raise WeightsError(f"{where}: the pair {parts[0]} / {parts[1]} is judged twice")
        given.add(frozenset((i, j)))
        a[i, j], a[j, i] = v, 1 / v
    missing = [f"{criteria[i]}/{criteria[j]}" for i in range(m) for j in range(i + 1, m)
               if frozenset((i, j)) not in given]
    if missing:
        raise WeightsError(f"{where}: missing pairwise judgment(s) {', '.join(missing)}")
    eigenvalues, eigenvectors = np.linalg.eig(a)
    top = int(np.argmax(eigenvalues.real))
    w = np.abs(eigenvectors[:, top].real)
    w = w / w.sum()
    lambda_max = float(eigenvalues[top].real)
    ci = (lambda_max - m) / (m - 1) if m > 1 else 0.0
    ri = RANDOM_INDEX.get(m, RANDOM_INDEX[10])  # Saaty's index levels off beyond ten criteria
    cr = max(ci / ri, 0.0) if ri > 0 else 0.0  # two criteria are always consistent
    if cr > 0.1:
        # the judgment furthest from what the weights imply is the one to revisit
        dev = np.abs(np.log(a * w[None, :] / w[:, None]))
        i, j = np.unravel_index(np.argmax(np.triu(dev, 1)), dev.shape)
        raise WeightsError(f"{where}: the pairwise judgments are inconsistent (consistency ratio {cr:.2f} > 0.10); "
                           f"revisit {criteria[i]}/{criteria[j]} first")
    return {c: float(w[index[c]]) for c in criteria}, round(float(cr), 4)


def value_weights(feats: pd.DataFrame, spec: dict) -> tuple[dict[str, float], dict[str, float], dict]:
    """Current- and potential-value criterion weights by `spec["method"]`: `manual` (the weights
    given), `entropy` (from the data at this cut-off) or `ahp` (from pairwise judgments, checked
    for consistency). Returns both weight sets and what to log (method, consistency ratios)."""
    method = spec["method"]
    if method not in METHODS:
        raise WeightsError(f"segment.value_weights.method {method!r} is not one of {', '.join(METHODS)}")
    current, potential = dict(spec["current"]), dict(spec["potential"])
    info: dict = {"method": method}
    if method == "entropy":
        values = _criteria_values(feats)
        current = entropy_weights(values[list(current)])
        potential = entropy_weights(values[list(potential)])
    elif method == "ahp":
        judgments = spec["ahp"] or {}
        current, info["current_consistency_ratio"] = ahp_weights(
            judgments.get("current"), list(current), "segment.value_weights.ahp.current")
        potential, info["potential_consistency_ratio"] = ahp_weights(
            judgments.get("potential"), list(potential), "segment.value_weights.ahp.potential")
    for name, weights in (("current", current), ("potential", potential)):
        if not weights or sum(weights.values()) <= 0 or min(weights.values()) < 0:
            raise WeightsError(f"segment.value_weights.{name}: weights must be non-negative and not all zero")
    info["current"] = {k: round(v, 4) for k, v in current.items()}
    info["potential"] = {k: round(v, 4) for k, v in potential.items()}
    return current, potential, info


def weights_spec(params: dict) -> dict:
    """The `segment.value_weights` section of the segment params (`cfg.segment.as_dict()`)."""
    return params["value_weights"]


def value_scores(feats: pd.DataFrame, value_weights: dict[str, float],
                 potential_weights: dict[str, float], potential_share: float) -> pd.DataFrame:
    """Current value (what the customer brings now) and potential value (where it is going),
    each a weighted mean of percentile ranks; value_score blends the two."""
    basis = _criteria_values(feats)
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


def latent_big(feats: pd.DataFrame, big: pd.Series, top_share: float,
               weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Small/medium non-residential customers ranked by a weighted mean of percentile ranks of
    their growth (year-on-year trend, last 30 days against the year) and capacity increase
    requests; the top share is flagged, each with its reasons (growth, capacity headroom,
    requests). Headroom is a reason, not a rank: a full connection says when, growth says whether."""
    weights = weights or SegmentConfig.latent_big_weights  # params.yaml's default
    eligible = ~big & (feats["customer_class"] != "residential")
    trend = feats["trend_pct_per_year"].clip(-50, 200)
    util = feats["capacity_utilisation"]
    requests = feats["capacity_increase_requests"]
    recent = feats["recent_change_ratio"] if "recent_change_ratio" in feats else pd.Series(np.nan, index=feats.index)
    basis = feats.assign(trend_pct_per_year=trend)
    score = sum(w * _pct(basis[k]) for k, w in weights.items()) / sum(weights.values())
    score = score.where(eligible)
    n_flag = max(int(round(top_share * eligible.sum())), 1 if eligible.any() else 0)
    rank = score.rank(ascending=False, method="first")
    flagged = rank <= n_flag
    reasons = []
    for t, c, u, r in zip(trend, recent, util, requests, strict=True):
        parts = []
        if t == t and t > 10:
            parts.append(f"consumption growing {t:.0f}%/year")
        if c == c and c > 1.1:
            parts.append(f"last 30 days {c - 1:.0%} above the year's average")
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
