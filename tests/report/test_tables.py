"""The report's tables (migration, tier matrix, action summary) and the period cut-offs the
snapshots take."""

from __future__ import annotations

import pandas as pd
import pytest

from powerlens.report import tables
from support import build_data


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The report's data folder (the KPIs read it directly: no render needed)."""
    return {"data": build_data(tmp_path_factory.mktemp("report") / "data")}


def test_kpis_use_only_data_before_period_end(rendered):
    from powerlens.snapshots.kpis import monthly_kpis

    clean = rendered["data"] / "clean"
    frames = [pd.read_parquet(clean / f"{t}.parquet") for t in ("customers", "bills", "payments", "service_events")]
    kpis = monthly_kpis(*frames, "2026-09").set_index("period")
    assert kpis.index[-1] == "2026-09" and len(kpis) == 12
    assert kpis.loc["2026-09", "thefts_confirmed"] == 1
    later = monthly_kpis(*frames, "2026-10").set_index("period")
    assert later.loc["2026-10", "thefts_confirmed"] == 1
    assert later.loc["2026-10", "accounts_closed"] == 2
    assert 0 < later.loc["2026-09", "on_time_rate"] < 1
    assert later.loc["2026-10", "arrears_amount"] > later.loc["2026-01", "arrears_amount"] > 0


def test_a_period_is_shown_as_of_its_end_or_the_data_end(rendered):
    from powerlens.config import load_config
    from powerlens.paths import DataPaths
    from powerlens.snapshots.state import PointInTime
    from support import ROOT

    pit = PointInTime(DataPaths(rendered["data"]), load_config(ROOT / "params.yaml"))
    assert pit.cutoff_of(pd.Timestamp("2026-10-01"), "2026-09")[0] == pd.Timestamp("2026-10-01")
    cutoff, note = pit.cutoff_of(pd.Timestamp("2027-02-01"), "2027-01")
    assert cutoff == pd.Timestamp("2026-11-01") and "data ends before the end of 2027-01" in note


def test_migration_matrix_suppresses_small_moves():
    prev = pd.DataFrame({"customer_id": [f"c{i}" for i in range(30)],
                         "value_tier": ["high"] * 15 + ["low"] * 15, "credit_grade": "A"})
    cur = pd.DataFrame({"customer_id": [f"c{i}" for i in range(3, 33)],
                        "value_tier": ["high"] * 12 + ["low"] * 18, "credit_grade": ["A"] * 28 + ["C"] * 2})
    m = tables.migration(cur, prev, min_group_size=10)
    assert m.loc["high/A", "high/A"] == 12 and m.loc["low/A", "low/A"] == 15
    assert m.loc["high/A", "left"] == "<10"  # three accounts closed: too few to show
    assert m.loc["new", "low/C"] == "<10"


def test_tier_matrix_suppresses_small_cells_and_names_each_strategy():
    segments = pd.DataFrame({"value_tier": ["high"] * 12 + ["low"] * 3, "credit_grade": "A",
                             "revenue_12m": [100.0] * 12 + [10.0] * 3})
    strategies = pd.DataFrame({"value_tier": ["high", "low"], "credit_grade": ["A", "A"],
                               "strategy": ["VIP account manager", "minimal cost to serve"],
                               "why": ["most revenue", "little revenue"]})
    matrix = tables.tier_matrix(segments, strategies, min_group_size=10).set_index("value_tier")
    assert matrix.loc["high", "customers"] == "12" and matrix.loc["high", "revenue_share"] == "97.6%"
    assert matrix.loc["low", "customers"] == "<10" and matrix.loc["low", "revenue_share"] == "–"
    grid = tables.tier_grid(matrix.reset_index())
    assert "VIP account manager" in grid.loc["high", "A"]


def test_action_summary_counts_planned_and_held_out_customers():
    plan = pd.DataFrame({"customer_id": list("abcd"), "action": ["visit", "visit", "visit", "call"],
                         "holdout": [False, False, True, False]})
    actions = pd.DataFrame({"action": ["visit", "call", "audit"], "capacity": [2, 5, 1], "rank_by": "score",
                            "description": ["a visit", "a call", "an audit"]})
    summary = tables.action_summary(plan, actions)
    assert summary.loc["visit", ["planned", "holdout"]].tolist() == [2, 1]
    assert summary.loc["audit", "planned"] == 0 and summary.loc["call", "capacity"] == 5
    assert tables.for_region(plan.assign(region=["n", "s", "n", "s"]), "n")["customer_id"].tolist() == ["a", "c"]


def test_industry_and_audit_tables_speak_in_units_and_hide_small_industries():
    from powerlens.industry import efficiency_audit, industry_view

    feats = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(12)],
        "industry": ["plastics"] * 10 + ["greenhouse"] * 2,
        "kwh_365d": [2_000_000.0] * 10 + [50_000.0] * 2,
        "load_factor": [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.2, 0.2],
        "peak_kw": [500.0] * 10 + [30.0] * 2, "capacity_kva": [630.0] * 10 + [50.0] * 2,
        "trend_pct_per_year": [4.0] * 10 + [20.0] * 2})
    view = industry_view(feats)
    shown = tables.industry_table(view, min_group_size=5)
    assert shown.loc["plastics", "customers"] == "10" and shown.loc["greenhouse", "customers"].startswith("<")
    assert shown.loc["plastics", "energy 12 months (MWh)"] == "20,000"
    assert shown.loc["plastics", "growth (per year)"] == "+4.0%"
    audit = efficiency_audit(feats, feats["industry"].eq("plastics"), 28.0)
    listed = tables.efficiency_audit_table(audit, top_n=3, currency="CNY")
    assert len(listed) == 3 and list(listed.index) == ["c0", "c1", "c2"]
    assert "estimated annual saving (CNY)" in listed.columns
    assert all("," in v or v.isdigit() for v in listed["estimated annual saving (CNY)"])


def test_tou_table_counts_only_customers_who_save_and_hides_small_classes():
    segments = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(14)],
        "customer_class": ["residential"] * 12 + ["public"] * 2,
        # 10 residential customers save (100 .. 190), one loses, one is already on ToU (NaN)
        "tou_expected_saving": [100.0 + 10 * i for i in range(10)] + [-30.0, float("nan"), 500.0, 600.0],
        "tou_load_factor_gain": [0.02] * 10 + [float("nan")] * 4,
    })
    features = pd.DataFrame({"customer_id": segments["customer_id"], "avg_price_per_kwh": 0.6,
                             "bill_share_peak": 0.4, "price_sensitivity": 1.25})
    table = tables.tou_table(segments, features, min_group_size=10, currency="CNY")
    res = table.loc["residential"]
    assert res["customers"] == "12" and res["ToU candidates"] == "10"
    assert res["expected saving a year (CNY)"] == f"{sum(100 + 10 * i for i in range(10)):,}"
    assert res["average price per kWh (CNY)"] == "0.600" and res["peak share of the bill"] == "40.0%"
    assert res["load-factor gain (mean)"] == "0.020"
    public = table.loc["public"]  # two customers: their count only, no figures
    assert public["customers"] == "<10" and set(public.drop("customers")) == {"–"}
