"""Rolling-origin backtests: every family (and every reconciliation of the chosen one) forecasts
from each origin with only the load before it, and is scored on the hours that followed.

Metrics per series and horizon day: MAPE; MASE (the mean absolute error over the in-sample mean
absolute error of the same-hour-last-week forecast before the first origin); the pinball loss
of the interval's bounds (kW, averaged over both bounds); the interval's coverage. Hours without
an actual (a gap, an outage) are left out, never counted as zeros.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from powerlens.forecast import models as M
from powerlens.forecast.hourly import HourlySettings, check_request, fit_hourly, forecast_origin
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
