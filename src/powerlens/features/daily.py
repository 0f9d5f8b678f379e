"""Daily load-profile indicators: what one energy value per day supports (level, trend, variability,
seasonal and weekly shape, theft signals, absence, weather sensitivity), from a `SeriesMatrix` of
daily kWh, strictly before each cut-off."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.features.series import SeriesMatrix, _longest_run, _nanmean, _quiet


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

        weekend = np.asarray(days.day_of_week >= 5)
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


def daily_shape(m: SeriesMatrix, as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Average daily energy by day of week (7) and by calendar month (12) before `as_of`."""
    b, e = m.columns_before(as_of, history_days)
    days = pd.date_range(m.start + b * m.step, periods=e - b, freq="D")
    x = m.values[:, b:e]
    dow = np.stack([_nanmean(x[:, np.asarray(days.day_of_week == d)]) for d in range(7)], axis=1)
    mon = np.stack([
        _nanmean(x[:, np.asarray(days.month == mo)]) if (days.month == mo).any() else np.full(len(x), np.nan)
        for mo in range(1, 13)
    ], axis=1)
    cols = [f"dow_{d}" for d in range(7)] + [f"month_{mo:02d}" for mo in range(1, 13)]
    return pd.DataFrame(np.hstack([dow, mon]), index=m.customer_ids, columns=cols)


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
