"""Load-profile indicators from readings, on dense customers x time matrices.

Readings are pivoted once into a matrix (customers x days, customers x hours); every cut-off is
then a slice of columns strictly before it, so features are point-in-time correct and cheap to
compute for several cut-offs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def _quiet():
    return np.errstate(invalid="ignore", divide="ignore")


@dataclass
class SeriesMatrix:
    """Readings of one interval as a dense matrix; NaN where no reading exists."""

    customer_ids: pd.Index
    start: pd.Timestamp
    step: pd.Timedelta
    values: np.ndarray  # customers x steps, float32

    def columns_before(self, as_of: pd.Timestamp, days: int) -> tuple[int, int]:
        end = int((as_of - self.start) / self.step)
        begin = int((as_of - pd.Timedelta(days=days) - self.start) / self.step)
        end = min(max(end, 0), self.values.shape[1])
        begin = min(max(begin, 0), end)
        return begin, end


def to_matrix(readings: pd.DataFrame, customer_ids: pd.Index, step: str) -> SeriesMatrix:
    """Pivot long readings (customer_id, ts, kwh) into a dense matrix aligned to `customer_ids`."""
    step_td = pd.Timedelta(step)
    if readings.empty:
        return SeriesMatrix(customer_ids, pd.Timestamp("2000-01-01"), step_td,
                            np.full((len(customer_ids), 0), np.nan, dtype=np.float32))
    ts = readings["ts"].to_numpy()
    start = pd.Timestamp(ts.min()).floor(step)
    col = ((ts - start.to_datetime64()) // step_td.to_timedelta64()).astype(np.int64)
    n_cols = int(col.max()) + 1
    cid = readings["customer_id"]
    if isinstance(cid.dtype, pd.CategoricalDtype):
        row_of_cat = customer_ids.get_indexer(cid.cat.categories)
        codes = cid.cat.codes.to_numpy()
        row = np.where(codes >= 0, row_of_cat[np.maximum(codes, 0)], -1)
    else:
        row = customer_ids.get_indexer(cid)
    keep = row >= 0
    values = np.full((len(customer_ids), n_cols), np.nan, dtype=np.float32)
    values[row[keep], col[keep]] = readings["kwh"].to_numpy(dtype=np.float32)[keep]
    return SeriesMatrix(customer_ids, start, step_td, values)


def _nanmean(x: np.ndarray, axis=1) -> np.ndarray:
    with _quiet():
        n = np.sum(~np.isnan(x), axis=axis)
        return np.where(n > 0, np.nansum(x, axis=axis) / np.maximum(n, 1), np.nan)


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """Longest run of True per row."""
    best = np.zeros(mask.shape[0], dtype=np.int32)
    cur = np.zeros(mask.shape[0], dtype=np.int32)
    for j in range(mask.shape[1]):
        cur = np.where(mask[:, j], cur + 1, 0)
        best = np.maximum(best, cur)
    return best


def daily_features(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Indicators that daily data supports, from the `history_days` before `as_of`."""
    b, e = m.columns_before(as_of, history_days)
    x = m.values[:, b:e].astype(np.float64)
    n_cust = x.shape[0]
    days = pd.date_range(m.start + b * m.step, periods=e - b, freq="D")
    out = pd.DataFrame(index=m.customer_ids)
    if x.shape[1] == 0:
        return out.assign(**{k: np.nan for k in ["kwh_365d"]})
    observed = ~np.isnan(x)
    n_obs = observed.sum(axis=1)
    with _quiet():
        mean = _nanmean(x)
        out["kwh_90d"] = np.where(n_obs > 0, np.nansum(x[:, -90:], axis=1), np.nan)
        out["kwh_daily_mean"] = mean
        mx = np.nanmax(np.where(observed, x, -np.inf), axis=1)
        out["daily_load_factor"] = np.where(mx > 0, mean / mx, np.nan)
        sd = np.sqrt(_nanmean((x - mean[:, None]) ** 2))
        out["daily_cv"] = np.where(mean > 0, sd / mean, np.nan)

        # year over year, so that seasons do not pass for growth; a slope when only a year exists
        pb, pe = m.columns_before(as_of - pd.Timedelta(days=history_days), history_days)
        prev = m.values[:, pb:pe].astype(np.float64)
        prev_mean = _nanmean(prev) if prev.shape[1] else np.full(n_cust, np.nan)
        prev_obs = (~np.isnan(prev)).sum(axis=1) if prev.shape[1] else np.zeros(n_cust)
        yoy = np.where((prev_mean > 0) & (prev_obs >= 0.8 * history_days) & (n_obs >= 0.8 * history_days),
                       (mean / prev_mean - 1) * 100 * 365.25 / history_days, np.nan)
        t = np.arange(x.shape[1], dtype=np.float64)[None, :]
        tt = np.where(observed, t, np.nan)
        tm = _nanmean(tt)
        cov = _nanmean((tt - tm[:, None]) * (x - mean[:, None]))
        var = _nanmean((tt - tm[:, None]) ** 2)
        slope = np.where(var > 0, cov / var, np.nan)
        slope_pct = np.where((mean > 0) & (n_obs >= 60), slope * 365.25 / mean * 100, np.nan)
        out["trend_pct_per_year"] = np.where(np.isnan(yoy), slope_pct, yoy)
        last30 = _nanmean(x[:, -30:])
        before = _nanmean(x[:, :-30]) if x.shape[1] > 30 else np.full(n_cust, np.nan)
        out["recent_change_ratio"] = np.where(before > 0, last30 / before, np.nan)

        weekend = np.asarray(days.dayofweek >= 5)
        we, wd = _nanmean(x[:, weekend]), _nanmean(x[:, ~weekend])
        out["weekend_weekday_ratio"] = np.where(wd > 0, we / wd, np.nan)
        month = days.month.to_numpy()
        summer, winter = np.isin(month, [6, 7, 8]), np.isin(month, [12, 1, 2])
        out["summer_index"] = np.where(mean > 0, _nanmean(x[:, summer]) / mean, np.nan) if summer.any() else np.nan
        out["winter_index"] = np.where(mean > 0, _nanmean(x[:, winter]) / mean, np.nan) if winter.any() else np.nan

        zero = observed & (x <= 1e-6)
        out["zero_days_90d"] = zero[:, -90:].sum(axis=1)
        out["longest_zero_streak"] = _longest_run(zero)
        # 30-day levels, oldest first; a drop is measured against the best level before it
        n_blocks = x.shape[1] // 30
        if n_blocks >= 2:
            blocks = x[:, x.shape[1] - n_blocks * 30:].reshape(n_cust, n_blocks, 30)
            level = _nanmean(blocks, axis=2)
            prior_best = np.fmax.accumulate(level, axis=1)[:, :-1]
            drops = 1 - level[:, 1:] / prior_best
            out["largest_level_drop"] = np.clip(np.nanmax(np.where(prior_best > 0, drops, np.nan), axis=1), 0, 1)
        else:
            out["largest_level_drop"] = np.nan
        recent = x[:, -90:]
        a, bb = recent[:, 7:], recent[:, :-7]
        ok = ~np.isnan(a) & ~np.isnan(bb)
        am = np.where(ok, a, np.nan)
        bm = np.where(ok, bb, np.nan)
        ac = _nanmean((am - _nanmean(am)[:, None]) * (bm - _nanmean(bm)[:, None]))
        denom = np.sqrt(_nanmean((am - _nanmean(am)[:, None]) ** 2) * _nanmean((bm - _nanmean(bm)[:, None]) ** 2))
        out["weekly_autocorrelation"] = np.where(denom > 0, ac / denom, np.nan)
        first = np.where(observed.any(axis=1), observed.argmax(axis=1), x.shape[1])
        out["missing_days"] = (x.shape[1] - first) - n_obs
    out["kwh_365d"] = np.where(n_obs > 0, np.nansum(x, axis=1), np.nan)
    return out


