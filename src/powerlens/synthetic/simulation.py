"""The month-by-month simulation of the synthetic utility: each month bills the open accounts
(billing), draws their payments from the latent credit class (billing), their service events
(events) and who leaves (events), so that complaints and arrears this month can drive churn next
month. The draws happen in the same order every month, so a seed gives one utility."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from powerlens.synthetic.billing import _bill_month
from powerlens.synthetic.config import LOAD_SHAPES, REGIONS
from powerlens.synthetic.events import _churn, _service_events
from powerlens.synthetic.region_load import hourly_shares
from powerlens.synthetic.tariffs import period_shares, tariff_table


@dataclass
class _Accounts:
    """What the simulation reads of each customer: arrays in customer order, fixed for the run."""

    cls: np.ndarray
    tariff_key: pd.DataFrame  # customer_class, region, voltage_kv: which tariff rows apply
    tariffs: pd.DataFrame  # the schedule bills are priced from
    tou: np.ndarray
    period_shares: np.ndarray  # customers x (weekday, weekend) x (peak, flat, valley)
    two_part: np.ndarray
    kva: np.ndarray
    start_day: np.ndarray
    credit: np.ndarray
    onset: np.ndarray
    prepaid: np.ndarray
    price_sens: np.ndarray
    big: np.ndarray
    latent: np.ndarray
    growth: np.ndarray
    theft_start: np.ndarray
    tenure_start: np.ndarray
    region_codes: np.ndarray
    episode: np.ndarray
    utilisation: np.ndarray


@dataclass
class _Ledger:
    """What one month leaves to the next (closures, complaints, bill shocks, arrears, the last
    bill, the bill number) and the rows drawn so far."""

    end_day: np.ndarray
    complaints_recent: np.ndarray
    shock_recent: np.ndarray  # recent bill shocks felt by price-sensitive customers
    outstanding: np.ndarray  # unpaid amount more than 30 days past due
    prev_bill: np.ndarray
    bill_seq: int = 0
    bill_rows: list = field(default_factory=list)
    pay_rows: list = field(default_factory=list)
    ev_rows: list = field(default_factory=list)


def _accounts(cfg, cust: pd.DataFrame) -> _Accounts:
    cls = cust["customer_class"].to_numpy()
    shares = {shape: period_shares(hourly_shares(shape, True)) for shape in LOAD_SHAPES}
    return _Accounts(
        cls=cls,
        tariff_key=cust[["customer_class", "region", "voltage_kv"]].reset_index(drop=True),
        tariffs=tariff_table(cfg),
        tou=cust["tou_tariff"].to_numpy(dtype=bool),
        period_shares=np.stack([shares[s] for s in cust["load_shape_class"]]),
        two_part=cust["two_part_tariff"].to_numpy(dtype=bool),
        kva=cust["capacity_kva"].to_numpy(dtype=float),
        start_day=(cust["start_date"] - cfg.start_ts).dt.days.to_numpy(),
        credit=cust["credit_class"].to_numpy(),
        onset=cust["distress_onset_month"].to_numpy(),
        prepaid=cust["prepaid_meter"].to_numpy(),
        price_sens=cust["price_sensitivity"].to_numpy(),
        big=cust["capacity_kva"].to_numpy() >= 315,
        latent=cust["latent_big"].to_numpy(),
        growth=cust["growth_per_year"].to_numpy(),
        theft_start=cust["theft_start_day"].to_numpy(),
        tenure_start=cust["start_date"].to_numpy(),
        region_codes=pd.Categorical(cust["region"], categories=REGIONS).codes,
        episode=cust["distress_months"].to_numpy(),
        utilisation=cust["utilisation"].to_numpy(),
    )


def _monthly_simulation(cfg, cust, days, metered, in_theft, rng):
    """Bills, payments, service events and churn, month by month, so that complaints and
    arrears this month can drive churn next month."""
    n, d = len(cust), len(days)
    acc = _accounts(cfg, cust)
    ledger = _Ledger(end_day=np.full(n, d + 10_000), complaints_recent=np.zeros(n),
                     shock_recent=np.zeros(n), outstanding=np.zeros(n), prev_bill=np.zeros(n))
    month_starts = pd.date_range(cfg.start_ts, periods=cfg.months, freq="MS")
    day_of = {m: (m - cfg.start_ts).days for m in month_starts}
    for m_i, m_start in enumerate(month_starts):
        a = day_of[m_start]
        b = day_of[month_starts[m_i + 1]] if m_i + 1 < len(month_starts) else d
        period_active = (acc.start_day < b) & (ledger.end_day > a)
        idx, amount = _bill_month(cfg, acc, ledger, metered, m_i, m_start, a, b, period_active, rng)
        jump = _service_events(cfg, acc, ledger, in_theft, period_active, idx, amount, a, b, d, rng)
        _churn(acc, ledger, period_active, jump, m_start, a, b, rng)
    return _frames(cfg, ledger, d)


def _frames(cfg, ledger: _Ledger, d: int):
    """(bills, payments, events, end day of each account): nothing after the export date,
    no event after an account closed, dates as text."""
    data_end = cfg.end_ts
    end_day = ledger.end_day
    bills = pd.concat(ledger.bill_rows, ignore_index=True)
    payments = pd.concat(ledger.pay_rows, ignore_index=True)
    events = pd.concat(ledger.ev_rows, ignore_index=True)
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
