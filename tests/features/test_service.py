"""Service-event indicators."""

import pandas as pd

from powerlens.features.service import service_features


def test_service_counts_and_recency():
    events = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c2"],
        "ts": pd.to_datetime(["2025-12-01", "2026-03-20", "2026-05-01", "2026-02-01"]),
        "kind": ["complaint", "complaint", "complaint", "inspection"],
        "outcome": ["resolved", "resolved", "resolved", "theft_confirmed"],
    })
    f = service_features(events, pd.Index(["c1", "c2"]), pd.Timestamp("2026-04-01"), 365)
    assert f.loc["c1", "complaints_12m"] == 2 and f.loc["c1", "complaints_90d"] == 1
    assert f.loc["c1", "days_since_complaint"] == 12
    assert f.loc["c2", "theft_confirmed_before"] == 1 and f.loc["c2", "days_since_complaint"] == 366
