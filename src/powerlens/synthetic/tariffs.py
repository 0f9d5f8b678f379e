"""The synthetic utility's tariff schedule (the canonical `tariffs` table it bills from), the
kWh of a ToU bill in each tariff period, and the customers' response to the price rise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.synthetic.config import (
    CAPACITY_CHARGE,
    ENERGY_PRICE,
    PEAK_HOURS,
    PRICE_ELASTICITY,
    REGION_PRICE_STEP,
    REGIONS,
    TARIFF_RISE,
    TOU_PRICE_FACTOR,
    VALLEY_HOURS,
    VOLTAGE_PRICE_FACTOR,
    SyntheticConfig,
)

PERIODS = ("peak", "flat", "valley")


def tariff_table(cfg: SyntheticConfig) -> pd.DataFrame:
    """Every class x region x voltage band x scheme x period, at the window's start and again,
    TARIFF_RISE higher, from the revision halfway through it."""
    rows = []
    for valid_from, level in ((cfg.start_ts, 1.0), (cfg.tariff_revision_ts, 1.0 + TARIFF_RISE)):
        for cls, base in ENERGY_PRICE.items():
            for r_i, region in enumerate(REGIONS):
                for voltage, v_factor in VOLTAGE_PRICE_FACTOR.items():
                    flat = base * (1 + REGION_PRICE_STEP * r_i) * v_factor * level
                    key = {"customer_class": cls, "region": region, "voltage_kv_min": voltage,
                           "capacity_charge_per_kva_month": CAPACITY_CHARGE, "valid_from": valid_from}
                    rows.append({**key, "scheme": "flat", "period": "flat", "price_per_kwh": round(flat, 4)})
                    for period, factor in TOU_PRICE_FACTOR.items():
                        rows.append({**key, "scheme": "tou", "period": period,
                                     "price_per_kwh": round(flat * factor, 4)})
    return pd.DataFrame(rows)


def period_shares(hourly: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(2 x 3): the share of a weekday's and a weekend day's kWh in the peak, flat and valley
    hours, from the (weekday, weekend) hourly shares."""
    peak = np.zeros(24, dtype=bool)
    peak[PEAK_HOURS] = True
    valley = np.zeros(24, dtype=bool)
    valley[VALLEY_HOURS] = True
    flat = ~(peak | valley)
    return np.array([[h[peak].sum(), h[flat].sum(), h[valley].sum()] for h in hourly])


def price_response(cfg: SyntheticConfig, cust: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """customers x days: 1 before the tariff revision, 1 - elasticity x price sensitivity x rise
    from it on."""
    after = np.asarray(days >= cfg.tariff_revision_ts)
    cut = PRICE_ELASTICITY * cust["price_sensitivity"].to_numpy() * TARIFF_RISE
    return np.where(after[None, :], (1 - cut).astype(np.float32)[:, None], np.float32(1.0))
