"""Medium-term forecasts: monthly energy and peak per region and `total`, 1-12 months ahead,
ex-ante.

Per region, a temperature regression (Hong's vanilla terms with the trend) is fitted on the
`history_years` before the origin and scaled to the region's level: actual over fitted load in the
`level_weeks` before the origin, or in the `recent_weeks` when these differ from it by more than
`step_share` (a new connection or a lost plant carries into the outlook; a weather anomaly does
not, the regression has it). Every hour ahead is then forecast under each weather scenario (the
same dates in each past year, shifted by a few days); a scenario's monthly energy is the sum of
its hours and its peak their maximum, the total's path is the sum of the regions' paths. The point
forecast is the scenarios' mean. The total's energy is the sum of the regions' energy exactly; its
peak is the coincident peak (the peak of the summed path), never the sum of the regions' peaks.

The 80% interval comes from the model's out-of-sample error, measured before the origin: from
probe origins every `probe_step_months` in the `probe_span_months` before it (each with at least
`probe_min_history_months` of load), the same model is fitted on the load before the probe and
forecasts, ex-ante (the same weather scenarios), the months up to the origin; the log of actual
over forecast, per horizon month, holds the level and trend drift and the weather together. Its
mean square, pooled over the series, is smoothed as a + b x horizon (extrapolated to horizons no
probe reached) and scaled per series (its own mean square over the pooled one, shrunk towards 1);
the interval is the point times exp(+-t sigma), t the 90% quantile of Student's t with as many
degrees of freedom as probe origins (1.28 for many, 1.48 for five, 3.08 for one). Without a probe
origin (less than `probe_min_history_months` + `probe_step_months` of load) the interval falls
back to the scenarios' spread times the in-sample monthly errors, which is far too narrow.

The regression is a cubic in each hour's temperature, so its design is built at four temperatures
per hour (once for every region) and every scenario, and the fit to the load, is the cubic through
them: four designs for any number of scenarios.
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
NODES_C = (5.0, 15.0, 25.0, 35.0)  # the temperatures the regression's cubic is read at


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
    probe_span_months: int = 24          # probe origins within these months before the origin,
    probe_step_months: int = 3           # every so many months,
    probe_min_history_months: int = 15   # each with this much load before it
    probe_month_observed: float = 0.5    # a probe month counts with this share of its hours observed
    error_shrink: float = 4.0            # pseudo-probes a series' own error scale is shrunk with


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


def _level(fitted: pd.DataFrame, series: pd.DataFrame, origin: pd.Timestamp, weeks: int) -> pd.Series:
    """Actual over fitted load per region in the `weeks` before the origin."""
    recent = series.index >= origin - pd.Timedelta(weeks=weeks)
    actual, fitted = series[recent], fitted.reindex(series.index[recent])
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


def _fit(panel: Panel, series: pd.DataFrame, origin: pd.Timestamp, settings: MonthlySettings):
    """The regression fitted on the load before `origin` and each region's level (see the module)."""
    model = M.Vanilla(history_years=settings.history_years, with_trend=settings.trend).fit(panel, series, origin)
    weeks = max(settings.level_weeks, settings.recent_weeks)
    hours = series.index[series.index >= origin - pd.Timedelta(weeks=weeks)]
    cubic = _temperature_cubic(model, panel.regions, hours)
    fitted = pd.DataFrame(_on_cubic(cubic, panel.temperature.reindex(hours)[panel.regions].to_numpy(dtype=float)),
                          index=hours, columns=panel.regions)
    level = _level(fitted, series, origin, settings.level_weeks)
    recent = _level(fitted, series, origin, settings.recent_weeks)
    shifted = (recent / level - 1).abs() > settings.step_share  # a new level (a connection, a lost plant)
    return model, level.where(~shifted, recent)


