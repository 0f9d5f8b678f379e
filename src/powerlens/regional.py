"""Regional load and sales: per region (zone, feeder, substation) and month, how much energy it
takes, how peaky it is, how it reacts to the weather, how fast it grows once the weather is
taken out, where its level stepped (new large loads), and how much of its energy is not billed
(line loss) next to its theft scores. Pure functions: frames and parameters in, frames out.

Conventions:

- `region_load` is hourly (ts = the hour's beginning). A missing hour is a gap, never a zero:
  energy is the sum of the observed hours, `hours_missing` says how many of the month's hours
  had no value, `complete` is True when none is missing, and `energy_kwh_scaled` is the observed
  mean load x the month's hours.
- `total` is the system: per hour, the sum of the regions that report in that month, an hour
  being part of the total only when every one of them has a value (a gap in one region is a gap
  of the total). Its monthly rows come from that hourly sum: its peak is the coincident peak, not
  the sum of the regions' peaks.
- Temperature of a region: the mean of its stations in `weather_hourly` (`weather_stations`
  map), else its `weather_daily` series, else the region-less `weather_daily` rows, else the
  mean of all stations. Degree-days per day from the day's mean temperature.
- Weather sensitivity of a month: an ordinary least-squares regression of daily energy on
  heating and cooling degree-days and the day of the week, over the complete days of the
  `sensitivity_window_days` ending with the month (trailing year), when at least
  `sensitivity_min_days` such days exist, else NaN.
- Weather-normalized growth: this month's mean daily energy moved to last year's weather with
  this month's sensitivity, against the same month a year earlier (mean daily energy of the
  complete days of each month, at least `growth_min_days` in both), minus 1.
- Steps (new-load events): the daily energy is normalized to the history's average weather
  (a whole-history regression, refitted with the detected steps), averaged per week, and a
  shift of at least `step_min_share` of the level and `step_min_noise_ratio` times the level's
  week-to-week noise (robust standard deviation) between the `step_window_weeks` weeks before
  and after a week boundary is a step when it persists (every week after it lies beyond the
  midpoint, every week before it on the other side) and is sharp (the mean of the 7 days after
  the step day minus the 7 days before it is at least half the shift: a seasonal drift is not a
  step). The step day is the day with the largest such 7-day difference near the boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TOTAL = "total"
HOURS_PER_DAY = 24

MONTHLY_COLUMNS = [
    "region", "month", "energy_kwh", "energy_kwh_scaled", "hours_observed", "hours_missing", "complete",
    "peak_kw", "peak_ts", "mean_kw", "load_factor", "peak_valley_difference_rate", "outage_hours",
    "coincident_peak_kw", "coincident_peak_share", "heating_degree_days", "cooling_degree_days",
    "kwh_per_hdd", "kwh_per_cdd", "base_kwh_per_day", "sensitivity_days", "growth_yoy_raw",
    "growth_yoy_weather_normalized", "billed_kwh", "billed_source", "line_loss_kwh", "line_loss",
]
STEP_COLUMNS = ["region", "date", "level_before_kw", "level_after_kw", "step_kw", "step_share", "weeks_after",
                "noise_ratio"]
SALES_COLUMNS = ["region", "month", "customer_class", "industry", "customers", "kwh", "kwh_year_earlier",
                 "growth_yoy"]
REGION_COLUMNS = [
    "region", "first_month", "last_month", "months", "energy_kwh_12m", "peak_kw_12m", "load_factor_12m",
    "kwh_per_hdd", "kwh_per_cdd", "growth_yoy_weather_normalized", "steps", "line_loss_12m",
    "theft_scored_accounts", "theft_mean_score", "theft_top_accounts",
]


@dataclass(frozen=True)
class RegionalParams:
    """The analysis' tunables (params.yaml `regional`)."""

    heating_base_c: float = 18.0          # heating degree-days: max(0, base - daily mean temperature)
    cooling_base_c: float = 18.0          # cooling degree-days: max(0, daily mean temperature - base)
    sensitivity_window_days: int = 365    # the trailing window of the weather regression of a month
    sensitivity_min_days: int = 300       # complete days the window needs (else NaN: no full year of weather)
    growth_min_days: int = 20             # complete days both months need for the year-on-year growth
    step_window_weeks: int = 4            # weeks compared before and after a candidate step
    step_min_weeks: int = 3               # valid weeks needed on each side (a step near the end of the data)
    step_min_share: float = 0.10          # smallest shift of the level, as a share of the level before
    step_sharpness: float = 0.5           # the 7-day jump at the step day must be this share of the shift
    step_min_noise_ratio: float = 7.0     # the shift must be this many times the week-to-week noise of the level
    theft_top_n: int = 20                 # an account ranked this high on the theft list counts as "top"

    def __post_init__(self) -> None:
        from powerlens.errors import InvalidInput

        if self.cooling_base_c < self.heating_base_c:
            raise InvalidInput(f"regional: cooling_base_c ({self.cooling_base_c}) must not be below "
                               f"heating_base_c ({self.heating_base_c})")
        if not 0 < self.step_min_share < 1 or not 0 < self.step_sharpness <= 1:
            raise InvalidInput("regional: step_min_share must be in (0, 1) and step_sharpness in (0, 1]")
        if self.step_min_noise_ratio < 0:
            raise InvalidInput("regional: step_min_noise_ratio must not be negative")
        if self.step_min_weeks < 2 or self.step_window_weeks < self.step_min_weeks:
            raise InvalidInput("regional: need 2 <= step_min_weeks <= step_window_weeks")
        if self.sensitivity_min_days > self.sensitivity_window_days or self.growth_min_days < 1:
            raise InvalidInput("regional: sensitivity_min_days must not exceed sensitivity_window_days, "
                               "growth_min_days must be at least 1")


