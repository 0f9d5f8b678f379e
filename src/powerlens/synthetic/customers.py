"""The synthetic utility's customers: class, region and load shape, connection and tariffs,
usage and growth, latent credit class, tenure and theft episodes; and their fake identities.

Every step draws from the one generator in a fixed order: the draws, and so the utility, are
the same for a given seed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.synthetic.config import (
    CAPACITY,
    CLASS_MIX,
    FIRST_NAMES,
    HOURLY_SHAPE,
    INDUSTRIES,
    LAST_NAMES,
    REGIONS,
    SHAPE_BY_CLASS,
    STREETS,
    UTILISATION,
    SyntheticConfig,
)

# a latent big customer is a fast grower whose connection would need a big customer's capacity
# (BIG_KVA, the default rule of params.yaml segment.big_customer) within LATENT_HORIZON_YEARS,
# capacity scaling with consumption: capacity_kva x exp(growth x years) >= BIG_KVA
BIG_KVA = 315
LATENT_HORIZON_YEARS = 3
# over-contract use: a share of small commercial and industrial accounts draw more than they
# contracted (their typical peak hour at OVER_CONTRACT_PEAK_RATIO x contracted kVA, see _over_contract)
OVER_CONTRACT_SHARE = 0.02
OVER_CONTRACT_MAX_KVA = 100
OVER_CONTRACT_PEAK_RATIO = (0.55, 0.6)


def _pick(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _customers(cfg: SyntheticConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.customers
    cls = _pick(rng, CLASS_MIX, n)
    df = _segments(cls, rng)
    kva = _capacity(cls, rng)
    _connection(df, cfg, cls, kva, rng)
    _usage(df, cls, kva, rng)
    _over_contract(df, cfg, cls, kva)
    _credit(df, cfg, rng)
    _tenure(df, cfg, rng)
    _theft(df, cfg, cls, rng)
    return df


def _segments(cls: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Class, region, industry and load-shape class (street lighting lights at night, other
    public accounts do not)."""
    n = len(cls)
    df = pd.DataFrame({"customer_class": cls})
    df["region"] = rng.choice(REGIONS, size=n, p=[0.35, 0.2, 0.25, 0.2])
    df["industry"] = [INDUSTRIES[c][rng.integers(len(INDUSTRIES[c]))] for c in cls]
    shape = np.empty(n, dtype=object)
    for c, mix in SHAPE_BY_CLASS.items():
        idx = np.flatnonzero(cls == c)
        shape[idx] = _pick(rng, mix, len(idx))
    street_lighting = df["industry"].eq("street_lighting").to_numpy()
    shape[street_lighting] = "night_lighting"
    shape[(cls == "public") & ~street_lighting & (shape == "night_lighting")] = "daytime_weekday"
    df["load_shape_class"] = shape
    return df


