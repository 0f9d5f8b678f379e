"""One month of the synthetic utility's service events (complaints, fault reports, capacity
changes, new installs, inspections that find theft) and churn at the month's end.

Customer contacts carry what a 95598 service system records: the contact `channel`, the hours to
resolve (`resolution_hours`; for a new install the lead time from application to connection) and
the callback `satisfaction` (1-5, where the customer answered). One region-month has poor service
(`planted_poor_service`): more complaints and fault reports, slow resolution, low satisfaction."""

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


# the planted poor-service region-month: the region is REGIONS[seed % 4], the month the one two
# months before the export ends (the last full month before the report's usual period)
POOR_SERVICE_MONTHS_BEFORE_END = 2
POOR_SERVICE = {"extra_complaint_rate": 0.12, "extra_fault_rate": 0.08, "slowdown": 4.0}
_SERVICE_STREAM = 0x5E7  # the service attributes' own random stream (the simulation's draws stay)

# 95598 contact channels, and for applications (capacity changes, new installs) the service hall
CONTACT_CHANNELS = (["hotline_95598", "app", "online", "service_hall"], [0.55, 0.25, 0.1, 0.1])
APPLICATION_CHANNELS = (["service_hall", "app", "online"], [0.5, 0.3, 0.2])
# hours to resolve: (median, log-sd) of a log-normal; other kinds record none (nor do unresolved)
RESOLUTION_HOURS = {
    "complaint": (20.0, 0.8),
    "fault_report": (3.5, 0.6),
    "service_request": (30.0, 0.8),
    "capacity_decrease": (120.0, 0.5),
    "new_install": (7 * 24.0, 0.45),  # lead time, application to connection
}
CALLBACK_KINDS = {"complaint", "fault_report", "service_request", "new_install"}
CALLBACK_RESPONSE = 0.6  # the share of customers who answer the satisfaction callback
SATISFACTION_P = {  # over scores 1..5
    "good": [0.02, 0.03, 0.10, 0.35, 0.50],
    "unresolved": [0.25, 0.30, 0.25, 0.15, 0.05],
    "poor_service": [0.35, 0.30, 0.20, 0.10, 0.05],
}


def planted_poor_service(cfg) -> dict:
    """The region-month of poor service the generator plants: {"region", "period" (YYYY-MM)};
    a function of the config alone, so the truth needs no file."""
    period = (cfg.end_ts - pd.DateOffset(months=POOR_SERVICE_MONTHS_BEFORE_END)).strftime("%Y-%m")
    return {"region": REGIONS[cfg.seed % len(REGIONS)], "period": period, **POOR_SERVICE}


def _service_attributes(kind: str, outcome: np.ndarray, poor: np.ndarray, slow: np.ndarray,
                        side: np.random.Generator) -> dict[str, np.ndarray]:
    """channel, resolution_hours and satisfaction of `len(outcome)` events of one kind; `poor`
    marks events in the poor-service region-month, `slow` a factor on resolution times."""
    k = len(outcome)
    u = side.random((3, k))  # the same draws per event, whatever the kind
    z = side.standard_normal(k)
    if kind == "inspection":  # the utility's own visit: no contact channel, no callback
        channel = np.full(k, None, dtype=object)
    else:
        names, p = CONTACT_CHANNELS if kind in ("complaint", "fault_report", "service_request") \
            else APPLICATION_CHANNELS
        channel = np.array(names, dtype=object)[np.searchsorted(np.cumsum(p), u[0] * 0.999999)]
    hours = np.full(k, np.nan)
    resolved = np.isin(outcome, ["resolved", "closed", "completed"])
    if kind in RESOLUTION_HOURS:
        median, sd = RESOLUTION_HOURS[kind]
        draw = median * slow * np.exp(sd * z)
        hours = np.where(resolved, np.round(draw, 1), np.nan)
    score = np.full(k, np.nan)
    if kind in CALLBACK_KINDS:
        which = np.where(poor, "poor_service", np.where(resolved, "good", "unresolved"))
        for name, p in SATISFACTION_P.items():
            here = which == name
            score[here] = 1 + np.searchsorted(np.cumsum(p), u[1][here] * 0.999999)
        score[u[2] >= CALLBACK_RESPONSE] = np.nan
    return {"channel": channel, "resolution_hours": hours,
            "satisfaction": pd.array(score, dtype="Int64") if k else pd.array([], dtype="Int64")}


