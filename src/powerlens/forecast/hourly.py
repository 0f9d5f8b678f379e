"""Short-term forecasts: hourly load per region and `total` for 1-14 days from one or more
origins, coherent (reconciled), with 80% intervals.

The schedule, for origins o_1 < ... < o_n and a horizon of H hours:
1. a probe of the model is fitted on the hours before o_1 - `calibration_weeks`, and forecasts
   the calibration weeks week by week, as the model will forecast after an origin; its errors
   there give the reconciliation's error covariance and the relative error quantiles of every
   series (the model's part of the interval);
2. the model is fitted on every hour before o_1 (only load before o_1 is ever read);
3. each origin's forecast reads the load masked at that origin and a temperature path: `given`
   (weather_hourly after the origin: the provider's forecast, or in a backtest the actual
   temperatures) or `scenario` (ex-ante: the same dates in each past year, shifted by a few days,
   Hong & Xie's shifted-date scenarios), whose spread widens the interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.forecast import models as M
from powerlens.forecast.panel import TOTAL, Panel
from powerlens.forecast.reconcile import projection, reconcile

HOURLY_COLUMNS = ["region", "ts", "forecast", "lo_80", "hi_80", "origin"]
MAX_HORIZON_HOURS = 14 * 24


@dataclass(frozen=True)
class HourlySettings:
    family: str = "lightgbm_global"
    reconciliation: str = "wls"
    calibration_weeks: int = 52
    history_years: float = 3.0
    interval: float = 0.8
    scenario_shift_days: tuple[int, ...] = (-6, -4, -2, 0, 2, 4, 6)
    scenario_years: int = 10
    min_history_weeks: int = 4
    lightgbm: dict = field(default_factory=dict)
    seed: int = 0


def make_model(family: str, horizon_hours: int, settings: HourlySettings):
    lag = M.lag_for(horizon_hours)
    if family == "seasonal_naive":
        return M.SeasonalNaive(lag=lag)
    if family == "vanilla":
        return M.Vanilla()
    if family == "statsforecast_mstl":
        return M.StatsForecastMSTL()
    if family == "lightgbm_global":
        return M.GlobalBoosting(lag=lag, history_years=settings.history_years, params=dict(settings.lightgbm),
                                seed=settings.seed)
    raise InvalidInput(f"unknown forecast family {family!r}: one of seasonal_naive, vanilla, statsforecast_mstl, "
                       "lightgbm_global")


def check_request(panel: Panel, origins: list[pd.Timestamp], horizon_hours: int, settings: HourlySettings) -> None:
    """One-line errors for a request the data cannot answer."""
    if not 1 <= horizon_hours <= MAX_HORIZON_HOURS:
        raise InvalidInput(f"--horizon-hours must be 1..{MAX_HORIZON_HOURS} (14 days), got {horizon_hours}")
    if not origins:
        raise InvalidInput("give at least one --origin YYYY-MM-DD")
    first_load = panel.load.index[panel.load.notna().any(axis=1).to_numpy()].min()
    last = panel.last_hour
    for origin in origins:
        if origin > last + pd.Timedelta(hours=1):
            raise InvalidInput(f"origin {origin:%Y-%m-%d} is beyond the data: the load ends at {last:%Y-%m-%d %H:%M}, "
                               "and a forecast needs the load up to its origin")
    first = min(origins)
    weeks = calibration_weeks(panel, first, horizon_hours, settings)
    need = pd.Timedelta(weeks=MIN_CALIBRATION_WEEKS + settings.min_history_weeks) + pd.Timedelta(
        hours=M.lag_for(horizon_hours) + M.WEEK)
    if weeks < MIN_CALIBRATION_WEEKS:
        raise InvalidInput(f"origin {first:%Y-%m-%d} leaves too little history: the load starts "
                           f"{first_load:%Y-%m-%d} and a forecast needs {need.days} days before its origin")
    before = panel.load[panel.load.index < first - pd.Timedelta(weeks=weeks)]
    counts = before.notna().sum()
    empty = [r for r in panel.regions if counts[r] < M.WEEK * settings.min_history_weeks]
    if empty:
        raise InvalidInput(f"region {empty[0]} has no load history before {first:%Y-%m-%d} (under "
                           f"{settings.min_history_weeks} weeks): it cannot be forecast from that origin")


MIN_CALIBRATION_WEEKS = 2
MSTL_CALIBRATION_WEEKS = 8


def calibration_weeks(panel: Panel, first_origin: pd.Timestamp, horizon_hours: int, settings: HourlySettings) -> int:
    """`settings.calibration_weeks`, or fewer when the history before the first origin is shorter
    (the probe needs `min_history_weeks` and the lags before the calibration weeks)."""
    first_load = panel.load.index[panel.load.notna().any(axis=1).to_numpy()].min()
    spare = (first_origin - first_load - pd.Timedelta(hours=M.lag_for(horizon_hours) + M.WEEK)) // pd.Timedelta(weeks=1)
    return int(min(settings.calibration_weeks, spare - settings.min_history_weeks))


@dataclass
class FittedHourly:
    model: object
    horizon_hours: int
    projection: np.ndarray
    errors: np.ndarray          # calibration errors (hours x series), kW
    relative_errors: np.ndarray  # actual / forecast - 1 on the calibration hours (hours x series)
    names: list
    reconciliation: str


def _week_starts(start: pd.Timestamp, end: pd.Timestamp, step_hours: int) -> list[pd.Timestamp]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += pd.Timedelta(hours=step_hours)
    return out


def fit_hourly(panel: Panel, first_origin: pd.Timestamp, horizon_hours: int, settings: HourlySettings,
               family: str | None = None, reconciliation: str | None = None) -> FittedHourly:
    series = M.series_matrix(panel)
    series = series[series.index < first_origin]  # nothing from the first origin on is ever read
    family = family or settings.family
    weeks = calibration_weeks(panel, first_origin, horizon_hours, settings)
    if family == "statsforecast_mstl":  # refitted at every origin, so each calibration week costs a fit
        weeks = min(weeks, MSTL_CALIBRATION_WEEKS)
    calibration_start = first_origin - pd.Timedelta(weeks=weeks)
    probe = make_model(family, horizon_hours, settings).fit(panel, series, calibration_start)
    temp = M.with_total_temperature(panel, panel.temperature)
    step = min(M.lag_for(horizon_hours), M.WEEK)
    base, actual = [], []
    for origin in _week_starts(calibration_start, first_origin, step):
        hours = pd.date_range(origin, min(origin + pd.Timedelta(hours=step), first_origin) - pd.Timedelta(hours=1),
                              freq="h")
        base.append(probe.predict(series, temp, origin, hours).to_numpy())
        actual.append(series.reindex(hours).to_numpy())
    base, actual = np.vstack(base), np.vstack(actual)
    errors = actual - base
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(base > 0, actual / base - 1, np.nan)
    # the forecasts come from the same model refitted on every hour before the first origin (the
    # calibration errors, of a model that had not seen those weeks, are what it may expect)
    model = probe if family == "statsforecast_mstl" else make_model(family, horizon_hours, settings).fit(
        panel, series, first_origin)  # MSTL fits at each origin anyway (and keeps its worker)
    method = reconciliation or settings.reconciliation
    P = projection(method, len(panel.regions), errors)
    return FittedHourly(model=model, horizon_hours=horizon_hours, projection=P, errors=errors,
                        relative_errors=relative, names=list(series.columns), reconciliation=method)


def scenario_temperatures(temperature: pd.DataFrame, origin: pd.Timestamp, hours: pd.DatetimeIndex,
                          shift_days: tuple[int, ...], max_years: int) -> list[pd.DataFrame]:
    """Temperature paths for `hours`: the same dates k years earlier (k = 1..max_years) shifted by
    each of `shift_days`, from the hours before `origin` only; the actual temperature before it."""
    past = temperature[temperature.index < origin]
    out = []
    for k in range(1, max_years + 1):
        for shift in shift_days:
            source = hours - pd.DateOffset(years=k) + pd.Timedelta(days=shift)
            if source.max() >= origin or source.min() < past.index.min():
                continue
            values = past.reindex(source)
            if values.isna().any().any():
                continue
            path = pd.concat([past, pd.DataFrame(values.to_numpy(), index=hours, columns=past.columns)])
            out.append(path[~path.index.duplicated(keep="last")])
    if not out:
        raise InvalidInput(f"no past year of temperatures covers the {len(hours)} hours after {origin:%Y-%m-%d}: "
                           "scenario weather needs at least one earlier year; use --weather given with a forecast")
    return out


def _given_temperature(temperature: pd.DataFrame, origin: pd.Timestamp, hours: pd.DatetimeIndex) -> pd.DataFrame:
    ahead = temperature.reindex(hours)
    missing = ahead.columns[ahead.isna().any()].tolist()
    if missing:
        raise InvalidInput(f"--weather given: no temperature for {missing[0]} in every hour from {origin:%Y-%m-%d %H:%M} "
                           f"to {hours[-1]:%Y-%m-%d %H:%M}; load the weather forecast into weather_hourly, or use "
                           "--weather scenario")
    return temperature


def _coherent(fitted: FittedHourly, series: pd.DataFrame, temperature: pd.DataFrame, origin, hours) -> np.ndarray:
    base = fitted.model.predict(series, temperature, origin, hours).to_numpy()
    return reconcile(base, fitted.projection)


def _quantiles(draws: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile over the last axis; NaN where every draw is missing (no forecast)."""
    out = np.full(draws.shape[:2], np.nan)
    some = ~np.isnan(draws).all(axis=2)
    out[some] = np.nanquantile(draws[some], q, axis=1)
    return out


