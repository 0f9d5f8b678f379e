"""Hourly load models: each is fitted on the hours before a cut-off and forecasts the hours from
an origin with nothing but the load before that origin (the load is masked at the origin before
a single feature is computed) and a temperature path for the hours ahead.

- `SeasonalNaive`: the same hour a week (or `lag` hours) earlier.
- `Vanilla`: Hong's GEFCom2012 benchmark, one least-squares regression per series: trend, month,
  weekday x hour, and a cubic in temperature by hour and by month.
- `StatsForecastMSTL`: statsforecast's MSTL with an AutoETS trend (univariate), in its own
  environment.
- `GlobalBoosting`: one LightGBM model over every series (the regions and the total): calendar,
  temperature (the hour's, its 24-hour and 7-day means) and the series' own load `lag` and
  `lag + 168` hours earlier, all relative to the series' mean load in the week that ends `lag`
  hours earlier, so that one model serves a 500 kW zone and a 200 MW system alike, and a new
  load (a step) carries into the forecast as soon as it is in the lags. `lag` is the smallest
  multiple of a week at least as long as the horizon, so nothing is ever recursive.

Every model predicts a frame hours x series (the panel's regions and `total`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens.forecast.panel import TOTAL, Panel

WEEK = 168


def lag_for(horizon_hours: int) -> int:
    """The load lag (a whole number of weeks, at least the horizon) the models may use."""
    return WEEK * max(1, int(np.ceil(horizon_hours / WEEK)))


def series_matrix(panel: Panel) -> pd.DataFrame:
    """The regions and the total as columns (hours x series)."""
    frame = panel.load.copy()
    frame[TOTAL] = panel.total()
    return frame


def masked(series: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """The load as known at `origin`: every hour from the origin on is missing."""
    keep = np.broadcast_to((series.index < origin)[:, None], series.shape)
    return series.where(keep)


# ---------------------------------------------------------------------------------------------
# seasonal naive


@dataclass
class SeasonalNaive:
    family: str = "seasonal_naive"
    lag: int = WEEK

    def fit(self, panel: Panel, series: pd.DataFrame, fit_end: pd.Timestamp) -> SeasonalNaive:
        return self

    def predict(self, series: pd.DataFrame, temperature: pd.DataFrame, origin: pd.Timestamp,
                hours: pd.DatetimeIndex) -> pd.DataFrame:
        known = masked(series, origin)
        lag = max(self.lag, lag_for(len(hours)))
        source = hours - pd.Timedelta(hours=lag)
        return known.reindex(source).set_axis(hours)


# ---------------------------------------------------------------------------------------------
# statsforecast's MSTL, in its own environment

STATSFORECAST = "statsforecast==2.1.1"


def statsforecast_command(script: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) that run `script` with statsforecast in its own uv environment
    (statsforecast needs pandas < 3; uv installs it from PyPI on first use, then from its cache)."""
    import shutil
    import sys

    uv = shutil.which("uv")
    command = [uv] if uv else [sys.executable, "-m", "uv"]
    argv = [*command, "run", "--quiet", "--no-project", "--isolated", "--with", STATSFORECAST, "python", str(script),
            *args]
    return argv, {**os.environ, "VIRTUAL_ENV": "", "UV_NO_PROGRESS": "1"}