def _emitter(cfg, ledger: _Ledger, rng: np.random.Generator, active_now: np.ndarray, a: int,
             n_days_m: int, side: np.random.Generator, poor: np.ndarray,
             slow: np.ndarray) -> Callable[..., np.ndarray]:
    """`emit(kind, rate, outcome_fn=None)` for the month starting on day `a`: who and when from
    `rng`, the service attributes from `side` (`poor`, `slow`: per account)."""

    def emit(kind, rate, outcome_fn=None):
        """Draw this month's events of one kind for the open accounts."""
        hits = active_now[rng.random(len(active_now)) < rate[active_now]]
        if len(hits) == 0:
            return hits
        day = a + rng.integers(0, n_days_m, len(hits))
        ts = cfg.start_ts + pd.to_timedelta(day, unit="D") + pd.to_timedelta(
            rng.integers(8 * 60, 20 * 60, len(hits)), unit="min")
        outcome = outcome_fn(hits, day) if outcome_fn else np.full(len(hits), "closed")
        attrs = _service_attributes(kind, np.asarray(outcome), poor[hits], slow[hits], side)
        ledger.ev_rows.append(pd.DataFrame({"cust": hits, "ts": ts, "kind": kind, "outcome": outcome,
                                            **attrs}))
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
    side = np.random.default_rng([cfg.seed, _SERVICE_STREAM, a])
    planted = planted_poor_service(cfg)
    in_poor_month = (cfg.start_ts + pd.Timedelta(days=a)).strftime("%Y-%m") == planted["period"]
    poor = in_poor_month & (acc.region_codes == REGIONS.index(planted["region"]))
    # a grid outage slows repairs a little; the poor-service month slows everything
    slow = np.where(poor, POOR_SERVICE["slowdown"], np.where(outage[acc.region_codes], 1.3, 1.0))
    emit = _emitter(cfg, ledger, rng, active_now, a, b - a, side, poor, slow)

    complaint_rate = (0.004 + 0.06 * acc.price_sens + 0.08 * jump + 0.05 * outage[acc.region_codes]
                      + 0.03 * (ledger.outstanding > 0))
    hits = emit("complaint", complaint_rate,
                lambda h, day: rng.choice(["resolved", "unresolved"], len(h), p=[0.7, 0.3]))
    if poor.any():  # the planted extra complaints and faults, drawn from the side stream
        # they are service records only, not churn causes: fed into the churn hazard they made
        # the region (through its seasonal consumption indices) a churn signal that the 3,000-
        # customer models named instead of the complaints themselves (tests/risk/test_train.py)
        emit_side = _emitter(cfg, ledger, side, active_now, a, b - a, side, poor, slow)
        emit_side("complaint", POOR_SERVICE["extra_complaint_rate"] * poor,
                  lambda h, day: side.choice(["resolved", "unresolved"], len(h), p=[0.5, 0.5]))
        emit_side("fault_report", POOR_SERVICE["extra_fault_rate"] * poor)
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
        outcome = np.full(len(new_here), "completed")
        ledger.ev_rows.append(pd.DataFrame({
            "cust": new_here,
            "ts": cfg.start_ts + pd.to_timedelta(acc.start_day[new_here] - 3, unit="D"),
            "kind": "new_install", "outcome": outcome,
            **_service_attributes("new_install", outcome, poor[new_here], slow[new_here], side),
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
