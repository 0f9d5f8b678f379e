"""The regional part of a period's snapshot: the regional stage's analysis and the forecast
stage's forecasts as the period shows them at its cut-off (months that ended by it, steps seen
by it, forecasts made by it, last week's forecast against the load that happened), and nothing
at all for a utility without region load.

The data: support.build_data's small utility (regions north and south, bills to 2026-10) with an
hourly region_load whose level matches the bills plus 7% loss and a step in south, analysed by
the real regional stage; the forecast stage's files are written here in its exact format (the
stage is slow: its own tests hold it)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support import ROOT, build_data

END = pd.Timestamp("2026-11-01")          # the data's end (the scoring cut-off of build_data)
STEP = ("south", pd.Timestamp("2026-06-08"), 0.5)  # region, first day, share of its level
LOSS = 0.07


def load_level(data: Path) -> pd.Series:
    """kW per region that matches its billed kWh plus LOSS."""
    customers = pd.read_parquet(data / "clean" / "customers.parquet")
    bills = pd.read_parquet(data / "clean" / "bills.parquet").merge(customers[["customer_id", "region"]])
    monthly = bills.groupby(["region", "period"])["kwh"].sum().groupby("region").mean()
    return monthly / (365.25 / 12 * 24) / (1 - LOSS)


def add_region_load(data: Path, regions: dict[str, float] | None = None, months: int = 15,
                    seed: int = 0) -> pd.DataFrame:
    """An hourly region_load (daily and seasonal shape, small noise, a lasting step in STEP's
    region) and a region-less daily temperature, into data/clean."""
    rng = np.random.default_rng(seed)
    regions = regions or load_level(data).to_dict()
    ts = pd.date_range(END - pd.DateOffset(months=months), END, freq="h", inclusive="left")
    day = (ts - ts[0]) / pd.Timedelta(days=1)
    temperature = 12 + 10 * np.sin(2 * np.pi * (day.to_numpy() - 100) / 365.25)
    frames = []
    for k, (region, level) in enumerate(sorted(regions.items())):
        shape = 1 + 0.3 * np.sin(2 * np.pi * (ts.hour.to_numpy() - 8 - k) / 24) + 0.01 * np.abs(temperature - 15)
        kw = level * shape * rng.normal(1, 0.01, len(ts))
        if region == STEP[0]:
            kw = kw + STEP[2] * level * (ts >= STEP[1])
        frames.append(pd.DataFrame({"region": region, "ts": ts, "load_kw": kw.round(3), "outage": False}))
    load = pd.concat(frames, ignore_index=True)
    load.to_parquet(data / "clean" / "region_load.parquet")
    days = pd.date_range(ts[0], END, freq="D", inclusive="left")
    pd.DataFrame({"date": days, "region": None,
                  "temperature_mean": 12 + 10 * np.sin(2 * np.pi * (np.arange(len(days)) - 100) / 365.25)}
                 ).to_parquet(data / "clean" / "weather_daily.parquet")
    return load


def write_forecasts(data: Path, load: pd.DataFrame) -> Path:
    """data/forecast/{hourly,monthly,backtest}.csv in the forecast stage's format: last week's
    forecast (origin END - 7 days) is the load that happened x 1.05 with the interval x [0.9, 1.2];
    the week ahead repeats it; the outlook is the same months a year earlier x 1.1."""
    out = data / "forecast"
    out.mkdir(parents=True, exist_ok=True)
    total = load.groupby("ts", as_index=False)["load_kw"].sum().assign(region="total")
    both = pd.concat([load[["region", "ts", "load_kw"]], total], ignore_index=True)
    rows = []
    for origin in (END - pd.Timedelta(days=7), END):
        week = both[(both["ts"] >= END - pd.Timedelta(days=7))].copy()
        week["ts"] = week["ts"] + (origin - (END - pd.Timedelta(days=7)))
        rows.append(pd.DataFrame({"region": week["region"], "ts": week["ts"].dt.strftime("%Y-%m-%d %H:%M"),
                                  "forecast": week["load_kw"] * 1.05, "lo_80": week["load_kw"] * 0.9,
                                  "hi_80": week["load_kw"] * 1.2, "origin": f"{origin:%Y-%m-%d}"}))
    pd.concat(rows).round(3).to_csv(out / "hourly.csv", index=False)
    months = both.assign(month=both["ts"].dt.to_period("M"))
    months = months.groupby(["region", "month"])["load_kw"].agg(["sum", "max"]).reset_index()
    ahead = months[months["month"] >= pd.Period(END, freq="M") - 12].copy()
    ahead["month"] = (ahead["month"] + 12).astype(str)
    pd.DataFrame({"region": ahead["region"], "month": ahead["month"], "energy": ahead["sum"] * 1.1,
                  "energy_lo_80": ahead["sum"], "energy_hi_80": ahead["sum"] * 1.2, "peak": ahead["max"] * 1.1,
                  "peak_lo_80": ahead["max"], "peak_hi_80": ahead["max"] * 1.2}).round(3).to_csv(
        out / "monthly.csv", index=False)
    pd.DataFrame({"variant": ["seasonal_naive", "lightgbm_global"], "mape_total": [0.07, 0.05],
                  "mase_total": [1.0, 0.8], "pinball_total": [24.1, 20.3], "coverage_total": [0.78, 0.81],
                  "mape_regions_mean": [0.09, 0.08], "mase_regions_mean": [1.07, 0.99],
                  "coverage_regions_mean": [0.8, 0.79]}).to_csv(out / "backtest.csv", index=False)
    return out


def regional_data(base: Path, forecasts: bool = True) -> tuple[Path, pd.DataFrame]:
    """build_data with region_load, the regional stage's output (real stage) and the forecasts."""
    from powerlens.jobs import regional

    data = build_data(base / "data")
    load = add_region_load(data)
    regional.run(data=data / "clean", out=data / "regional", echo=lambda _m: None)
    if forecasts:
        write_forecasts(data, load)
    return data, load


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return regional_data(tmp_path_factory.mktemp("regional_snapshot"))


