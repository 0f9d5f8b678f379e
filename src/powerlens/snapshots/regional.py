"""The regional part of a period's snapshot: the `regional` stage's analysis (data/regional/) and
the `forecast` stage's forecasts (data/forecast/) as the period shows them, at its cut-off.

- Months, steps and line loss: the months that ended by the cut-off; a new-load step when it is
  dated before the cut-off with at least `step_min_weeks` weeks of load after it before the
  cut-off (a step needs those weeks to be seen). The region summary (last 12 months' energy, peak,
  load factor and line loss, the latest growth) is recomputed from these months with the stage's
  own `powerlens.regional.region_summary`, and the theft columns come from the period's own theft
  scores (the report's risk list), with `powerlens.regional.theft_by_region`.
- Forecasts: only those made from origins at or before the cut-off (a forecast made later knew
  load the period did not); last week's forecast is set against the load that happened
  (clean/region_load, regions and their sum `total`), with its error and its 80% interval's
  coverage per region; the 12-month outlook when it starts by the cut-off, next to the last 12
  months and the drivers that explain the change (the weather-normalized growth and the energy
  the year's new-load steps add to the next year: step kW x the hours of the last 12 months before
  the step).
- Everything is optional: no data/regional (a utility without region_load) gives no regional
  tables and no note; no data/forecast gives the analysis without forecasts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from powerlens.paths import DataPaths

TOTAL = "total"  # the regional stage's and the forecast stage's name of the system's sum
REGIONAL_TABLES = ("regional_monthly", "regional_summary", "regional_steps", "regional_sales")
FORECAST_TABLES = ("forecast_hourly", "forecast_accuracy", "forecast_monthly", "forecast_outlook",
                   "forecast_backtest")
HOURLY_COLUMNS = ["region", "ts", "origin", "forecast", "lo_80", "hi_80", "actual"]
ACCURACY_COLUMNS = ["region", "origin", "hours", "mape", "bias", "coverage_80"]
OUTLOOK_COLUMNS = ["region", "energy_kwh_last_12m", "energy_kwh_next_12m", "change", "peak_kw_last_12m",
                   "peak_kw_next_12m", "growth_yoy_weather_normalized", "steps_12m", "step_kw_12m",
                   "step_carry_over_kwh", "step_carry_over_share", "last_step_date"]
SALES_COLUMNS = ["region", "customer_class", "customers", "kwh_12m", "kwh_previous_12m", "growth"]


def _read_parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


def _read_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None


def _month_end(month: pd.Series) -> pd.Series:
    """The first instant after each YYYY-MM month."""
    return pd.PeriodIndex(month.astype(str), freq="M").end_time.normalize().to_series(index=month.index) + \
        pd.Timedelta(days=1)


def _ordered(frame: pd.DataFrame) -> list[str]:
    """The regions of a frame in the stage's order: sorted, `total` last."""
    regions = sorted(set(frame["region"].astype(str)) - {TOTAL})
    return regions + ([TOTAL] if (frame["region"].astype(str) == TOTAL).any() else [])


# --------------------------------------------------------------------------- the regional analysis

def regional_at(folder: Path, cutoff: pd.Timestamp, customers: pd.DataFrame | None,
                scores: pd.DataFrame | None, top_n: int, step_min_weeks: int) -> tuple[dict, list[str]]:
    """The regional tables at `cutoff` from the regional stage's folder ({} when it has none)."""
    from powerlens.regional import region_summary, theft_by_region

    monthly = _read_parquet(folder / "monthly.parquet")
    if monthly is None or monthly.empty:
        return {}, []
    notes = []
    monthly = monthly.assign(region=monthly["region"].astype(str), month=monthly["month"].astype(str))
    last_month = str(monthly["month"].max())
    shown = monthly[_month_end(monthly["month"]) <= cutoff].reset_index(drop=True)
    if shown.empty:
        return {}, [f"the regional load starts after {cutoff.date()}: no regional section for this period"]
    if str(shown["month"].max()) < last_month:
        notes.append(f"regional load up to {shown['month'].max()} (the months that ended by {cutoff.date()}; "
                     f"the data runs to {last_month})")
    steps = _read_parquet(folder / "steps.parquet")
    if steps is None:
        steps = pd.DataFrame(columns=["region", "date", "level_before_kw", "level_after_kw", "step_kw",
                                      "step_share", "weeks_after", "noise_ratio"])
    steps = steps.assign(region=steps["region"].astype(str), date=pd.to_datetime(steps["date"]))
    seen = steps["date"] + pd.Timedelta(weeks=int(step_min_weeks)) <= cutoff
    steps = steps[seen].reset_index(drop=True)
    theft_scores = None
    if scores is not None and len(scores) and "task" in scores:
        theft_scores = scores[scores["task"] == "theft"]
    if customers is not None and "region" in customers:
        theft = theft_by_region(customers, theft_scores, top_n)
    else:
        theft = pd.DataFrame(columns=["region", "theft_scored_accounts", "theft_mean_score", "theft_top_accounts"])
    theft = theft.assign(region=theft["region"].astype(str))
    summary = region_summary(shown, steps, theft)
    sales = sales_12m(_read_parquet(folder / "sales_by_class.parquet"), shown["month"].max())
    return {"regional_monthly": shown, "regional_summary": summary, "regional_steps": steps,
            "regional_sales": sales}, notes