def _capacity(cls: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Contracted capacity (kVA): a few standard sizes for homes, log-normal for the others."""
    n = len(cls)
    kva = np.empty(n)
    res = cls == "residential"
    kva[res] = rng.choice([4, 6, 8, 10, 12], size=res.sum(), p=[0.15, 0.3, 0.3, 0.15, 0.1])
    for c, spec in CAPACITY.items():
        if spec is None:
            continue
        idx = np.flatnonzero(cls == c)
        med, sd, lo, hi = spec
        raw = np.exp(np.log(med) + sd * rng.standard_normal(len(idx)))
        kva[idx] = np.clip(np.round(raw / 5) * 5, lo, hi)
    return kva


def _connection(df: pd.DataFrame, cfg: SyntheticConfig, cls: np.ndarray, kva: np.ndarray,
                rng: np.random.Generator) -> None:
    """Capacity, voltage, tariffs, prepaid and interval meters."""
    n = len(cls)
    res = cls == "residential"
    df["capacity_kva"] = kva
    df["voltage_kv"] = np.select(
        [res, kva < 100, kva < 3150, kva < 20000], [0.22, 0.4, 10.0, 35.0], default=110.0
    )
    df["two_part_tariff"] = kva >= 315
    df["tou_tariff"] = np.where(res, rng.random(n) < 0.25, (rng.random(n) < 0.55) | (kva >= 315))
    df["prepaid_meter"] = np.where(res, rng.random(n) < 0.15, rng.random(n) < 0.04)
    # interval (smart) meters: every non-residential account, a share of homes. The other homes
    # export daily reads only: their hourly shape class is in the truth but not in their data, so
    # segmentation gives them a daily shape family (season, week) rather than an intraday guess. A
    # larger share is more realistic where smart meters are rolled out, but it multiplies the hourly
    # rows (measured: 0.8 instead of 0.1 took generate+validate+features from 27 s to 67 s at
    # 2,500 customers), so the default stays small.
    df["interval_metered"] = (~res) | (rng.random(n) < cfg.interval_metered_residential_share)


def _usage(df: pd.DataFrame, cls: np.ndarray, kva: np.ndarray, rng: np.random.Generator) -> None:
    """Utilisation, growth (and the latent big customers), weather and price sensitivity."""
    n = len(cls)
    res = cls == "residential"
    lo = np.array([UTILISATION[c][0] for c in cls])
    hi = np.array([UTILISATION[c][1] for c in cls])
    df["utilisation"] = lo + (hi - lo) * rng.random(n)
    # growth: most customers drift; latent big customers are small/medium ones growing fast
    growth = rng.normal(0.0, 0.04, n)
    eligible = np.isin(cls, ["commercial", "general_industrial", "agricultural", "public"]) & (kva < 315)
    latent = eligible & (rng.random(n) < 0.12)
    growth[latent] = rng.uniform(0.25, 0.55, latent.sum())
    # `latent_big` drives the simulation (fast growth, capacity increase requests); the truth's
    # latent big customers are those of them that would need a big connection within the horizon
    df["latent_big"] = latent
    df["growth_per_year"] = growth
    df["becomes_big"] = latent & (kva * np.exp(growth * LATENT_HORIZON_YEARS) >= BIG_KVA)
    if latent.any():  # they grow into their connection: start from a well-used capacity
        df.loc[latent, "utilisation"] = np.maximum(df.loc[latent, "utilisation"], hi[latent] * 0.9)

    df["heating_sensitivity"] = np.where(res, rng.uniform(0.01, 0.05, n), rng.uniform(0.0, 0.02, n))
    df["cooling_sensitivity"] = np.where(res, rng.uniform(0.02, 0.07, n), rng.uniform(0.01, 0.05, n))
    df["price_sensitivity"] = rng.beta(2, 5, n)


def _over_contract(df: pd.DataFrame, cfg: SyntheticConfig, cls: np.ndarray, kva: np.ndarray) -> None:
    """Over-contract use: a few small commercial and industrial accounts (not fast growers)
    whose measured peak demand exceeds the contracted capacity. Their own random stream, so the
    rest of the utility is drawn as before; the first account is never one (the regional
    growth event copies it)."""
    rng = np.random.default_rng([cfg.seed, 7])
    n = len(cls)
    candidates = np.flatnonzero(np.isin(cls, ["commercial", "general_industrial"]) & (kva <= OVER_CONTRACT_MAX_KVA)
                                & ~df["latent_big"].to_numpy())
    candidates = candidates[candidates > 0]
    k = min(len(candidates), max(2, int(round(OVER_CONTRACT_SHARE * len(candidates)))))
    chosen = np.sort(rng.choice(candidates, size=k, replace=False)) if k else np.array([], dtype=int)
    over = np.zeros(n, dtype=bool)
    over[chosen] = True
    df["over_contract"] = over
    # daily kWh = kVA x 0.9 x 24 x utilisation (consumption._true_daily_kwh); the shape's peak hour
    # is its largest hourly factor times the mean hour: utilisation for a typical peak of ratio x kVA.
    # Weather, weekdays and noise put the year's highest hour some 1.9-2.5 times above it: over the
    # contract, within validate's plausibility margin (1.5 x capacity)
    peak_factor = np.array([HOURLY_SHAPE[s].max() for s in df["load_shape_class"].to_numpy()[chosen]])
    ratio = rng.uniform(*OVER_CONTRACT_PEAK_RATIO, k)
    df.loc[chosen, "utilisation"] = ratio / (0.9 * peak_factor)


def _credit(df: pd.DataFrame, cfg: SyntheticConfig, rng: np.random.Generator) -> None:
    """The latent credit class, and the onset and length of a distress episode."""
    n = len(df)
    credit = _pick(rng, {"good": 0.78, "late": 0.15, "distressed": 0.07}, n)
    credit[df["prepaid_meter"].to_numpy()] = "good"
    df["credit_class"] = credit
    df["distress_onset_month"] = np.where(
        credit == "distressed", rng.integers(6, max(cfg.months - 3, 7), n), -1
    )
    # a distress episode lasts 2-7 months, then the account pays again (its own stream, so the
    # rest of the utility is drawn as before)
    df["distress_months"] = np.where(
        credit == "distressed", np.random.default_rng([cfg.seed, 5]).integers(2, 8, n), 0
    )


def _tenure(df: pd.DataFrame, cfg: SyntheticConfig, rng: np.random.Generator) -> None:
    """Start dates: most accounts are years old, some open during the window."""
    n = len(df)
    start = cfg.start_ts
    new = rng.random(n) < 0.12
    offset_days = np.where(
        new,
        rng.integers(0, (cfg.end_ts - start).days - 120, n),
        -rng.integers(30, 25 * 365, n),
    )
    df["start_date"] = start + pd.to_timedelta(offset_days, unit="D")


def _theft(df: pd.DataFrame, cfg: SyntheticConfig, cls: np.ndarray, rng: np.random.Generator) -> None:
    """Theft: a few percent of accounts tamper with their meter for a while."""
    n = len(cls)
    res = cls == "residential"
    start = cfg.start_ts
    p_theft = np.where(res, 0.03, 0.05)
    theft = rng.random(n) < p_theft
    n_days = (cfg.end_ts - start).days
    theft_start = rng.integers(int(n_days * 0.25), n_days - 30, n)
    theft_len = rng.integers(90, 540, n)
    df["theft"] = theft
    df["theft_start_day"] = np.where(theft, theft_start, -1)
    df["theft_end_day"] = np.where(theft, np.minimum(theft_start + theft_len, n_days), -1)
    df["theft_factor"] = np.where(theft, np.where(rng.random(n) < 0.25, 0.0, rng.uniform(0.2, 0.55, n)), 1.0)


def _fake_identity(rng: np.random.Generator, n: int, regions: np.ndarray) -> pd.DataFrame:
    account = rng.choice(10**9, size=n, replace=False) + 2 * 10**9
    meter = rng.choice(10**9, size=n, replace=False) + 6 * 10**9
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    return pd.DataFrame(
        {
            "account_no": [f"AC{a}" for a in account],
            "meter_no": [f"MT{m}" for m in meter],
            "customer_name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
            "address": [
                f"{rng.integers(1, 400)} {rng.choice(STREETS)} Road, {r.title()} District"
                for r in regions
            ],
            "phone": [f"13{rng.integers(0, 10**9):09d}" for _ in range(n)],
        }
    )
