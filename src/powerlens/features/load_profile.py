"""Load-profile indicators from readings, on dense customers x time matrices.

Readings are pivoted once into a matrix (customers x days, customers x hours); every cut-off is
then a slice of columns strictly before it, so features are point-in-time correct and cheap to
compute for several cut-offs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


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


def to_matrix(readings: pd.DataFrame | pa.Table, customer_ids: pd.Index, step: str,
              value: str = "kwh") -> SeriesMatrix:
    """Pivot long readings (customer_id, ts, `value`) into a dense matrix aligned to `customer_ids`.

    An Arrow table is pivoted batch by batch without a pandas copy (the feature engine's path)."""
    step_td = pd.Timedelta(step)
    if len(readings) == 0:
        return SeriesMatrix(customer_ids, pd.Timestamp("2000-01-01"), step_td,
                            np.full((len(customer_ids), 0), np.nan, dtype=np.float32))
    if isinstance(readings, pa.Table):
        bounds = pc.min_max(readings["ts"])
        first, last = pd.Timestamp(bounds["min"].as_py()), pd.Timestamp(bounds["max"].as_py())
        batches = [(b.column("customer_id"), b.column("ts").to_numpy(), b.column(value).to_numpy())
                   for b in readings.to_batches()]
    else:
        first, last = pd.Timestamp(readings["ts"].min()), pd.Timestamp(readings["ts"].max())
        batches = [(readings["customer_id"], readings["ts"].to_numpy(), readings[value].to_numpy())]
    start = first.floor(step)
    n_cols = int((last - start) // step_td) + 1
    values = np.full((len(customer_ids), n_cols), np.nan, dtype=np.float32)
    flat_values = values.ravel()
    for cid, ts, kwh in batches:
        if len(ts):
            _scatter(flat_values, n_cols, _rows_of(cid, customer_ids), _columns_of(ts, start, step_td),
                     np.asarray(kwh, dtype=np.float32))
    return SeriesMatrix(customer_ids, start, step_td, values)


def _rows_of(cid, customer_ids: pd.Index) -> np.ndarray:
    """Matrix row of each reading's customer (-1 if unknown), mapping dictionary entries, not rows."""
    if isinstance(cid, pa.Array) and pa.types.is_dictionary(cid.type):
        row_of_code = customer_ids.get_indexer(cid.dictionary.to_pandas()).astype(np.int64)
        return row_of_code[cid.indices.to_numpy(zero_copy_only=False).astype(np.intp)]
    if isinstance(cid, pa.Array):
        return customer_ids.get_indexer(cid.to_pandas()).astype(np.int64)
    if isinstance(cid.dtype, pd.CategoricalDtype):
        # row of each category, -1 (unknown customer) also for the missing code -1
        row_of_code = np.r_[-1, customer_ids.get_indexer(cid.cat.categories)].astype(np.int64)
        return row_of_code[cid.cat.codes.to_numpy().astype(np.intp) + 1]
    return customer_ids.get_indexer(cid).astype(np.int64)


def _columns_of(ts: np.ndarray, start: pd.Timestamp, step: pd.Timedelta) -> np.ndarray:
    """Matrix column of each timestamp: integer arithmetic on ticks (timedelta division is slower)."""
    unit = np.datetime_data(ts.dtype)[0]
    col = ts.view(np.int64) - np.int64(start.to_datetime64().astype(f"datetime64[{unit}]").view(np.int64))
    col //= np.int64(step.to_timedelta64().astype(f"timedelta64[{unit}]").view(np.int64))
    return col


def _scatter(flat_values: np.ndarray, n_cols: int, row: np.ndarray, col: np.ndarray, kwh: np.ndarray) -> None:
    """values[row, col] = kwh through flat offsets (2-D fancy indexing is several times slower)."""
    flat = row * n_cols + col
    if (row < 0).any():
        keep = row >= 0
        flat, kwh = flat[keep], kwh[keep]
    flat_values[flat] = kwh


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
        for mo in range(1, 13):  # monthly seasonal indices: the month's daily mean over the look-back's
            in_month = month == mo
            out[f"month_{mo:02d}_index"] = (np.where(mean > 0, _nanmean(x[:, in_month]) / mean, np.nan)
                                            if in_month.any() else np.nan)

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
            # fmax.reduce: NaN (no usable month) without nanmax's all-NaN warning
            out["largest_level_drop"] = np.clip(np.fmax.reduce(np.where(prior_best > 0, drops, np.nan), axis=1), 0, 1)
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
        since_first = np.arange(x.shape[1])[None, :] >= first[:, None]
        out["longest_missing_streak"] = _longest_run(~observed & since_first)
    out["kwh_365d"] = np.where(n_obs > 0, np.nansum(x, axis=1), np.nan)
    return out


# absence and unusual days: behaviour, not level (the London sample: affluent homes are away more often)
USUAL_WINDOW_DAYS = 57     # the usual daily energy of a day: the median of the 57 days centred on it
USUAL_MIN_DAYS = 19        # observed days that median needs
AWAY_BELOW = 0.7           # a day under 70% of its usual energy is a low day
AWAY_MIN_DAYS = 3          # consecutive low days that make a spell away
HIGH_ABOVE = 1.4           # a day over 140% of its usual energy is a high day
MIN_JUDGED_DAYS = 30


def _count_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Per row, the number of maximal runs of True at least `min_len` long (positions where the
    last `min_len` values are True and the one before them is not)."""
    n, d = mask.shape
    if d < min_len:
        return np.zeros(n, dtype=np.int64)
    pad = np.concatenate([np.zeros((n, 1), dtype=bool), mask], axis=1)
    full = np.ones((n, d - min_len + 1), dtype=bool)
    for k in range(min_len):
        full &= pad[:, 1 + k:d - min_len + 2 + k]
    return (full & ~pad[:, :d - min_len + 1]).sum(axis=1)


def absence_features(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Spells away (3+ consecutive days under 70% of the usual daily energy) per year and the
    share of unusually high days (over 140%), from the daily readings of the look-back. A day's
    usual energy is the median of the observed days within 28 days either side of it, inside the
    look-back (readings strictly before `as_of`); a day without a reading ends a spell. NaN with
    fewer than 30 days that could be judged."""
    b, e = m.columns_before(as_of, history_days)
    x = m.values[:, b:e].astype(np.float64)
    out = pd.DataFrame(index=m.customer_ids)
    if x.shape[1] == 0:
        return out.assign(away_spells=np.nan, high_day_share=np.nan)
    # pandas' rolling median skips missing days (days x customers)
    level = pd.DataFrame(x.T).rolling(USUAL_WINDOW_DAYS, center=True, min_periods=USUAL_MIN_DAYS).median().to_numpy().T
    with _quiet():
        judged = ~np.isnan(x) & (level > 0)
        low = judged & (x < AWAY_BELOW * level)
        high = judged & (x > HIGH_ABOVE * level)
    n = judged.sum(axis=1)
    ok = n >= MIN_JUDGED_DAYS
    out["away_spells"] = np.where(ok, _count_runs(low, AWAY_MIN_DAYS) * 365.0 / np.maximum(n, 1), np.nan)
    out["high_day_share"] = np.where(ok, high.sum(axis=1) / np.maximum(n, 1), np.nan)
    return out


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
    weekend = np.asarray(days.dayofweek >= 5)
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


def daily_from_hourly(hourly: SeriesMatrix) -> SeriesMatrix:
    """Daily energy from interval readings: the sum of each complete day (NaN if an hour is missing)."""
    if hourly.values.shape[1] == 0:
        return SeriesMatrix(hourly.customer_ids, hourly.start, pd.Timedelta(days=1), hourly.values[:, :0])
    skip = (24 - hourly.start.hour) % 24  # start at the first midnight
    n_days = (hourly.values.shape[1] - skip) // 24
    x = hourly.values[:, skip:skip + n_days * 24].reshape(len(hourly.customer_ids), n_days, 24)
    return SeriesMatrix(hourly.customer_ids, (hourly.start + pd.Timedelta(hours=skip)).normalize(),
                        pd.Timedelta(days=1), x.sum(axis=2, dtype=np.float32))


def with_daily_from_hourly(daily: SeriesMatrix, hourly: SeriesMatrix) -> SeriesMatrix:
    """Daily readings, where a customer has none, derived from its interval readings: so a source
    with interval data only still gets every daily indicator."""
    derived = daily_from_hourly(hourly)
    need = ~np.isnan(derived.values).all(axis=1)
    if daily.values.shape[1]:
        need &= np.isnan(daily.values).all(axis=1)
    if not need.any():
        return daily
    if daily.values.shape[1] == 0:
        values = np.where(need[:, None], derived.values, np.nan).astype(np.float32)
        return SeriesMatrix(daily.customer_ids, derived.start, daily.step, values)
    start = min(daily.start, derived.start)
    end = max(daily.start + daily.values.shape[1] * daily.step, derived.start + derived.values.shape[1] * daily.step)
    values = np.full((len(daily.customer_ids), int((end - start) / daily.step)), np.nan, dtype=np.float32)
    d0 = int((daily.start - start) / daily.step)
    values[:, d0:d0 + daily.values.shape[1]] = daily.values
    h0 = int((derived.start - start) / daily.step)
    values[need, h0:h0 + derived.values.shape[1]] = derived.values[need]
    return SeriesMatrix(daily.customer_ids, start, daily.step, values)


HEATING_BASE_C = 15.5  # degree-day bases commonly used for buildings
COOLING_BASE_C = 22.0


def weather_features(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int, regions: pd.Series,
                     weather: pd.DataFrame | None) -> pd.DataFrame:
    """Heating and cooling sensitivity: per customer, a least-squares fit of daily kWh on heating and
    cooling degree-days (bases 15.5 and 22 C) over the look-back, as % of the mean daily kWh per
    degree-day. Needs at least 60 days and some spread of each degree-day; NaN without weather."""
    out = pd.DataFrame(index=m.customer_ids, columns=["heating_sensitivity", "cooling_sensitivity"], dtype=float)
    b, e = m.columns_before(as_of, history_days)
    if weather is None or weather.empty or e <= b:
        return out
    days = pd.date_range(m.start + b * m.step, periods=e - b, freq="D")
    temp = temperature_matrix(days, regions.reindex(m.customer_ids), weather)
    y = m.values[:, b:e].astype(np.float64)
    ok = ~np.isnan(y) & ~np.isnan(temp)
    hdd = np.where(ok, np.maximum(HEATING_BASE_C - temp, 0.0), 0.0)
    cdd = np.where(ok, np.maximum(temp - COOLING_BASE_C, 0.0), 0.0)
    y0 = np.where(ok, y, 0.0)
    w = ok.astype(np.float64)
    # normal equations of y = a + h * HDD + c * CDD, batched over customers
    cols = [w, hdd, cdd]
    xtx = np.empty((len(y), 3, 3))
    for i in range(3):
        for j in range(i, 3):
            xtx[:, i, j] = xtx[:, j, i] = (cols[i] * cols[j]).sum(axis=1)
    xty = np.stack([(c * y0).sum(axis=1) for c in cols], axis=1)
    n = w.sum(axis=1)
    with _quiet():
        mean = np.where(n > 0, y0.sum(axis=1) / n, np.nan)
        hdd_var = np.where(n > 0, (hdd ** 2).sum(axis=1) / n - (hdd.sum(axis=1) / n) ** 2, 0.0)
        cdd_var = np.where(n > 0, (cdd ** 2).sum(axis=1) / n - (cdd.sum(axis=1) / n) ** 2, 0.0)
        # drop a degree-day that does not vary (no cold or no hot days): fit it as zero
        xtx[hdd_var < 1.0, 1, :] = 0
        xtx[hdd_var < 1.0, :, 1] = 0
        xtx[hdd_var < 1.0, 1, 1] = 1
        xty[hdd_var < 1.0, 1] = 0
        xtx[cdd_var < 1.0, 2, :] = 0
        xtx[cdd_var < 1.0, :, 2] = 0
        xtx[cdd_var < 1.0, 2, 2] = 1
        xty[cdd_var < 1.0, 2] = 0
        solvable = (n >= 60) & (mean > 0) & (np.abs(np.linalg.det(xtx)) > 1e-9)
        xtx[~solvable] = np.eye(3)
        coef = np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]
        out["heating_sensitivity"] = np.where(solvable & (hdd_var >= 1.0), coef[:, 1] / mean * 100, np.nan)
        out["cooling_sensitivity"] = np.where(solvable & (cdd_var >= 1.0), coef[:, 2] / mean * 100, np.nan)
    return out


def temperature_matrix(days: pd.DatetimeIndex, regions: pd.Series, weather: pd.DataFrame) -> np.ndarray:
    """Customers x days of mean temperature: the customer's region's, else the utility-wide series
    (rows without a region), else NaN."""
    w = weather.assign(region=weather["region"].astype("string").str.lower())
    table = w.pivot_table(index="region", columns="date", values="temperature_mean", dropna=False)
    table = table.reindex(columns=days)
    common = w[w["region"].isna()].set_index("date")["temperature_mean"].reindex(days).to_numpy()
    region = regions.astype("string").str.lower()
    row = pd.Index(table.index).get_indexer(region.fillna("").to_numpy())
    values = np.vstack([table.to_numpy(dtype=float), common[None, :]])
    return values[np.where(row >= 0, row, len(table))]
