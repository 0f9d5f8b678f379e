"""Rolling-origin backtests: every family (and every reconciliation of the chosen one) forecasts
from each origin with only the load before it, and is scored on the hours that followed.

Metrics per series and horizon day: MAPE; MASE (the mean absolute error over the in-sample mean
absolute error of the same-hour-last-week forecast before the first origin); the pinball loss
of the interval's bounds (kW, averaged over both bounds); the interval's coverage. Hours without
an actual (a gap, an outage) are left out, never counted as zeros. `monthly_backtest` sets the
monthly outlook against "the same month last year".
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from powerlens.forecast import models as M
from powerlens.forecast.hourly import HourlySettings, check_request, fit_hourly, forecast_origin
from powerlens.forecast.monthly import monthly_actuals, monthly_forecast, same_month_last_year
from powerlens.forecast.panel import TOTAL, Panel
from powerlens.forecast.reconcile import METHODS, projection


def naive_scale(series: pd.DataFrame, before: pd.Timestamp) -> pd.Series:
    """In-sample MAE of the same hour a week earlier, per series, before `before` (MASE's scale)."""
    past = series[series.index < before]
    return (past - past.shift(M.WEEK)).abs().mean()


def score(forecasts: pd.DataFrame, series: pd.DataFrame, scale: pd.Series, interval: float) -> pd.DataFrame:
    """Per series and horizon day: mape, mase, pinball, coverage, hours (scored hours)."""
    actual = series.stack().rename("actual")
    actual.index = actual.index.set_names(["ts", "region"])
    f = forecasts.join(actual, on=["ts", "region"])
    f = f[f["actual"].notna() & (f["actual"] > 0)]
    alpha = (1 - interval) / 2
    err = f["actual"] - f["forecast"]
    f = f.assign(
        horizon_day=((f["ts"] - f["origin"]) // pd.Timedelta(days=1)).astype(int) + 1,
        ape=(err.abs() / f["actual"]),
        ase=err.abs() / f["region"].map(scale),
        pinball=(np.maximum(alpha * (f["actual"] - f["lo_80"]), (alpha - 1) * (f["actual"] - f["lo_80"]))
                 + np.maximum((1 - alpha) * (f["actual"] - f["hi_80"]), -alpha * (f["actual"] - f["hi_80"]))) / 2,
        covered=(f["actual"] >= f["lo_80"]) & (f["actual"] <= f["hi_80"]),
    )
    out = f.groupby(["region", "horizon_day"]).agg(mape=("ape", "mean"), mase=("ase", "mean"),
                                                   pinball=("pinball", "mean"), coverage=("covered", "mean"),
                                                   hours=("ape", "size"))
    return out.reset_index()


def summarize(detail: pd.DataFrame) -> dict[str, float]:
    """The headline numbers: the total's MAPE, MASE, coverage, pinball; the regions' mean MAPE."""
    by_series = detail.groupby("region").apply(
        lambda g: pd.Series({c: np.average(g[c], weights=g["hours"]) for c in ("mape", "mase", "pinball", "coverage")}),
        include_groups=False)
    total = by_series.loc[TOTAL]
    regions = by_series.drop(index=TOTAL)
    return {"mape_total": float(total["mape"]), "mase_total": float(total["mase"]),
            "pinball_total": float(total["pinball"]), "coverage_total": float(total["coverage"]),
            "mape_regions_mean": float(regions["mape"].mean()), "mase_regions_mean": float(regions["mase"].mean()),
            "coverage_regions_mean": float(regions["coverage"].mean())}


def backtest_hourly(panel: Panel, origins: list[pd.Timestamp], horizon_hours: int, weather: str,
                    settings: HourlySettings, families: tuple[str, ...], reconciliations: tuple[str, ...] = METHODS,
                    progress=None):
    """{variant: (summary dict, detail frame)} for each family (reconciled as `settings` says) and
    each reconciliation method of `settings.family`; and that family's fitted model (reconciled as
    `settings` says: it may go on forecasting from later origins)."""
    origins = sorted(set(origins))
    check_request(panel, origins, horizon_hours, settings)
    series = M.series_matrix(panel)
    scale = naive_scale(series, origins[0])
    results, chosen = {}, None
    for family in families:
        fitted = fit_hourly(panel, origins[0], horizon_hours, settings, family=family)
        methods = (settings.reconciliation, *(m for m in reconciliations if m != settings.reconciliation)) \
            if family == settings.family else (settings.reconciliation,)
        for method in methods:
            variant = family if method == settings.reconciliation else f"{family}+{method}"
            if method != fitted.reconciliation:
                fitted = dataclasses.replace(fitted, projection=projection(method, len(panel.regions), fitted.errors),
                                             reconciliation=method)
            frames = [forecast_origin(fitted, panel, o, weather, settings) for o in origins]
            forecasts = pd.concat(frames, ignore_index=True)
            detail = score(forecasts, series, scale, settings.interval)
            results[variant] = (summarize(detail), detail)
            if family == settings.family and method == settings.reconciliation:
                chosen = fitted
            if progress:
                progress(f"{variant}: total MAPE {results[variant][0]['mape_total']:.2%}")
        if family != settings.family and hasattr(fitted.model, "close"):
            fitted.model.close()  # a worker process (statsforecast)
    return results, chosen


def rolling_origins(end: pd.Timestamp, horizon_hours: int, n: int, step_weeks: int) -> list[pd.Timestamp]:
    """`n` origins every `step_weeks`, the last a horizon before `end` (on a day's start), oldest first."""
    last = (end - pd.Timedelta(hours=horizon_hours)).floor("D")
    return [last - pd.Timedelta(weeks=step_weeks * k) for k in range(n)][::-1]


def monthly_backtest(panel, origin: pd.Timestamp, horizon_months: int, settings) -> tuple[dict, pd.DataFrame]:
    """The monthly model against "the same month last year" from `origin`: MAPE of the total's and
    the regions' energy, and the 80% intervals' coverage of the actual energy and peak (over the
    regions' and the total's months, and the total's alone)."""
    forecast = monthly_forecast(panel, origin, horizon_months, settings)
    actual = monthly_actuals(panel)
    naive = same_month_last_year(actual, sorted(forecast["month"].unique()))
    m = forecast.merge(actual, on=["month", "region"], suffixes=("", "_actual")).merge(
        naive, on=["month", "region"], suffixes=("", "_naive"))
    m = m[m["energy_actual"] > 0]
    m["ape"] = (m["energy"] - m["energy_actual"]).abs() / m["energy_actual"]
    m["ape_naive"] = (m["energy_naive"] - m["energy_actual"]).abs() / m["energy_actual"]
    m["covered"] = m["energy_actual"].between(m["energy_lo_80"], m["energy_hi_80"])
    m["peak_covered"] = m["peak_actual"].between(m["peak_lo_80"], m["peak_hi_80"])
    total, regions = m[m["region"] == TOTAL], m[m["region"] != TOTAL]
    summary = {"mape_total": float(total["ape"].mean()), "mape_total_same_month_last_year": float(total["ape_naive"].mean()),
               "mape_regions_mean": float(regions.groupby("region")["ape"].mean().mean()),
               "mape_regions_mean_same_month_last_year": float(regions.groupby("region")["ape_naive"].mean().mean()),
               "coverage_energy": float(m["covered"].mean()), "coverage_peak": float(m["peak_covered"].mean()),
               "coverage_energy_total": float(total["covered"].mean()),
               "coverage_peak_total": float(total["peak_covered"].mean()), "months": int(total["month"].nunique())}
    return summary, m