def _theft_scores(data: Path) -> pd.DataFrame:
    """Theft scores of every customer: the first 12 (north) on top."""
    ids = pd.read_parquet(data / "clean" / "customers.parquet")["customer_id"]
    score = np.linspace(0.9, 0.01, len(ids))
    return pd.DataFrame({"customer_id": ids, "task": "theft", "score": score, "rank": np.arange(1, len(ids) + 1)})


def test_at_the_data_end_everything_is_shown(prepared):
    from powerlens.snapshots.regional import regional_tables

    data, load = prepared
    customers = pd.read_parquet(data / "clean" / "customers.parquet")
    tables, notes = regional_tables(data, END, customers, _theft_scores(data), top_n=12)
    assert notes == []
    assert set(tables) == {"regional_monthly", "regional_summary", "regional_steps", "regional_sales",
                           "forecast_hourly", "forecast_accuracy", "forecast_monthly", "forecast_outlook",
                           "forecast_backtest"}
    summary = tables["regional_summary"].set_index("region")
    # the injected step, and line loss: at least the loss the load was built with, and higher
    # where the step's load is not billed
    steps = tables["regional_steps"]
    assert list(steps["region"]) == ["south"]
    assert abs(steps["date"].iloc[0] - STEP[1]) <= pd.Timedelta(days=3)
    assert summary.loc["north", "line_loss_12m"] > LOSS
    assert summary.loc["south", "line_loss_12m"] > summary.loc["north", "line_loss_12m"] + 0.03
    # theft columns from the period's scores: north holds the 12 customers on top
    assert summary.loc["north", "theft_top_accounts"] == 12 and summary.loc["south", "theft_top_accounts"] == 0
    assert summary.loc["total", "theft_scored_accounts"] == len(customers)

    hourly = tables["forecast_hourly"]
    assert set(hourly["region"]) == {"north", "south", "total"}
    last_week = hourly[hourly["origin"] == END - pd.Timedelta(days=7)]
    future = hourly[hourly["origin"] == END]
    assert len(last_week) == len(future) == 3 * 168
    assert future["actual"].isna().all() and last_week["actual"].notna().all()
    north = last_week[last_week["region"] == "north"].set_index("ts")["actual"]
    truth = load[load["region"] == "north"].set_index("ts")["load_kw"]
    assert np.allclose(north, truth.reindex(north.index))
    total = last_week[last_week["region"] == "total"].set_index("ts")["actual"]
    regions = last_week[last_week["region"] != "total"].groupby("ts")["actual"].sum()
    assert np.allclose(total, regions.reindex(total.index))
    accuracy = tables["forecast_accuracy"].set_index("region")
    assert accuracy["hours"].eq(168).all()
    assert np.allclose(accuracy["mape"], 0.05, atol=1e-3) and np.allclose(accuracy["bias"], 0.05, atol=1e-3)
    assert accuracy["coverage_80"].eq(1.0).all()

    outlook = tables["forecast_outlook"].set_index("region")
    monthly = pd.read_csv(data / "forecast" / "monthly.csv")
    assert outlook.loc["south", "energy_kwh_next_12m"] == pytest.approx(
        monthly.loc[monthly["region"] == "south", "energy"].sum())
    assert outlook["change"].between(0.05, 0.15).all()  # the outlook is last year x 1.1 (12 full months)
    # the step of the last 12 months counts for a full year in the next: its kW x the hours before it
    step = steps.iloc[0]
    window_start = pd.Timestamp("2025-11-01")
    carry = step["step_kw"] * (step["date"] - window_start) / pd.Timedelta(hours=1)
    assert outlook.loc["south", "step_carry_over_kwh"] == pytest.approx(carry)
    assert outlook.loc["north", "steps_12m"] == 0 and outlook.loc["north", "step_carry_over_kwh"] == 0
    assert outlook.loc["total", "steps_12m"] == 1