@dataclass
class StatsForecastMSTL:
    """MSTL (daily and weekly seasonality, AutoETS trend) of statsforecast on each series' last
    `history_weeks` weeks before the origin (gaps interpolated: it takes none). Univariate: no
    weather. statsforecast needs pandas < 3, so it runs in a worker process in its own uv
    environment, started once per model (`close()` stops it)."""

    family: str = "statsforecast_mstl"
    history_weeks: int = 8
    _worker: object = None

    def fit(self, panel: Panel, series: pd.DataFrame, fit_end: pd.Timestamp) -> StatsForecastMSTL:
        return self

    def _start(self):
        import subprocess

        if self._worker is None or self._worker.poll() is not None:
            argv, env = statsforecast_command(Path(__file__).parent / "statsforecast_worker.py")
            self._worker = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, text=True, env=env)
        return self._worker

    def close(self) -> None:
        if self._worker is not None and self._worker.poll() is None:
            self._worker.stdin.close()
            self._worker.wait(timeout=60)
        self._worker = None

    def predict(self, series: pd.DataFrame, temperature: pd.DataFrame, origin: pd.Timestamp,
                hours: pd.DatetimeIndex) -> pd.DataFrame:
        import json
        import tempfile

        from powerlens.errors import InvalidInput

        known = masked(series, origin)
        recent = known[(known.index < origin) & (known.index >= origin - pd.Timedelta(weeks=self.history_weeks))]
        recent = recent.interpolate(limit_direction="both")
        usable = [c for c in recent.columns if recent[c].notna().all()]
        long = recent[usable].stack().rename("y").rename_axis(["ds", "unique_id"]).reset_index()
        steps = int((hours[-1] - origin) / pd.Timedelta(hours=1)) + 1
        with tempfile.TemporaryDirectory() as tmp:
            source, target = Path(tmp) / "in.parquet", Path(tmp) / "out.parquet"
            long[["unique_id", "ds", "y"]].to_parquet(source, index=False)
            worker = self._start()
            worker.stdin.write(json.dumps({"source": str(source), "target": str(target), "horizon": steps}) + "\n")
            worker.stdin.flush()
            answer = worker.stdout.readline().strip()
            if answer != "ok":
                raise InvalidInput(f"statsforecast's MSTL failed ({answer or 'its environment did not start: '}"
                                   f"{'' if answer else 'uv installs ' + STATSFORECAST + ' from PyPI'})")
            out = pd.read_parquet(target)
        wide = out.pivot(index="ds", columns="unique_id", values="yhat")
        wide.index = pd.DatetimeIndex(wide.index)
        return wide.reindex(index=hours, columns=series.columns)


# ---------------------------------------------------------------------------------------------
# Hong's vanilla regression


def vanilla_design(hours: pd.DatetimeIndex, temperature: np.ndarray, trend_zero: pd.Timestamp) -> np.ndarray:
    """Trend, month, weekday x hour, temperature^1..3 x hour and x month (°C scaled to tens)."""
    n = len(hours)
    t = (np.asarray(temperature, dtype=float) - 15.0) / 10.0
    hour = hours.hour.to_numpy()
    month = hours.month.to_numpy() - 1
    week_hour = hours.weekday.to_numpy() * 24 + hour
    trend = ((hours - trend_zero) / pd.Timedelta(days=365)).to_numpy(dtype=float)
    cols = [np.ones(n), trend, np.eye(12)[month][:, 1:], np.eye(WEEK)[week_hour][:, 1:]]
    hour_1h = np.eye(24)[hour]
    month_1h = np.eye(12)[month][:, 1:]  # the hour terms already carry the temperature's main effect
    for power in (1, 2, 3):
        tp = (t**power)[:, None]
        cols += [hour_1h * tp, month_1h * tp]
    return np.column_stack(cols)


