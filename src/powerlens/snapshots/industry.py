"""The industry part of a snapshot: the industries at the cut-off, the big customers against
their industry's peers, and the efficiency audit (see `powerlens.industry`).

Small groups are not shown as numbers: an industry with fewer than `min_group_size` customers
keeps its count as "fewer than N" and no figures (they would describe a handful of accounts),
and percentiles and the audit need at least `min_group_size` peers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.industry import INDUSTRY_COLUMNS, efficiency_audit, industry_view, peer_percentiles


def industry_tables(features: pd.DataFrame | None, segments: pd.DataFrame | None, min_group_size: int,
                    demand_charge_per_kw_month: float, audit_min_peers: int | None = None) -> dict[str, pd.DataFrame]:
    """`industry` (one row per industry, small ones without figures), `industry_peers` (each big
    customer's percentiles among its industry) and `efficiency_audit` (big customers under their
    industry's median load factor, by estimated annual saving: as the segmentation lists them
    for the playbook, with `audit_min_peers`, default min_group_size); {} without features."""
    if features is None or features.empty or "industry" not in features:
        return {}
    view = industry_view(features, min_peers=min_group_size)
    small = view["customers"] < min_group_size
    figures = [c for c in INDUSTRY_COLUMNS if c not in ("industry", "customers")]
    view[figures] = view[figures].astype(float).mask(small, np.nan)
    view["small_group"] = small
    out = {"industry": view}
    if segments is not None and "big_customer" in segments:
        big_ids = set(segments.loc[segments["big_customer"].fillna(False).astype(bool), "customer_id"].astype(str))
        big = features["customer_id"].astype(str).isin(big_ids)
        out["industry_peers"] = peer_percentiles(features, big, min_peers=min_group_size)
        out["efficiency_audit"] = efficiency_audit(features, big, demand_charge_per_kw_month,
                                                   min_peers=audit_min_peers or min_group_size)
    return out
