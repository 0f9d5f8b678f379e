"""New-load steps: persistent, sharp shifts of a region's weather-normalized level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.regional.base import HOURS_PER_DAY, STEP_COLUMNS, TOTAL, RegionalParams
from powerlens.regional.weather import least_squares, weather_design


def _normalized_daily_kw(d: pd.DataFrame, steps: list[pd.Timestamp]) -> np.ndarray:
    """Daily mean load (kW) of one region's complete days at the history's mean weather and
    without the day-of-week effect, from a whole-history regression with a level dummy per
    known step."""
    hdd, cdd = d["hdd"].to_numpy(), d["cdd"].to_numpy()
    dates = d["date"].to_numpy()
    extra = np.column_stack([(dates >= np.datetime64(s)).astype(float) for s in steps]) if steps else None
    x = weather_design(d["date"], hdd, cdd, extra)
    y = d["energy_kwh"].to_numpy(dtype=float)
    coef = least_squares(x, y)
    weather = coef[1] * (hdd - hdd.mean()) + coef[2] * (cdd - cdd.mean())
    dow = x[:, 3:9] @ coef[3:9]
    return (y - weather - (dow - dow.mean())) / HOURS_PER_DAY


def _find_steps(d: pd.DataFrame, deweek: np.ndarray, params: RegionalParams) -> list[dict]:
    """Steps in one region's weekly normalized load (see the module docstring)."""
    if not len(d):
        return []
    dates = pd.DatetimeIndex(d["date"])
    origin = dates[0] - pd.Timedelta(days=int(dates[0].dayofweek))
    week = ((dates - origin).days // 7).to_numpy()
    n_weeks = int(week.max()) + 1
    counts = np.bincount(week, minlength=n_weeks)
    sums = np.bincount(week, weights=deweek, minlength=n_weeks)
    weekly = np.where(counts >= 4, sums / np.maximum(counts, 1), np.nan)
    day_index = (dates - origin).days.to_numpy()
    by_day = np.full(n_weeks * 7, np.nan)
    by_day[day_index] = deweek
    valid = weekly[~np.isnan(weekly)]
    diffs = np.diff(valid)
    # the week-to-week noise of the level (robust: a step is one difference among many)
    noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / np.sqrt(2) if len(diffs) > 4 else 0.0
    k, found = params.step_window_weeks, []
    for b in range(1, n_weeks):
        before, after = weekly[max(0, b - k):b], weekly[b:b + k]
        before, after = before[~np.isnan(before)], after[~np.isnan(after)]
        if len(before) < params.step_min_weeks or len(after) < params.step_min_weeks:
            continue
        level0, level1 = float(np.median(before)), float(np.median(after))
        if level0 <= 0:
            continue
        shift = level1 - level0
        if abs(shift) < max(params.step_min_share * level0, params.step_min_noise_ratio * noise):
            continue
        # persistence: the weeks after lie beyond the midpoint, the weeks before on the other side,
        # one week on each side excepted (a holiday week, a short shutdown)
        mid = level0 + shift / 2
        sign = 1.0 if shift > 0 else -1.0
        up = shift > 0
        if (sign * (after - mid) <= 0).sum() > 1 or (sign * (before - mid) >= 0).sum() > 1:
            continue
        # the step day: the largest 7-day jump of the de-weeked daily load near the boundary
        best_day, best_jump = None, 0.0
        for day in range((b - 1) * 7, min((b + 1) * 7, n_weeks * 7)):
            lo, hi = by_day[max(0, day - 7):day], by_day[day:day + 7]
            if np.isnan(lo).sum() > 3 or np.isnan(hi).sum() > 3 or day < 7:
                continue
            jump = float(np.nanmean(hi) - np.nanmean(lo))
            if (jump if up else -jump) > (best_jump if up else -best_jump):
                best_day, best_jump = day, jump
        if best_day is None or abs(best_jump) < params.step_sharpness * abs(shift):
            continue
        found.append({"date": origin + pd.Timedelta(days=best_day), "level_before_kw": level0,
                      "level_after_kw": level1, "step_kw": shift, "step_share": shift / level0,
                      "weeks_after": int(len(after)), "b": b,
                      "noise_ratio": abs(shift) / noise if noise > 0 else np.inf})
    # one step per event: of candidates closer than the window, the largest shift
    kept: list[dict] = []
    for cand in sorted(found, key=lambda c: -abs(c["step_kw"])):
        if all(abs(cand["b"] - other["b"]) >= k for other in kept):
            kept.append(cand)
    return sorted(kept, key=lambda c: c["date"])


def detect_steps(days: pd.DataFrame, params: RegionalParams) -> pd.DataFrame:
    """New-load events per region (not `total`): region, date (the step's first day), the level
    before and after (kW at the history's mean weather, medians of the weekly means), step_kw,
    step_share and the weeks after it that were compared. Two passes: the steps found in the
    first are level dummies of the second's regression, so that a step does not bend the
    weather coefficients."""
    rows = []
    for region, d in days[days["complete"] & (days["region"] != TOTAL)].groupby("region", sort=True):
        d = d.sort_values("date").reset_index(drop=True)
        if len(d) < 2 * 7 * params.step_min_weeks:
            continue
        first = _find_steps(d, _normalized_daily_kw(d, []), params)
        if first:
            first = _find_steps(d, _normalized_daily_kw(d, [s["date"] for s in first]), params)
        rows += [{"region": region, **{k: v for k, v in s.items() if k != "b"}} for s in first]
    steps = pd.DataFrame(rows, columns=STEP_COLUMNS)
    steps["date"] = pd.to_datetime(steps["date"]).astype("datetime64[us]")
    return steps.astype({"weeks_after": int})