def hourly_features(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int,
                    capacity_kva: pd.Series, peak_hours: list[int], valley_hours: list[int]) -> pd.DataFrame:
    """Intraday indicators, only for customers with interval readings before `as_of`."""
    b, e = m.columns_before(as_of, history_days)
    out = pd.DataFrame(index=m.customer_ids)
    # align to whole days that start at midnight
    first_hour = (m.start + b * m.step).hour
    b += (24 - first_hour) % 24
    n_days = max((e - b) // 24, 0)
    if n_days == 0:
        return out
    x = m.values[:, b:b + n_days * 24].astype(np.float64).reshape(len(out), n_days, 24)
    has = ~np.isnan(x)
    full_day = has.all(axis=2)
    has_any = full_day.any(axis=1)
    with _quiet():
        xd = np.where(full_day[:, :, None], x, np.nan)
        mean = _nanmean(xd.reshape(len(out), -1))
        peak = np.nanmax(np.where(np.isnan(xd), -np.inf, xd).reshape(len(out), -1), axis=1)
        peak = np.where(has_any, peak, np.nan)
        out["load_factor"] = np.where(peak > 0, mean / peak, np.nan)
        dmax, dmin = np.nanmax(xd, axis=2), np.nanmin(xd, axis=2)
        out["min_max_rate"] = _nanmean(np.where(dmax > 0, dmin / dmax, np.nan))
        out["peak_valley_diff_rate"] = _nanmean(np.where(dmax > 0, (dmax - dmin) / dmax, np.nan))
        by_hour = _nanmean(xd.transpose(0, 2, 1), axis=2)  # customers x 24
        total = by_hour.sum(axis=1)
        peak_e, valley_e = by_hour[:, peak_hours].sum(axis=1), by_hour[:, valley_hours].sum(axis=1)
        out["peak_valley_ratio"] = np.where(valley_e > 0, (peak_e / len(peak_hours)) / (valley_e / len(valley_hours)), np.nan)
        flat = xd.reshape(len(out), -1)
        p5 = np.nanpercentile(np.where(has_any[:, None], flat, 0.0), 5, axis=1)
        out["base_load_share"] = np.where(mean > 0, p5 / mean, np.nan)
        out["peak_share"] = np.where(total > 0, peak_e / total, np.nan)
        out["valley_share"] = np.where(total > 0, valley_e / total, np.nan)
        out["night_ratio"] = np.where(total > 0, by_hour[:, 0:6].sum(axis=1) / total, np.nan)
        out["peak_kw"] = peak
        cap = capacity_kva.reindex(out.index).to_numpy(dtype=float)
        out["capacity_utilisation"] = np.where(cap > 0, peak / cap, np.nan)
        out["max_load_utilisation_hours"] = np.where(peak > 0, mean * 8760 / peak, np.nan)
    out.loc[~has_any, :] = np.nan
    return out


def hourly_shape(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Average weekday and weekend 24-hour profiles (kWh per hour) before `as_of`."""
    b, e = m.columns_before(as_of, history_days)
    first_hour = (m.start + b * m.step).hour
    b += (24 - first_hour) % 24
    n_days = max((e - b) // 24, 0)
    if n_days == 0:
        return pd.DataFrame(index=m.customer_ids)
    x = m.values[:, b:b + n_days * 24].reshape(len(m.customer_ids), n_days, 24)
    days = pd.date_range(m.start + b * m.step, periods=n_days, freq="D")
    weekend = np.asarray(days.dayofweek >= 5)
    wd = _nanmean(x[:, ~weekend, :].transpose(0, 2, 1), axis=2)
    we = _nanmean(x[:, weekend, :].transpose(0, 2, 1), axis=2)
    cols = [f"wd_h{h:02d}" for h in range(24)] + [f"we_h{h:02d}" for h in range(24)]
    return pd.DataFrame(np.hstack([wd, we]), index=m.customer_ids, columns=cols)


def daily_shape(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Average daily energy by day of week (7) and by calendar month (12) before `as_of`."""
    b, e = m.columns_before(as_of, history_days)
    days = pd.date_range(m.start + b * m.step, periods=e - b, freq="D")
    x = m.values[:, b:e]
    dow = np.stack([_nanmean(x[:, np.asarray(days.dayofweek == d)]) for d in range(7)], axis=1)
    mon = np.stack([
        _nanmean(x[:, np.asarray(days.month == mo)]) if (days.month == mo).any() else np.full(len(x), np.nan)
        for mo in range(1, 13)
    ], axis=1)
    cols = [f"dow_{d}" for d in range(7)] + [f"month_{mo:02d}" for mo in range(1, 13)]
    return pd.DataFrame(np.hstack([dow, mon]), index=m.customer_ids, columns=cols)
