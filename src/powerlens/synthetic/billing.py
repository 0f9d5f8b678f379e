"""One month of the synthetic utility's billing: the bills of the open accounts, and their
payments drawn from the latent credit class (on time, late, in distress, prepaid)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from powerlens.synthetic.tariffs import PERIODS
from powerlens.tariffs import prices_on

if TYPE_CHECKING:
    from powerlens.synthetic.simulation import _Accounts, _Ledger

CHANNELS = np.array(["direct_debit", "mobile_app", "bank_transfer", "counter", "prepaid"])
CHANNEL_P = {
    "good": [0.42, 0.33, 0.15, 0.10, 0.0],
    "late": [0.08, 0.37, 0.20, 0.35, 0.0],
    "distressed": [0.0, 0.30, 0.20, 0.50, 0.0],
}


def _bill_month(cfg, acc: _Accounts, ledger: _Ledger, metered: np.ndarray, m_i: int,
                m_start: pd.Timestamp, a: int, b: int, period_active: np.ndarray,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Bill the accounts open in days [a, b) (energy plus the capacity charge for the days they
    were open) and draw the payments of the bills dated before the export; returns (billed
    accounts, amounts)."""
    lo = np.clip(acc.start_day, a, b)
    hi_ = np.clip(ledger.end_day, a, b)
    cols = np.arange(a, b)
    mask = (cols[None, :] >= lo[:, None]) & (cols[None, :] < hi_[:, None])
    open_kwh = metered[:, a:b] * mask
    kwh = open_kwh.sum(axis=1)
    idx = np.flatnonzero(period_active & (hi_ > lo))
    # priced from the tariff in force on the month's first day: ToU accounts by the kWh their
    # meters register in the peak, flat and valley hours, the others at the flat price; two-part
    # tariff accounts pay the capacity charge for the days they were open
    weekend = np.asarray(pd.date_range(m_start, periods=b - a, freq="D").day_of_week >= 5)
    kwh_weekend = open_kwh[idx][:, weekend].sum(axis=1)
    kwh_weekday = kwh[idx] - kwh_weekend
    shares = acc.period_shares[idx]
    period_kwh = np.round(kwh_weekday[:, None] * shares[:, 0, :] + kwh_weekend[:, None] * shares[:, 1, :], 2)
    key = acc.tariff_key.iloc[idx]
    prices = prices_on(acc.tariffs, key["customer_class"], key["region"], key["voltage_kv"], m_start)
    tou = acc.tou[idx]
    tou_prices = prices[[f"tou_price_{p}" for p in PERIODS]].to_numpy()
    energy = np.where(tou, (period_kwh * tou_prices).sum(axis=1),
                      np.round(kwh[idx], 2) * prices["flat_price"].to_numpy())
    capacity = np.where(acc.two_part[idx], acc.kva[idx] * prices["capacity_charge_per_kva_month"].to_numpy()
                        * (hi_[idx] - lo[idx]) / (b - a), 0.0)
    amount = np.round(energy + capacity, 2)
    period = m_start.strftime("%Y-%m")
    bill_date = m_start + pd.offsets.MonthEnd(0)  # billed on the last day of the month
    due = bill_date + pd.Timedelta(days=20)
    bill_ids = np.arange(ledger.bill_seq, ledger.bill_seq + len(idx)) + 7_000_000
    ledger.bill_seq += len(idx)
    if bill_date < cfg.end_ts:
        ledger.bill_rows.append(pd.DataFrame({
            "cust": idx, "bill_no": [f"B{x}" for x in bill_ids], "period": period,
            "kwh": np.round(kwh[idx], 2),
            **{f"kwh_{p}": np.where(tou, period_kwh[:, j], np.nan) for j, p in enumerate(PERIODS)},
            "amount": amount,
            "bill_date": bill_date, "due_date": due,
        }))
        _payments(cfg, acc, ledger, m_i, idx, amount, bill_ids, due, rng)
    return idx, amount


def _payments(cfg, acc: _Accounts, ledger: _Ledger, m_i: int, idx: np.ndarray, amount: np.ndarray,
              bill_ids: np.ndarray, due: pd.Timestamp, rng: np.random.Generator) -> None:
    """Payment behaviour from the latent credit class; bills unpaid or paid over 30 days late
    add to the account's arrears, which halve in a month without."""
    n = len(acc.cls)
    cc = acc.credit[idx]
    delay = np.where(cc == "good", -rng.integers(0, 16, len(idx)), 0).astype(float)
    slips = (cc == "good") & (rng.random(len(idx)) < 0.03)
    delay[slips] = rng.integers(1, 25, slips.sum())
    late = cc == "late"
    delay[late] = rng.gamma(2.0, 10.0, late.sum()) - 3
    very = late & (rng.random(len(idx)) < 0.04)
    delay[very] = rng.uniform(45, 95, very.sum())
    distressed = cc == "distressed"
    months_in = m_i - acc.onset[idx]
    after = distressed & (months_in >= 0) & (months_in < acc.episode[idx])
    paying = distressed & ~after
    # a payer who falls into distress (job loss, a failing business) paid mostly on time
    # until then (1-2% of bills over 30 days late), and pays again once the episode is
    # over; the bills skipped in it stay unpaid: an unpaid bill from a good
    # payer means distress, from a habitual late payer mostly a bill paid late as usual
    delay[paying] = rng.gamma(2.0, 8.0, paying.sum()) - 20
    skip_p = np.clip(0.25 + 0.08 * months_in, 0, 0.9)
    skipped = after & (rng.random(len(idx)) < skip_p)
    delay[after] = rng.uniform(30, 150, after.sum())
    pp = acc.prepaid[idx]
    delay[pp] = -rng.integers(15, 30, pp.sum())
    paid_on = due + pd.to_timedelta(np.round(delay), unit="D")
    paid_amount = amount.copy()
    partial = after & ~skipped & (rng.random(len(idx)) < 0.3)
    paid_amount[partial] = np.round(amount[partial] * rng.uniform(0.3, 0.8, partial.sum()), 2)
    ch = np.array([CHANNELS[rng.choice(5, p=CHANNEL_P[c])] for c in cc])
    ch[pp] = "prepaid"
    keep = ~skipped & (paid_on < cfg.end_ts) & (amount > 0)
    ledger.pay_rows.append(pd.DataFrame({
        "cust": idx[keep], "bill_no": [f"B{x}" for x in bill_ids[keep]],
        "paid_on": paid_on[keep], "amount": paid_amount[keep], "channel": ch[keep],
    }))
    overdue = np.zeros(n, dtype=bool)
    overdue[idx] = skipped | (delay > 30)
    ledger.outstanding = np.where(overdue, ledger.outstanding + np.bincount(idx, amount, n),
                                  ledger.outstanding * 0.5)