def forecast_origin(fitted: FittedHourly, panel: Panel, origin: pd.Timestamp, weather: str,
                    settings: HourlySettings) -> pd.DataFrame:
    """One origin's coherent forecast with intervals (long: region, ts, forecast, lo_80, hi_80, origin)."""
    hours = pd.date_range(origin, periods=fitted.horizon_hours, freq="h", name="ts")
    series = M.masked(M.series_matrix(panel), origin)
    temp = M.with_total_temperature(panel, panel.temperature)
    alpha = (1 - settings.interval) / 2
    grid = np.linspace(0.01, 0.99, 49)
    # the probe's error spread around its median: the refitted model is not assumed to share the
    # probe's bias (a probe fitted a year earlier misses the year's growth), only its spread
    rel = np.vstack([np.nanquantile(col[~np.isnan(col)], grid) - np.nanmedian(col) if (~np.isnan(col)).sum() >= 24
                     else np.zeros_like(grid) for col in fitted.relative_errors.T])  # series x grid
    if weather == "given":
        point = _coherent(fitted, series, _given_temperature(temp, origin, hours), origin, hours)
        draws = point[:, :, None] * (1 + rel[None, :, :])
    elif weather == "scenario":
        paths = scenario_temperatures(temp, origin, hours, settings.scenario_shift_days, settings.scenario_years)
        each = np.stack([_coherent(fitted, series, path, origin, hours) for path in paths])  # S x hours x series
        point = each.mean(axis=0)
        draws = (each[:, :, :, None] * (1 + rel[None, None, :, :])).transpose(1, 2, 0, 3).reshape(
            len(hours), len(fitted.names), -1)
    else:
        raise InvalidInput(f"--weather must be given or scenario, got {weather!r}")
    lo, hi = _quantiles(draws, alpha), _quantiles(draws, 1 - alpha)
    lo, hi = np.minimum(lo, point), np.maximum(hi, point)
    frame = pd.DataFrame({
        "region": np.tile(fitted.names, len(hours)),
        "ts": np.repeat(hours, len(fitted.names)),
        "forecast": point.ravel(), "lo_80": lo.ravel(), "hi_80": hi.ravel(),
        "origin": origin,
    })
    return frame


def hourly_forecast(panel: Panel, origins: list[pd.Timestamp], horizon_hours: int, weather: str,
                    settings: HourlySettings, progress=None) -> pd.DataFrame:
    """Every origin's forecast, one row per region (and `total`), hour and origin."""
    origins = sorted(set(origins))
    check_request(panel, origins, horizon_hours, settings)
    fitted = fit_hourly(panel, origins[0], horizon_hours, settings)
    frames = []
    for i, origin in enumerate(origins, 1):
        frames.append(forecast_origin(fitted, panel, origin, weather, settings))
        if progress:
            progress(f"origin {origin:%Y-%m-%d} ({i}/{len(origins)})")
    out = pd.concat(frames, ignore_index=True)
    order = {name: i for i, name in enumerate([*panel.regions, TOTAL])}
    out = out.sort_values(["origin", "region", "ts"], key=lambda c: c.map(order) if c.name == "region" else c)
    return out[HOURLY_COLUMNS].reset_index(drop=True)