def sales_12m(sales: pd.DataFrame | None, last_month: str) -> pd.DataFrame | None:
    """kWh per region x customer class over the 12 months up to `last_month` and the 12 before,
    with the customers billed in the last of them."""
    if sales is None or sales.empty:
        return None
    s = sales.assign(month=sales["month"].astype(str), region=sales["region"].astype(str))
    end = pd.Period(last_month, freq="M")
    window = {str(end - k) for k in range(12)}
    before = {str(end - 12 - k) for k in range(12)}
    keys = ["region", "customer_class"]
    now = s[s["month"].isin(window)].groupby(keys)["kwh"].sum().rename("kwh_12m")
    prev = s[s["month"].isin(before)].groupby(keys)["kwh"].sum().rename("kwh_previous_12m")
    customers = s[s["month"] == str(end)].groupby(keys)["customers"].sum().rename("customers")
    out = pd.concat([customers, now, prev], axis=1).reset_index()
    if out.empty:
        return None
    out["customers"] = out["customers"].fillna(0).astype(int)
    out["growth"] = out["kwh_12m"] / out["kwh_previous_12m"].where(out["kwh_previous_12m"] > 0) - 1
    return out[SALES_COLUMNS].sort_values(keys).reset_index(drop=True)


# --------------------------------------------------------------------------- the forecasts

def actual_load(region_load: pd.DataFrame) -> pd.DataFrame:
    """Hourly load per region and `total` (region, ts, actual), the total as the regional stage
    sums it (only the hours every region of the month reports)."""
    from powerlens.regional import with_total

    load = region_load if "outage" in region_load else region_load.assign(outage=False)
    hourly = with_total(load.dropna(subset=["load_kw"]))
    return hourly[["region", "ts", "load_kw"]].rename(columns={"load_kw": "actual"})


def forecast_accuracy(hourly: pd.DataFrame) -> pd.DataFrame:
    """Per region and origin, over the hours with an actual: hours, MAPE, bias (mean error over
    mean load) and the share of hours inside the 80% interval."""
    rows = []
    known = hourly.dropna(subset=["actual", "forecast"])
    for (origin, region), h in known.groupby(["origin", "region"], sort=False):
        positive = h[h["actual"] > 0]
        rows.append({"region": region, "origin": origin, "hours": len(h),
                     "mape": float(((positive["forecast"] - positive["actual"]).abs() / positive["actual"]).mean())
                     if len(positive) else np.nan,
                     "bias": float((h["forecast"] - h["actual"]).mean() / h["actual"].mean())
                     if h["actual"].mean() > 0 else np.nan,
                     "coverage_80": float(h["actual"].between(h["lo_80"], h["hi_80"]).mean())})
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)


def outlook(monthly_forecast: pd.DataFrame, regional: pd.DataFrame, summary: pd.DataFrame,
            steps: pd.DataFrame) -> pd.DataFrame:
    """Per region: the last 12 months against the next 12 (energy, peak), and the drivers: the
    latest weather-normalized growth and the new-load steps of the last 12 months, with the
    energy a full year of each adds to the next 12 months (its kW x the hours of the last 12
    months before it)."""
    regional = regional.assign(month=regional["month"].astype(str))
    last12 = sorted(regional["month"].unique())[-12:]
    window_start = pd.Period(last12[0], freq="M").start_time if last12 else pd.Timestamp.max
    window_end = pd.Period(last12[-1], freq="M").end_time.normalize() + pd.Timedelta(days=1) if last12 else \
        pd.Timestamp.min
    recent = regional[regional["month"].isin(last12)]
    growth = summary.set_index("region")["growth_yoy_weather_normalized"] if len(summary) else pd.Series(dtype=float)
    rows = []
    for region in _ordered(monthly_forecast):
        fc = monthly_forecast[monthly_forecast["region"] == region]
        past = recent[recent["region"] == region]
        full = len(past) == 12 and bool(past["complete"].all()) if "complete" in past else len(past) == 12
        last_energy = float(past["energy_kwh"].sum()) if full else np.nan
        if region == TOTAL:
            s = steps[(steps["date"] >= window_start) & (steps["date"] < window_end)]
        else:
            s = steps[(steps["region"] == region) & (steps["date"] >= window_start) & (steps["date"] < window_end)]
        hours_before = ((s["date"] - window_start) / pd.Timedelta(hours=1)).clip(lower=0)
        carry = float((s["step_kw"] * hours_before).sum()) if len(s) else 0.0
        next_energy = float(fc["energy"].sum())
        rows.append({"region": region, "energy_kwh_last_12m": last_energy, "energy_kwh_next_12m": next_energy,
                     "change": next_energy / last_energy - 1 if last_energy > 0 else np.nan,
                     "peak_kw_last_12m": float(past["peak_kw"].max()) if len(past) else np.nan,
                     "peak_kw_next_12m": float(fc["peak"].max()),
                     "growth_yoy_weather_normalized": float(growth.get(region, np.nan)),
                     "steps_12m": len(s), "step_kw_12m": float(s["step_kw"].sum()) if len(s) else 0.0,
                     "step_carry_over_kwh": carry,
                     "step_carry_over_share": carry / last_energy if last_energy > 0 else np.nan,
                     "last_step_date": s["date"].max() if len(s) else pd.NaT})
    return pd.DataFrame(rows, columns=OUTLOOK_COLUMNS)


