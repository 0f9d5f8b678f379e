"""The hourly panel a forecast reads: load per region on a complete hourly grid (a gap or an
outage hour is missing, never a zero), the system `total`, and each region's temperature.

A region's temperature is the mean of its weather stations: the `weather_stations` map where
the source gives one; otherwise the `stations_per_region` stations whose temperature best
explains the region's daily load before the first origin (Hong's station selection: a cubic
temperature regression with month and weekday, ranked by R^2); otherwise (a utility with daily
weather per region, as the synthetic one) the region's daily mean temperature in every hour of
the day. Pure functions: tables in, panel out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput, MissingInput

TOTAL = "total"


@dataclass(frozen=True)
class Panel:
    """`load`: hourly index (complete grid, hour beginning) x regions, kW, NaN where missing or an
    outage (an outage is not demand); `temperature`: hourly index (may run past the load: a
    weather forecast) x regions, °C; `holidays`: the dates that are holidays; `stations`: which
    stations stand for each region ({} for daily regional weather)."""

    load: pd.DataFrame
    temperature: pd.DataFrame
    holidays: frozenset
    stations: dict

    @property
    def regions(self) -> list[str]:
        return list(self.load.columns)

    @property
    def last_hour(self) -> pd.Timestamp:
        observed = self.load.notna().any(axis=1)
        return self.load.index[observed.to_numpy()].max()

    def total(self) -> pd.Series:
        """The system load: the sum of the regions, missing when any region is missing."""
        return self.load.sum(axis=1, min_count=len(self.load.columns)).where(self.load.notna().all(axis=1))


def load_end(region_load: pd.DataFrame) -> pd.Timestamp:
    """The hour after the last observed load (outage hours are not load): where the data ends."""
    if region_load is None or not len(region_load):
        raise MissingInput("no region_load in the data folder: a forecast needs the hourly load per region")
    kept = region_load[~region_load["outage"].astype(bool)] if "outage" in region_load else region_load
    return kept["ts"].max() + pd.Timedelta(hours=1)


def _grid(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(first.floor("D"), last.floor("D") + pd.Timedelta(hours=23), freq="h", name="ts")


def load_matrix(region_load: pd.DataFrame) -> pd.DataFrame:
    """region_load (region, ts, load_kw, outage) as hours x regions on a complete grid."""
    if region_load is None or not len(region_load):
        raise MissingInput("no region_load in the data folder: a forecast needs the hourly load per region "
                           "(import it with `powerlens import gefcom2012` or the csv mapping)")
    kept = region_load[~region_load["outage"].astype(bool)] if "outage" in region_load else region_load
    wide = kept.pivot(index="ts", columns="region", values="load_kw")
    wide = wide.reindex(_grid(region_load["ts"].min(), region_load["ts"].max()))
    missing = sorted(set(region_load["region"].astype(str)) - set(wide.columns))
    for region in missing:  # a region whose every hour was an outage
        wide[region] = np.nan
    wide.columns = wide.columns.astype(str)
    if TOTAL in wide.columns:
        raise InvalidInput(f"a region is named {TOTAL!r}, the name of the system total: rename it in the import")
    return wide[sorted(wide.columns)].astype(float)


def _station_matrix(weather_hourly: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    wide = weather_hourly.pivot(index="ts", columns="station", values="temperature_c")
    last = max(index.max(), wide.index.max())
    grid = pd.date_range(index.min(), last.floor("D") + pd.Timedelta(hours=23), freq="h", name="ts")
    wide = wide.reindex(grid)
    wide.columns = wide.columns.astype(str)
    # a withheld hour between two known ones: the straight line (at most 6 hours), else missing
    return wide.interpolate(limit=6, limit_area="inside")


def _daily_design(temp: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    t = (temp - 15.0) / 10.0
    month = np.eye(12)[dates.month - 1][:, 1:]
    weekday = np.eye(7)[dates.weekday][:, 1:]
    return np.column_stack([np.ones(len(t)), t, t**2, t**3, month, weekday])


def select_stations(load: pd.DataFrame, stations: pd.DataFrame, before: pd.Timestamp, k: int) -> dict[str, list[str]]:
    """The `k` stations whose daily mean temperature best explains each region's daily mean
    load before `before` (R^2 of a cubic temperature regression with month and weekday)."""
    daily_load = load[load.index < before].resample("D").mean()
    daily_temp = stations[stations.index < before].resample("D").mean()
    common = daily_load.index.intersection(daily_temp.index)
    daily_load, daily_temp = daily_load.loc[common], daily_temp.loc[common]
    chosen = {}
    for region in load.columns:
        y = daily_load[region]
        scores = {}
        for station in stations.columns:
            t = daily_temp[station]
            ok = (y.notna() & t.notna()).to_numpy()
            if ok.sum() < 60:
                continue
            X = _daily_design(t.to_numpy()[ok], common[ok])
            beta, *_ = np.linalg.lstsq(X, y.to_numpy()[ok], rcond=None)
            resid = y.to_numpy()[ok] - X @ beta
            total = ((y.to_numpy()[ok] - y.to_numpy()[ok].mean()) ** 2).sum()
            scores[station] = 1 - (resid**2).sum() / total if total > 0 else 0.0
        ranked = sorted(scores, key=lambda s: (-scores[s], s))
        chosen[region] = ranked[:k] if ranked else list(stations.columns)
    return chosen


def temperature_matrix(load: pd.DataFrame, *, weather_hourly: pd.DataFrame | None,
                       weather_stations: pd.DataFrame | None, weather_daily: pd.DataFrame | None,
                       select_before: pd.Timestamp, stations_per_region: int) -> tuple[pd.DataFrame, dict]:
    """Hourly temperature per region (see the module) and the stations behind each region."""
    regions = list(load.columns)
    if weather_hourly is not None and len(weather_hourly):
        stations = _station_matrix(weather_hourly, load.index)
        mapped = {}
        if weather_stations is not None and len(weather_stations):
            for region, group in weather_stations.groupby("region"):
                known = sorted(set(group["station"].astype(str)) & set(stations.columns))
                if known:
                    mapped[str(region)] = known
        unmapped = [r for r in regions if r not in mapped]
        if unmapped:
            mapped |= select_stations(load[unmapped], stations, select_before, stations_per_region)
        temp = pd.DataFrame({r: stations[mapped[r]].mean(axis=1) for r in regions}, index=stations.index)
        return temp, mapped
    if weather_daily is not None and len(weather_daily):
        daily = weather_daily.copy()
        daily["region"] = daily["region"].astype("string").fillna("")
        everywhere = daily[daily["region"] == ""].set_index("date")["temperature_mean"]
        per_region = daily[daily["region"] != ""].pivot(index="date", columns="region", values="temperature_mean")
        last = max(load.index.max(), daily["date"].max() + pd.Timedelta(hours=23))
        grid = pd.date_range(load.index.min(), last, freq="h", name="ts")
        day = grid.floor("D")
        columns = {}
        for region in regions:
            series = per_region[region] if region in per_region else everywhere
            columns[region] = series.reindex(day).to_numpy() if len(series) else np.full(len(grid), np.nan)
        return pd.DataFrame(columns, index=grid), {}
    raise MissingInput("no weather in the data folder (weather_hourly or weather_daily): the forecast models "
                       "are driven by temperature; import the weather with the load")


def build_panel(tables: dict[str, pd.DataFrame | None], *, select_before: pd.Timestamp,
                stations_per_region: int = 3) -> Panel:
    """The panel from a data folder's tables (region_load, weather_hourly, weather_stations,
    weather_daily, calendar; absent ones None)."""
    load = load_matrix(tables.get("region_load"))
    temp, stations = temperature_matrix(load, weather_hourly=tables.get("weather_hourly"),
                                        weather_stations=tables.get("weather_stations"),
                                        weather_daily=tables.get("weather_daily"),
                                        select_before=select_before, stations_per_region=stations_per_region)
    calendar = tables.get("calendar")
    holidays = frozenset()
    if calendar is not None and len(calendar) and "is_holiday" in calendar:
        holidays = frozenset(pd.DatetimeIndex(calendar.loc[calendar["is_holiday"].astype(bool), "date"]).normalize())
    return Panel(load=load, temperature=temp, holidays=holidays, stations=stations)