def _least_squares(X: np.ndarray, y: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    xtx = X.T @ X
    xtx[np.diag_indices_from(xtx)] += ridge * max(1.0, float(np.trace(xtx)) / len(xtx))
    return np.linalg.solve(xtx, X.T @ y)


@dataclass
class Vanilla:
    family: str = "vanilla"
    history_years: float | None = None  # None: every hour before the cut-off
    with_trend: bool = True
    coef: dict = field(default_factory=dict)
    trend_zero: pd.Timestamp | None = None

    def fit(self, panel: Panel, series: pd.DataFrame, fit_end: pd.Timestamp) -> Vanilla:
        start = series.index.min() if self.history_years is None else fit_end - pd.Timedelta(
            days=365 * self.history_years)
        window = series[(series.index >= start) & (series.index < fit_end)]
        temp = _series_temperature(panel, window.index, window.columns)
        self.trend_zero = window.index.min()
        self.coef = {}
        for name in window.columns:
            y = window[name].to_numpy()
            ok = ~np.isnan(y) & ~np.isnan(temp[name].to_numpy())
            if ok.sum() < 2 * WEEK:
                continue
            X = vanilla_design(window.index[ok], temp[name].to_numpy()[ok], self.trend_zero)
            if not self.with_trend:
                X[:, 1] = 0.0
            self.coef[name] = _least_squares(X, y[ok])
        return self

    def predict(self, series: pd.DataFrame, temperature: pd.DataFrame, origin: pd.Timestamp,
                hours: pd.DatetimeIndex) -> pd.DataFrame:
        out = {}
        for name in series.columns:
            if name not in self.coef:
                out[name] = np.full(len(hours), np.nan)
                continue
            X = vanilla_design(hours, temperature.reindex(hours)[name].to_numpy(), self.trend_zero)
            if not self.with_trend:
                X[:, 1] = 0.0
            out[name] = X @ self.coef[name]
        return pd.DataFrame(out, index=hours)


def _series_temperature(panel: Panel, hours: pd.DatetimeIndex, names) -> pd.DataFrame:
    """Temperature per series on `hours`: a region's own, the total's the regions' mean."""
    temp = panel.temperature.reindex(hours)
    out = {name: temp[name] if name in temp else temp[panel.regions].mean(axis=1) for name in names}
    return pd.DataFrame(out, index=hours)


def with_total_temperature(panel: Panel, temperature: pd.DataFrame) -> pd.DataFrame:
    frame = temperature.copy()
    frame[TOTAL] = temperature[panel.regions].mean(axis=1)
    return frame


# ---------------------------------------------------------------------------------------------
# the global LightGBM model

FEATURES = ["series", "hour", "weekday", "month", "day_of_year", "holiday", "temperature",
            "temperature_24h", "temperature_168h", "temperature_at_lag", "lag_ratio", "lag_week_ratio",
            "level_temperature", "regression_ratio"]


def _rolling_mean(values: np.ndarray, window: int, min_count: int) -> np.ndarray:
    """Mean of the `window` hours ending with each hour (NaN-aware; NaN under `min_count`)."""
    filled = np.nan_to_num(values)
    present = (~np.isnan(values)).astype(float)
    csum = np.cumsum(np.vstack([np.zeros((1,) + values.shape[1:]), filled]), axis=0)
    ccount = np.cumsum(np.vstack([np.zeros((1,) + values.shape[1:]), present]), axis=0)
    n = len(values)
    hi = np.arange(1, n + 1)
    lo = np.maximum(hi - window, 0)
    total, count = csum[hi] - csum[lo], ccount[hi] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_count, total / np.maximum(count, 1), np.nan)