@dataclass
class RegionalAnalysis:
    """The stage's tables: `monthly` (region incl. `total` x month), `steps`, `sales` (region x
    class x industry x month; empty without customers), `regions` (one summary row per region)."""

    monthly: pd.DataFrame
    steps: pd.DataFrame
    sales: pd.DataFrame
    regions: pd.DataFrame
    temperature_source: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict:
        """The headline numbers (metrics/regional.json)."""
        regions = self.regions[self.regions["region"] != TOTAL]
        total = self.regions[self.regions["region"] == TOTAL]
        last = self.monthly[self.monthly["region"] == TOTAL].tail(1)

        def num(v, digits=4):
            return None if v is None or pd.isna(v) else round(float(v), digits)

        return {
            "regions": len(regions),
            "months": int(self.monthly["month"].nunique()),
            "first_month": str(self.monthly["month"].min()) if len(self.monthly) else None,
            "last_month": str(self.monthly["month"].max()) if len(self.monthly) else None,
            "region_months_incomplete": int((~self.monthly.loc[self.monthly["region"] != TOTAL, "complete"]).sum()),
            "outage_hours": int(self.monthly.loc[self.monthly["region"] != TOTAL, "outage_hours"].sum()),
            "steps": len(self.steps),
            "step_regions": sorted(self.steps["region"].unique().tolist()),
            "total_energy_kwh_12m": num(total["energy_kwh_12m"].iloc[0], 1) if len(total) else None,
            "total_growth_yoy_weather_normalized": num(last["growth_yoy_weather_normalized"].iloc[0]) if len(last)
            else None,
            "line_loss_12m": {r.region: num(r.line_loss_12m) for r in regions.itertuples()
                              if pd.notna(r.line_loss_12m)},
            "temperature_source": dict(sorted(self.temperature_source.items())),
            "sales_rows": len(self.sales),
        }


# --------------------------------------------------------------------------- hourly and daily load

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


# --------------------------------------------------------------------------- weather

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


