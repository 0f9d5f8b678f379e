"""The embedded synthetic utility: a seeded, deterministic stand-in for a real utility's exports.

It writes what a customer information system and a metering head-end would export, *with*
direct identifiers (names, addresses, phones, account and meter numbers), so that the import
step has something to anonymize. The generator's ground truth (latent credit class, theft
episodes, load-shape class, latent-big flag...) goes to a separate file that models never read
and that tests use to check that the signal is recoverable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CLASS_MIX = {
    "residential": 0.85,
    "commercial": 0.08,
    "general_industrial": 0.045,
    "large_industrial": 0.004,
    "agricultural": 0.011,
    "public": 0.01,
}
REGIONS = ["riverside", "hillcrest", "lakeshore", "eastport"]
REGION_TEMP_OFFSET = {"riverside": 1.5, "hillcrest": -2.5, "lakeshore": 0.0, "eastport": 3.0}
INDUSTRIES = {
    "residential": ["household"],
    "commercial": ["retail", "hospitality", "offices", "logistics"],
    "general_industrial": ["manufacturing", "food_processing", "textiles", "plastics"],
    "large_industrial": ["metals", "chemicals", "cement", "paper"],
    "agricultural": ["irrigation", "greenhouse", "livestock"],
    "public": ["schools", "hospitals", "government", "street_lighting"],
}
# (median kVA, log-sd, min, max) of contracted capacity
CAPACITY = {
    "residential": None,
    "commercial": (60, 0.9, 10, 1250),
    "general_industrial": (180, 0.9, 30, 2500),
    "large_industrial": (1250, 0.5, 630, 20000),
    "agricultural": (50, 0.7, 10, 630),
    "public": (100, 0.9, 10, 1600),
}
# mean load as a share of contracted capacity (low, high)
UTILISATION = {
    "residential": (0.08, 0.20),
    "commercial": (0.06, 0.16),
    "general_industrial": (0.10, 0.25),
    "large_industrial": (0.25, 0.45),
    "agricultural": (0.08, 0.22),
    "public": (0.10, 0.28),
}
ENERGY_PRICE = {  # per kWh
    "residential": 0.62,
    "commercial": 0.78,
    "general_industrial": 0.68,
    "large_industrial": 0.62,
    "agricultural": 0.45,
    "public": 0.60,
}
CAPACITY_CHARGE = 28.0  # per kVA and month, two-part tariff only

SHAPE_BY_CLASS = {
    "residential": {"evening_peak": 0.7, "double_peak": 0.3},
    "commercial": {"daytime_weekday": 1.0},
    "general_industrial": {"daytime_weekday": 0.55, "flat_multishift": 0.45},
    "large_industrial": {"flat_multishift": 1.0},
    "agricultural": {"seasonal_agri": 1.0},
    "public": {"daytime_weekday": 0.6, "night_lighting": 0.4},
}
LOAD_SHAPES = [
    "evening_peak",
    "double_peak",
    "daytime_weekday",
    "flat_multishift",
    "seasonal_agri",
    "night_lighting",
]


def _hourly_profile(points: dict[int, float]) -> np.ndarray:
    """A 24-hour shape, linearly interpolated between anchor hours, normalised to mean 1."""
    hours = sorted(points)
    values = [points[h] for h in hours]
    profile = np.interp(np.arange(24), hours + [hours[0] + 24], values + [values[0]], period=24)
    return profile / profile.mean()


HOURLY_SHAPE = {
    "evening_peak": _hourly_profile({0: 0.45, 4: 0.35, 7: 0.8, 9: 0.65, 13: 0.6, 17: 1.2, 19: 2.0, 21: 1.7, 23: 0.8}),
    "double_peak": _hourly_profile({0: 0.4, 4: 0.35, 7: 1.6, 9: 1.1, 12: 0.55, 16: 0.7, 19: 1.6, 21: 1.2, 23: 0.6}),
    "daytime_weekday": _hourly_profile({0: 0.25, 6: 0.3, 8: 1.4, 10: 1.9, 13: 1.8, 17: 1.7, 19: 0.7, 22: 0.3}),
    "flat_multishift": _hourly_profile({0: 0.92, 6: 0.88, 8: 1.05, 14: 1.06, 16: 0.97, 22: 1.02}),
    "seasonal_agri": _hourly_profile({0: 0.35, 5: 0.4, 7: 1.5, 12: 1.7, 17: 1.5, 19: 0.6, 22: 0.35}),
    "night_lighting": _hourly_profile({0: 2.0, 5: 1.9, 7: 0.05, 12: 0.04, 17: 0.08, 19: 2.0, 23: 2.0}),
}
# Monday..Sunday multipliers
WEEKLY_SHAPE = {
    "evening_peak": [0.97, 0.97, 0.97, 0.98, 1.0, 1.08, 1.1],
    "double_peak": [0.97, 0.97, 0.97, 0.97, 1.0, 1.1, 1.12],
    "daytime_weekday": [1.12, 1.14, 1.14, 1.14, 1.1, 0.55, 0.35],
    "flat_multishift": [1.01, 1.01, 1.01, 1.01, 1.01, 0.98, 0.96],
    "seasonal_agri": [1.0] * 7,
    "night_lighting": [1.0] * 7,
}
# how much load moves from peak to valley hours for time-of-use customers
TOU_SHIFT = 0.18
PEAK_HOURS = [8, 9, 10, 11, 17, 18, 19, 20]
VALLEY_HOURS = [0, 1, 2, 3, 4, 5, 6, 23]

FIRST_NAMES = ["Wei", "Li", "Min", "Jing", "Hao", "Lei", "Yan", "Ming", "Anna", "James", "Maria",
               "David", "Sofia", "Omar", "Priya", "Chen", "Yusuf", "Elena", "Ravi", "Grace"]
LAST_NAMES = ["Wang", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Smith", "Garcia",
              "Novak", "Okafor", "Kumar", "Haddad", "Schmidt", "Rossi", "Tanaka"]
STREETS = ["Harbour", "Station", "Orchard", "Willow", "Mill", "Granite", "Canal", "Cedar"]


@dataclass(frozen=True)
class SyntheticConfig:
    customers: int = 10_000
    months: int = 36
    seed: int = 42
    end: str = "2026-11-01"
    interval_metered_residential_share: float = 0.10

    @property
    def end_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.end).normalize()

    @property
    def start_ts(self) -> pd.Timestamp:
        return self.end_ts - pd.DateOffset(months=self.months)


def _holidays(days: pd.DatetimeIndex) -> np.ndarray:
    """A fixed, plausible holiday calendar: New Year, a spring festival week, May Day,
    national week, Christmas."""
    md = days.month * 100 + days.day
    fixed = np.isin(md, [101, 501, 502, 503, 1001, 1002, 1003, 1004, 1005, 1225, 1226])
    spring = (days.month == 2) & (days.day >= 8) & (days.day <= 14)
    return fixed | spring


def _temperature(days: pd.DatetimeIndex, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Daily mean temperature per region: an annual cycle plus persistent (AR(1)) weather."""
    doy = days.dayofyear.to_numpy()
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