def boosting_frame(series: pd.DataFrame, temperature: pd.DataFrame, holidays: frozenset, lag: int,
                   rows: pd.DatetimeIndex) -> tuple[pd.DataFrame, np.ndarray]:
    """Features (long: hour-major, series-minor) for the hours `rows`, computed from `series`
    (already masked at the origin for a forecast) and `temperature` (both indexed by a grid that
    holds `rows` and the `lag + 2 weeks` before them); and each row's level (the scale)."""
    grid = series.index.union(rows)
    load = series.reindex(grid).to_numpy(dtype=float)
    temp = temperature.reindex(grid)[series.columns].to_numpy(dtype=float)
    level = _rolling_mean(load, WEEK, 24)
    level_temp = _rolling_mean(temp, WEEK, 24)
    temp_24 = _rolling_mean(temp, 24, 12)
    temp_168 = _rolling_mean(temp, WEEK, 48)
    pos = grid.get_indexer(rows)
    at = pos - lag
    valid = at >= 0
    at = np.where(valid, at, 0)
    at_week = np.where(at - WEEK >= 0, at - WEEK, 0)

    def lagged(values, idx, ok):
        out = values[idx]
        out[~ok] = np.nan
        return out

    lvl = lagged(level, at, valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        lvl = np.where(lvl > 0, lvl, np.nan)
        lag_ratio = lagged(load, at, valid) / lvl
        lag_week_ratio = lagged(load, at_week, valid & (at - WEEK >= 0)) / lvl
    n_series = series.shape[1]
    hours = grid[pos]
    day = hours.normalize()

    def per_hour(values):
        return np.repeat(np.asarray(values), n_series)

    frame = pd.DataFrame({
        "series": np.tile(np.arange(n_series), len(rows)),
        "hour": per_hour(hours.hour),
        "weekday": per_hour(hours.weekday),
        "month": per_hour(hours.month),
        "day_of_year": per_hour(hours.dayofyear),
        "holiday": per_hour(day.isin(list(holidays)) if holidays else np.zeros(len(rows), bool)).astype(int),
        "temperature": temp[pos].ravel(),
        "temperature_24h": temp_24[pos].ravel(),
        "temperature_168h": temp_168[pos].ravel(),
        "temperature_at_lag": lagged(temp, at, valid).ravel(),
        "lag_ratio": lag_ratio.ravel(),
        "lag_week_ratio": lag_week_ratio.ravel(),
        "level_temperature": lagged(level_temp, at, valid).ravel(),
    })
    return frame, lvl.ravel()


@dataclass
class GlobalBoosting:
    family: str = "lightgbm_global"
    lag: int = WEEK
    history_years: float | None = 3.0
    params: dict = field(default_factory=dict)
    seed: int = 0
    booster: object = None
    names: list = field(default_factory=list)
    holidays: frozenset = frozenset()
    regression: object = None

    def fit(self, panel: Panel, series: pd.DataFrame, fit_end: pd.Timestamp) -> GlobalBoosting:
        import lightgbm as lgb

        start = series.index.min() if self.history_years is None else max(
            series.index.min(), fit_end - pd.Timedelta(days=365 * self.history_years))
        known = series[series.index < fit_end]
        rows = known.index[(known.index >= start + pd.Timedelta(hours=self.lag + WEEK))]
        temp = with_total_temperature(panel, panel.temperature)
        X, level = boosting_frame(known, temp, panel.holidays, self.lag, rows)
        self.regression = Vanilla(history_years=self.history_years).fit(panel, series, fit_end)
        X["regression_ratio"] = self._regression_ratio(known, temp, fit_end, rows)
        y = known.reindex(rows).to_numpy(dtype=float).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            target = y / level
        ok = np.isfinite(target)
        params = {"objective": "l2", "n_estimators": 500, "learning_rate": 0.05, "num_leaves": 63,
                  "min_child_samples": 50, "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8,
                  "reg_lambda": 1.0, "verbose": -1} | dict(self.params) | {"n_jobs": 1}
        self.names, self.holidays = list(series.columns), panel.holidays
        # one thread, like the risk models: the same trees on any machine, and no OpenMP threads
        # spinning against another process's on a small machine (60x slower in the test suite)
        model = lgb.LGBMRegressor(random_state=self.seed, **params)
        model.fit(X.loc[ok, FEATURES], target[ok], categorical_feature=["series"])
        self.booster = model
        return self

    def predict(self, series: pd.DataFrame, temperature: pd.DataFrame, origin: pd.Timestamp,
                hours: pd.DatetimeIndex) -> pd.DataFrame:
        if list(series.columns) != self.names:
            raise ValueError(f"fitted on {self.names}, asked for {list(series.columns)}")
        known = masked(series, origin)
        history = known[known.index >= origin - pd.Timedelta(hours=self.lag + 2 * WEEK + 24)]
        X, level = boosting_frame(history, temperature, self.holidays, self.lag, hours)
        X["regression_ratio"] = self._regression_ratio(history, temperature, origin, hours)
        ratio = self.booster.predict(X[FEATURES])
        values = (ratio * level).reshape(len(hours), len(self.names))
        return pd.DataFrame(values, index=hours, columns=self.names)

    def _regression_ratio(self, series, temperature, origin, rows) -> np.ndarray:
        """The temperature regression's hour over its own mean in the level's week (`lag` hours
        earlier): the change of weather and calendar since the level was measured, which the
        trees would otherwise have to learn from few hot or cold hours. A ratio of the
        regression to itself, so that a new load (a step) in the level is carried in full."""
        grid = series.index.union(rows)
        fitted = self.regression.predict(series, temperature, origin, grid).to_numpy(dtype=float)
        level = _rolling_mean(fitted, WEEK, 24)
        pos = grid.get_indexer(rows)
        at = pos - self.lag
        ok = at >= 0
        base = level[np.where(ok, at, 0)]
        base[~ok] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            return (fitted[pos] / np.where(base > 0, base, np.nan)).ravel()