def forecasts_at(folder: Path, cutoff: pd.Timestamp, region_load: pd.DataFrame | None,
                 regional: dict[str, pd.DataFrame]) -> tuple[dict, list[str]]:
    """The forecast tables at `cutoff` from the forecast stage's folder ({} when it has none)."""
    hourly = _read_csv(folder / "hourly.csv")
    monthly = _read_csv(folder / "monthly.csv")
    backtest = _read_csv(folder / "backtest.csv")
    if hourly is None and monthly is None:
        return {}, []
    tables: dict[str, pd.DataFrame | None] = {}
    notes: list[str] = []
    if hourly is not None and len(hourly):
        hourly = hourly.assign(region=hourly["region"].astype(str), ts=pd.to_datetime(hourly["ts"]),
                               origin=pd.to_datetime(hourly["origin"]))
        made = hourly["origin"] <= cutoff
        if not made.any():
            notes.append(f"the hourly forecasts start on {hourly['origin'].min().date()}, after this period's "
                         f"cut-off {cutoff.date()}: not shown")
        hourly = hourly[made]
        if len(hourly):
            if region_load is not None and len(region_load):
                actual = actual_load(region_load)
                actual = actual[actual["ts"] < cutoff].assign(ts=lambda a: a["ts"].astype(hourly["ts"].dtype))
                hourly = hourly.merge(actual, on=["region", "ts"], how="left")
            else:
                hourly = hourly.assign(actual=np.nan)
            hourly = hourly[HOURLY_COLUMNS].sort_values(["origin", "region", "ts"]).reset_index(drop=True)
            tables["forecast_hourly"] = hourly
            tables["forecast_accuracy"] = forecast_accuracy(hourly)
    if monthly is not None and len(monthly):
        monthly = monthly.assign(region=monthly["region"].astype(str), month=monthly["month"].astype(str))
        starts = pd.Period(monthly["month"].min(), freq="M").start_time
        if starts <= cutoff:
            tables["forecast_monthly"] = monthly.reset_index(drop=True)
            if "regional_monthly" in regional:
                tables["forecast_outlook"] = outlook(monthly, regional["regional_monthly"],
                                                     regional["regional_summary"], regional["regional_steps"])
        else:
            notes.append(f"the 12-month outlook starts in {monthly['month'].min()}, after this period: not shown")
    if tables and backtest is not None and len(backtest):
        tables["forecast_backtest"] = backtest
    return tables, notes


# --------------------------------------------------------------------------- the snapshot's part

def regional_tables(data: DataPaths | Path, cutoff: pd.Timestamp, customers: pd.DataFrame | None,
                    scores: pd.DataFrame | None, top_n: int, cfg: Any = None) -> tuple[dict, list[str]]:
    """The regional and forecast tables of a snapshot at `cutoff` (only those that exist) and the
    notes that say what is not shown and why: from the data folder's regional and forecast
    stages' outputs; the actual load from its clean `region_load`."""
    from powerlens.regional import RegionalParams

    data = data if isinstance(data, DataPaths) else DataPaths(Path(data))
    section = getattr(cfg, "regional", None) if cfg is not None else None
    step_min_weeks = int(getattr(section, "step_min_weeks", RegionalParams().step_min_weeks))
    regional, notes = regional_at(data.regional, cutoff, customers, scores, top_n, step_min_weeks)
    load_path = data.clean / "region_load.parquet"
    region_load = None
    if (data.forecast / "hourly.csv").exists() and load_path.exists():
        region_load = pd.read_parquet(load_path, columns=None)
    forecasts, more = forecasts_at(data.forecast, cutoff, region_load, regional)
    return {**regional, **forecasts}, notes + more


def regional_inputs(data: DataPaths) -> list[Path]:
    """The files the regional part of a snapshot is made from (for the snapshot's fingerprint)."""
    return [*sorted(data.regional.glob("*.parquet")), *sorted(data.forecast.glob("*.csv"))]
