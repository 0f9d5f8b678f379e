"""The synthetic utility's system-side load per region and hour, as SCADA at the regions'
substations records it, consistent with its customers:

    load = (true consumption of the open accounts) / (1 - technical loss share)

The true consumption is what the customers draw, tamperers included: what the meters record plus
what the tampered meters do not (the stolen energy), so that line loss per region, (region load -
billed kWh) / region load, is the technical loss share plus the stolen share. Each account's day
is spread over the hours by its load shape (time-of-use accounts shift peak load to the valley,
weekends are flatter), the daily-metered homes included. One region gets a large new connection
at a known date (`NewConnection`: a new plant, an account appended to the export with its
readings, bills, payments and a new_install event, drawn from its own random stream so that
every other account is drawn as before): a step up in the region's load, recorded in the
manifest (`region_load.growth_event`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.synthetic.config import (
    GROWTH_EVENT,
    HOURLY_SHAPE,
    LOAD_SHAPES,
    PEAK_HOURS,
    REGIONS,
    TECHNICAL_LOSS,
    TOU_SHIFT,
    VALLEY_HOURS,
    WEEKLY_SHAPE,
)
from powerlens.synthetic.consumption import _holidays


def hourly_shares(shape: str, tou: bool) -> tuple[np.ndarray, np.ndarray]:
    """(weekday, weekend) share of a day's kWh in each hour for a load shape, as the interval
    meters split it (consumption._hourly_from_daily, without its per-meter noise)."""
    profile = HOURLY_SHAPE[shape].copy()
    if tou:
        moved = profile[PEAK_HOURS] * TOU_SHIFT
        profile[PEAK_HOURS] -= moved
        profile[VALLEY_HOURS] += moved.sum() / len(VALLEY_HOURS)
    weekend = 0.7 * profile + 0.3
    return profile / profile.sum(), weekend / weekend.sum()


def region_hourly_load(cust: pd.DataFrame, days: pd.DatetimeIndex, true_kwh: np.ndarray, metered: np.ndarray,
                       active: np.ndarray, seed: int) -> tuple[pd.DataFrame, dict]:
    """(the raw load export: region, ts, load_kw, one row per region and hour; the truth behind
    it: technical loss shares, the energy stolen per region and month, the growth event). Draws
    from its own random stream (seeded by `seed`), so the rest of the utility is drawn as before."""
    d = len(days)
    region = pd.Categorical(cust["region"], categories=REGIONS).codes
    shape = pd.Categorical(cust["load_shape_class"], categories=LOAD_SHAPES).codes
    tou = cust["tou_tariff"].to_numpy().astype(int)
    group = (region * len(LOAD_SHAPES) + shape) * 2 + tou
    order = np.argsort(group, kind="stable")  # plain numpy sums: the same bits on every machine
    groups, starts = np.unique(group[order], return_index=True)
    drawn = np.where(active, true_kwh, np.float32(0))[order]
    sums = np.add.reduceat(drawn, starts, axis=0, dtype=np.float64)  # groups x days
    weekend = days.day_of_week.to_numpy() >= 5
    load = np.zeros((len(REGIONS), d, 24))
    for g, daily in zip(groups, sums, strict=True):
        r, rest = divmod(int(g), len(LOAD_SHAPES) * 2)
        weekday_share, weekend_share = hourly_shares(LOAD_SHAPES[rest // 2], bool(rest % 2))
        load[r] += daily[:, None] * np.where(weekend[:, None], weekend_share[None, :], weekday_share[None, :])
    loss = np.array([TECHNICAL_LOSS[r] for r in REGIONS])
    load /= (1 - loss)[:, None, None]
    rng = np.random.default_rng([seed, 15])  # the generator's main stream is left as it was
    # the substations' metering noise (0.2%: an accuracy class 0.2 meter); larger noise would
    # hide the regions' differences in stolen energy (0.3-0.9% of their load at the default size)
    load *= np.exp(rng.normal(0, 0.002, load.shape))
    ts = (days.values[:, None] + np.arange(24)[None, :] * np.timedelta64(1, "h")).reshape(-1)
    stamps = np.asarray(pd.DatetimeIndex(ts).strftime("%Y-%m-%d %H:%M"), dtype=object)
    frame = pd.DataFrame({
        "region": np.repeat(np.array(REGIONS, dtype=object), d * 24),
        "ts": np.tile(stamps, len(REGIONS)),
        "load_kw": np.round(load.reshape(-1), 1),
    })
    truth = {"technical_loss": dict(TECHNICAL_LOSS),
             "stolen_kwh": _stolen(region, days, true_kwh, metered, active)}
    return frame, truth


def _stolen(region: np.ndarray, days: pd.DatetimeIndex, true_kwh: np.ndarray, metered: np.ndarray,
            active: np.ndarray) -> dict[str, dict[str, float]]:
    """The energy the tampered meters did not record, per region and month (kWh)."""
    # only tampered meters differ from the truth: the other rows would add exact zeros
    thieves = np.flatnonzero(np.concatenate([(true_kwh[lo:lo + 5000] != metered[lo:lo + 5000]).any(axis=1)
                                             for lo in range(0, len(true_kwh), 5000)]))
    stolen = np.where(active[thieves], true_kwh[thieves].astype(np.float64) - metered[thieves], 0)
    region = region[thieves]
    months = days.strftime("%Y-%m")
    per_region = np.stack([stolen[region == r].sum(axis=0) for r in range(len(REGIONS))])  # regions x days
    frame = pd.DataFrame(per_region.T, columns=REGIONS).groupby(months.to_numpy()).sum()
    return {r: {m: round(float(v), 1) for m, v in frame[r].items()} for r in REGIONS}


class NewConnection:
    """The growth event: a large plant connected in one region at a known date, as one more
    account at the end of the export (its own random stream: every other account is drawn as
    before). `append` adds it to the generator's arrays and frames."""

    def __init__(self, cfg, cust: pd.DataFrame, days: pd.DatetimeIndex, true_kwh: np.ndarray, active: np.ndarray):
        rng = np.random.default_rng([cfg.seed, 16])
        self.cfg, self.days = cfg, days
        self.region = GROWTH_EVENT["region"]
        self.day0 = max(len(days) - int(GROWTH_EVENT["days_before_end"]), 1)
        in_region = cust["region"].to_numpy() == self.region
        region_kw = np.where(active[in_region, :self.day0], true_kwh[in_region, :self.day0], 0).sum(axis=0).mean() / 24
        self.kw = float(region_kw * GROWTH_EVENT["kw_share_of_region"])
        self.kva = float(max(50.0, np.round(self.kw / 0.6 / 50) * 50))  # runs at ~60% of its capacity
        self.customer_class = "large_industrial" if self.kva >= 630 else "general_industrial"
        shape = GROWTH_EVENT["shape"]
        weekly = np.asarray(WEEKLY_SHAPE[shape])[days.day_of_week.to_numpy()]
        factor = np.where(_holidays(days), 0.75 * weekly, weekly) * np.exp(rng.normal(0, 0.04, len(days)))
        self.daily = np.where(np.arange(len(days)) >= self.day0, self.kw * 24 * factor, 0).astype(np.float32)
        self.account_no = f"AC3{rng.integers(10**8, 10**9)}"  # existing accounts are AC2..., meters MT6...
        self.meter_no = f"MT7{rng.integers(10**8, 10**9)}"
        self.pay_delay = rng.integers(5, 16, 64)

    @property
    def date(self) -> pd.Timestamp:
        return self.days[self.day0]

    @property
    def voltage_kv(self) -> float:
        return 10.0 if self.kva < 3150 else 35.0

    def truth(self) -> dict:
        return {"region": self.region, "date": self.date.strftime("%Y-%m-%d"), "kw": round(self.kw, 1),
                "capacity_kva": self.kva, "customer_class": self.customer_class, "account_no": self.account_no,
                "shape": GROWTH_EVENT["shape"]}

    def append(self, cust, ident, true_kwh, metered, active, bills, payments, events):
        """The generator's arrays and frames with the new account as the last one."""
        n = len(cust)
        row = cust.iloc[[0]].copy().reset_index(drop=True)
        values = {"customer_class": self.customer_class, "region": self.region, "industry": "metals"
                  if self.customer_class == "large_industrial" else "manufacturing",
                  "load_shape_class": GROWTH_EVENT["shape"], "capacity_kva": self.kva,
                  "voltage_kv": self.voltage_kv, "two_part_tariff": self.kva >= 315,
                  "tou_tariff": True, "prepaid_meter": False, "interval_metered": True, "utilisation": 0.6,
                  "latent_big": False, "growth_per_year": 0.0, "heating_sensitivity": 0.0,
                  "cooling_sensitivity": 0.0, "price_sensitivity": 0.1, "credit_class": "good",
                  "distress_onset_month": -1, "distress_months": 0, "start_date": self.date, "end_date": pd.NaT,
                  "theft": False, "theft_start_day": -1, "theft_end_day": -1, "theft_factor": 1.0}
        for col, value in values.items():
            if col in row:
                row[col] = value
        cust = pd.concat([cust, row], ignore_index=True)
        ident = pd.concat([ident, pd.DataFrame({
            "account_no": [self.account_no], "meter_no": [self.meter_no],
            "customer_name": [f"{self.region.title()} {values['industry'].title()} Works Ltd"],
            "address": [f"1 Industrial Park Road, {self.region.title()} District"], "phone": ["13000000000"]})],
            ignore_index=True)
        on = (np.arange(len(self.days)) >= self.day0)
        true_kwh = np.vstack([true_kwh, self.daily[None, :]])
        metered = np.vstack([metered, self.daily[None, :]])
        active = np.vstack([active, on[None, :]])
        new_bills, new_payments = self._billing(n)
        events = pd.concat([events, pd.DataFrame({"cust": [n], "ts": [self.date.strftime("%Y-%m-%d 09:00")],
                                                  "kind": ["new_install"], "outcome": ["completed"]})],
                           ignore_index=True)
        return (cust, ident, true_kwh, metered, active, pd.concat([bills, new_bills], ignore_index=True),
                pd.concat([payments, new_payments], ignore_index=True), events)

    def _billing(self, cust_index: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Monthly bills from the connection month, priced from the tariff schedule (ToU by the
        kWh in each period, and the capacity charge for the days connected), paid by bank
        transfer."""
        from powerlens.synthetic.tariffs import PERIODS, period_shares, tariff_table
        from powerlens.tariffs import prices_on

        tariffs = tariff_table(self.cfg)
        shares = period_shares(hourly_shares(GROWTH_EVENT["shape"], True))
        weekend_day = self.days.day_of_week.to_numpy() >= 5
        month = pd.Series(self.days.to_period("M"))
        bills, pays = [], []
        for i, (period, idx) in enumerate(month.groupby(month).groups.items()):
            idx = np.asarray(idx)
            connected = idx[idx >= self.day0]
            bill_date = period.to_timestamp(how="end").normalize()
            if not len(connected) or bill_date >= self.cfg.end_ts:
                continue
            kwh = float(self.daily[connected].sum())
            kwh_weekend = float(self.daily[connected[weekend_day[connected]]].sum())
            period_kwh = np.round((kwh - kwh_weekend) * shares[0] + kwh_weekend * shares[1], 2)
            one = pd.Series([0])
            prices = prices_on(tariffs, one.map(lambda _: self.customer_class), one.map(lambda _: self.region),
                               one.map(lambda _: self.voltage_kv), period.start_time).iloc[0]
            energy = float(sum(period_kwh[j] * prices[f"tou_price_{p}"] for j, p in enumerate(PERIODS)))
            charge = (self.kva * prices["capacity_charge_per_kva_month"] * len(connected) / len(idx)
                      if self.kva >= 315 else 0.0)
            amount = round(energy + charge, 2)
            bill_no = f"B9{i:07d}"  # the simulation's bills are B7000000 and up
            due = bill_date + pd.Timedelta(days=20)
            bills.append({"cust": cust_index, "bill_no": bill_no, "period": str(period), "kwh": round(kwh, 2),
                          **{f"kwh_{p}": period_kwh[j] for j, p in enumerate(PERIODS)}, "amount": amount, "bill_date": bill_date.strftime("%Y-%m-%d"),
                          "due_date": due.strftime("%Y-%m-%d")})
            paid_on = bill_date + pd.Timedelta(days=int(self.pay_delay[i % len(self.pay_delay)]))
            if paid_on < self.cfg.end_ts:
                pays.append({"cust": cust_index, "bill_no": bill_no, "paid_on": paid_on.strftime("%Y-%m-%d"),
                             "amount": amount, "channel": "bank_transfer"})
        return pd.DataFrame(bills), pd.DataFrame(pays)
