"""Billing and credit features: what was billed, what was paid by the cut-off, what is overdue."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.rules import bill_issued_on, paid_in_full

CHANNELS = ["direct_debit", "counter", "mobile_app", "prepaid"]
COLUMNS = ["revenue_12m", "bill_amount_mean", "bill_volatility", "on_time_rate", "days_past_due_mean",
           "days_past_due_max", "bills_over_30dpd", "arrears_count", "arrears_amount", "arrears_1_30d",
           "arrears_31_60d", "arrears_61_90d", "arrears_over_90d", "bill_amount_last", "paid_to_billed_3m",
           "months_past_due_last", "months_past_due_max"] + [f"share_{c}" for c in CHANNELS]
# what was paid toward each bill: the bill-by-bill history that sums and averages hide
HISTORY_COLUMNS = ["bill_amount_prev", "bill_amount_max", "paid_12m", "paid_last_due", "paid_share_last_due",
                   "paid_share_mean", "paid_share_min", "bills_unpaid_12m", "bills_paid_full_12m", "bills_zero_12m",
                   "repayment_status_last", "repayment_status_prev"]
SHARE_CAP = 5.0  # a payment can be several times a small bill (paid_to_billed_3m is capped alike)


def billing_features(bills: pd.DataFrame, payments: pd.DataFrame, customer_ids: pd.Index,
                     as_of: pd.Timestamp, history_days: int) -> pd.DataFrame:
    """Only bills issued and payments made strictly before `as_of` are seen."""
    if bills.empty:  # a source without bills (e.g. smart-meter only): unknown, not zero
        return pd.DataFrame(np.nan, index=customer_ids, columns=COLUMNS + HISTORY_COLUMNS)
    out = pd.DataFrame(index=customer_ids)
    issued = bill_issued_on(bills)
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
    settled = pd.Series(paid_in_full(due["paid"], due["amount"]), index=due.index)
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
    return pd.concat([out, payment_history(recent.assign(_issued=issued.loc[recent.index]), due, pays,
                                           customer_ids, window_start)], axis=1)


def _nth_from_last(frame: pd.DataFrame, col: str, n: int) -> pd.Series:
    """Per customer, `col` of the n-th row from the end (frame ordered oldest to newest)."""
    s = frame.groupby("customer_id", observed=True, sort=False)[col].nth(-n)
    return pd.Series(s.to_numpy(), index=frame.loc[s.index, "customer_id"].astype(str).to_numpy())


def payment_history(recent: pd.DataFrame, due: pd.DataFrame, pays: pd.DataFrame, customer_ids: pd.Index,
                    window_start: pd.Timestamp) -> pd.DataFrame:
    """Bill by bill in the look-back: the bill before the latest and the largest, what was paid
    toward the latest due bill and the share paid of each, bills left wholly unpaid or paid in
    full, and the billing system's repayment status code of the last two due bills (a source's
    `repayment_status` on payments: -1 paid duly, 0 minimum paid, ...). The sums and averages
    above hide the sequence: a customer who paid nothing toward the last bill after paying the
    ones before is not one who always pays a little late. `recent`: bills issued in the
    look-back before the cut-off (with `_issued`); `due`: their due ones with `paid`; `pays`:
    payments before the cut-off."""
    out = pd.DataFrame(index=customer_ids)
    recent = recent.sort_values(["customer_id", "_issued"], kind="stable")
    g = recent.groupby("customer_id", observed=True, sort=False)["amount"]
    out["bill_amount_prev"] = _nth_from_last(recent, "amount", 2).reindex(customer_ids)
    out["bill_amount_max"] = g.max().reindex(customer_ids)
    out["paid_12m"] = pays[pays["paid_on"] >= window_start].groupby(
        "customer_id", observed=True)["amount"].sum().reindex(customer_ids).fillna(0.0)
    due = due[due["due_date"] >= window_start].sort_values(["customer_id", "due_date"], kind="stable")
    positive = due["amount"] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        due = due.assign(share=(due["paid"] / due["amount"]).where(positive).clip(upper=SHARE_CAP))
    gd = due.groupby("customer_id", observed=True, sort=False)
    last_due = due.groupby("customer_id", observed=True, sort=False).tail(1)
    last_due = last_due.set_index(last_due["customer_id"].astype(str))
    out["paid_last_due"] = last_due["paid"].reindex(customer_ids)
    out["paid_share_last_due"] = last_due["share"].reindex(customer_ids)
    out["paid_share_mean"] = gd["share"].mean().reindex(customer_ids)
    out["paid_share_min"] = gd["share"].min().reindex(customer_ids)
    any_due = customer_ids.isin(due["customer_id"].astype(str).unique())

    def count(mask: pd.Series) -> np.ndarray:  # no bill due yet: unknown, not zero
        n = mask.groupby(due["customer_id"], observed=True).sum().reindex(customer_ids).fillna(0)
        return np.where(any_due, n.to_numpy(dtype=float), np.nan)

    out["bills_unpaid_12m"] = count(positive & (due["paid"] <= 0))
    out["bills_paid_full_12m"] = count(positive & pd.Series(paid_in_full(due["paid"], due["amount"]),
                                                            index=due.index))
    out["bills_zero_12m"] = (recent["amount"] <= 0).groupby(recent["customer_id"], observed=True).sum(
        ).reindex(customer_ids).fillna(0).astype(float)
    if "repayment_status" in pays:
        code = pays.sort_values("paid_on", kind="stable").groupby("bill_id")["repayment_status"].last()
        coded = due.join(code.rename("code"), on="bill_id")
        coded = coded[coded["code"].notna()]
        out["repayment_status_last"] = _nth_from_last(coded, "code", 1).reindex(customer_ids).astype(float)
        out["repayment_status_prev"] = _nth_from_last(coded, "code", 2).reindex(customer_ids).astype(float)
    else:
        out["repayment_status_last"] = np.nan
        out["repayment_status_prev"] = np.nan
    return out[HISTORY_COLUMNS]
