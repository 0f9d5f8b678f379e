"""Customer-months of energy, billed energy and sales by class per region, theft scores per region."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from powerlens.regional.base import SALES_COLUMNS, TOTAL


def customer_month_kwh(customers: pd.DataFrame, readings_daily: pd.DataFrame | Iterable[pd.DataFrame] | None,
                       bills: pd.DataFrame | None) -> tuple[pd.DataFrame, str]:
    """(kWh per customer and calendar month: customer_id, month, kwh; its source). The daily
    readings when there are any (calendar months, like the load), else the bills' kWh by
    billing period. The readings may come as batches (an iterable of frames: a whole utility's
    readings need not be in memory at once); a customer-month split over batches is summed."""
    if readings_daily is not None and not isinstance(readings_daily, pd.DataFrame):
        parts = [_month_sums(batch) for batch in readings_daily if len(batch)]
        if parts:
            whole = pd.concat(parts, ignore_index=True)
            whole["customer_id"] = whole["customer_id"].astype(str)
            return whole.groupby(["customer_id", "month"], sort=True)["kwh"].sum().reset_index(), "readings_daily"
        readings_daily = None
    if readings_daily is not None and len(readings_daily):
        return _month_sums(readings_daily), "readings_daily"
    if bills is not None and len(bills) and "kwh" in bills:
        b = bills.dropna(subset=["kwh"])
        out = b.groupby([b["customer_id"].astype(str), pd.PeriodIndex(b["period"], freq="M")])["kwh"].sum()
        out.index.names = ["customer_id", "month"]
        return out.reset_index(), "bills"
    return pd.DataFrame({"customer_id": pd.Series(dtype=object), "month": pd.PeriodIndex([], freq="M"),
                         "kwh": pd.Series(dtype=float)}), "none"


def _month_sums(readings_daily: pd.DataFrame) -> pd.DataFrame:
    """kWh per customer and calendar month of some daily readings."""
    ids = readings_daily["customer_id"]
    codes, uniques = (ids.cat.codes.to_numpy(), ids.cat.categories) if isinstance(ids.dtype, pd.CategoricalDtype) \
        else pd.factorize(ids)
    # month of each reading through its day (integer days, then a small day -> month table:
    # a calendar conversion of every row is slow at millions of readings)
    day = readings_daily["ts"].to_numpy().astype("datetime64[D]").astype(np.int64)
    day0 = int(day.min())
    table = np.arange(day0, int(day.max()) + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    first = int(table[0])
    m_codes = table[day - day0] - first
    n_m = int(m_codes.max()) + 1
    key = codes.astype(np.int64) * n_m + m_codes
    sums = np.bincount(key, weights=readings_daily["kwh"].to_numpy(dtype=np.float64),
                       minlength=len(uniques) * n_m)
    present = np.bincount(key, minlength=len(uniques) * n_m) > 0
    idx = np.flatnonzero(present)
    return pd.DataFrame({"customer_id": np.asarray(uniques, dtype=object)[idx // n_m],
                         "month": pd.PeriodIndex.from_ordinals(idx % n_m + first, freq="M"),
                         "kwh": sums[idx]})


def _attributes(customers: pd.DataFrame) -> pd.DataFrame:
    attrs = customers[["customer_id", "region", "customer_class"]
                      + (["industry"] if "industry" in customers else [])].copy()
    attrs["customer_id"] = attrs["customer_id"].astype(str)
    attrs["region"] = attrs["region"].astype("object").where(attrs["region"].notna(), None)
    if "industry" not in attrs:
        attrs["industry"] = None
    attrs["industry"] = attrs["industry"].astype("object").fillna("unknown")
    return attrs


def billed_by_region(customers: pd.DataFrame, cust_month: pd.DataFrame) -> pd.DataFrame:
    """Billed kWh per region and month (and `total`): the sum of the region's customers."""
    x = cust_month.assign(customer_id=cust_month["customer_id"].astype(str)).merge(
        _attributes(customers)[["customer_id", "region"]], on="customer_id", how="inner").dropna(subset=["region"])
    per = x.groupby(["region", "month"])["kwh"].sum().reset_index()
    total = per.groupby("month")["kwh"].sum().reset_index().assign(region=TOTAL)
    return pd.concat([per, total], ignore_index=True).rename(columns={"kwh": "billed_kwh"})


def sales_by_class(customers: pd.DataFrame, cust_month: pd.DataFrame) -> pd.DataFrame:
    """kWh per region x customer class x industry x month, the customers with kWh, and the
    growth against the same month a year earlier (raw: not weather-normalized)."""
    x = cust_month.assign(customer_id=cust_month["customer_id"].astype(str)).merge(
        _attributes(customers), on="customer_id", how="inner")
    x["region"] = x["region"].fillna("unknown")
    keys = ["region", "customer_class", "industry"]
    out = x.groupby(keys + ["month"]).agg(customers=("customer_id", "nunique"), kwh=("kwh", "sum")).reset_index()
    prev = out[keys + ["month", "kwh"]].assign(month=out["month"] + 12).rename(columns={"kwh": "kwh_year_earlier"})
    out = out.merge(prev, on=keys + ["month"], how="left")
    out["growth_yoy"] = out["kwh"] / out["kwh_year_earlier"].where(out["kwh_year_earlier"] > 0) - 1
    return out[SALES_COLUMNS].sort_values(["region", "customer_class", "industry", "month"]).reset_index(drop=True)


def theft_by_region(customers: pd.DataFrame, scores: pd.DataFrame | None, top_n: int) -> pd.DataFrame:
    """Per region: theft-scored accounts, their mean theft score, and how many of them rank in
    the top `top_n` of the utility's theft list (the score stage's `theft` task)."""
    cols = ["region", "theft_scored_accounts", "theft_mean_score", "theft_top_accounts"]
    if scores is None or not len(scores) or "task" not in scores:
        return pd.DataFrame(columns=cols)
    theft = scores[scores["task"] == "theft"].assign(customer_id=lambda s: s["customer_id"].astype(str))
    x = theft.merge(_attributes(customers)[["customer_id", "region"]], on="customer_id", how="inner")
    if not len(x):
        return pd.DataFrame(columns=cols)
    out = x.groupby("region").agg(theft_scored_accounts=("score", "size"), theft_mean_score=("score", "mean"),
                                  theft_top_accounts=("rank", lambda r: int((r <= top_n).sum()))).reset_index()
    return out[cols]
