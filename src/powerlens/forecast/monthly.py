"""Medium-term forecasts: monthly energy and peak per region and `total`, 1-12 months ahead,
ex-ante.

Per region, a temperature regression (Hong's vanilla terms with the trend) is fitted on the
`history_years` before the origin and scaled to the region's level: actual over fitted load in the
`level_weeks` before the origin, or in the `recent_weeks` when these differ from it by more than
`step_share` (a new connection or a lost plant carries into the outlook; a weather anomaly does
not, the regression has it). Every hour ahead is then forecast
under each weather scenario (the same dates in each past year, shifted by a few days); a
scenario's monthly energy is the sum of its hours and its peak their maximum, the total's path is
the sum of the regions' paths. The point forecast is the scenarios' mean, the 80% interval their
10th and 90th percentiles. The total's energy is the sum of the regions' energy exactly; its peak
is the coincident peak (the peak of the summed path), never the sum of the regions' peaks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.forecast import models as M
from powerlens.forecast.hourly import scenario_temperatures
from powerlens.forecast.panel import TOTAL, Panel

MONTHLY_COLUMNS = ["region", "month", "energy", "energy_lo_80", "energy_hi_80", "peak", "peak_lo_80", "peak_hi_80"]


@dataclass(frozen=True)
class MonthlySettings:
    history_years: float = 3.0
    level_weeks: int = 52
    recent_weeks: int = 8
    step_share: float = 0.10
    trend: bool = True
    interval: float = 0.8
    scenario_shift_days: tuple[int, ...] = (-6, -4, -2, 0, 2, 4, 6)
    scenario_years: int = 10


def check_request(panel: Panel, origin: pd.Timestamp, horizon_months: int, settings: MonthlySettings) -> None:
    if not 1 <= horizon_months <= 12:
        raise InvalidInput(f"--horizon-months must be 1..12, got {horizon_months}")
    if origin.day != 1:
        raise InvalidInput(f"a monthly forecast starts on the first of a month: --origin {origin:%Y-%m}-01, "
                           f"not {origin:%Y-%m-%d}")
    last = panel.last_hour
    if origin > last + pd.Timedelta(hours=1):
        raise InvalidInput(f"origin {origin:%Y-%m-%d} is beyond the data: the load ends at {last:%Y-%m-%d %H:%M}, "
                           "and a forecast needs the load up to its origin")
    recent = panel.load[(panel.load.index < origin) & (panel.load.index >= origin - pd.Timedelta(weeks=settings.recent_weeks))]
    empty = [r for r in panel.regions if recent[r].notna().sum() < M.WEEK]
    if empty:
        raise InvalidInput(f"region {empty[0]} has no load history in the {settings.recent_weeks} weeks before "
                           f"{origin:%Y-%m-%d}: it cannot be forecast from that origin")


def _level(model, series: pd.DataFrame, panel: Panel, origin: pd.Timestamp, weeks: int) -> pd.Series:
    """Actual over fitted load per region in the `weeks` before the origin."""
    recent = series.index >= origin - pd.Timedelta(weeks=weeks)
    fitted = model.predict(series, panel.temperature, origin, series.index[recent])
    actual = series[recent]
    ok = actual.notna() & fitted.notna()
    return (actual.where(ok).sum() / fitted.where(ok).sum()).fillna(1.0)


def _monthly_errors(model, series: pd.DataFrame, panel: Panel, origin: pd.Timestamp, level: pd.Series,
                    history_years: float) -> dict[str, np.ndarray]:
    """Relative errors (actual / fitted - 1) of complete months' energy in the fitted years, per
    region and total, centred on their median."""
    start = origin - pd.Timedelta(days=365 * history_years)
    window = series[series.index >= start]
    fitted = model.predict(series, panel.temperature, origin, window.index) * level
    actual = window.copy()
    fitted[TOTAL], actual[TOTAL] = fitted.sum(axis=1, min_count=fitted.shape[1]), actual.sum(
        axis=1, min_count=actual.shape[1])
    ok = actual.notna() & fitted.notna()
    month = window.index.to_period("M")
    counts = ok.groupby(month).sum()
    complete = counts.ge(0.95 * pd.Series(window.index.days_in_month * 24, index=window.index).groupby(month).first(),
                         axis=0)
    a, f = actual.where(ok).groupby(month).sum(), fitted.where(ok).groupby(month).sum()
    out = {}
    for name in a.columns:
        keep = complete[name] & (f[name] > 0)
        if keep.sum() >= 6:
            errors = (a[name][keep] / f[name][keep] - 1).to_numpy()
            # their spread around the median: the level is today's, so a region that gained a new
            # load looks over-forecast in the years before it (a bias the outlook does not have)
            out[name] = errors - np.median(errors)
    if not out:
        return {}
    width = min(len(v) for v in out.values())
    return {k: np.quantile(v, np.linspace(0.05, 0.95, width)) for k, v in out.items()}


def monthly_forecast(panel: Panel, origin: pd.Timestamp, horizon_months: int, settings: MonthlySettings,
                     progress=None) -> pd.DataFrame:
    """One row per region (and `total`) and month: energy (kWh) and peak (kW) with 80% intervals."""
    check_request(panel, origin, horizon_months, settings)
    end = origin + pd.DateOffset(months=horizon_months)
    hours = pd.date_range(origin, end - pd.Timedelta(hours=1), freq="h", name="ts")
    series = panel.load[panel.load.index < origin]
    model = M.Vanilla(history_years=settings.history_years, with_trend=settings.trend).fit(panel, series, origin)
    level = _level(model, series, panel, origin, settings.level_weeks)
    recent = _level(model, series, panel, origin, settings.recent_weeks)
    shifted = (recent / level - 1).abs() > settings.step_share  # a new level (a connection, a lost plant)
    level = level.where(~shifted, recent)
    paths = scenario_temperatures(panel.temperature, origin, hours, settings.scenario_shift_days,
                                  settings.scenario_years)
    if progress:
        progress(f"{len(paths)} weather scenarios x {len(hours)} hours")
    month = hours.to_period("M")
    energy, peak = [], []
    for path in paths:
        load = model.predict(series, path, origin, hours).clip(lower=0) * level
        load[TOTAL] = load[panel.regions].sum(axis=1)
        grouped = load.groupby(month)
        energy.append(grouped.sum())
        peak.append(grouped.max())
    energy_s, peak_s = np.stack([e.to_numpy() for e in energy]), np.stack([p.to_numpy() for p in peak])
    alpha = (1 - settings.interval) / 2
    # the model's own monthly error (in the fitted years, under the weather that happened) on top
    # of the weather's: each scenario's months times each past month's relative error
    errors = _monthly_errors(model, series, panel, origin, level, settings.history_years)
    names_all = list(energy[0].columns)
    rel = np.stack([errors.get(n, np.zeros(1)) for n in names_all], axis=0) if errors else None

    def with_model_error(values: np.ndarray) -> np.ndarray:  # scenarios x months x series
        if rel is None or rel.shape[1] == 0:
            return values
        draws = values[:, :, :, None] * (1 + rel[None, None, :, :])
        return draws.transpose(1, 2, 0, 3).reshape(values.shape[1], values.shape[2], -1).transpose(2, 0, 1)

    energy_d, peak_d = with_model_error(energy_s), with_model_error(peak_s)
    index, names = energy[0].index, list(energy[0].columns)

    def long(values: np.ndarray, name: str) -> pd.Series:
        frame = pd.DataFrame(values, index=index, columns=names)
        frame.index = frame.index.strftime("%Y-%m")
        return frame.stack().rename(name)

    mean_energy = energy_s[:, :, :-1].mean(axis=0)
    mean_energy = np.column_stack([mean_energy, mean_energy.sum(axis=1)])  # the total: exactly the regions' sum
    out = pd.concat([
        long(mean_energy, "energy"),
        long(np.quantile(energy_d, alpha, axis=0), "energy_lo_80"),
        long(np.quantile(energy_d, 1 - alpha, axis=0), "energy_hi_80"),
        long(peak_s.mean(axis=0), "peak"),
        long(np.quantile(peak_d, alpha, axis=0), "peak_lo_80"),
        long(np.quantile(peak_d, 1 - alpha, axis=0), "peak_hi_80"),
    ], axis=1)
    out.index = out.index.set_names(["month", "region"])
    out = out.reset_index()
    order = {name: i for i, name in enumerate(names)}
    out = out.sort_values(["region", "month"], key=lambda c: c.map(order) if c.name == "region" else c)
    return out[MONTHLY_COLUMNS].reset_index(drop=True)


def monthly_actuals(panel: Panel) -> pd.DataFrame:
    """Observed monthly energy (the mean of the observed hours x the month's hours: a gap is
    not a zero) and peak per region and total; month as YYYY-MM."""
    load = panel.load.copy()
    load[TOTAL] = panel.total()
    month = load.index.to_period("M")
    hours_in_month = pd.Series(load.index.days_in_month * 24, index=load.index).groupby(month).first()
    grouped = load.groupby(month)
    energy = grouped.mean().mul(hours_in_month, axis=0)
    peak = grouped.max()
    energy.index = energy.index.strftime("%Y-%m")
    peak.index = peak.index.strftime("%Y-%m")
    out = pd.concat([energy.stack().rename("energy"), peak.stack().rename("peak")], axis=1)
    out.index = out.index.set_names(["month", "region"])
    return out.reset_index()


def same_month_last_year(actuals: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """The naive medium-term forecast: each month's energy and peak a year earlier."""
    earlier = {m: (pd.Period(m, "M") - 12).strftime("%Y-%m") for m in months}
    prior = actuals.set_index(["month", "region"])
    rows = []
    for m, e in earlier.items():
        if e in prior.index.get_level_values(0):
            block = prior.loc[e].reset_index().assign(month=m)
            rows.append(block)
    return pd.concat(rows, ignore_index=True) if rows else actuals.iloc[0:0]
