"""Service quality (95598): the service-event columns through validation, the KPIs and their
targets, rectification items and their follow-up, and the generator's planted poor service."""

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL
from powerlens import service_quality as sq
from powerlens import validation
from powerlens.errors import InvalidInput
from powerlens.importers.utility_export import import_utility_export
from powerlens.schema import Quarantine, check
from powerlens.synthetic import SyntheticConfig
from powerlens.synthetic.events import planted_poor_service
from support import assert_reconciled, write_daily_csv


def _customers(n_per_region: int, regions=("north", "south")) -> pd.DataFrame:
    ids = [f"{r}{i}" for r in regions for i in range(n_per_region)]
    return pd.DataFrame({"customer_id": ids, "region": [i.rstrip("0123456789") for i in ids],
                         "customer_class": "residential",
                         "start_date": pd.Timestamp("2020-01-01"), "end_date": pd.NaT})


def _events(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "ts", "kind", "resolution_hours", "satisfaction"])
    df["ts"] = pd.to_datetime(df["ts"])
    return df


def test_service_event_rules_quarantine_negative_hours_and_scores_outside_1_to_5():
    raw = pd.DataFrame({
        "customer_id": ["a"] * 6,
        "ts": ["2025-03-01 10:00"] * 6,
        "kind": ["complaint", "fault_report", "complaint", "complaint", "new_install", "inspection"],
        "outcome": ["resolved", "closed", "resolved", "resolved", "completed", "no_issue"],
        "channel": [" Hotline_95598", "app", "online", "app", "service_hall", None],
        "resolution_hours": ["12.5", "-1", "3", "soon", "170", ""],
        "satisfaction": ["4", "5", "6", "3", "0.5", ""],
        "_line": range(2, 8),
    })
    q = Quarantine()
    ok = validation.service_events(raw, q, "service_events.csv", pd.Index(["a"]))
    rep = q.reports["service_events"]
    assert rep.reasons == {"resolution_hours_negative": 1, "satisfaction_out_of_range": 2,
                           "resolution_hours_not_numeric": 1}
    assert rep.rows_in == rep.accepted + rep.quarantined == 6
    assert list(ok["kind"]) == ["complaint", "inspection"]
    assert ok["channel"].iloc[0] == "hotline_95598" and pd.isna(ok["channel"].iloc[1])
    assert ok["resolution_hours"].iloc[0] == 12.5 and np.isnan(ok["resolution_hours"].iloc[1])
    check("service_events", ok)  # the canonical schema accepts the optional columns
    with pytest.raises(Exception, match="satisfaction"):
        check("service_events", ok.assign(satisfaction=[4.0, 9.0]))


def test_complaint_rate_resolution_satisfaction_and_lead_time_per_region_month():
    customers = _customers(200)
    events = _events([
        *[(f"north{i}", "2025-03-05 10:00", "complaint", 10.0, 2) for i in range(30)],
        *[(f"south{i}", "2025-03-05 10:00", "complaint", 10.0, 5) for i in range(2)],
        *[(f"north{i}", "2025-03-06 10:00", "fault_report", h, np.nan) for i, h in enumerate(range(1, 11))],
        ("south0", "2025-03-07 10:00", "new_install", 24 * 20, 4),
    ])
    k = sq.service_kpis(events, customers).set_index(["period", "region"])
    north, south = k.loc[("2025-03", "north")], k.loc[("2025-03", "south")]
    assert north["customers"] == 200 and north["complaints_per_10k"] == 1500.0
    assert south["complaints_per_10k"] == 100.0
    assert north["fault_resolution_hours_median"] == 5.5
    assert north["fault_resolution_hours_p90"] == pytest.approx(9.1)
    assert north["satisfaction_mean"] == 2.0 and south["satisfaction_mean"] == pytest.approx(14 / 3)
    assert south["new_connection_days_median"] == 20.0
    targets = {"complaints_per_10k": 800, "fault_resolution_hours_median": 5, "satisfaction_min": 3.0,
               "new_connection_days": 15, "min_events": 1}
    items = sq.rectification_items(sq.service_kpis(events, customers), targets)
    found = {(r.region, r.kpi) for r in items.itertuples()}
    assert found == {("north", "complaints_per_10k"), ("north", "fault_resolution_hours_median"),
                     ("north", "satisfaction_mean"), ("south", "new_connection_days_median")}
    row = items[items["kpi"].eq("complaints_per_10k")].iloc[0]
    assert (row["value"], row["target"], row["direction"], row["period"]) == (1500.0, 800.0, "max", "2025-03")


def test_too_few_events_are_reported_but_not_judged_and_tiers_split_the_region():
    customers = _customers(200)
    events = _events([("north1", "2025-03-05 10:00", "fault_report", 90.0, 1)])
    tiers = pd.Series({f"north{i}": ("high" if i < 50 else "low") for i in range(200)})
    kpis = sq.service_kpis(events, customers, tiers=tiers)
    north = kpis[kpis["region"].eq("north")].set_index("tier")
    assert north.loc["all", "fault_resolution_hours_median"] == 90.0
    assert north.loc["high", "customers"] == 50 and north.loc["low", "customers"] == 150
    assert north.loc["high", "complaints_per_10k"] == 0.0
    assert set(kpis.loc[kpis["region"].eq("south"), "tier"]) == {"all", "untiered"}
    assert sq.rectification_items(kpis).empty  # one fault and one callback: below min_events
    assert len(sq.rectification_items(kpis, {"min_events": 1})) == 3  # median, p90, satisfaction
    assert len(sq.rectification_items(kpis, {"min_events": 1}, tiers=None)) == 6  # and the high tier


