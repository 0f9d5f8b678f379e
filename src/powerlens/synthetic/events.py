"""One month of the synthetic utility's service events (complaints, fault reports, capacity
changes, new installs, inspections that find theft) and churn at the month's end."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from powerlens.synthetic.config import REGIONS

if TYPE_CHECKING:
    from powerlens.synthetic.simulation import _Accounts, _Ledger


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


def _emitter(cfg, ledger: _Ledger, rng: np.random.Generator, active_now: np.ndarray, a: int,
             n_days_m: int) -> Callable[..., np.ndarray]:
    """`emit(kind, rate, outcome_fn=None)` for the month starting on day `a`."""

    def emit(kind, rate, outcome_fn=None):
        """Draw this month's events of one kind for the open accounts."""
        hits = active_now[rng.random(len(active_now)) < rate[active_now]]
        if len(hits) == 0:
            return hits
        day = a + rng.integers(0, n_days_m, len(hits))
        ts = cfg.start_ts + pd.to_timedelta(day, unit="D") + pd.to_timedelta(
            rng.integers(8 * 60, 20 * 60, len(hits)), unit="min")
        outcome = outcome_fn(hits, day) if outcome_fn else np.full(len(hits), "closed")
        ledger.ev_rows.append(pd.DataFrame({"cust": hits, "ts": ts, "kind": kind, "outcome": outcome}))
        return hits

    return emit


def _service_events(cfg, acc: _Accounts, ledger: _Ledger, in_theft: np.ndarray,
                    period_active: np.ndarray, idx: np.ndarray, amount: np.ndarray, a: int, b: int,
                    d: int, rng: np.random.Generator) -> np.ndarray:
    """This month's service events of the open accounts; returns the bill-shock flags (a bill
    over 1.35 times the last one)."""
    n = len(acc.cls)
    active_now = np.flatnonzero(period_active)
    jump = np.zeros(n)
    cur = np.zeros(n)
    cur[idx] = amount
    jump[(ledger.prev_bill > 0) & (cur > 1.35 * ledger.prev_bill)] = 1
    ledger.prev_bill = np.where(cur > 0, cur, ledger.prev_bill)
    outage = rng.random(len(REGIONS)) < 0.12  # a bad month for the grid in that region
    emit = _emitter(cfg, ledger, rng, active_now, a, b - a)

    complaint_rate = (0.004 + 0.06 * acc.price_sens + 0.08 * jump + 0.05 * outage[acc.region_codes]
                      + 0.03 * (ledger.outstanding > 0))
    hits = emit("complaint", complaint_rate,
                lambda h, day: rng.choice(["resolved", "unresolved"], len(h), p=[0.7, 0.3]))
    ledger.complaints_recent = ledger.complaints_recent * 0.6
    np.add.at(ledger.complaints_recent, hits, 1.0)
    emit("fault_report", 0.003 + 0.04 * outage[acc.region_codes])
    emit("service_request", np.full(n, 0.01))
    yrs = (a - d) / 365.25
    utilisation_now = acc.utilisation * np.exp(acc.growth * yrs)
    emit("capacity_increase", np.where(acc.latent, 0.02 + 0.12 * (utilisation_now > 0.3), 0.0015),
         lambda h, day: np.full(len(h), "under_review"))
    emit("capacity_decrease", np.where(acc.growth < -0.06, 0.02, 0.0005))
    new_here = np.flatnonzero((acc.start_day >= a) & (acc.start_day < b))
    if len(new_here):
        ledger.ev_rows.append(pd.DataFrame({
            "cust": new_here,
            "ts": cfg.start_ts + pd.to_timedelta(acc.start_day[new_here] - 3, unit="D"),
            "kind": "new_install", "outcome": "completed",
        }))
    # inspections: routine sampling plus tip-offs, more likely while a meter is tampered
    theft_now = in_theft[:, min(b - 1, d - 1)]
    insp_rate = np.where(theft_now, 0.15, 0.004) + 0.004 * (acc.cls != "residential")

    def inspection_outcome(h, day):
        caught = in_theft[h, np.minimum(day, d - 1)] & (rng.random(len(h)) < 0.8)
        return np.where(caught, "theft_confirmed", "no_issue")

    emit("inspection", insp_rate, inspection_outcome)
    return jump


def _churn(acc: _Accounts, ledger: _Ledger, period_active: np.ndarray, jump: np.ndarray,
           m_start: pd.Timestamp, a: int, b: int, rng: np.random.Generator) -> None:
    """Churn at the end of the month: who leaves closes within the next four weeks."""
    n = len(acc.cls)
    tenure_years = (m_start - pd.DatetimeIndex(acc.tenure_start)).days.to_numpy() / 365.25
    ledger.shock_recent = ledger.shock_recent * 0.7 + jump * (acc.price_sens > 0.35)
    hazard = _churn_hazard(ledger.complaints_recent, ledger.shock_recent, ledger.outstanding > 0,
                           tenure_years, acc.cls == "residential", acc.big)
    leaving = period_active & (ledger.end_day > b) & (rng.random(n) < hazard) & (acc.theft_start != a)
    ledger.end_day = np.where(leaving, b + rng.integers(0, 28, n), ledger.end_day)
