"""Company and regional KPIs of a period: monthly trends and the Pareto curve of revenue.

Pure functions of the clean tables; the snapshot job computes them for the whole utility and
for each region, and the report shows them as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from powerlens.rules import paid_in_full, period_bounds
from powerlens.segmentation.value import pareto

KPI_COLUMNS = ["period", "customers", "kwh", "revenue", "on_time_rate", "arrears_amount",
               "accounts_closed", "thefts_confirmed"]


def _bill_payments(bills: pd.DataFrame, payments: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each payment's bill position, amount and date, and what was paid by each due date."""
    pos = pd.Index(bills["bill_id"]).get_indexer(payments["bill_id"])
    known = pos >= 0
    pay_pos = pos[known]
    pay_amount = payments["amount"].to_numpy(dtype=float)[known]
    on_time = (payments["paid_on"].dt.normalize().to_numpy()[known]
               <= bills["due_date"].dt.normalize().to_numpy()[pay_pos])
    return {"pos": pay_pos, "amount": pay_amount, "paid_on": payments["paid_on"].to_numpy()[known],
            "paid_by_due": np.bincount(pay_pos[on_time], pay_amount[on_time], minlength=len(bills))}


def monthly_kpis(customers: pd.DataFrame | None, bills: pd.DataFrame | None, payments: pd.DataFrame | None,
                 events: pd.DataFrame | None, period: str, months: int = 12) -> pd.DataFrame:
    """KPIs for the `months` months ending with `period`, one row per month.

    customers (accounts active in the month), kwh and revenue (billed), on_time_rate (bills due
    in the month paid in full by the due date: `rules.paid_in_full`), arrears_amount (unpaid
    past-due amount at month end), accounts_closed, thefts_confirmed (inspections). A missing
    table gives NaN columns.
    """
    period_bounds(period)
    last = pd.Period(period, freq="M")
    paid: dict[str, np.ndarray] = {}
    if bills is not None:
        bills = bills[bills["period"].astype(str) <= str(last)].reset_index(drop=True)
        amount = bills["amount"].to_numpy(dtype=float)
        due_date = bills["due_date"]
        if payments is not None:
            paid = _bill_payments(bills, payments)
    rows = []
    for p in (last - i for i in reversed(range(months))):
        s, e = p.start_time, (p + 1).start_time
        row: dict[str, Any] = {"period": str(p)}
        if customers is not None:
            end_date = customers["end_date"]
            row["customers"] = int(((customers["start_date"] < e) & (end_date.isna() | (end_date >= s))).sum())
            row["accounts_closed"] = int(((end_date >= s) & (end_date < e)).sum())
        if bills is not None:
            month = bills[bills["period"].astype(str) == str(p)]
            row["kwh"] = float(month["kwh"].sum())
            row["revenue"] = float(month["amount"].sum())
            if paid:
                due = ((due_date >= s) & (due_date < e) & (bills["amount"] > 0)).to_numpy()
                settled = paid_in_full(paid["paid_by_due"][due], amount[due])
                row["on_time_rate"] = float(settled.mean()) if due.any() else np.nan
                before = paid["paid_on"] < np.datetime64(e)
                paid_by = np.bincount(paid["pos"][before], paid["amount"][before], minlength=len(bills))
                owed = (due_date < e).to_numpy()
                row["arrears_amount"] = float(np.clip(amount[owed] - paid_by[owed], 0, None).sum())
        if events is not None:
            theft = ((events["kind"] == "inspection") & (events["outcome"] == "theft_confirmed")
                     & (events["ts"] >= s) & (events["ts"] < e))
            row["thefts_confirmed"] = int(theft.sum())
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=KPI_COLUMNS)


def revenue_by_customer(bills: pd.DataFrame | None, period: str, months: int = 12) -> pd.Series | None:
    """Billed revenue per customer over the `months` months ending with `period`."""
    if bills is None:
        return None
    last = pd.Period(period, freq="M")
    window = {str(last - i) for i in range(months)}
    return bills[bills["period"].astype(str).isin(window)].groupby("customer_id")["amount"].sum()


def pareto_table(revenue: pd.Series | None, max_points: int = 400) -> tuple[pd.DataFrame, dict[str, float]]:
    """The Pareto curve of revenue (customer share -> revenue share, largest first) and its
    summary: billed customers and the top 20%'s share."""
    if revenue is None:
        return pd.DataFrame(columns=["customer_share", "revenue_share"]), {"customers": 0, "top20_share": np.nan}
    curve, top20 = pareto(revenue)
    if len(curve) > max_points:  # a curve to draw, not a customer list: evenly spaced points and the last
        keep = np.unique(np.r_[np.linspace(0, len(curve) - 1, max_points).round().astype(int), len(curve) - 1])
        curve = curve.iloc[keep].reset_index(drop=True)
    return curve, {"customers": int(len(revenue)), "top20_share": top20}
