"""Temperature per region, degree-days, weather sensitivity and weather-normalized growth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.regional.base import TOTAL, RegionalParams


def region_temperature(regions: list[str], weather_daily: pd.DataFrame | None = None,
                       weather_hourly: pd.DataFrame | None = None,
                       weather_stations: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """(daily mean temperature per region: region, date, temperature_c; where each region's came
    from). A region's stations (hourly, mapped) first, then its own `weather_daily` series, then
    the region-less `weather_daily` rows, then the mean of all stations; a region with none of
    these has no temperature (its weather columns stay NaN)."""
    frames, source = [], {}
    station_daily = None
    if weather_hourly is not None and len(weather_hourly):
        wh = weather_hourly.assign(date=pd.to_datetime(weather_hourly["ts"]).dt.floor("D").astype("datetime64[us]"))
        station_daily = wh.groupby(["station", "date"])["temperature_c"].mean().reset_index()
        station_daily["station"] = station_daily["station"].astype(str)
    mapping = {}
    if weather_stations is not None and len(weather_stations):
        for station, region in zip(weather_stations["station"].astype(str), weather_stations["region"].astype(str),
                                   strict=True):
            mapping.setdefault(region, []).append(station)
    wd = None
    if weather_daily is not None and len(weather_daily):
        wd = weather_daily.assign(date=pd.to_datetime(weather_daily["date"]).astype("datetime64[us]"),
                                  region=weather_daily["region"].astype("object"))
    for region in regions:
        series, how = None, None
        if station_daily is not None and mapping.get(region):
            rows = station_daily[station_daily["station"].isin(mapping[region])]
            if len(rows):
                series, how = rows.groupby("date")["temperature_c"].mean(), "stations mapped to the region"
        if series is None and wd is not None:
            rows = wd[wd["region"] == region]
            how = "weather_daily of the region"
            if not len(rows):
                rows, how = wd[wd["region"].isna()], "weather_daily (every region)"
            if len(rows):
                series = rows.groupby("date")["temperature_mean"].mean()
        if series is None and station_daily is not None:
            series, how = station_daily.groupby("date")["temperature_c"].mean(), "mean of all stations"
        if series is None:
            source[region] = "none"
            continue
        source[region] = how
        frames.append(pd.DataFrame({"region": region, "date": series.index.astype("datetime64[us]"),
                                    "temperature_c": series.to_numpy(dtype=float)}))
    if not frames:
        return pd.DataFrame({"region": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[us]"),
                             "temperature_c": pd.Series(dtype=float)}), source
    return pd.concat(frames, ignore_index=True), source


def total_temperature(temps: pd.DataFrame) -> pd.DataFrame:
    """The system's temperature: the mean of the regions' series per day."""
    regional = temps[temps["region"] != TOTAL]
    mean = regional.groupby("date")["temperature_c"].mean()
    return pd.DataFrame({"region": TOTAL, "date": mean.index, "temperature_c": mean.to_numpy()})


def degree_days(temperature_c: pd.Series | np.ndarray, params: RegionalParams) -> tuple[np.ndarray, np.ndarray]:
    """(heating, cooling) degree-days of daily mean temperatures."""
    t = np.asarray(temperature_c, dtype=float)
    return np.maximum(params.heating_base_c - t, 0.0), np.maximum(t - params.cooling_base_c, 0.0)


def weather_design(dates: pd.Series, hdd: np.ndarray, cdd: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """Regressors of daily energy: intercept, HDD, CDD, six day-of-week dummies (Monday is the
    base), and any extra columns (step dummies)."""
    dow = pd.DatetimeIndex(dates).dayofweek.to_numpy()
    cols = [np.ones(len(hdd)), hdd, cdd] + [(dow == k).astype(float) for k in range(1, 7)]
    if extra is not None and extra.size:
        cols += list(extra.T)
    return np.column_stack(cols)


def least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients; a regressor with no variation (no cooling days in a cold
    place) gets 0 rather than an arbitrary value."""
    keep = np.ones(x.shape[1], dtype=bool)
    keep[1:] = x[:, 1:].std(axis=0) > 1e-9
    coef = np.zeros(x.shape[1])
    coef[keep] = np.linalg.lstsq(x[:, keep], y, rcond=None)[0]
    return coef


