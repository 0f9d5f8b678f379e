"""The synthetic utility's consumption: holidays and regional weather, true daily kWh from the
load shapes, what the meters record under theft, and the hourly split of interval meters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.synthetic.config import (
    HOURLY_SHAPE,
    LOAD_SHAPES,
    PEAK_HOURS,
    REGION_TEMP_OFFSET,
    REGIONS,
    TOU_SHIFT,
    VALLEY_HOURS,
    WEEKLY_SHAPE,
)


def _holidays(days: pd.DatetimeIndex) -> np.ndarray:
    """A fixed, plausible holiday calendar: New Year, a spring festival week, May Day,
    national week, Christmas."""
    md = days.month * 100 + days.day
    fixed = np.isin(md, [101, 501, 502, 503, 1001, 1002, 1003, 1004, 1005, 1225, 1226])
    spring = (days.month == 2) & (days.day >= 8) & (days.day <= 14)
    return fixed | spring


def _temperature(days: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Daily mean temperature per region: an annual cycle plus persistent (AR(1)) weather."""
    doy = days.day_of_year.to_numpy()
    base = 13.0 + 11.0 * np.sin(2 * np.pi * (doy - 110) / 365.25)
    out = {}
    for region in REGIONS:
        shocks = rng.normal(0, 1.6, len(days))
        weather = np.empty(len(days))
        acc = 0.0
        for i, s in enumerate(shocks):
            acc = 0.75 * acc + s
            weather[i] = acc
        out[region] = base + REGION_TEMP_OFFSET[region] + weather
    return out


def _true_daily_kwh(
    cust: pd.DataFrame, days: pd.DatetimeIndex, temps: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """True (not metered) daily consumption, customers x days, in kWh."""
    n, d = len(cust), len(days)
    base = cust["capacity_kva"].to_numpy() * 0.9 * 24 * cust["utilisation"].to_numpy()
    dow = days.day_of_week.to_numpy()
    month = days.month.to_numpy()
    holiday = _holidays(days)
    years = (np.arange(d) - d) / 365.25  # <= 0: level is `base` at the end of the window
    shape = cust["load_shape_class"].to_numpy()
    weekly = np.stack([np.asarray(WEEKLY_SHAPE[s])[dow] for s in LOAD_SHAPES])
    shape_idx = pd.Categorical(shape, categories=LOAD_SHAPES).codes
    factor = weekly[shape_idx]  # n x d

    hol_mult = {"evening_peak": 1.12, "double_peak": 1.12, "daytime_weekday": 0.3,
                "flat_multishift": 0.75, "seasonal_agri": 0.9, "night_lighting": 1.0}
    hol = np.array([hol_mult[s] for s in LOAD_SHAPES])[shape_idx]
    factor = np.where(holiday[None, :], factor * hol[:, None], factor)

    agri_season = 0.35 + 1.65 * np.clip(np.sin(np.pi * (month - 3.5) / 7.0), 0, None)  # Apr-Sep
    agri_season = agri_season / agri_season.mean()
    night_len = 1.0 + 0.25 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 355) / 365.25)
    is_agri = shape == "seasonal_agri"
    is_light = shape == "night_lighting"
    factor[is_agri] *= agri_season
    factor[is_light] *= night_len

    region = cust["region"].to_numpy()
    temp = np.stack([temps[r] for r in REGIONS])[pd.Categorical(region, categories=REGIONS).codes]
    hdd = np.clip(15.5 - temp, 0, None)
    cdd = np.clip(temp - 22.0, 0, None)
    weather = 1 + cust["heating_sensitivity"].to_numpy()[:, None] * hdd + cust[
        "cooling_sensitivity"
    ].to_numpy()[:, None] * cdd
    weather[is_light] = 1.0
    weather = weather / weather.mean(axis=1, keepdims=True)

    growth = np.exp(cust["growth_per_year"].to_numpy()[:, None] * years[None, :])
    noise = np.exp(rng.normal(0, 0.12, (n, d)) - 0.0072)
    return (base[:, None] * factor * weather * growth * noise).astype(np.float32)


def _metered(cust: pd.DataFrame, true_kwh: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(what the meters record, customers x days in a theft episode): a tampered meter records
    `theft_factor` of the true consumption."""
    day_idx = np.arange(d)
    in_theft = (day_idx[None, :] >= cust["theft_start_day"].to_numpy()[:, None]) & (
        day_idx[None, :] < cust["theft_end_day"].to_numpy()[:, None]
    )
    metered = np.where(in_theft, true_kwh * cust["theft_factor"].to_numpy()[:, None], true_kwh)
    return metered, in_theft


def _hourly_from_daily(
    daily: np.ndarray, shapes: np.ndarray, tou: np.ndarray, dow: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Split daily kWh into 24 hours by the customer's shape (ToU customers move peak load to
    the valley); returns customers x days x 24."""
    profiles = np.stack([HOURLY_SHAPE[s] for s in shapes])  # n x 24
    shifted = profiles.copy()
    moved = shifted[:, PEAK_HOURS] * TOU_SHIFT
    shifted[:, PEAK_HOURS] -= moved
    shifted[:, VALLEY_HOURS] += moved.sum(axis=1, keepdims=True) / len(VALLEY_HOURS)
    profiles = np.where(tou[:, None], shifted, profiles)
    weekend = dow >= 5
    hourly = np.repeat(profiles[:, None, :], daily.shape[1], axis=1)
    # homes flatten their morning on weekends
    hourly[:, weekend, :] = 0.7 * hourly[:, weekend, :] + 0.3
    hourly *= np.exp(rng.normal(0, 0.15, hourly.shape))
    hourly /= hourly.sum(axis=2, keepdims=True)
    return (hourly * daily[:, :, None]).astype(np.float32)
