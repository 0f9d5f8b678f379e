"""Intraday load-profile indicators: what interval readings (hourly, 15-minute) support (load
factor, peak/valley rates, ToU shares, night ratio, peak kW, utilisation hours), or, without them,
a daily table's smallest and largest interval; and the average weekday/weekend hour profiles."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from powerlens.features.series import SeriesMatrix, _nanmean, _quiet, to_matrix


def tou_masks(regions: pd.Series, peak_hours: list[int], valley_hours: list[int],
              tou_by_region: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per customer, which of the 24 hours are tariff peak and valley hours (the rest is flat):
    the default periods, or the customer's region's periods where params define them."""
    def mask(hours):
        m = np.zeros(24, dtype=bool)
        m[list(hours)] = True
        return m

    n = len(regions)
    peak = np.tile(mask(peak_hours), (n, 1))
    valley = np.tile(mask(valley_hours), (n, 1))
    region = regions.astype("string").str.lower().to_numpy()
    for name, periods in (tou_by_region or {}).items():
        rows = region == str(name).lower()
        if "peak_hours" in periods:
            peak[rows] = mask(periods["peak_hours"])
        if "valley_hours" in periods:
            valley[rows] = mask(periods["valley_hours"])
    return peak, valley


def hourly_features(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int,
                    capacity_kva: pd.Series, peak_hours: list[int], valley_hours: list[int],
                    regions: pd.Series | None = None, tou_by_region: dict | None = None) -> pd.DataFrame:
    """Intraday indicators, only for customers with interval readings before `as_of`.

    Tariff periods are the default peak/valley hours or, per region, `tou_by_region`."""
    b, e = m.columns_before(as_of, history_days)
    out = pd.DataFrame(index=m.customer_ids)
    # align to whole days that start at midnight
    first_hour = (m.start + b * m.step).hour
    b += (24 - first_hour) % 24
    n_days = max((e - b) // 24, 0)
    if n_days == 0:
        return out
    cols = ["load_factor", "min_max_rate", "peak_valley_diff_rate", "peak_valley_ratio", "base_load_share",
            "peak_share", "valley_share", "flat_share", "night_ratio", "peak_kw", "capacity_utilisation",
            "max_load_utilisation_hours"]
    window = m.values[:, b:b + n_days * 24].reshape(len(out), n_days, 24)
    # each day's largest hour, NaN where an hour is missing: it also finds the complete days.
    # Only customers with a complete day get indicators (float32 values, float64 sums).
    with _quiet():
        day_max = window.max(axis=2)
    complete = ~np.isnan(day_max)
    rows = np.flatnonzero(complete.any(axis=1))
    result = np.full((len(out), len(cols)), np.nan)
    if len(rows):
        every = len(rows) == len(out)  # a smart-meter partition: views, not copies
        x = window if every else window[rows]
        full_day, day_max = (complete, day_max) if every else (complete[rows], day_max[rows])
        n_full = full_day.sum(axis=1)
        # incomplete days count as absent (zeroed); no copy when every day is complete
        xz = x if full_day.all() else np.where(full_day[:, :, None], x, np.float32(0))
        regions = regions if regions is not None else pd.Series([None] * len(out), index=out.index)
        cap = capacity_kva.reindex(out.index).to_numpy(dtype=float)[rows]
        pm, vm = tou_masks(regions.reindex(out.index).iloc[rows], peak_hours, valley_hours, tou_by_region)
        result[rows] = _interval_indicators(xz, full_day, n_full, cap, pm, vm, day_max)
    out[cols] = result
    return out


EXTREME_COLUMNS = ["kwh_min_interval", "kwh_max_interval", "n_intervals"]


def daily_extremes(readings: pd.DataFrame, customer_ids: pd.Index) -> dict[str, SeriesMatrix] | None:
    """Daily minimum, maximum and mean load in kW of complete days, from a daily table that
    carries each day's smallest and largest interval reading (`kwh_min_interval`,
    `kwh_max_interval`, `n_intervals`: the London sample's layout); None without them."""
    if len(readings) == 0 or not set(EXTREME_COLUMNS) <= set(readings.columns):
        return None
    complete = ~readings["partial_day"].astype(bool) if "partial_day" in readings else readings["n_intervals"] > 0
    days = readings.loc[complete & (readings["n_intervals"] > 0)]
    interval_hours = 24.0 / days["n_intervals"].astype(np.float64)
    kw = pd.DataFrame({"customer_id": days["customer_id"], "ts": days["ts"],
                       "min_kw": days["kwh_min_interval"] / interval_hours,
                       "max_kw": days["kwh_max_interval"] / interval_hours,
                       "mean_kw": days["kwh"].astype(np.float64) / 24.0})
    if len(kw) == 0:
        return None
    return {col: to_matrix(kw, customer_ids, "1D", value=col) for col in ("min_kw", "max_kw", "mean_kw")}


EXTREME_INDICATORS = ["load_factor", "min_max_rate", "peak_valley_diff_rate", "base_load_share", "peak_kw",
                      "capacity_utilisation", "max_load_utilisation_hours"]


def daily_extreme_features(extremes: dict[str, SeriesMatrix] | None, as_of: pd.Timestamp, history_days: int,
                           capacity_kva: pd.Series) -> pd.DataFrame:
    """The intraday indicators that each day's minimum and maximum interval load support, for
    sources without interval readings but with those extremes: load factor, min/max rate,
    peak-valley difference rate, base-load share (the 5th percentile of daily minima over the
    mean load), peak kW, capacity utilisation and max-load utilisation hours. Loads are of the
    source's interval (half-hourly in the London sample) rather than hourly. The tariff-period
    shares and the night ratio need the hour of day, so they stay missing."""
    if extremes is None:
        return pd.DataFrame(index=capacity_kva.index)
    low, high, mean_kw = extremes["min_kw"], extremes["max_kw"], extremes["mean_kw"]
    out = pd.DataFrame(index=high.customer_ids)
    b, e = high.columns_before(as_of, history_days)
    lo, hi, mean_day = (m.values[:, b:e].astype(np.float64) for m in (low, high, mean_kw))
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # customers without a complete day: NaN
        peak = np.nanmax(np.where(np.isnan(hi), -np.inf, hi), axis=1) if hi.shape[1] else np.full(len(out), np.nan)
        peak = np.where(np.isfinite(peak), peak, np.nan)
        mean = _nanmean(mean_day)
        ok = hi > 0
        rate = np.where(ok, lo / np.where(ok, hi, 1), np.nan)
        base = np.nanpercentile(lo, 5, axis=1) if lo.shape[1] else np.full(len(out), np.nan)
        cap = capacity_kva.reindex(out.index).to_numpy(dtype=float)
        out["load_factor"] = np.where(peak > 0, mean / peak, np.nan)
        out["min_max_rate"] = _nanmean(rate)
        out["peak_valley_diff_rate"] = _nanmean(np.where(ok, 1 - rate, np.nan))
        out["base_load_share"] = np.where(mean > 0, base / mean, np.nan)
        out["peak_kw"] = peak
        out["capacity_utilisation"] = np.where(cap > 0, peak / cap, np.nan)
        out["max_load_utilisation_hours"] = np.where(peak > 0, mean * 8760 / peak, np.nan)
    return out


def _interval_indicators(xz: np.ndarray, full_day: np.ndarray, n_full: np.ndarray, cap: np.ndarray,
                         pm: np.ndarray, vm: np.ndarray, day_max: np.ndarray) -> np.ndarray:
    """The intraday indicators of customers x days x 24 loads, incomplete days zeroed
    (`day_max`: each day's largest load, any value on incomplete days)."""
    with _quiet():
        hours = n_full * 24
        by_hour = xz.sum(axis=1, dtype=np.float64) / n_full[:, None]  # customers x 24
        total = by_hour.sum(axis=1)
        mean = total / 24
        dmax = np.where(full_day, day_max, 0).astype(np.float64)
        peak = np.where(n_full > 0, dmax.max(axis=1), np.nan)
        dmin = np.where(full_day, xz.min(axis=2), 0).astype(np.float64)
        ok = full_day & (dmax > 0)
        n_ok = ok.sum(axis=1)
        min_max = np.where(n_ok > 0, np.where(ok, dmin / np.where(ok, dmax, 1), 0).sum(axis=1) / n_ok, np.nan)
        diff = np.where(n_ok > 0, np.where(ok, (dmax - dmin) / np.where(ok, dmax, 1), 0).sum(axis=1) / n_ok, np.nan)
        peak_e, valley_e = (by_hour * pm).sum(axis=1), (by_hour * vm).sum(axis=1)
        p5 = _percentile_of_full_days(xz, full_day, hours, 5.0)
        res = np.column_stack([
            np.where(peak > 0, mean / peak, np.nan),
            min_max,
            diff,
            np.where(valley_e > 0, (peak_e / pm.sum(axis=1)) / (valley_e / vm.sum(axis=1)), np.nan),
            np.where(mean > 0, p5 / mean, np.nan),
            np.where(total > 0, peak_e / total, np.nan),
            np.where(total > 0, valley_e / total, np.nan),
            np.where(total > 0, 1 - (peak_e + valley_e) / total, np.nan),
            np.where(total > 0, by_hour[:, 0:6].sum(axis=1) / total, np.nan),
            peak,
            np.where(cap > 0, peak / cap, np.nan),
            np.where(peak > 0, mean * 8760 / peak, np.nan),
        ])
    res[n_full == 0] = np.nan
    return res


def _percentile_of_full_days(x: np.ndarray, full_day: np.ndarray, n_valid: np.ndarray, q: float) -> np.ndarray:
    """Per customer (customers x days x 24), the q-th percentile (linear, as numpy) of the hours
    of complete days: a partial sort per group of customers with the same number of such hours,
    instead of a full sort per row; customers whose every day is complete are partitioned as
    they are (no masked copy)."""
    n, d = full_day.shape
    flat = x.reshape(n, -1)
    out = np.full(n, np.nan)
    for count in np.unique(n_valid):
        if count == 0:
            continue
        rows = np.flatnonzero(n_valid == count)
        if count == d * 24:
            vals = flat if len(rows) == n else flat[rows]
        else:
            vals = np.where(np.repeat(full_day[rows], 24, axis=1), flat[rows], np.inf)
        pos = (count - 1) * q / 100
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        part = np.partition(vals, [lo, hi] if hi > lo else [lo], axis=1)
        out[rows] = part[:, lo] + (part[:, hi] - part[:, lo]) * (pos - lo)
    return out


def hourly_shape(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Average weekday and weekend 24-hour profiles (kWh per hour) before `as_of`."""
    b, e = m.columns_before(as_of, history_days)
    first_hour = (m.start + b * m.step).hour
    b += (24 - first_hour) % 24
    n_days = max((e - b) // 24, 0)
    if n_days == 0:
        return pd.DataFrame(index=m.customer_ids)
    window = m.values[:, b:b + n_days * 24]
    rows = np.flatnonzero(~np.isnan(window).all(axis=1))  # customers with interval readings
    x = window[rows].reshape(len(rows), n_days, 24)
    days = pd.date_range(m.start + b * m.step, periods=n_days, freq="D")
    weekend = np.asarray(days.day_of_week >= 5)
    profile = np.full((len(m.customer_ids), 48), np.nan)
    profile[rows] = np.hstack([_hour_means(x[:, ~weekend, :]), _hour_means(x[:, weekend, :])])
    cols = [f"wd_h{h:02d}" for h in range(24)] + [f"we_h{h:02d}" for h in range(24)]
    return pd.DataFrame(profile, index=m.customer_ids, columns=cols)


def _hour_means(x: np.ndarray) -> np.ndarray:
    """customers x days x 24 -> customers x 24 means over the observed days."""
    observed = ~np.isnan(x)
    n = observed.sum(axis=1)
    with _quiet():
        return np.where(n > 0, np.where(observed, x, 0).sum(axis=1, dtype=np.float64) / np.maximum(n, 1), np.nan)
