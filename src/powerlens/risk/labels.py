"""Labels derived from events in the window after each cut-off (never before it)."""

from __future__ import annotations

import pandas as pd

from powerlens.errors import InvalidInput
from powerlens.rules import TASKS, paid_in_full


def churn(customers: pd.DataFrame, as_of: pd.Timestamp, horizon_months: int) -> pd.Series:
    """1 when an account open at the cut-off closes within the horizon."""
    end = as_of + pd.DateOffset(months=horizon_months)
    closed = customers["end_date"]
    return ((closed >= as_of) & (closed < end)).astype(int).set_axis(customers["customer_id"].astype(str))


def paid_by_bill(payments: pd.DataFrame) -> pd.DataFrame:
    """Per bill_id: the amount paid and the last payment's date."""
    return payments.groupby("bill_id").agg(paid=("amount", "sum"), last_paid=("paid_on", "max"))


def arrears(bills: pd.DataFrame, payments: pd.DataFrame, customer_ids: pd.Index, as_of: pd.Timestamp,
            horizon_months: int, days_past_due: int, paid: pd.DataFrame | None = None) -> pd.Series:
    """1 when some bill reaches `days_past_due` unpaid within the horizon (`paid`: the payments'
    `paid_by_bill`, when the caller has it for several cut-offs)."""
    end = as_of + pd.DateOffset(months=horizon_months)
    hit = bills["due_date"] + pd.Timedelta(days=days_past_due)
    window = bills[(hit >= as_of) & (hit < end)]
    hit = hit[window.index]
    paid = paid_by_bill(payments) if paid is None else paid
    w = window.join(paid, on="bill_id")
    settled_in_time = paid_in_full(w["paid"], w["amount"]) & (w["last_paid"] <= hit).to_numpy()
    late = w.loc[~settled_in_time, "customer_id"].astype(str).unique()
    return pd.Series(customer_ids.isin(late).astype(int), index=customer_ids)


def theft(events: pd.DataFrame, customer_ids: pd.Index, as_of: pd.Timestamp, horizon_months: int) -> pd.Series:
    """1 when an inspection within the horizon confirms theft."""
    end = as_of + pd.DateOffset(months=horizon_months)
    e = events[(events["kind"] == "inspection") & (events["outcome"] == "theft_confirmed")
               & (events["ts"] >= as_of) & (events["ts"] < end)]
    return pd.Series(customer_ids.isin(e["customer_id"].astype(str).unique()).astype(int), index=customer_ids)


def derive(task: str, data, feats: pd.DataFrame, horizon_months: int, days_past_due: int) -> pd.Series:
    """Labels aligned to the rows of `feats` (one row per customer and cut-off)."""
    out = []
    paid = paid_by_bill(data.payments) if task == "arrears" else None  # once, not per cut-off
    for as_of, block in feats.groupby("as_of", sort=True):
        ids = pd.Index(block["customer_id"].astype(str))
        if task == "churn":
            y = churn(data.customers, as_of, horizon_months).reindex(ids).fillna(0)
        elif task == "arrears":
            y = arrears(data.bills, data.payments, ids, as_of, horizon_months, days_past_due, paid)
        elif task == "theft":
            y = theft(data.events, ids, as_of, horizon_months)
        else:
            raise InvalidInput(f"unknown task {task!r}; known: {', '.join(TASKS)}")
        out.append(pd.Series(y.to_numpy().astype(int), index=block.index))
    return pd.concat(out).reindex(feats.index)


BINARY = {"1": 1, "0": 0, "true": 1, "false": 0, "t": 1, "f": 0, "yes": 1, "no": 0, "1.0": 1, "0.0": 0}


def given(labels_table: pd.DataFrame, task: str, feats: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Labels a source gave for `task`, joined to the feature rows at their as-of dates; rows
    without a label are dropped. Binary labels (0/1, t/f, yes/no) come back as 0/1 integers;
    three or more classes (e.g. the London sample's ACORN group: Affluent / Comfortable /
    Adversity) come back as the class names, for a multi-class model."""
    lab = labels_table[labels_table["task"] == task][["customer_id", "as_of", "label"]].copy()
    lab["customer_id"] = lab["customer_id"].astype(str)
    lab["as_of"] = pd.to_datetime(lab["as_of"]).astype(feats["as_of"].dtype)
    merged = feats.assign(customer_id=feats["customer_id"].astype(str)).merge(
        lab, on=["customer_id", "as_of"], how="inner")
    raw = merged.pop("label").astype(str).str.strip()
    values = raw.str.lower()
    merged = merged.reset_index(drop=True)
    if values.isin(list(BINARY)).all():
        return values.map(BINARY).astype(int).reset_index(drop=True), merged
    classes = sorted(raw.unique())
    if len(classes) < 3:
        raise InvalidInput(f"task {task!r} has the two labels {', '.join(classes)}: give a binary task as 0/1 "
                         "(or true/false, yes/no) so that it is clear which one is the risk")
    return raw.reset_index(drop=True), merged


def is_multiclass(y) -> bool:
    """Class names (not 0/1) mean a multi-class task."""
    values = pd.Series(y)
    return not pd.api.types.is_numeric_dtype(values) and values.nunique() > 2