def _design(dates: pd.Series, hdd: np.ndarray, cdd: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """Regressors of daily energy: intercept, HDD, CDD, six day-of-week dummies (Monday is the
    base), and any extra columns (step dummies)."""
    dow = pd.DatetimeIndex(dates).dayofweek.to_numpy()
    cols = [np.ones(len(hdd)), hdd, cdd] + [(dow == k).astype(float) for k in range(1, 7)]
    if extra is not None and extra.size:
        cols += list(extra.T)
    return np.column_stack(cols)


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients; a regressor with no variation (no cooling days in a cold
    place) gets 0 rather than an arbitrary value."""
    keep = np.ones(x.shape[1], dtype=bool)
    keep[1:] = x[:, 1:].std(axis=0) > 1e-9
    coef = np.zeros(x.shape[1])
    coef[keep] = np.linalg.lstsq(x[:, keep], y, rcond=None)[0]
    return coef


def _region_days(daily: pd.DataFrame, temps: pd.DataFrame, params: RegionalParams) -> pd.DataFrame:
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
        x = _design(d["date"], d["hdd"].to_numpy(), d["cdd"].to_numpy(), extra)
        y = d["energy_kwh"].to_numpy(dtype=float)
        for month in want["month"]:
            end = np.datetime64((month + 1).to_timestamp())
            sel = (dates < end) & (dates >= end - window.to_timedelta64())
            n = int(sel.sum())
            coef = _fit(x[sel], y[sel]) if n >= params.sensitivity_min_days else np.full(x.shape[1], np.nan)
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


# --------------------------------------------------------------------------- steps

def _normalized_daily_kw(d: pd.DataFrame, steps: list[pd.Timestamp]) -> np.ndarray:
    """Daily mean load (kW) of one region's complete days at the history's mean weather and
    without the day-of-week effect, from a whole-history regression with a level dummy per
    known step."""
    hdd, cdd = d["hdd"].to_numpy(), d["cdd"].to_numpy()
    dates = d["date"].to_numpy()
    extra = np.column_stack([(dates >= np.datetime64(s)).astype(float) for s in steps]) if steps else None
    x = _design(d["date"], hdd, cdd, extra)
    y = d["energy_kwh"].to_numpy(dtype=float)
    coef = _fit(x, y)
    weather = coef[1] * (hdd - hdd.mean()) + coef[2] * (cdd - cdd.mean())
    dow = x[:, 3:9] @ coef[3:9]
    return (y - weather - (dow - dow.mean())) / HOURS_PER_DAY


def _find_steps(d: pd.DataFrame, deweek: np.ndarray, params: RegionalParams) -> list[dict]:
    """Steps in one region's weekly normalized load (see the module docstring)."""
    if not len(d):
        return []
    dates = pd.DatetimeIndex(d["date"])
    origin = dates[0] - pd.Timedelta(days=int(dates[0].dayofweek))
    week = ((dates - origin).days // 7).to_numpy()
    n_weeks = int(week.max()) + 1
    counts = np.bincount(week, minlength=n_weeks)
    sums = np.bincount(week, weights=deweek, minlength=n_weeks)
    weekly = np.where(counts >= 4, sums / np.maximum(counts, 1), np.nan)
    day_index = (dates - origin).days.to_numpy()
    by_day = np.full(n_weeks * 7, np.nan)
    by_day[day_index] = deweek
    valid = weekly[~np.isnan(weekly)]
    diffs = np.diff(valid)
    # the week-to-week noise of the level (robust: a step is one difference among many)
    noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2) if len(diffs) > 4 else 0.0
    k, found = params.step_window_weeks, []
    for b in range(1, n_weeks):
        before, after = weekly[max(0, b - k):b], weekly[b:b + k]
        before, after = before[~np.isnan(before)], after[~np.isnan(after)]
        if len(before) < params.step_min_weeks or len(after) < params.step_min_weeks:
            continue
        level0, level1 = float(np.median(before)), float(np.median(after))
        if level0 <= 0:
            continue
        shift = level1 - level0
        if abs(shift) < max(params.step_min_share * level0, params.step_min_noise_ratio * noise):
            continue
        # persistence: the weeks after lie beyond the midpoint, the weeks before on the other side,
        # one week on each side excepted (a holiday week, a short shutdown)
        mid = level0 + shift / 2
        sign = 1.0 if shift > 0 else -1.0
        up = shift > 0
        if (sign * (after - mid) <= 0).sum() > 1 or (sign * (before - mid) >= 0).sum() > 1:
            continue
        # the step day: the largest 7-day jump of the de-weeked daily load near the boundary
        best_day, best_jump = None, 0.0
        for day in range((b - 1) * 7, min((b + 1) * 7, n_weeks * 7)):
            lo, hi = by_day[max(0, day - 7):day], by_day[day:day + 7]
            if np.isnan(lo).sum() > 3 or np.isnan(hi).sum() > 3 or day < 7:
                continue
            jump = float(np.nanmean(hi) - np.nanmean(lo))
            if (jump if up else -jump) > (best_jump if up else -best_jump):
                best_day, best_jump = day, jump
        if best_day is None or abs(best_jump) < params.step_sharpness * abs(shift):
            continue
        found.append({"date": origin + pd.Timedelta(days=best_day), "level_before_kw": level0,
                      "level_after_kw": level1, "step_kw": shift, "step_share": shift / level0,
                      "weeks_after": int(len(after)), "b": b,
                      "noise_ratio": abs(shift) / noise if noise > 0 else np.inf})
    # one step per event: of candidates closer than the window, the largest shift
    kept: list[dict] = []
    for cand in sorted(found, key=lambda c: -abs(c["step_kw"])):
        if all(abs(cand["b"] - other["b"]) >= k for other in kept):
            kept.append(cand)
    return sorted(kept, key=lambda c: c["date"])


def detect_steps(days: pd.DataFrame, params: RegionalParams) -> pd.DataFrame:
    """New-load events per region (not `total`): region, date (the step's first day), the level
    before and after (kW at the history's mean weather, medians of the weekly means), step_kw,
    step_share and the weeks after it that were compared. Two passes: the steps found in the
    first are level dummies of the second's regression, so that a step does not bend the
    weather coefficients."""
    rows = []
    for region, d in days[days["complete"] & (days["region"] != TOTAL)].groupby("region", sort=True):
        d = d.sort_values("date").reset_index(drop=True)
        if len(d) < 2 * 7 * params.step_min_weeks:
            continue
        first = _find_steps(d, _normalized_daily_kw(d, []), params)
        if first:
            first = _find_steps(d, _normalized_daily_kw(d, [s["date"] for s in first]), params)
        rows += [{"region": region, **{k: v for k, v in s.items() if k != "b"}} for s in first]
    steps = pd.DataFrame(rows, columns=STEP_COLUMNS)
    steps["date"] = pd.to_datetime(steps["date"]).astype("datetime64[us]")
    return steps.astype({"weeks_after": int})


# --------------------------------------------------------------------------- sales and line loss

def customer_month_kwh(customers: pd.DataFrame, readings_daily: pd.DataFrame | Iterable[pd.DataFrame] | None,
                       bills: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """(kWh per customer and calendar month: customer_id, month, kwh; its source). The daily
    readings when there are any (calendar months, like the load), else the bills' kWh by
    billing period. The readings may come as batches (an iterable of frames: a whole utility's
    readings need not be in memory at once); a customer-month split over batches is summed."""
    if readings_daily is not None and not isinstance(readings_daily, pd.DataFrame):
        parts = [_month_sums(batch) for batch in readings_daily if len(batch)]
        if parts:
            whole = pd.concat(parts, ignore_index=True)
            whole["customer_id"] = whole["customer_id"].astype(str)
            return whole.groupby(["customer_id", "month"], sort=True)["kwh"].sum().reset_index(), "readings_daily"
        readings_daily = None
    if readings_daily is not None and len(readings_daily):
        return _month_sums(readings_daily), "readings_daily"
    if bills is not None and len(bills) and "kwh" in bills:
        b = bills.dropna(subset=["kwh"])
        out = b.groupby([b["customer_id"].astype(str), pd.PeriodIndex(b["period"], freq="M")])["kwh"].sum()
        out.index.names = ["customer_id", "month"]
        return out.reset_index(), "bills"
    return pd.DataFrame({"customer_id": pd.Series(dtype=object), "month": pd.PeriodIndex([], freq="M"),
                         "kwh": pd.Series(dtype=float)}), "none"


def _month_sums(readings_daily: pd.DataFrame) -> pd.DataFrame:
    """kWh per customer and calendar month of some daily readings."""
    ids = readings_daily["customer_id"]
    codes, uniques = (ids.cat.codes.to_numpy(), ids.cat.categories) if isinstance(ids.dtype, pd.CategoricalDtype) \
        else pd.factorize(ids)
    # month of each reading through its day (integer days, then a small day -> month table:
    # a calendar conversion of every row is slow at millions of readings)
    day = readings_daily["ts"].to_numpy().astype("datetime64[D]").astype(np.int64)
    day0 = int(day.min())
    table = np.arange(day0, int(day.max()) + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    first = int(table[0])
    m_codes = table[day - day0] - first
    n_m = int(m_codes.max()) + 1
    key = codes.astype(np.int64) * n_m + m_codes
    sums = np.bincount(key, weights=readings_daily["kwh"].to_numpy(dtype=np.float64),
                       minlength=len(uniques) * n_m)
    present = np.bincount(key, minlength=len(uniques) * n_m) > 0
    idx = np.flatnonzero(present)
    return pd.DataFrame({"customer_id": np.asarray(uniques, dtype=object)[idx // n_m],
                         "month": pd.PeriodIndex.from_ordinals(idx % n_m + first, freq="M"),
                         "kwh": sums[idx]})


def _attributes(customers: pd.DataFrame) -> pd.DataFrame:
    attrs = customers[["customer_id", "region", "customer_class"]
                      + (["industry"] if "industry" in customers else [])].copy()
    attrs["customer_id"] = attrs["customer_id"].astype(str)
    attrs["region"] = attrs["region"].astype("object").where(attrs["region"].notna(), None)
    if "industry" not in attrs:
        attrs["industry"] = None
    attrs["industry"] = attrs["industry"].astype("object").fillna("unknown")
    return attrs


def billed_by_region(customers: pd.DataFrame, cust_month: pd.DataFrame) -> pd.DataFrame:
    """Billed kWh per region and month (and `total`): the sum of the region's customers."""
    x = cust_month.assign(customer_id=cust_month["customer_id"].astype(str)).merge(
        _attributes(customers)[["customer_id", "region"]], on="customer_id", how="inner").dropna(subset=["region"])
    per = x.groupby(["region", "month"])["kwh"].sum().reset_index()
    total = per.groupby("month")["kwh"].sum().reset_index().assign(region=TOTAL)
    return pd.concat([per, total], ignore_index=True).rename(columns={"kwh": "billed_kwh"})


def sales_by_class(customers: pd.DataFrame, cust_month: pd.DataFrame) -> pd.DataFrame:
    """kWh per region x customer class x industry x month, the customers with kWh, and the
    growth against the same month a year earlier (raw: not weather-normalized)."""
    x = cust_month.assign(customer_id=cust_month["customer_id"].astype(str)).merge(
        _attributes(customers), on="customer_id", how="inner")
    x["region"] = x["region"].fillna("unknown")
    keys = ["region", "customer_class", "industry"]
    out = x.groupby(keys + ["month"]).agg(customers=("customer_id", "nunique"), kwh=("kwh", "sum")).reset_index()
    prev = out[keys + ["month", "kwh"]].assign(month=out["month"] + 12).rename(columns={"kwh": "kwh_year_earlier"})
    out = out.merge(prev, on=keys + ["month"], how="left")
    out["growth_yoy"] = out["kwh"] / out["kwh_year_earlier"].where(out["kwh_year_earlier"] > 0) - 1
    return out[SALES_COLUMNS].sort_values(["region", "customer_class", "industry", "month"]).reset_index(drop=True)


def theft_by_region(customers: pd.DataFrame, scores: pd.DataFrame | None, top_n: int) -> pd.DataFrame:
    """Per region: theft-scored accounts, their mean theft score, and how many of them rank in
    the top `top_n` of the utility's theft list (the score stage's `theft` task)."""
    cols = ["region", "theft_scored_accounts", "theft_mean_score", "theft_top_accounts"]
    if scores is None or not len(scores) or "task" not in scores:
        return pd.DataFrame(columns=cols)
    theft = scores[scores["task"] == "theft"].assign(customer_id=lambda s: s["customer_id"].astype(str))
    x = theft.merge(_attributes(customers)[["customer_id", "region"]], on="customer_id", how="inner")
    if not len(x):
        return pd.DataFrame(columns=cols)
    out = x.groupby("region").agg(theft_scored_accounts=("score", "size"), theft_mean_score=("score", "mean"),
                                  theft_top_accounts=("rank", lambda r: int((r <= top_n).sum()))).reset_index()
    return out[cols]


# --------------------------------------------------------------------------- the analysis

def region_summary(monthly: pd.DataFrame, steps: pd.DataFrame, theft: pd.DataFrame) -> pd.DataFrame:
    """One row per region (and `total`): the last 12 months' energy, peak, load factor and line
    loss, the latest month's sensitivity and weather-normalized growth, the steps, and the theft
    scores."""
    rows = []
    for region in [*sorted(set(monthly["region"]) - {TOTAL}), TOTAL]:
        m = monthly[monthly["region"] == region].sort_values("month")
        if not len(m):
            continue
        last = m.tail(12)
        loss_rows = last.dropna(subset=["line_loss_kwh"])
        energy_loss = loss_rows["energy_kwh"].sum()
        rows.append({
            "region": region, "first_month": str(m["month"].iloc[0]), "last_month": str(m["month"].iloc[-1]),
            "months": len(m), "energy_kwh_12m": float(last["energy_kwh"].sum()),
            "peak_kw_12m": float(last["peak_kw"].max()),
            "load_factor_12m": float(last["energy_kwh"].sum() / last["hours_observed"].sum() / last["peak_kw"].max())
            if last["peak_kw"].max() > 0 else np.nan,
            "kwh_per_hdd": float(m["kwh_per_hdd"].iloc[-1]), "kwh_per_cdd": float(m["kwh_per_cdd"].iloc[-1]),
            "growth_yoy_weather_normalized": float(m["growth_yoy_weather_normalized"].iloc[-1]),
            "steps": int((steps["region"] == region).sum()) if region != TOTAL else len(steps),
            "line_loss_12m": float(loss_rows["line_loss_kwh"].sum() / energy_loss) if energy_loss > 0 else np.nan,
        })
    out = pd.DataFrame(rows, columns=REGION_COLUMNS[:-3]).merge(theft, on="region", how="left") if rows else \
        pd.DataFrame(columns=REGION_COLUMNS)
    if len(theft) and len(out):
        sums = theft[["theft_scored_accounts", "theft_top_accounts"]].sum()
        mean = float((theft["theft_mean_score"] * theft["theft_scored_accounts"]).sum() / sums["theft_scored_accounts"])
        at = out["region"] == TOTAL
        out.loc[at, ["theft_scored_accounts", "theft_top_accounts", "theft_mean_score"]] = [
            sums["theft_scored_accounts"], sums["theft_top_accounts"], mean]
    for col in REGION_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[REGION_COLUMNS]


def analyse(load: pd.DataFrame, params: RegionalParams = RegionalParams(), *,
            weather_daily: pd.DataFrame | None = None, weather_hourly: pd.DataFrame | None = None,
            weather_stations: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
            readings_daily: pd.DataFrame | None = None, bills: pd.DataFrame | None = None,
            scores: pd.DataFrame | None = None) -> RegionalAnalysis:
    """The whole regional analysis of an hourly `region_load` (see the module docstring); the
    customer tables and theft scores are optional (a load export alone gives everything but
    line loss and sales by class)."""
    from powerlens.errors import InvalidInput

    if load is None or not len(load):
        raise InvalidInput("region_load is empty: the regional analysis needs the hourly load per region")
    hourly = with_total(load)
    daily = daily_load(hourly)
    monthly = monthly_load(hourly, daily)
    regions = sorted(set(hourly["region"]) - {TOTAL})
    temps, source = region_temperature(regions, weather_daily, weather_hourly, weather_stations)
    temps = pd.concat([temps, total_temperature(temps)], ignore_index=True) if len(temps) else temps
    days = _region_days(daily, temps, params)
    month_dd = days.groupby(["region", days["date"].dt.to_period("M").rename("month")]).agg(
        heating_degree_days=("hdd", "sum"), cooling_degree_days=("cdd", "sum")).reset_index()
    monthly = monthly.merge(month_dd, on=["region", "month"], how="left")
    steps = detect_steps(days, params)
    monthly = monthly.merge(weather_sensitivity(days, monthly[["region", "month"]], params, steps),
                            on=["region", "month"], how="left")
    monthly = monthly.merge(year_on_year_growth(days, monthly, params), on=["region", "month"], how="left")

    has_customers = customers is not None and len(customers) and "region" in customers
    sales = pd.DataFrame(columns=SALES_COLUMNS)
    theft = pd.DataFrame(columns=["region", "theft_scored_accounts", "theft_mean_score", "theft_top_accounts"])
    if has_customers:
        cust_month, billed_source = customer_month_kwh(customers, readings_daily, bills)
        billed = billed_by_region(customers, cust_month).assign(billed_source=billed_source)
        monthly = monthly.merge(billed, on=["region", "month"], how="left")
        sales = sales_by_class(customers, cust_month)
        theft = theft_by_region(customers, scores, params.theft_top_n)
    else:
        monthly["billed_kwh"], monthly["billed_source"] = np.nan, None
    # line loss only where the month's load is complete and the region's customers were billed
    known = monthly["complete"] & monthly["billed_kwh"].notna()
    monthly["line_loss_kwh"] = (monthly["energy_kwh"] - monthly["billed_kwh"]).where(known)
    monthly["line_loss"] = monthly["line_loss_kwh"] / monthly["energy_kwh"].where(monthly["energy_kwh"] > 0)
    monthly = monthly[MONTHLY_COLUMNS]
    order = {r: i for i, r in enumerate([*regions, TOTAL])}
    monthly = monthly.sort_values(["month", "region"], key=lambda s: s.map(order) if s.name == "region" else s,
                                  kind="stable").reset_index(drop=True)
    summary = region_summary(monthly, steps, theft)
    return RegionalAnalysis(monthly=monthly, steps=steps, sales=sales, regions=summary, temperature_source=source)


def as_output(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as written to parquet: months as YYYY-MM text (periods do not round-trip every
    reader), everything else as is."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            out[col] = out[col].astype(str)
    return out