def region_days(daily: pd.DataFrame, temps: pd.DataFrame, params: RegionalParams) -> pd.DataFrame:
    """Daily energy with the region's temperature and degree-days (inner join: days with both)."""
    x = daily.merge(temps, on=["region", "date"], how="inner")
    hdd, cdd = degree_days(x["temperature_c"], params)
    return x.assign(hdd=hdd, cdd=cdd)


def weather_sensitivity(days: pd.DataFrame, months: pd.DataFrame, params: RegionalParams,
                        steps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per region and month (`months`: region, month): kWh per heating and cooling degree-day
    and the base daily energy (Monday, no degree-days) of the regression over the complete days
    of the trailing window ending with the month; NaN with fewer than `sensitivity_min_days`.
    A known step of the region (of any region for `total`) is a level dummy, so that a new
    load connected in autumn is not read as heating."""
    rows = []
    window = pd.Timedelta(days=params.sensitivity_window_days)
    for region, want in months.groupby("region", sort=False):
        d = days[(days["region"] == region) & days["complete"]].sort_values("date")
        dates = d["date"].to_numpy()
        known = [] if steps is None else steps.loc[(steps["region"] == region) | (region == TOTAL), "date"]
        extra = np.column_stack([(dates >= np.datetime64(s)).astype(float) for s in known]) if len(known) else None
        x = weather_design(d["date"], d["hdd"].to_numpy(), d["cdd"].to_numpy(), extra)
        y = d["energy_kwh"].to_numpy(dtype=float)
        for month in want["month"]:
            end = np.datetime64((month + 1).to_timestamp())
            sel = (dates < end) & (dates >= end - window.to_timedelta64())
            n = int(sel.sum())
            coef = least_squares(x[sel], y[sel]) if n >= params.sensitivity_min_days else np.full(x.shape[1], np.nan)
            rows.append((region, month, coef[1], coef[2], coef[0], n))
    return pd.DataFrame(rows, columns=["region", "month", "kwh_per_hdd", "kwh_per_cdd", "base_kwh_per_day",
                                       "sensitivity_days"])


def year_on_year_growth(days: pd.DataFrame, monthly: pd.DataFrame, params: RegionalParams) -> pd.DataFrame:
    """Per region and month: raw and weather-normalized growth against the same month a year
    earlier, from the mean daily energy and degree-days of each month's complete days (at least
    `growth_min_days` in both): normalized = (E - b_hdd (HDD - HDD_prev) - b_cdd (CDD - CDD_prev))
    / E_prev - 1, with this month's sensitivity (this month's energy at last year's weather)."""
    d = days[days["complete"]]
    m = d.groupby([d["region"], d["date"].dt.to_period("M").rename("month")]).agg(
        e=("energy_kwh", "mean"), h=("hdd", "mean"), c=("cdd", "mean"), n=("energy_kwh", "size")).reset_index()
    m = m[m["n"] >= params.growth_min_days]
    prev = m.assign(month=m["month"] + 12).rename(columns={"e": "e0", "h": "h0", "c": "c0", "n": "n0"})
    x = monthly[["region", "month", "kwh_per_hdd", "kwh_per_cdd"]].merge(m, on=["region", "month"], how="left")
    x = x.merge(prev, on=["region", "month"], how="left")
    raw = x["e"] / x["e0"] - 1
    adjusted = x["e"] - x["kwh_per_hdd"] * (x["h"] - x["h0"]) - x["kwh_per_cdd"] * (x["c"] - x["c0"])
    return pd.DataFrame({"region": x["region"], "month": x["month"], "growth_yoy_raw": raw,
                         "growth_yoy_weather_normalized": adjusted / x["e0"] - 1})