def _temperature_cubic(model: M.Vanilla, regions: list[str], hours: pd.DatetimeIndex) -> np.ndarray:
    """The regression's load per hour and region as a cubic in the hour's temperature: its four
    coefficients (4 x hours x regions, in (temperature - 15) / 10), read from the regression's
    design at four temperatures (built once for every region; NaN for a region without a fit)."""
    designs = [M.vanilla_design(hours, np.full(len(hours), t), model.trend_zero) for t in NODES_C]
    if not model.with_trend:
        for design in designs:
            design[:, 1] = 0.0
    missing = np.full(designs[0].shape[1], np.nan)
    coef = np.column_stack([model.coef.get(r, missing) for r in regions])
    values = np.stack([design @ coef for design in designs])
    nodes = (np.array(NODES_C) - 15.0) / 10.0
    return np.tensordot(np.linalg.inv(np.vander(nodes, 4, increasing=True)), values, axes=1)


def _on_cubic(cubic: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """The load (hours x regions) at `temperature` (°C, hours x regions)."""
    u = (temperature - 15.0) / 10.0
    return cubic[0] + u * (cubic[1] + u * (cubic[2] + u * cubic[3]))


def _scenario_months(panel: Panel, model, level: pd.Series, origin: pd.Timestamp,
                     hours: pd.DatetimeIndex, settings: MonthlySettings,
                     observed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Monthly energy and peak (scenarios x months x series: the regions, then `total`) under each
    weather scenario, over the hours `observed` (hours x series) only when given; and the number
    of scenarios."""
    regions = panel.regions
    cubic = _temperature_cubic(model, regions, hours)
    paths = scenario_temperatures(panel.temperature, origin, hours, settings.scenario_shift_days,
                                  settings.scenario_years)
    scale = level.reindex(regions).to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, hours.to_period("M")[1:] != hours.to_period("M")[:-1]])
    energy, peak = [], []
    for path in paths:
        load = _on_cubic(cubic, path.reindex(hours)[regions].to_numpy(dtype=float)).clip(min=0) * scale
        load = np.column_stack([load, np.nansum(load, axis=1)])  # the total: the regions' path summed
        if observed is not None:
            load = np.where(observed, load, np.nan)
        energy.append(np.add.reduceat(np.nan_to_num(load), starts, axis=0))
        peak.append(np.fmax.reduceat(load, starts, axis=0))
    return np.stack(energy), np.stack(peak), len(paths)


def probe_origins(panel: Panel, origin: pd.Timestamp, settings: MonthlySettings) -> list[pd.Timestamp]:
    """The earlier origins the model's out-of-sample error is measured from: every
    `probe_step_months` back from the origin, within `probe_span_months` of it, each with at least
    `probe_min_history_months` of load before it; oldest first."""
    observed = panel.load.notna().any(axis=1).to_numpy()
    if not observed.any():
        return []
    first = panel.load.index[observed].min()
    earliest = max(first + pd.DateOffset(months=settings.probe_min_history_months),
                   origin - pd.DateOffset(months=settings.probe_span_months))
    out, k = [], 1
    while (probe := origin - pd.DateOffset(months=k * settings.probe_step_months)) >= earliest:
        out.append(probe)
        k += 1
    return out[::-1]


def probe_errors(panel: Panel, origin: pd.Timestamp, settings: MonthlySettings) -> pd.DataFrame:
    """Out-of-sample errors of the monthly outlook before `origin`: from each probe origin the
    model is fitted on the load before it and forecasts, ex-ante, the months up to `origin` (at
    most 12); per probe, horizon month and series (the regions and `total`), the log of actual over
    forecast energy and peak, on the months with at least `probe_month_observed` of their hours
    observed (the hours without an actual are left out of both). Nothing from `origin` on is read."""
    actual = M.series_matrix(panel)
    actual = actual[actual.index < origin]
    names = [*panel.regions, TOTAL]
    rows = []
    for probe in probe_origins(panel, origin, settings):
        months = min(12, (origin.to_period("M") - probe.to_period("M")).n)
        hours = pd.date_range(probe, probe + pd.DateOffset(months=months) - pd.Timedelta(hours=1), freq="h")
        before = panel.load[panel.load.index < probe]
        try:
            model, level = _fit(panel, before, probe, settings)
            seen = actual.reindex(hours)[names]
            ok = seen.notna().to_numpy()
            energy_s, peak_s, _ = _scenario_months(panel, model, level, probe, hours, settings, observed=ok)
        except InvalidInput:  # no past year of temperatures for this probe's months
            continue
        month = hours.to_period("M")
        share = pd.DataFrame(ok, index=hours).groupby(month).mean().to_numpy()
        groups = seen.groupby(month)
        energy_f = energy_s[:, :, :-1].mean(axis=0)
        energy_f = np.column_stack([energy_f, energy_f.sum(axis=1)])
        with np.errstate(divide="ignore", invalid="ignore"):
            energy = np.log(groups.sum().to_numpy() / energy_f)
            peak = np.log(groups.max().to_numpy() / peak_s.mean(axis=0))
        keep = share >= settings.probe_month_observed
        energy, peak = np.where(keep, energy, np.nan), np.where(keep, peak, np.nan)
        horizon = np.repeat(np.arange(1, months + 1), len(names))
        rows.append(pd.DataFrame({"probe": probe, "horizon": horizon, "series": np.tile(names, months),
                                  "energy": energy.ravel(), "peak": peak.ravel()}))
    if not rows:
        return pd.DataFrame({"probe": pd.Series(dtype="datetime64[ns]"), "horizon": pd.Series(dtype=int),
                             "series": pd.Series(dtype=str), "energy": pd.Series(dtype=float),
                             "peak": pd.Series(dtype=float)})
    out = pd.concat(rows, ignore_index=True)
    out[["energy", "peak"]] = out[["energy", "peak"]].replace([np.inf, -np.inf], np.nan)
    return out


def error_spread(errors: pd.DataFrame, what: str, names: list[str], horizon_months: int,
                 shrink: float) -> np.ndarray | None:
    """The standard deviation of the log error per series and horizon month (series x months):
    the mean square over the series and probes per horizon, smoothed as a + b * horizon (a, b >= 0:
    a level error that grows as the outlook reaches further; it extrapolates to horizons no probe
    reached), times each series' own share (its mean square error over the smoothed pooled one,
    shrunk towards 1 with `shrink` pseudo-probes). None without errors."""
    e = errors[["probe", "horizon", "series", what]].dropna()
    if e.empty:
        return None
    pooled = e.groupby("horizon")[what].agg(lambda v: float(np.mean(v**2)))
    probes = e.groupby("horizon")["probe"].nunique().reindex(pooled.index).to_numpy(dtype=float)
    h = pooled.index.to_numpy(dtype=float)
    a, b = _line_non_negative(h, pooled.to_numpy(), probes)
    curve = a + b * np.arange(1, horizon_months + 1, dtype=float)
    if not (curve > 0).all():
        curve = np.full(horizon_months, max(float(pooled.mean()), 1e-12))
    at = e["horizon"].map(dict(zip(pooled.index, np.maximum(a + b * h, 1e-12), strict=True)))
    share = (e[what] ** 2 / at).groupby(e["series"]).mean()
    n = e.groupby("series")["probe"].nunique()
    shares = ((share * n + shrink) / (n + shrink)).reindex(names).fillna(1.0).to_numpy()
    return np.sqrt(shares[:, None] * curve[None, :])


def _line_non_negative(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Weighted least squares y ~ a + b x with a, b >= 0."""
    if len(x) >= 2 and np.ptp(x) > 0:
        xm, ym = np.average(x, weights=weight), np.average(y, weights=weight)
        b = np.sum(weight * (x - xm) * (y - ym)) / np.sum(weight * (x - xm) ** 2)
        a = ym - b * xm
        if b >= 0 and a >= 0:
            return float(a), float(b)
        if b < 0:  # no growth: flat
            return float(max(ym, 0.0)), 0.0
        return 0.0, float(max(np.sum(weight * x * y) / np.sum(weight * x * x), 0.0))  # through zero
    return float(np.average(y, weights=weight)), 0.0


def monthly_forecast(panel: Panel, origin: pd.Timestamp, horizon_months: int, settings: MonthlySettings,
                     progress=None) -> pd.DataFrame:
    """One row per region (and `total`) and month: energy (kWh) and peak (kW) with 80% intervals."""
    check_request(panel, origin, horizon_months, settings)
    end = origin + pd.DateOffset(months=horizon_months)
    hours = pd.date_range(origin, end - pd.Timedelta(hours=1), freq="h", name="ts")
    series = panel.load[panel.load.index < origin]
    model, level = _fit(panel, series, origin, settings)
    energy_s, peak_s, n_paths = _scenario_months(panel, model, level, origin, hours, settings)
    if progress:
        progress(f"{n_paths} weather scenarios x {len(hours)} hours")
    index, names = pd.period_range(origin, periods=horizon_months, freq="M"), [*panel.regions, TOTAL]
    mean_energy = energy_s[:, :, :-1].mean(axis=0)
    mean_energy = np.column_stack([mean_energy, mean_energy.sum(axis=1)])  # the total: exactly the regions' sum
    mean_peak = peak_s.mean(axis=0)
    alpha = (1 - settings.interval) / 2
    errors = probe_errors(panel, origin, settings)
    spread = {what: error_spread(errors, what, names, horizon_months, settings.error_shrink)
              for what in ("energy", "peak")}
    if progress:
        probes = errors["probe"].nunique()
        progress(f"out-of-sample error from {probes} probe origins" if probes else
                 f"no probe origin ({settings.probe_min_history_months} months of load before one): the interval "
                 "holds the in-sample error only, and is too narrow")
    bounds = {}
    for what, point, scenarios in (("energy", mean_energy, energy_s), ("peak", mean_peak, peak_s)):
        if spread[what] is not None:  # the point times the out-of-sample log error's quantiles
            # Student's t with as many degrees of freedom as probe origins: a probe's months share
            # its level error, so a spread measured from a few probes is itself uncertain
            z = student_t_quantile(1 - alpha, int(errors.dropna(subset=[what])["probe"].nunique()))
            lo, hi = point * np.exp(-z * spread[what].T), point * np.exp(z * spread[what].T)
        else:  # no probe origin: the scenarios times the in-sample errors (too narrow)
            draws = _with_in_sample_error(scenarios, model, series, panel, origin, level, names, settings)
            lo, hi = np.quantile(draws, alpha, axis=0), np.quantile(draws, 1 - alpha, axis=0)
        bounds[what] = (np.minimum(lo, point), np.maximum(hi, point))  # they hold the point

    def long(values: np.ndarray, name: str) -> pd.Series:
        frame = pd.DataFrame(values, index=index.strftime("%Y-%m"), columns=names)
        return frame.stack().rename(name)

    out = pd.concat([
        long(mean_energy, "energy"), long(bounds["energy"][0], "energy_lo_80"), long(bounds["energy"][1], "energy_hi_80"),
        long(mean_peak, "peak"), long(bounds["peak"][0], "peak_lo_80"), long(bounds["peak"][1], "peak_hi_80"),
    ], axis=1)
    out.index = out.index.set_names(["month", "region"])
    out = out.reset_index()
    order = {name: i for i, name in enumerate(names)}
    out = out.sort_values(["region", "month"], key=lambda c: c.map(order) if c.name == "region" else c)
    return out[MONTHLY_COLUMNS].reset_index(drop=True)


def student_t_quantile(q: float, df: int) -> float:
    """The q-quantile of Student's t with `df` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(q, df))


def _with_in_sample_error(values: np.ndarray, model, series, panel, origin, level, names,
                          settings: MonthlySettings) -> np.ndarray:
    """Each scenario's months (scenarios x months x series) times each past month's in-sample
    relative error: the fallback spread when no probe origin has enough history."""
    errors = _monthly_errors(model, series, panel, origin, level, settings.history_years)
    if not errors:
        return values
    width = len(next(iter(errors.values())))
    rel = np.stack([errors.get(n, np.zeros(width)) for n in names], axis=0)
    draws = values[:, :, :, None] * (1 + rel[None, None, :, :])
    return draws.transpose(1, 2, 0, 3).reshape(values.shape[1], values.shape[2], -1).transpose(2, 0, 1)


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
