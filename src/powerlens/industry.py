"""Industries as marketing compares them: each industry's consumption, growth and load shape, and
each big customer against its industry's peers.

Pure functions of the feature rows at one cut-off (one row per customer: `kwh_365d`,
`trend_pct_per_year`, `load_factor` (hourly average over peak) or `daily_load_factor`,
`peak_kw`, `capacity_kva`, `industry`); no files, no MLflow.

- `industry_view`: per industry the customers, kWh over 12 months, kWh-weighted growth, median
  load factor (one basis per industry, see `load_factor`), share of the customers' summed peak demand and kWh per contracted kVA.
- `peer_percentiles`: each customer's percentile among the customers of its industry on load
  factor, kWh per kVA and growth (only industries with at least `min_peers` customers: a
  percentile among three peers says little and can point at one of them).
- `efficiency_audit`: big customers whose load factor is under their industry's median, ranked
  by the estimated annual saving of reaching it: the same energy at the median load factor
  needs a lower peak, and each kW of peak costs the demand charge every month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INDUSTRY_COLUMNS = ["industry", "customers", "kwh_12m", "kwh_share", "growth_pct_per_year", "load_factor_median",
                    "peak_share", "kwh_per_kva"]
PEER_COLUMNS = ["customer_id", "industry", "peers", "load_factor", "load_factor_percentile", "kwh_per_kva",
                "kwh_per_kva_percentile", "growth_pct_per_year", "growth_percentile"]
AUDIT_COLUMNS = ["customer_id", "industry", "load_factor", "industry_load_factor_median", "peak_kw",
                 "peak_kw_at_median", "annual_saving", "reason"]
HOURS_PER_YEAR = 8760.0


def load_factor(feats: pd.DataFrame, min_peers: int = 5) -> pd.Series:
    """Average over peak demand, on one basis per industry: from hourly readings (`load_factor`)
    where the industry has at least `min_peers` customers with them, else from daily energy
    (`daily_load_factor`: the average day over the largest, about twice as high, since a day
    smooths its hours); never the two mixed within an industry (households with and without
    interval meters would give a median of neither)."""
    hourly = feats["load_factor"] if "load_factor" in feats else pd.Series(np.nan, index=feats.index)
    daily = feats["daily_load_factor"] if "daily_load_factor" in feats else pd.Series(np.nan, index=feats.index)
    industry = feats["industry"].astype("string").fillna("unknown") if "industry" in feats else pd.Series(
        "unknown", index=feats.index)
    hourly_basis = hourly.notna().groupby(industry, observed=True).transform("sum") >= min_peers
    return hourly.where(hourly_basis, daily).astype(float)


def _kwh_per_kva(feats: pd.DataFrame) -> pd.Series:
    capacity = pd.to_numeric(feats["capacity_kva"], errors="coerce")
    return (feats["kwh_365d"] / capacity).where(capacity > 0)


def industry_view(feats: pd.DataFrame, min_peers: int = 5) -> pd.DataFrame:
    """One row per industry (largest consumption first); `peak_share` is the industry's share of
    the customers' summed own peaks (not the system's coincident peak: that needs the load
    curve, see the regional analysis)."""
    if feats.empty:
        return pd.DataFrame(columns=INDUSTRY_COLUMNS)
    rows = feats.assign(industry=feats["industry"].astype("string").fillna("unknown"),
                        _lf=load_factor(feats, min_peers), _kwh=feats["kwh_365d"].clip(lower=0),
                        _peak=feats["peak_kw"].clip(lower=0),
                        _kva=pd.to_numeric(feats["capacity_kva"], errors="coerce").clip(lower=0))
    rows["_growth_x_kwh"] = rows["trend_pct_per_year"] * rows["_kwh"]
    rows["_kwh_with_growth"] = rows["_kwh"].where(rows["trend_pct_per_year"].notna())
    rows["_kwh_with_kva"] = rows["_kwh"].where(rows["_kva"] > 0)
    g = rows.groupby("industry", observed=True)
    out = pd.DataFrame({
        "customers": g.size(),
        "kwh_12m": g["_kwh"].sum(),
        "growth_pct_per_year": g["_growth_x_kwh"].sum() / g["_kwh_with_growth"].sum(),
        "load_factor_median": g["_lf"].median(),
        "peak_share": g["_peak"].sum() / rows["_peak"].sum() if rows["_peak"].sum() > 0 else np.nan,
        "kwh_per_kva": g["_kwh_with_kva"].sum() / g["_kva"].sum().where(lambda s: s > 0),
    })
    total = rows["_kwh"].sum()
    out["kwh_share"] = out["kwh_12m"] / total if total > 0 else np.nan
    out = out.reset_index().sort_values(["kwh_12m", "industry"], ascending=[False, True], ignore_index=True)
    return out[INDUSTRY_COLUMNS]


def _percentile_within(values: pd.Series, groups: pd.Series, eligible: pd.Series) -> pd.Series:
    """Percentile rank (0-100, ties averaged) of each value among the eligible values of its group."""
    ranked = values.where(eligible).groupby(groups, observed=True).rank(pct=True, method="average")
    return (ranked * 100).round(1)


def peer_percentiles(feats: pd.DataFrame, customers: pd.Series | None = None, min_peers: int = 5) -> pd.DataFrame:
    """Each listed customer (`customers`: a boolean mask over `feats`, e.g. the big customers;
    all when None) against every customer of its industry; percentiles only where the industry
    has at least `min_peers` customers with the value (NaN otherwise)."""
    industry = feats["industry"].astype("string").fillna("unknown")
    values = {"load_factor": load_factor(feats, min_peers), "kwh_per_kva": _kwh_per_kva(feats),
              "growth_pct_per_year": feats["trend_pct_per_year"].astype(float)}
    out = pd.DataFrame({"customer_id": feats["customer_id"].astype(str), "industry": industry})
    out["peers"] = industry.map(industry.value_counts()).astype(int)
    for name, value in values.items():
        known = value.notna()
        counted = known.groupby(industry, observed=True).transform("sum")
        out[name] = value
        column = "growth_percentile" if name == "growth_pct_per_year" else f"{name}_percentile"
        out[column] = _percentile_within(value, industry, known).where(counted >= min_peers)
    chosen = out if customers is None else out[np.asarray(customers, dtype=bool)]
    return chosen[PEER_COLUMNS].reset_index(drop=True)


def efficiency_audit(feats: pd.DataFrame, big: pd.Series, demand_charge_per_kw_month: float,
                     min_peers: int = 5) -> pd.DataFrame:
    """Big customers under their industry's median hourly load factor (the median over every
    customer of the industry with one, at least `min_peers` of them), ranked by the estimated
    annual saving: (peak now - the peak that the same energy needs at the median load factor) x
    the demand charge x 12. Every listed customer has its number and a positive saving."""
    industry = feats["industry"].astype("string").fillna("unknown")
    # the demand charge is on the interval maximum: hourly load factors only
    lf = (feats["load_factor"] if "load_factor" in feats else pd.Series(np.nan, index=feats.index)).astype(float)
    known = lf.notna() & (lf > 0)
    median = lf.where(known).groupby(industry, observed=True).transform("median")
    peers = known.groupby(industry, observed=True).transform("sum")
    energy = feats["kwh_365d"].astype(float)
    peak_now = energy / (HOURS_PER_YEAR * lf)
    peak_target = energy / (HOURS_PER_YEAR * median)
    saving = (peak_now - peak_target) * demand_charge_per_kw_month * 12
    listed = (np.asarray(big, dtype=bool) & known & (peers >= min_peers) & (lf < median) & (energy > 0)
              & (saving > 0)).to_numpy()
    out = pd.DataFrame({
        "customer_id": feats["customer_id"].astype(str), "industry": industry, "load_factor": lf,
        "industry_load_factor_median": median, "peak_kw": feats["peak_kw"].astype(float),
        "peak_kw_at_median": peak_target, "annual_saving": saving.round(0),
    })[listed]
    out["reason"] = [f"load factor {a:.0%} against its industry's median {m:.0%} ({i}): "
                     f"{p - t:,.0f} kW less peak for the same energy"
                     for a, m, i, p, t in zip(out["load_factor"], out["industry_load_factor_median"], out["industry"],
                                              peak_now[listed], out["peak_kw_at_median"], strict=True)]
    return out.sort_values(["annual_saving", "customer_id"], ascending=[False, True], ignore_index=True)[AUDIT_COLUMNS]