def test_follow_up_closes_what_meets_its_target_and_keeps_the_rest_open():
    customers = _customers(200)
    march = [(f"north{i}", "2025-03-05 10:00", "complaint", 10.0, 2) for i in range(30)]
    march += [(f"south{i}", "2025-03-05 10:00", "complaint", 10.0, 2) for i in range(30)]
    april = [(f"north{i}", "2025-04-05 10:00", "complaint", 10.0, 5) for i in range(10)]
    april += [(f"south{i}", "2025-04-05 10:00", "complaint", 10.0, 1) for i in range(25)]
    kpis = sq.service_kpis(_events(march + april), customers)
    items = sq.rectification_items(kpis[kpis["period"].eq("2025-03")], {"min_events": 20})
    assert {(r.region, r.kpi) for r in items.itertuples()} == {
        (r, k) for r in ("north", "south") for k in ("complaints_per_10k", "satisfaction_mean")}
    done = sq.follow_up(items, kpis, "2025-04", {"min_events": 20}).set_index(["region", "kpi"])
    assert done.loc[("north", "complaints_per_10k"), "status"] == "closed"
    assert done.loc[("north", "satisfaction_mean"), "status"] == "still_open"  # 10 callbacks < 20
    assert "not measured" in done.loc[("north", "satisfaction_mean"), "note"]
    assert done.loc[("south", "complaints_per_10k"), "status"] == "still_open"
    assert done.loc[("south", "complaints_per_10k"), "value_now"] == 1250.0
    assert done.loc[("south", "satisfaction_mean"), "status"] == "still_open"
    assert set(done["checked_period"]) == {"2025-04"}


def test_targets_refuse_unknown_keys_and_non_numbers_in_one_line():
    with pytest.raises(InvalidInput, match=r"unknown key\(s\) complaints_per_10000"):
        sq.ServiceTargets.of({"complaints_per_10000": 5})
    with pytest.raises(InvalidInput, match="satisfaction_min"):
        sq.ServiceTargets.of({"satisfaction_min": "high"})
    assert sq.ServiceTargets.of({"min_events": 3}).min_events == 3


@pytest.fixture(scope="module")
def small_kpis(small_clean):
    events = pd.read_parquet(small_clean / "service_events.parquet")
    customers = pd.read_parquet(small_clean / "customers.parquet")
    return events, sq.service_kpis(events, customers)


def test_small_utility_events_carry_channel_resolution_and_satisfaction(small_kpis):
    events, _ = small_kpis
    contacts = events[events["kind"].isin(["complaint", "fault_report", "service_request"])]
    assert contacts["channel"].notna().all() and "hotline_95598" in set(contacts["channel"])
    assert events["resolution_hours"].dropna().ge(0).all() and events["resolution_hours"].notna().mean() > 0.3
    scores = events["satisfaction"].dropna()
    assert len(scores) > 100 and scores.between(1, 5).all()


def test_planted_poor_service_region_month_breaches_its_targets_and_normal_ones_do_not(small_kpis):
    _, kpis = small_kpis
    planted = planted_poor_service(SyntheticConfig(**SMALL))
    items = sq.rectification_items(kpis)
    here = items["region"].eq(planted["region"]) & items["period"].eq(planted["period"])
    assert {"complaints_per_10k", "satisfaction_mean", "fault_resolution_hours_median"} <= set(items.loc[here, "kpi"])
    # elsewhere a breach is a single KPI at most (a grid outage brings complaints), and rare
    others = items[~here].groupby(["region", "period"]).size()
    assert (others <= 1).all(), others[others > 1]
    region_months = kpis[kpis["tier"].eq("all")]
    assert len(others) <= 0.1 * len(region_months)
    normal = kpis[kpis["tier"].eq("all") & kpis["region"].eq(planted["region"])
                  & kpis["period"].eq((pd.Period(planted["period"], "M") - 1).strftime("%Y-%m"))]
    assert len(normal) == 1 and not items[items["region"].eq(planted["region"])
                                          & items["period"].eq(normal["period"].iloc[0])].shape[0]
    # and the next month, the planted items are closed
    done = sq.follow_up(items[here], kpis, (pd.Period(planted["period"], "M") + 1).strftime("%Y-%m"))
    assert set(done["status"]) <= {"closed", "still_open"}
    assert done.loc[done["kpi"].eq("complaints_per_10k"), "status"].item() == "closed"


def test_the_importer_passes_service_columns_through_and_quarantines_bad_scores(tiny_export, key, tmp_path):
    src, daily = tiny_export
    write_daily_csv(src, daily, [])
    events = pd.read_csv(src / "service_events.csv", dtype=str, keep_default_na=False)
    scored = events.index[events["satisfaction"].ne("")][:2]
    events.loc[scored[0], "satisfaction"] = "7"
    events.loc[scored[1], "resolution_hours"] = "-3"
    events.to_csv(src / "service_events.csv", index=False)
    out = tmp_path / "out"
    summary = import_utility_export(src, out, key, max_reject_fraction=1.0)
    assert_reconciled(summary)
    reasons = summary["tables"]["service_events"]["reasons"]
    assert reasons == {"satisfaction_out_of_range": 1, "resolution_hours_negative": 1}
    clean = pd.read_parquet(out / "service_events.parquet")
    assert {"channel", "resolution_hours", "satisfaction"} <= set(clean.columns)
    assert clean["satisfaction"].dropna().between(1, 5).all() and clean["resolution_hours"].dropna().ge(0).all()
    assert len(clean) == len(events) - 2
