"""Hourly, daily and monthly load per region and for the `total` (the system)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.regional.base import HOURS_PER_DAY, TOTAL


def with_total(load: pd.DataFrame) -> pd.DataFrame:
    """The hourly load (region, ts, load_kw, outage) with the `total` rows added: per hour, the
    sum of the regions that report in that hour's month, when every one of them has a value
    (a gap in one region is a gap of the total, never a zero)."""
    load = load[["region", "ts", "load_kw", "outage"]].copy()
    load["region"] = load["region"].astype(str)
    load["ts"] = pd.to_datetime(load["ts"]).astype("datetime64[us]")
    if (load["region"] == TOTAL).any():
        from powerlens.errors import InvalidInput

        raise InvalidInput(f"region_load has a region named {TOTAL!r}: that name is the system's sum; rename it")
    load = load.sort_values(["region", "ts"], kind="stable").reset_index(drop=True)
    month = load["ts"].dt.to_period("M")
    reporting = load.groupby(month)["region"].nunique()
    hourly = load.groupby("ts").agg(load_kw=("load_kw", "sum"), outage=("outage", "any"),
                                    regions=("region", "size"))
    expected = reporting.reindex(hourly.index.to_period("M")).to_numpy()
    hourly = hourly[hourly["regions"].to_numpy() == expected]
    total = pd.DataFrame({"region": TOTAL, "ts": hourly.index.astype("datetime64[us]"),
                          "load_kw": hourly["load_kw"].to_numpy(), "outage": hourly["outage"].to_numpy()})
    return pd.concat([load, total], ignore_index=True)


def daily_load(hourly: pd.DataFrame) -> pd.DataFrame:
    """One row per region and day: energy_kwh (observed hours), hours, outage_hours, max and min
    load of the hours without an outage, and `complete` (24 hours observed, none an outage)."""
    df = hourly.assign(date=hourly["ts"].dt.floor("D"))
    ok = df["load_kw"].where(~df["outage"])
    df = df.assign(ok_kw=ok)
    g = df.groupby(["region", "date"], sort=True)
    daily = g.agg(energy_kwh=("load_kw", "sum"), hours=("load_kw", "size"), outage_hours=("outage", "sum"),
                  max_kw=("ok_kw", "max"), min_kw=("ok_kw", "min")).reset_index()
    daily["complete"] = (daily["hours"] == HOURS_PER_DAY) & (daily["outage_hours"] == 0)
    return daily


def _month_hours(months: pd.PeriodIndex | pd.Series) -> np.ndarray:
    return np.asarray(pd.PeriodIndex(months).days_in_month, dtype=int) * HOURS_PER_DAY


def monthly_load(hourly: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """Per region and month: energy (observed), scaled energy, hours observed and missing, peak
    (and its hour), mean load, load factor (mean / peak), peak-valley difference rate (the mean
    over the month's complete days of (day max - day min) / day max), outage hours, and the
    region's load at the hour of the system's monthly peak (`coincident_peak_kw`) with its share
    of that peak."""
    df = hourly.assign(month=hourly["ts"].dt.to_period("M"))
    g = df.groupby(["region", "month"], sort=True)
    out = g.agg(energy_kwh=("load_kw", "sum"), hours_observed=("load_kw", "size"), peak_kw=("load_kw", "max"),
                outage_hours=("outage", "sum")).reset_index()
    peak_rows = df.loc[g["load_kw"].idxmax(), ["region", "month", "ts"]].rename(columns={"ts": "peak_ts"})
    out = out.merge(peak_rows, on=["region", "month"], how="left")
    hours = _month_hours(out["month"])
    out["hours_missing"] = hours - out["hours_observed"]
    out["complete"] = out["hours_missing"] == 0
    out["mean_kw"] = out["energy_kwh"] / out["hours_observed"]
    out["energy_kwh_scaled"] = out["mean_kw"] * hours
    out["load_factor"] = out["mean_kw"] / out["peak_kw"].where(out["peak_kw"] > 0)
    days = daily[daily["complete"] & (daily["max_kw"] > 0)]
    rate = ((days["max_kw"] - days["min_kw"]) / days["max_kw"]).groupby(
        [days["region"], days["date"].dt.to_period("M")]).mean().rename("peak_valley_difference_rate")
    out = out.merge(rate.rename_axis(["region", "month"]).reset_index(), on=["region", "month"], how="left")
    system_peak = out.loc[out["region"] == TOTAL, ["month", "peak_ts", "peak_kw"]].rename(
        columns={"peak_ts": "system_peak_ts", "peak_kw": "system_peak_kw"})
    at_peak = df[["region", "ts", "load_kw"]].merge(system_peak, left_on="ts", right_on="system_peak_ts")
    at_peak = at_peak.assign(coincident_peak_share=at_peak["load_kw"] / at_peak["system_peak_kw"])
    out = out.merge(at_peak[["region", "month", "load_kw", "coincident_peak_share"]].rename(
        columns={"load_kw": "coincident_peak_kw"}), on=["region", "month"], how="left")
    out["outage_hours"] = out["outage_hours"].astype(int)
    return out
