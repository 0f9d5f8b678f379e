"""Billing and credit features: what was billed, what was paid by the cut-off, what is overdue."""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANNELS = ["direct_debit", "counter", "mobile_app", "prepaid"]
COLUMNS = ["revenue_12m", "bill_amount_mean", "bill_volatility", "on_time_rate", "days_past_due_mean",
           "days_past_due_max", "bills_over_30dpd", "arrears_count", "arrears_amount", "arrears_1_30d",
           "arrears_31_60d", "arrears_61_90d", "arrears_over_90d", "bill_amount_last", "paid_to_billed_3m",
           "months_past_due_last", "months_past_due_max"] + [f"share_{c}" for c in CHANNELS]


def billing_features(bills: pd.DataFrame, payments: pd.DataFrame, customer_ids: pd.Index,
                     as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Only bills issued and payments made strictly before `as_of` are seen."""
    if bills.empty:  # a source without bills (e.g. smart-meter only): unknown, not zero
        return pd.DataFrame(np.nan, index=customer_ids, columns=COLUMNS)
    out = pd.DataFrame(index=customer_ids)
    issued = bills["bill_date"] if "bill_date" in bills else bills["due_date"] - pd.Timedelta(days=20)
    window_start = as_of - pd.Timedelta(days=history_days)
    known = bills[issued < as_of]
    recent = known[issued[issued < as_of] >= window_start]
    g = recent.groupby("customer_id", observed=True)["amount"]
    out["revenue_12m"] = g.sum().reindex(customer_ids).fillna(0.0)
    out["bill_amount_mean"] = g.mean().reindex(customer_ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["bill_volatility"] = (g.std() / g.mean()).reindex(customer_ids)

    pays = payments[payments["paid_on"] < as_of]
    due = known[known["due_date"] < as_of][["customer_id", "bill_id", "amount", "due_date"]]
    # the day a bill was settled: the last payment before the cut-off once the total covers it
    paid = pays.groupby("bill_id").agg(paid=("amount", "sum"), settled_on=("paid_on", "max"))
    due = due.join(paid, on="bill_id")
    due["paid"] = due["paid"].fillna(0.0)
    settled = due["paid"] >= due["amount"] * 0.99 - 0.01
    end = due["settled_on"].where(settled, as_of)
    dpd = ((end - due["due_date"]).dt.days).clip(lower=0)
    due = due.assign(dpd=dpd, settled=settled, outstanding=(due["amount"] - due["paid"]).clip(lower=0))
    in_window = due[due["due_date"] >= window_start]
    in_window = in_window.assign(on_time=(in_window["dpd"] == 0).astype(float),
                                 over_30=(in_window["dpd"] > 30).astype(float))
    gw = in_window.groupby("customer_id", observed=True)
    out["on_time_rate"] = gw["on_time"].mean().reindex(customer_ids)
    out["days_past_due_mean"] = gw["dpd"].mean().reindex(customer_ids)
    out["days_past_due_max"] = gw["dpd"].max().reindex(customer_ids)
    out["bills_over_30dpd"] = gw["over_30"].sum().reindex(customer_ids).fillna(0)

    open_ = due[~due["settled"] & (due["outstanding"] > 0)]
    age = (as_of - open_["due_date"]).dt.days
    go = open_.groupby("customer_id", observed=True)
    out["arrears_count"] = go.size().reindex(customer_ids).fillna(0)
    out["arrears_amount"] = go["outstanding"].sum().reindex(customer_ids).fillna(0.0)
    for name, lo, hi in (("arrears_1_30d", 0, 30), ("arrears_31_60d", 30, 60),
                         ("arrears_61_90d", 60, 90), ("arrears_over_90d", 90, 10**6)):
        part = open_[(age > lo) & (age <= hi)]
        out[name] = part.groupby("customer_id", observed=True)["outstanding"].sum().reindex(customer_ids).fillna(0.0)

    last_bill = known.assign(_issued=issued[issued < as_of]).sort_values("_issued")
    out["bill_amount_last"] = last_bill.groupby("customer_id", observed=True)["amount"].last().reindex(customer_ids)
    quarter = as_of - pd.Timedelta(days=92)
    billed_3m = known[issued[issued < as_of] >= quarter].groupby("customer_id", observed=True)["amount"].sum()
    paid_3m = pays[pays["paid_on"] >= quarter].groupby("customer_id", observed=True)["amount"].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = paid_3m.reindex(customer_ids).fillna(0) / billed_3m.reindex(customer_ids)
    out["paid_to_billed_3m"] = ratio.where(billed_3m.reindex(customer_ids) > 0).clip(upper=5)

    recent_pays = pays[pays["paid_on"] >= window_start]
    if "months_past_due" in recent_pays:  # the billing system's own delinquency status
        mpd = recent_pays.sort_values("paid_on").groupby("customer_id", observed=True)["months_past_due"]
        out["months_past_due_last"] = mpd.last().reindex(customer_ids).astype(float)
        out["months_past_due_max"] = mpd.max().reindex(customer_ids).astype(float)
    else:
        out["months_past_due_last"] = np.nan
        out["months_past_due_max"] = np.nan
    if "channel" in recent_pays and len(recent_pays):
        mix = pd.crosstab(recent_pays["customer_id"], recent_pays["channel"], normalize="index")
        for ch in CHANNELS:
            out[f"share_{ch}"] = (mix[ch] if ch in mix else pd.Series(0.0, index=mix.index)).reindex(customer_ids)
    else:
        for ch in CHANNELS:
            out[f"share_{ch}"] = np.nan
    return out
