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
    cust: pd.DataFrame, days: pd.DatetimeIndex, temps: dict[str, np.ndarray], rng: np.random.Generator,
    customers_per_partition: int = 5000,
) -> np.ndarray:
    """True (not metered) daily consumption, customers x days, in kWh (float32). Computed for
    `customers_per_partition` customers at a time (the float64 intermediates are bounded by it);
    the noise is drawn partition after partition from one stream, so the numbers do not depend
    on the partition size."""
    n, d = len(cust), len(days)
    base = cust["capacity_kva"].to_numpy() * 0.9 * 24 * cust["utilisation"].to_numpy()
    dow = days.day_of_week.to_numpy()
    month = days.month.to_numpy()
    holiday = _holidays(days)
    years = (np.arange(d) - d) / 365.25  # <= 0: level is `base` at the end of the window
    shape = cust["load_shape_class"].to_numpy()
    weekly = np.stack([np.asarray(WEEKLY_SHAPE[s])[dow] for s in LOAD_SHAPES])
    shape_idx = pd.Categorical(shape, categories=LOAD_SHAPES).codes

    hol_mult = {"evening_peak": 1.12, "double_peak": 1.12, "daytime_weekday": 0.3,
                "flat_multishift": 0.75, "seasonal_agri": 0.9, "night_lighting": 1.0}
    hol = np.array([hol_mult[s] for s in LOAD_SHAPES])[shape_idx]

    agri_season = 0.35 + 1.65 * np.clip(np.sin(np.pi * (month - 3.5) / 7.0), 0, None)  # Apr-Sep
    agri_season = agri_season / agri_season.mean()
    night_len = 1.0 + 0.25 * np.cos(2 * np.pi * (days.day_of_year.to_numpy() - 355) / 365.25)
    is_agri = shape == "seasonal_agri"
    is_light = shape == "night_lighting"
    temp_by_region = np.stack([temps[r] for r in REGIONS])
    region_idx = pd.Categorical(cust["region"].to_numpy(), categories=REGIONS).codes
    heating = cust["heating_sensitivity"].to_numpy()
    cooling = cust["cooling_sensitivity"].to_numpy()
    growth_rate = cust["growth_per_year"].to_numpy()

    out = np.empty((n, d), dtype=np.float32)
    for lo in range(0, n, max(int(customers_per_partition), 1)):
        part = slice(lo, min(lo + int(customers_per_partition), n))
        factor = weekly[shape_idx[part]]  # customers x days
        factor = np.where(holiday[None, :], factor * hol[part, None], factor)
        factor[is_agri[part]] *= agri_season
        factor[is_light[part]] *= night_len

        temp = temp_by_region[region_idx[part]]
        hdd = np.clip(15.5 - temp, 0, None)
        cdd = np.clip(temp - 22.0, 0, None)
        weather = 1 + heating[part, None] * hdd + cooling[part, None] * cdd
        weather[is_light[part]] = 1.0
        weather = weather / weather.mean(axis=1, keepdims=True)

        growth = np.exp(growth_rate[part, None] * years[None, :])
        noise = np.exp(rng.normal(0, 0.12, (len(factor), d)) - 0.0072)
        out[part] = base[part, None] * factor * weather * growth * noise
    return out


def _metered(cust: pd.DataFrame, true_kwh: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    """(what the meters record, customers x days in a theft episode): a tampered meter records
    `theft_factor` of the true consumption. Only the thieves' rows are recomputed (the others'
    meters record the truth), so no customers x days float64 temporary is made."""
    day_idx = np.arange(d)
    in_theft = (day_idx[None, :] >= cust["theft_start_day"].to_numpy()[:, None]) & (
        day_idx[None, :] < cust["theft_end_day"].to_numpy()[:, None]
    )
    metered = true_kwh.astype(np.float64)
    thieves = np.flatnonzero(in_theft.any(axis=1))
    factor = cust["theft_factor"].to_numpy()[thieves]
    metered[thieves] = np.where(in_theft[thieves], true_kwh[thieves] * factor[:, None], true_kwh[thieves])
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
