"""Industry view, peer percentiles and the efficiency audit on small made-up customers."""

import numpy as np
import pandas as pd
import pytest

from powerlens.industry import (
    AUDIT_COLUMNS,
    INDUSTRY_COLUMNS,
    efficiency_audit,
    industry_view,
    load_factor,
    peer_percentiles,
)


def _customers() -> pd.DataFrame:
    # six plastics plants (load factors 0.3 .. 0.8), five offices, two greenhouses (too few peers)
    rows = [(f"p{i}", "plastics", 1_000_000 * (i + 1), lf, 400.0 + 10 * i, 630.0, 5.0)
            for i, lf in enumerate([0.3, 0.4, 0.5, 0.6, 0.7, 0.8])]
    rows += [(f"o{i}", "offices", 100_000.0, 0.25 + 0.01 * i, 50.0, 100.0, -2.0) for i in range(5)]
    rows += [(f"g{i}", "greenhouse", 50_000.0, 0.2, 30.0, 50.0, 20.0) for i in range(2)]
    return pd.DataFrame(rows, columns=["customer_id", "industry", "kwh_365d", "load_factor", "peak_kw",
                                       "capacity_kva", "trend_pct_per_year"])


def test_industry_view_adds_up_and_weights_growth_by_energy():
    feats = _customers()
    view = industry_view(feats).set_index("industry")
    assert list(industry_view(feats).columns) == INDUSTRY_COLUMNS
    assert list(view.index) == ["plastics", "offices", "greenhouse"]  # largest consumption first
    assert view["customers"].sum() == len(feats)
    assert view["kwh_share"].sum() == pytest.approx(1.0)
    assert view["peak_share"].sum() == pytest.approx(1.0)
    assert view.loc["plastics", "kwh_12m"] == pytest.approx(21_000_000)
    assert view.loc["plastics", "load_factor_median"] == pytest.approx(0.55)
    assert view.loc["plastics", "kwh_per_kva"] == pytest.approx(21_000_000 / (6 * 630))
    assert view.loc["offices", "growth_pct_per_year"] == pytest.approx(-2.0)
    # an industry's growth is its energy's, not its customers' average
    feats.loc[feats["customer_id"] == "p5", "trend_pct_per_year"] = 50.0
    mixed = industry_view(feats).set_index("industry").loc["plastics", "growth_pct_per_year"]
    assert mixed == pytest.approx((15_000_000 * 5 + 6_000_000 * 50) / 21_000_000)


def test_one_load_factor_basis_per_industry():
    feats = _customers().assign(daily_load_factor=0.9)
    # offices: one without interval data among four with it -> the hourly basis, the one left out
    feats.loc[feats["customer_id"] == "o0", "load_factor"] = np.nan
    # greenhouses: no interval data at all -> the daily basis
    feats.loc[feats["industry"] == "greenhouse", "load_factor"] = np.nan
    lf = load_factor(feats, min_peers=4).set_axis(feats["customer_id"])
    assert np.isnan(lf["o0"]) and lf["o1"] == pytest.approx(0.26)
    assert lf["g0"] == 0.9 and lf["g1"] == 0.9
    # with a stricter peer count the offices fall back to the daily basis entirely, none mixed
    strict = load_factor(feats, min_peers=5).set_axis(feats["customer_id"])
    assert (strict[[f"o{i}" for i in range(5)]] == 0.9).all()
    view = industry_view(feats, min_peers=4).set_index("industry")
    assert view.loc["offices", "load_factor_median"] == pytest.approx(0.275)  # median of 0.26 .. 0.29
    # the audit prices the interval maximum: customers without hourly load factors are not listed
    audit = efficiency_audit(feats, pd.Series(True, index=feats.index), 30.0, min_peers=2)
    assert not set(audit["customer_id"]) & {"g0", "g1", "o0"}


def test_peer_percentiles_only_among_enough_peers():
    feats = _customers()
    big = feats["industry"].ne("offices")
    peers = peer_percentiles(feats, big, min_peers=5).set_index("customer_id")
    assert set(peers.index) == {f"p{i}" for i in range(6)} | {"g0", "g1"}
    assert peers.loc["p0", "load_factor_percentile"] < peers.loc["p5", "load_factor_percentile"] == 100.0
    assert peers.loc["p0", "peers"] == 6
    assert peers.loc[["g0", "g1"], ["load_factor_percentile", "kwh_per_kva_percentile"]].isna().all().all()


def test_efficiency_audit_lists_big_customers_under_their_median_with_a_positive_saving():
    feats = _customers()
    big = feats["industry"].eq("plastics") | feats["customer_id"].eq("g0")
    audit = efficiency_audit(feats, big, demand_charge_per_kw_month=30.0)
    assert list(audit.columns) == AUDIT_COLUMNS
    assert set(audit["customer_id"]) == {"p0", "p1", "p2"}  # under the median 0.55; not g0 (two peers only)
    assert (audit["annual_saving"] > 0).all() and audit["annual_saving"].is_monotonic_decreasing
    p0 = audit.set_index("customer_id").loc["p0"]
    expected = 1_000_000 / 8760 * (1 / 0.3 - 1 / 0.55) * 30 * 12
    assert p0["annual_saving"] == pytest.approx(expected, abs=1)
    assert "30%" in p0["reason"] and "55%" in p0["reason"]
    # doubling the demand charge doubles every saving, the order stays
    dearer = efficiency_audit(feats, big, demand_charge_per_kw_month=60.0)
    assert list(dearer["customer_id"]) == list(audit["customer_id"])
    assert dearer["annual_saving"].to_numpy() == pytest.approx(2 * audit["annual_saving"].to_numpy(), abs=1)
    assert efficiency_audit(feats, pd.Series(False, index=feats.index), 30.0).empty


def test_the_snapshot_hides_small_industries_figures_and_lists_big_customers():
    from powerlens.snapshots.industry import industry_tables

    feats = _customers()
    segments = pd.DataFrame({"customer_id": feats["customer_id"],
                             "big_customer": feats["industry"].eq("plastics") | feats["customer_id"].eq("g0")})
    tables = industry_tables(feats, segments, min_group_size=5, demand_charge_per_kw_month=30.0)
    view = tables["industry"].set_index("industry")
    assert bool(view.loc["greenhouse", "small_group"]) and view.loc["greenhouse", "customers"] == 2
    assert view.loc["greenhouse", ["kwh_12m", "load_factor_median", "growth_pct_per_year"]].isna().all()
    assert view.loc["plastics", "kwh_12m"] == pytest.approx(21_000_000)
    assert set(tables["industry_peers"]["customer_id"]) == {f"p{i}" for i in range(6)} | {"g0"}
    assert set(tables["efficiency_audit"]["customer_id"]) == {"p0", "p1", "p2"}
    assert industry_tables(None, segments, 5, 30.0) == {}
    assert set(industry_tables(feats, None, 5, 30.0)) == {"industry"}
