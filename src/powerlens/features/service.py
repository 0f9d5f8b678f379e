"""Service features: complaints, faults, requests and inspections before the cut-off."""

from __future__ import annotations

import pandas as pd

COUNTS_12M = {
    "complaints_12m": "complaint",
    "fault_reports_12m": "fault_report",
    "service_requests_12m": "service_request",
    "capacity_increase_requests": "capacity_increase",
    "capacity_decrease_requests": "capacity_decrease",
    "inspections_12m": "inspection",
}


def service_features(events: pd.DataFrame, customer_ids: pd.Index, as_of: pd.Timestamp,
                     history_days: int) -> pd.DataFrame:
    out = pd.DataFrame(index=customer_ids)
    seen = events[events["ts"] < as_of]
    recent = seen[seen["ts"] >= as_of - pd.Timedelta(days=history_days)]
    counts = pd.crosstab(recent["customer_id"], recent["kind"]) if len(recent) else pd.DataFrame()
    for name, kind in COUNTS_12M.items():
        col = counts[kind] if kind in counts else pd.Series(dtype=float)
        out[name] = col.reindex(customer_ids).fillna(0).astype(float)
    complaints = seen[seen["kind"] == "complaint"]
    last90 = complaints[complaints["ts"] >= as_of - pd.Timedelta(days=90)]
    out["complaints_90d"] = last90.groupby("customer_id").size().reindex(customer_ids).fillna(0).astype(float)
    last = complaints.groupby("customer_id")["ts"].max().reindex(customer_ids)
    out["days_since_complaint"] = ((as_of - last).dt.days).fillna(history_days + 1).clip(upper=history_days + 1).astype(float)
    confirmed = seen[(seen["kind"] == "inspection") & (seen["outcome"] == "theft_confirmed")]
    out["theft_confirmed_before"] = confirmed.groupby("customer_id").size().reindex(customer_ids).fillna(0).astype(float)
    return out
