"""The report's tables: monthly KPIs as of a period, migration matrix, score drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerlens import reporting
from support import build_data


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The report's data folder (the KPIs read it directly: no render needed)."""
    return {"data": build_data(tmp_path_factory.mktemp("report") / "data")}


def test_kpis_use_only_data_before_period_end(rendered):
    kpis = reporting.monthly_kpis(rendered["data"], "2026-09").set_index("period")
    assert kpis.index[-1] == "2026-09" and len(kpis) == 12
    assert kpis.loc["2026-09", "thefts_confirmed"] == 1
    later = reporting.monthly_kpis(rendered["data"], "2026-10").set_index("period")
    assert later.loc["2026-10", "thefts_confirmed"] == 1
    assert later.loc["2026-10", "accounts_closed"] == 2
    assert 0 < later.loc["2026-09", "on_time_rate"] < 1
    assert later.loc["2026-10", "arrears_amount"] > later.loc["2026-01", "arrears_amount"] > 0
    # a period's snapshot is as of its own end; a period the data does not cover ends at the data
    assert reporting.snapshot_cutoff(rendered["data"], "2026-09")[0] == pd.Timestamp("2026-10-01")
    cutoff, note = reporting.snapshot_cutoff(rendered["data"], "2027-01")
    assert cutoff == pd.Timestamp("2026-11-01") and "data ends before the end of 2027-01" in note


def test_migration_matrix_and_score_drift():
    from powerlens import reporting

    prev = pd.DataFrame({"customer_id": [f"c{i}" for i in range(30)],
                         "value_tier": ["high"] * 15 + ["low"] * 15, "credit_grade": "A"})
    cur = pd.DataFrame({"customer_id": [f"c{i}" for i in range(3, 33)],
                        "value_tier": ["high"] * 12 + ["low"] * 18, "credit_grade": ["A"] * 28 + ["C"] * 2})
    m = reporting.migration(cur, prev, min_group_size=10)
    assert m.loc["high/A", "high/A"] == 12 and m.loc["low/A", "low/A"] == 15
    assert m.loc["high/A", "left"] == "<10"  # three accounts closed: too few to show
    assert m.loc["new", "low/C"] == "<10"
    rng = np.random.default_rng(0)
    prev_s = pd.DataFrame({"customer_id": range(500), "task": "churn", "score": rng.beta(2, 20, 500)})
    same = prev_s.assign(score=rng.beta(2, 20, 500))
    shifted = prev_s.assign(score=rng.beta(6, 10, 500))
    assert reporting.score_drift(same, prev_s)["PSI"].iloc[0] < 0.1
    drift = reporting.score_drift(shifted, prev_s)
    assert drift["PSI"].iloc[0] > 0.2 and drift["reading"].iloc[0].startswith("shift")
