"""Price features: what a customer pays per kWh, how its bill splits over the ToU periods, and how
sensitive it is to price, estimated from how its consumption and its complaints responded to
changes in its tariff and its bill.

The price elasticity compares each month with the same month a year earlier (which takes out the
season): the slope of the change in log kWh on the change in log tariff price over every month
with a bill a year before (its intercept takes out the customer's own growth), or, in a history
too short for a slope (every pair straddles the same price change), their mean ratio. The tariff price is the price in force for
the customer (powerlens.tariffs), at the customer's own average mix of ToU periods, so it moves
with the tariff only, never with the customer's own consumption (which bill amount / kWh would,
through the two-part tariff's capacity charge).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.rules import bill_issued_on as _issued
from powerlens.tariffs import PERIOD_KWH, TOU_PERIODS, billed_under_tou, prices_on

COLUMNS = ["avg_price_per_kwh", *[f"bill_share_{p}" for p in TOU_PERIODS], "price_elasticity_kwh",
           "complaints_after_bill_rise", "price_sensitivity"]
MIN_PAIRS = 12  # year-on-year month pairs the elasticity needs ...
MIN_PRICE_CHANGE = 0.01  # ... of which some with a tariff price change of at least this (log)
MIN_STEP_PAIRS = 3  # ... or this many pairs that all straddle one price change (a short history)
BILL_RISE = 0.10  # a bill at least 10% above the average of the three before it ...
RISE_WINDOW_DAYS = 60  # ... and the complaints in the 60 days after it
# price_sensitivity: the elasticity, plus this much per complaint after a bill rise (an
# elasticity of 0.1 is a 1% fall in consumption for a 10% rise in price)
COMPLAINT_WEIGHT = 0.05


def price_features(bills: pd.DataFrame, events: pd.DataFrame, customers: pd.DataFrame,
                   tariffs: pd.DataFrame | None, customer_ids: pd.Index, as_of: pd.Timestamp,
                   history_days: int) -> pd.DataFrame:
    """One row per customer in `customer_ids`, the COLUMNS; only bills issued and complaints made
    strictly before `as_of` are seen. Without a tariffs table the bill shares and the elasticity
    are unknown (NaN)."""
    out = pd.DataFrame(np.nan, index=customer_ids, columns=COLUMNS)
    if bills is None or bills.empty:
        return out
    known = bills[_issued(bills) < as_of]  # (load_clean puts each customer's bills in one order)
    recent = known[_issued(known) >= as_of - pd.Timedelta(days=history_days)]
    g = recent.groupby("customer_id", observed=True)
    kwh = g["kwh"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["avg_price_per_kwh"] = (g["amount"].sum() / kwh.where(kwh > 0)).reindex(customer_ids)
    rises = _complaints_after_rises(known, events, as_of)
    out["complaints_after_bill_rise"] = rises.reindex(customer_ids)
    if tariffs is not None and len(tariffs) and len(known):
        cust = customers.set_index(customers["customer_id"].astype(str))
        priced = _with_prices(known, cust, tariffs)
        out.update(_bill_shares(priced[_issued(priced) >= as_of - pd.Timedelta(days=history_days)]
                                ).reindex(customer_ids))
        out["price_elasticity_kwh"] = _elasticity(priced, cust).reindex(customer_ids)
    complaints = out["complaints_after_bill_rise"].fillna(0.0)
    out["price_sensitivity"] = out["price_elasticity_kwh"].clip(lower=0) + COMPLAINT_WEIGHT * complaints
    return out


def _with_prices(bills: pd.DataFrame, cust: pd.DataFrame, tariffs: pd.DataFrame) -> pd.DataFrame:
    """The bills of known customers with the tariff prices in force in their month."""
    b = bills[bills["customer_id"].astype(str).isin(cust.index)].copy()
    b["customer_id"] = b["customer_id"].astype(str)
    c = cust.loc[b["customer_id"]]
    on = pd.to_datetime(b["period"].astype(str) + "-01")
    prices = prices_on(tariffs, c["customer_class"].set_axis(b.index), c["region"].set_axis(b.index),
                       c["voltage_kv"].set_axis(b.index), on.set_axis(b.index))
    return pd.concat([b, prices], axis=1).assign(month=on)


def _bill_shares(priced: pd.DataFrame) -> pd.DataFrame:
    """Share of the energy charge of the customer's ToU bills in each period (NaN for a customer
    billed flat: its bill has no periods)."""
    cols = [p for p in TOU_PERIODS if PERIOD_KWH[p] in priced]
    if not cols:
        return pd.DataFrame(columns=[f"bill_share_{p}" for p in TOU_PERIODS])
    tou = priced[billed_under_tou(priced)]
    charge = pd.DataFrame({p: tou[PERIOD_KWH[p]].fillna(0.0) * tou[f"tou_price_{p}"].fillna(0.0) for p in cols})
    charge["customer_id"] = tou["customer_id"].to_numpy()
    per = charge.groupby("customer_id").sum()
    total = per.sum(axis=1)
    shares = per.div(total.where(total > 0), axis=0)
    return shares.rename(columns={p: f"bill_share_{p}" for p in cols})


def _elasticity(priced: pd.DataFrame, cust: pd.DataFrame) -> pd.Series:
    """-(slope of the year-on-year change in log kWh on the year-on-year change in log tariff
    price), per customer; NaN without MIN_PAIRS month pairs or without a price change. The
    months an account opened or closed (part months) are left out."""
    b = priced[priced["kwh"] > 0]
    start = _month_number(pd.to_datetime(cust["start_date"]))
    end = _month_number(pd.to_datetime(cust.get("end_date", pd.Series(pd.NaT, index=cust.index))))
    month = _month_number(b["month"])
    whole = (month != start.reindex(b["customer_id"]).to_numpy()) & (month != end.reindex(b["customer_id"]).to_numpy())
    b = b[whole.to_numpy()]
    if b.empty:
        return pd.Series(dtype=float)
    # the tariff price at the customer's own average ToU mix (flat bills: the flat price)
    period_cols = [p for p in TOU_PERIODS if PERIOD_KWH[p] in b]
    tou = billed_under_tou(b)
    price = b["flat_price"].astype(float).copy()
    if tou.any():
        t = b[tou]
        kwh_p = pd.DataFrame({p: t[PERIOD_KWH[p]].fillna(0.0) for p in period_cols})
        mix = kwh_p.groupby(t["customer_id"].to_numpy()).sum()
        mix = mix.div(mix.sum(axis=1).where(lambda s: s > 0), axis=0).reindex(t["customer_id"]).to_numpy()
        tou_prices = t[[f"tou_price_{p}" for p in period_cols]].fillna(0.0).to_numpy()
        price[tou] = np.nansum(mix * tou_prices, axis=1)
    frame = pd.DataFrame({"customer_id": b["customer_id"].to_numpy(), "m": month[whole.to_numpy()].to_numpy(),
                          "log_kwh": np.log(b["kwh"].to_numpy(dtype=float)),
                          "log_price": np.log(price.where(price > 0).to_numpy(dtype=float))})
    frame = frame.groupby(["customer_id", "m"], as_index=False).agg(log_kwh=("log_kwh", "mean"),
                                                                    log_price=("log_price", "mean"))
    year_before = frame.assign(m=frame["m"] + 12)
    pairs = frame.merge(year_before, on=["customer_id", "m"], suffixes=("", "_ly"))
    pairs = pairs.assign(dk=pairs["log_kwh"] - pairs["log_kwh_ly"], dp=pairs["log_price"] - pairs["log_price_ly"])
    pairs = pairs.dropna(subset=["dk", "dp"])
    g = pairs.groupby("customer_id")
    n = g.size()
    changed = (pairs["dp"].abs() >= MIN_PRICE_CHANGE).groupby(pairs["customer_id"]).sum()
    mean_k, mean_p = g["dk"].transform("mean"), g["dp"].transform("mean")
    cov = ((pairs["dk"] - mean_k) * (pairs["dp"] - mean_p)).groupby(pairs["customer_id"]).sum()
    var = ((pairs["dp"] - mean_p) ** 2).groupby(pairs["customer_id"]).sum()
    ok = (n >= MIN_PAIRS) & (changed >= 3) & (changed <= n - 3) & (var > 0)
    # a short history whose pairs all straddle the same price change (every pair a year apart
    # across it): the mean change in log kWh over the change in log price, which does not
    # separate the customer's own growth from its answer to the price (the slope above does)
    step_only = ~ok & (n >= MIN_STEP_PAIRS) & (changed == n) & (mean_p.groupby(pairs["customer_id"]).first().abs()
                                                                  >= MIN_PRICE_CHANGE)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (-cov / var).where(ok)
        ratio = -(g["dk"].mean() / g["dp"].mean())
    return slope.fillna(ratio.where(step_only))


def _month_number(dates: pd.Series) -> pd.Series:
    """Months counted from year 0 (float: NaN for no date), so a year earlier is 12 less."""
    return dates.dt.year * 12.0 + dates.dt.month - 1


def _complaints_after_rises(bills: pd.DataFrame, events: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.Series:
    """Per customer with a bill rise (a bill at least BILL_RISE above the mean of its three
    before): complaints in the RISE_WINDOW_DAYS after its rises, per rise."""
    if events is None or events.empty or bills.empty:
        return pd.Series(dtype=float)
    b = bills.assign(issued=_issued(bills), customer_id=bills["customer_id"].astype(str)).sort_values(
        ["customer_id", "issued"])
    # the mean of the three bills before each (shifts within the customer: no per-customer Python)
    g = b.groupby("customer_id", sort=False)["amount"]
    before = (g.shift(1) + g.shift(2) + g.shift(3)) / 3
    rises = b[(before > 0) & (b["amount"] >= (1 + BILL_RISE) * before)][["customer_id", "issued"]]
    if rises.empty:
        return pd.Series(dtype=float)
    complaints = events[(events["kind"] == "complaint") & (events["ts"] < as_of)]
    complaints = complaints.assign(customer_id=complaints["customer_id"].astype(str))[["customer_id", "ts"]]
    m = rises.reset_index(drop=True).reset_index().merge(complaints, on="customer_id")
    m = m[(m["ts"] >= m["issued"]) & (m["ts"] < m["issued"] + pd.Timedelta(days=RISE_WINDOW_DAYS))]
    per_rise = m.groupby("index").size().reindex(range(len(rises)), fill_value=0)
    return per_rise.groupby(rises["customer_id"].to_numpy()).mean()