def _pick(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    keys = list(options)
    p = np.array([options[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _customers(cfg: SyntheticConfig, rng: np.random.Generator) -> pd.DataFrame:
    n = cfg.customers
    cls = _pick(rng, CLASS_MIX, n)
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

    lo = np.array([UTILISATION[c][0] for c in cls])
    hi = np.array([UTILISATION[c][1] for c in cls])
    df["utilisation"] = lo + (hi - lo) * rng.random(n)
    # growth: most customers drift; latent big customers are small/medium ones growing fast
    growth = rng.normal(0.0, 0.04, n)
    eligible = np.isin(cls, ["commercial", "general_industrial", "agricultural", "public"]) & (kva < 315)
    latent = eligible & (rng.random(n) < 0.12)
    growth[latent] = rng.uniform(0.25, 0.55, latent.sum())
    df["latent_big"] = latent
    df["growth_per_year"] = growth
    if latent.any():  # they grow into their connection: start from a well-used capacity
        df.loc[latent, "utilisation"] = np.maximum(df.loc[latent, "utilisation"], hi[latent] * 0.9)

    df["heating_sensitivity"] = np.where(res, rng.uniform(0.01, 0.05, n), rng.uniform(0.0, 0.02, n))
    df["cooling_sensitivity"] = np.where(res, rng.uniform(0.02, 0.07, n), rng.uniform(0.01, 0.05, n))
    df["price_sensitivity"] = rng.beta(2, 5, n)
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

    start = cfg.start_ts
    new = rng.random(n) < 0.12
    offset_days = np.where(
        new,
        rng.integers(0, (cfg.end_ts - start).days - 120, n),
        -rng.integers(30, 25 * 365, n),
    )
    df["start_date"] = start + pd.to_timedelta(offset_days, unit="D")

    # theft: a few percent of accounts tamper with their meter for a while
    p_theft = np.where(res, 0.03, 0.05)
    theft = rng.random(n) < p_theft
    n_days = (cfg.end_ts - start).days
    theft_start = rng.integers(int(n_days * 0.25), n_days - 30, n)
    theft_len = rng.integers(90, 540, n)
    df["theft"] = theft
    df["theft_start_day"] = np.where(theft, theft_start, -1)
    df["theft_end_day"] = np.where(theft, np.minimum(theft_start + theft_len, n_days), -1)
    df["theft_factor"] = np.where(theft, np.where(rng.random(n) < 0.25, 0.0, rng.uniform(0.2, 0.55, n)), 1.0)
    return df


def _true_daily_kwh(
    cust: pd.DataFrame, days: pd.DatetimeIndex, temps: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """True (not metered) daily consumption, customers x days, in kWh."""
    n, d = len(cust), len(days)
    base = cust["capacity_kva"].to_numpy() * 0.9 * 24 * cust["utilisation"].to_numpy()
    dow = days.dayofweek.to_numpy()
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
    night_len = 1.0 + 0.25 * np.cos(2 * np.pi * (days.dayofyear.to_numpy() - 355) / 365.25)
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


def generate(cfg: SyntheticConfig, out: str | Path, progress=None) -> dict:
    """Write the raw export of a synthetic utility into `out`; returns row counts."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    step = progress or (lambda msg: None)

    step("customers")
    cust = _customers(cfg, rng)
    days = pd.date_range(cfg.start_ts, cfg.end_ts - pd.Timedelta(days=1), freq="D")
    n, d = len(cust), len(days)
    temps = _temperature(days, rng)

    step("consumption")
    true_kwh = _true_daily_kwh(cust, days, temps, rng)
    day_idx = np.arange(d)
    in_theft = (day_idx[None, :] >= cust["theft_start_day"].to_numpy()[:, None]) & (
        day_idx[None, :] < cust["theft_end_day"].to_numpy()[:, None]
    )
    metered = np.where(in_theft, true_kwh * cust["theft_factor"].to_numpy()[:, None], true_kwh)

    step("bills, payments, service events, churn")
    bills, payments, events, end_day = _monthly_simulation(cfg, cust, days, metered, in_theft, rng)

    start_day = (cust["start_date"] - cfg.start_ts).dt.days.to_numpy()
    active = (day_idx[None, :] >= start_day[:, None]) & (day_idx[None, :] < end_day[:, None])
    cust["end_date"] = pd.to_datetime(
        np.where(end_day < d, (cfg.start_ts + pd.to_timedelta(np.minimum(end_day, d), unit="D")), pd.NaT)
    )

    ident = _fake_identity(rng, n, cust["region"].to_numpy())
    step("readings")
    meters = pd.Categorical(ident["meter_no"])
    ci, di = np.nonzero(active)
    daily = pd.DataFrame(
        {
            "meter_no": meters[ci],
            "reading_date": days[di],
            "kwh": np.round(metered[ci, di], 3),
        }
    )
    daily.to_parquet(out / "readings_daily.parquet", index=False)

    interval = np.flatnonzero(cust["interval_metered"].to_numpy())
    last_year = np.arange(max(d - 365, 0), d)
    hourly = _hourly_from_daily(
        metered[np.ix_(interval, last_year)],
        cust["load_shape_class"].to_numpy()[interval],
        cust["tou_tariff"].to_numpy()[interval],
        days.dayofweek.to_numpy()[last_year],
        rng,
    )
    act = active[np.ix_(interval, last_year)]
    hi, hd = np.nonzero(act)
    h_kwh = hourly[hi, hd, :].reshape(-1)
    h_ts = (days[last_year][hd].values[:, None] + np.arange(24)[None, :] * np.timedelta64(1, "h")).reshape(-1)
    hourly_df = pd.DataFrame(
        {
            "meter_no": meters[np.repeat(interval[hi], 24)],
            "reading_ts": h_ts,
            "kwh": np.round(h_kwh, 4),
        }
    )
    hourly_df.to_parquet(out / "readings_hourly.parquet", index=False)

    step("customer master, truth")
    master = pd.concat([ident, cust[[
        "customer_class", "region", "industry", "voltage_kv", "capacity_kva", "two_part_tariff",
        "tou_tariff", "prepaid_meter", "interval_metered", "start_date", "end_date",
    ]]], axis=1)
    master["start_date"] = master["start_date"].dt.strftime("%Y-%m-%d")
    master["end_date"] = master["end_date"].dt.strftime("%Y-%m-%d")
    master.to_csv(out / "customers.csv", index=False)

    acct = ident["account_no"].to_numpy()
    bills.insert(0, "account_no", acct[bills.pop("cust")])
    payments.insert(0, "account_no", acct[payments.pop("cust")])
    events.insert(0, "account_no", acct[events.pop("cust")])
    events["contact_phone"] = ident["phone"].to_numpy()[
        pd.Index(acct).get_indexer(events["account_no"])
    ]
    bills.to_csv(out / "bills.csv", index=False)
    payments.to_csv(out / "payments.csv", index=False)
    events.to_csv(out / "service_events.csv", index=False)
    # the regional weather behind the heating/cooling load: utilities buy it from a weather service
    pd.DataFrame({
        "date": np.tile(days.strftime("%Y-%m-%d"), len(REGIONS)),
        "region": np.repeat(np.array(REGIONS, dtype=object), d),
        "temperature_mean": np.concatenate([temps[r] for r in REGIONS]).round(1),
    }).to_csv(out / "weather_daily.csv", index=False)

    truth = pd.DataFrame(
        {
            "account_no": acct,
            "load_shape_class": cust["load_shape_class"],
            "credit_class": cust["credit_class"],
            "distress_onset": [
                (cfg.start_ts + pd.DateOffset(months=int(m))).strftime("%Y-%m-%d") if m >= 0 else None
                for m in cust["distress_onset_month"]
            ],
            "distress_months": cust["distress_months"],
            "theft": cust["theft"],
            "theft_start": _day_to_date(cfg, cust["theft_start_day"]),
            "theft_end": _day_to_date(cfg, cust["theft_end_day"]),
            "theft_factor": cust["theft_factor"],
            "latent_big": cust["latent_big"],
            "growth_per_year": cust["growth_per_year"],
            "price_sensitivity": cust["price_sensitivity"],
        }
    )
    truth.to_parquet(out / "ground_truth.parquet", index=False)
    counts = {
        "customers": len(master),
        "readings_daily": len(daily),
        "readings_hourly": len(hourly_df),
        "bills": len(bills),
        "payments": len(payments),
        "service_events": len(events),
    }
    manifest = {"generator": "powerlens.synthetic", "config": cfg.__dict__, "rows": counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return counts


def _day_to_date(cfg: SyntheticConfig, day: pd.Series) -> list:
    return [
        (cfg.start_ts + pd.Timedelta(days=int(x))).strftime("%Y-%m-%d") if x >= 0 else None
        for x in day
    ]


def _churn_hazard(complaints_recent: np.ndarray, shock_recent: np.ndarray, owing: np.ndarray,
                  tenure_years: np.ndarray, residential: np.ndarray, big: np.ndarray) -> np.ndarray:
    """Monthly probability that an open account closes, from drivers with thresholds and
    interactions, as churn behaves in the field (a log-odds linear in the drivers would be a
    world where a logistic regression is the best possible model, which real churn is not):
    - a recent complaint is a step up in risk, a run of complaints a further step;
    - a bill shock drives away the price-sensitive only, and only while it is recent;
    - arrears push out businesses, which can switch supplier, much more than households;
    - the first year is the riskiest (a step, not a slope over decades of tenure), and a
      dissatisfied new customer is the likeliest of all to leave (interaction);
    - big customers on the two-part tariff stay unless they complain.
    Most closures come from these drivers; the rest (moving house, business closing) is the
    base rate, which no model can foresee."""
    dissatisfied = complaints_recent >= 0.5
    repeated = complaints_recent >= 1.5
    shocked = shock_recent >= 0.5
    new = tenure_years < 1
    logit = (-7.0 + 2.8 * dissatisfied + 1.2 * repeated + 2.4 * shocked
             + np.where(residential, 0.8, 2.8) * owing + 2.2 * new + 1.0 * (dissatisfied & new)
             - 1.5 * (big & ~dissatisfied))
    return 1 / (1 + np.exp(-logit))


def _monthly_simulation(cfg, cust, days, metered, in_theft, rng):
    """Bills, payments, service events and churn, month by month, so that complaints and
    arrears this month can drive churn next month."""
    n, d = len(cust), len(days)
    cls = cust["customer_class"].to_numpy()
    price = np.array([ENERGY_PRICE[c] for c in cls]) * np.where(cust["tou_tariff"], 0.94, 1.0)
    price = price * (1 + 0.04 * pd.Categorical(cust["region"], categories=REGIONS).codes)
    cap_charge = np.where(cust["two_part_tariff"], cust["capacity_kva"] * CAPACITY_CHARGE, 0.0)
    start_day = (cust["start_date"] - cfg.start_ts).dt.days.to_numpy()
    credit = cust["credit_class"].to_numpy()
    onset = cust["distress_onset_month"].to_numpy()
    prepaid = cust["prepaid_meter"].to_numpy()
    price_sens = cust["price_sensitivity"].to_numpy()
    big = cust["capacity_kva"].to_numpy() >= 315
    latent = cust["latent_big"].to_numpy()
    growth = cust["growth_per_year"].to_numpy()
    theft_start = cust["theft_start_day"].to_numpy()
    tenure_start = cust["start_date"].to_numpy()
    region_codes = pd.Categorical(cust["region"], categories=REGIONS).codes
    end_day = np.full(n, d + 10_000)
    month_starts = pd.date_range(cfg.start_ts, periods=cfg.months, freq="MS")
    day_of = {m: (m - cfg.start_ts).days for m in month_starts}
    data_end = cfg.end_ts

    bill_rows, pay_rows, ev_rows = [], [], []
    complaints_recent = np.zeros(n)
    shock_recent = np.zeros(n)  # recent bill shocks felt by price-sensitive customers
    outstanding = np.zeros(n)  # unpaid amount more than 30 days past due
    prev_bill = np.zeros(n)
    channels = np.array(["direct_debit", "mobile_app", "bank_transfer", "counter", "prepaid"])
    channel_p = {
        "good": [0.42, 0.33, 0.15, 0.10, 0.0],
        "late": [0.08, 0.37, 0.20, 0.35, 0.0],
        "distressed": [0.0, 0.30, 0.20, 0.50, 0.0],
    }
    bill_seq = 0
    episode = cust["distress_months"].to_numpy()
    for m_i, m_start in enumerate(month_starts):
        a = day_of[m_start]
        b = day_of[month_starts[m_i + 1]] if m_i + 1 < len(month_starts) else d
        period_active = (start_day < b) & (end_day > a)
        lo = np.clip(start_day, a, b)
        hi_ = np.clip(end_day, a, b)
        cols = np.arange(a, b)
        mask = (cols[None, :] >= lo[:, None]) & (cols[None, :] < hi_[:, None])
        kwh = (metered[:, a:b] * mask).sum(axis=1)
        idx = np.flatnonzero(period_active & (hi_ > lo))
        amount = np.round(kwh[idx] * price[idx] + cap_charge[idx] * (hi_[idx] - lo[idx]) / (b - a), 2)
        period = m_start.strftime("%Y-%m")
        bill_date = m_start + pd.offsets.MonthEnd(0)  # billed on the last day of the month
        due = bill_date + pd.Timedelta(days=20)
        bill_ids = np.arange(bill_seq, bill_seq + len(idx)) + 7_000_000
        bill_seq += len(idx)
        if bill_date < data_end:
            bill_rows.append(pd.DataFrame({
                "cust": idx, "bill_no": [f"B{x}" for x in bill_ids], "period": period,
                "kwh": np.round(kwh[idx], 2), "amount": amount,
                "bill_date": bill_date, "due_date": due,
            }))
            # payment behaviour from the latent credit class
            cc = credit[idx]
            delay = np.where(cc == "good", -rng.integers(0, 16, len(idx)), 0).astype(float)
            slips = (cc == "good") & (rng.random(len(idx)) < 0.03)
            delay[slips] = rng.integers(1, 25, slips.sum())
            late = cc == "late"
            delay[late] = rng.gamma(2.0, 10.0, late.sum()) - 3
            very = late & (rng.random(len(idx)) < 0.04)
            delay[very] = rng.uniform(45, 95, very.sum())
            distressed = cc == "distressed"
            months_in = m_i - onset[idx]
            after = distressed & (months_in >= 0) & (months_in < episode[idx])
            paying = distressed & ~after
            # a payer who falls into distress (job loss, a failing business) paid mostly on time
            # until then (1-2% of bills over 30 days late), and pays again once the episode is
            # over; the bills skipped in it stay unpaid: an unpaid bill from a good
            # payer means distress, from a habitual late payer mostly a bill paid late as usual
            delay[paying] = rng.gamma(2.0, 8.0, paying.sum()) - 20
            skip_p = np.clip(0.25 + 0.08 * months_in, 0, 0.9)
            skipped = after & (rng.random(len(idx)) < skip_p)
            delay[after] = rng.uniform(30, 150, after.sum())
            pp = prepaid[idx]
            delay[pp] = -rng.integers(15, 30, pp.sum())
            paid_on = due + pd.to_timedelta(np.round(delay), unit="D")
            paid_amount = amount.copy()
            partial = after & ~skipped & (rng.random(len(idx)) < 0.3)
            paid_amount[partial] = np.round(amount[partial] * rng.uniform(0.3, 0.8, partial.sum()), 2)
            ch = np.array([channels[rng.choice(5, p=channel_p[c])] for c in cc])
            ch[pp] = "prepaid"
            keep = ~skipped & (paid_on < data_end) & (amount > 0)
            pay_rows.append(pd.DataFrame({
                "cust": idx[keep], "bill_no": [f"B{x}" for x in bill_ids[keep]],
                "paid_on": paid_on[keep], "amount": paid_amount[keep], "channel": ch[keep],
            }))
            overdue = np.zeros(n, dtype=bool)
            overdue[idx] = skipped | (delay > 30)
            outstanding = np.where(overdue, outstanding + np.bincount(idx, amount, n), outstanding * 0.5)

        # service events this month
        active_now = np.flatnonzero(period_active)
        jump = np.zeros(n)
        cur = np.zeros(n)
        cur[idx] = amount
        jump[(prev_bill > 0) & (cur > 1.35 * prev_bill)] = 1
        prev_bill = np.where(cur > 0, cur, prev_bill)
        outage = rng.random(len(REGIONS)) < 0.12  # a bad month for the grid in that region
        n_days_m = b - a

        def emit(kind, rate, outcome_fn=None, active_now=active_now, a=a, n_days_m=n_days_m):
            """Draw this month's events of one kind for the open accounts."""
            hits = active_now[rng.random(len(active_now)) < rate[active_now]]
            if len(hits) == 0:
                return hits
            day = a + rng.integers(0, n_days_m, len(hits))
            ts = cfg.start_ts + pd.to_timedelta(day, unit="D") + pd.to_timedelta(
                rng.integers(8 * 60, 20 * 60, len(hits)), unit="min")
            outcome = outcome_fn(hits, day) if outcome_fn else np.full(len(hits), "closed")
            ev_rows.append(pd.DataFrame({"cust": hits, "ts": ts, "kind": kind, "outcome": outcome}))
            return hits

        complaint_rate = 0.004 + 0.06 * price_sens + 0.08 * jump + 0.05 * outage[region_codes] + 0.03 * (outstanding > 0)
        hits = emit("complaint", complaint_rate,
                    lambda h, day: rng.choice(["resolved", "unresolved"], len(h), p=[0.7, 0.3]))
        complaints_recent = complaints_recent * 0.6
        np.add.at(complaints_recent, hits, 1.0)
        emit("fault_report", 0.003 + 0.04 * outage[region_codes])
        emit("service_request", np.full(n, 0.01))
        yrs = (a - d) / 365.25
        utilisation_now = cust["utilisation"].to_numpy() * np.exp(growth * yrs)
        emit("capacity_increase", np.where(latent, 0.02 + 0.12 * (utilisation_now > 0.3), 0.0015),
             lambda h, day: np.full(len(h), "under_review"))
        emit("capacity_decrease", np.where(growth < -0.06, 0.02, 0.0005))
        new_here = np.flatnonzero((start_day >= a) & (start_day < b))
        if len(new_here):
            ev_rows.append(pd.DataFrame({
                "cust": new_here,
                "ts": cfg.start_ts + pd.to_timedelta(start_day[new_here] - 3, unit="D"),
                "kind": "new_install", "outcome": "completed",
            }))
        # inspections: routine sampling plus tip-offs, more likely while a meter is tampered
        theft_now = in_theft[:, min(b - 1, d - 1)]
        insp_rate = np.where(theft_now, 0.15, 0.004) + 0.004 * (cls != "residential")

        def inspection_outcome(h, day):
            caught = in_theft[h, np.minimum(day, d - 1)] & (rng.random(len(h)) < 0.8)
            return np.where(caught, "theft_confirmed", "no_issue")

        emit("inspection", insp_rate, inspection_outcome)

        # churn at the end of the month
        tenure_years = (m_start - pd.DatetimeIndex(tenure_start)).days.to_numpy() / 365.25
        shock_recent = shock_recent * 0.7 + jump * (price_sens > 0.35)
        hazard = _churn_hazard(complaints_recent, shock_recent, outstanding > 0, tenure_years,
                               cls == "residential", big)
        leaving = period_active & (end_day > b) & (rng.random(n) < hazard) & (theft_start != a)
        end_day = np.where(leaving, b + rng.integers(0, 28, n), end_day)

    bills = pd.concat(bill_rows, ignore_index=True)
    payments = pd.concat(pay_rows, ignore_index=True)
    events = pd.concat(ev_rows, ignore_index=True)
    # nothing after the export date, and nothing after an account closed
    events = events[(events["ts"] < data_end)]
    close_ts = cfg.start_ts + pd.to_timedelta(np.minimum(end_day, d + 1000), unit="D")
    events = events[events["ts"].to_numpy() < close_ts[events["cust"].to_numpy()]]
    events = events.sort_values(["ts", "cust"]).reset_index(drop=True)
    for frame, cols in ((bills, ["bill_date", "due_date"]), (payments, ["paid_on"])):
        for c in cols:
            frame[c] = frame[c].dt.strftime("%Y-%m-%d")
    events["ts"] = events["ts"].dt.strftime("%Y-%m-%d %H:%M")
    end_day = np.where(end_day > d, d + 1, end_day)
    return bills, payments, events, np.minimum(end_day, d + 1)