def test_an_earlier_period_shows_what_was_known_at_its_end(prepared):
    from powerlens.snapshots.regional import regional_tables

    data, _ = prepared
    customers = pd.read_parquet(data / "clean" / "customers.parquet")
    cutoff = pd.Timestamp("2026-06-01")  # before the step and before every forecast
    tables, notes = regional_tables(data, cutoff, customers, None, top_n=12)
    assert set(tables) == {"regional_monthly", "regional_summary", "regional_steps", "regional_sales"}
    assert tables["regional_monthly"]["month"].max() == "2026-05"
    assert tables["regional_steps"].empty
    summary = tables["regional_summary"].set_index("region")
    monthly = pd.read_parquet(data / "regional" / "monthly.parquet")
    last12 = monthly[(monthly["region"] == "south") & monthly["month"].between("2025-06", "2026-05")]
    assert summary.loc["south", "energy_kwh_12m"] == pytest.approx(last12["energy_kwh"].sum())
    assert summary["theft_scored_accounts"].isna().all()  # no theft scores at that cut-off
    assert any("2026-05" in n and "2026-10" in n for n in notes)
    assert any("hourly forecasts start on 2026-10-25" in n for n in notes)
    assert any("outlook starts in 2026-11" in n for n in notes)
    # a step is shown once the weeks after it that reveal it are before the cut-off
    shortly_after, _ = regional_tables(data, STEP[1] + pd.Timedelta(weeks=1), customers, None, top_n=12)
    later, _ = regional_tables(data, STEP[1] + pd.Timedelta(weeks=4), customers, None, top_n=12)
    assert shortly_after["regional_steps"].empty and len(later["regional_steps"]) == 1


def test_without_region_load_or_forecasts(tmp_path):
    from powerlens.snapshots.regional import regional_tables

    plain = build_data(tmp_path / "plain")  # PowerCo-like: customers and bills, no region_load
    assert regional_tables(plain, END, None, None, top_n=20) == ({}, [])
    data, _ = regional_data(tmp_path / "load", forecasts=False)
    tables, notes = regional_tables(data, END, None, None, top_n=20)
    assert set(tables) == {"regional_monthly", "regional_summary", "regional_steps", "regional_sales"} and not notes


def test_the_snapshot_holds_the_regional_tables_and_notices_new_forecasts(prepared, tmp_path):
    """Through the snapshot job: the tables are written and loaded by the one loader, and the
    fingerprint changes when the forecast stage writes new forecasts (the snapshot is stale)."""
    from powerlens.config import load_config
    from powerlens.jobs import snapshot
    from powerlens.paths import DataPaths
    from powerlens.snapshots import load_snapshot
    from powerlens.snapshots.state import inputs_fingerprint

    data, _ = prepared
    paths = DataPaths(data)
    cfg = load_config(ROOT / "params.yaml")
    snapshot.run(["2026-10"], cfg, data=paths, playbook=ROOT / "playbook.yaml", echo=lambda _m: None)
    snap = load_snapshot(paths.snapshot_dir("2026-10"))
    assert snap.regional_summary is not None and snap.forecast_outlook is not None
    assert len(snap.forecast_hourly) == 2 * 3 * 168 and snap.manifest["regional_notes"] == []
    before = inputs_fingerprint(paths, ROOT / "playbook.yaml", cfg)
    hourly = data / "forecast" / "hourly.csv"
    hourly.write_text(hourly.read_text() + "\n")
    assert inputs_fingerprint(paths, ROOT / "playbook.yaml", cfg) != before
    assert json.loads((paths.snapshot_dir("2026-10") / "manifest.json").read_text())["inputs"] == before
