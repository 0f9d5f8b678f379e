"""The whole regional analysis of an hourly region_load, and its tables as written."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.regional.base import (
    MONTHLY_COLUMNS,
    REGION_COLUMNS,
    SALES_COLUMNS,
    TOTAL,
    RegionalAnalysis,
    RegionalParams,
)
from powerlens.regional.load import daily_load, monthly_load, with_total
from powerlens.regional.sales import (
    billed_by_region,
    customer_month_kwh,
    sales_by_class,
    theft_by_region,
)
from powerlens.regional.steps import detect_steps
from powerlens.regional.weather import (
    region_days,
    region_temperature,
    total_temperature,
    weather_sensitivity,
    year_on_year_growth,
)


def region_summary(monthly: pd.DataFrame, steps: pd.DataFrame, theft: pd.DataFrame) -> pd.DataFrame:
    """One row per region (and `total`): the last 12 months' energy, peak, load factor and line
    loss, the latest month's sensitivity and weather-normalized growth, the steps, and the theft
    scores."""
    rows = []
    for region in [*sorted(set(monthly["region"]) - {TOTAL}), TOTAL]:
        m = monthly[monthly["region"] == region].sort_values("month")
        if not len(m):
            continue
        last = m.tail(12)
        loss_rows = last.dropna(subset=["line_loss_kwh"])
        energy_loss = loss_rows["energy_kwh"].sum()
        rows.append({
            "region": region, "first_month": str(m["month"].iloc[0]), "last_month": str(m["month"].iloc[-1]),
            "months": len(m), "energy_kwh_12m": float(last["energy_kwh"].sum()),
            "peak_kw_12m": float(last["peak_kw"].max()),
            "load_factor_12m": float(last["energy_kwh"].sum() / last["hours_observed"].sum() / last["peak_kw"].max())
            if last["peak_kw"].max() > 0 else np.nan,
            "kwh_per_hdd": float(m["kwh_per_hdd"].iloc[-1]), "kwh_per_cdd": float(m["kwh_per_cdd"].iloc[-1]),
            "growth_yoy_weather_normalized": float(m["growth_yoy_weather_normalized"].iloc[-1]),
            "steps": int((steps["region"] == region).sum()) if region != TOTAL else len(steps),
            "line_loss_12m": float(loss_rows["line_loss_kwh"].sum() / energy_loss) if energy_loss > 0 else np.nan,
        })
    out = pd.DataFrame(rows, columns=REGION_COLUMNS[:-3]).merge(theft, on="region", how="left") if rows else \
        pd.DataFrame(columns=REGION_COLUMNS)
    if len(theft) and len(out):
        sums = theft[["theft_scored_accounts", "theft_top_accounts"]].sum()
        mean = float((theft["theft_mean_score"] * theft["theft_scored_accounts"]).sum() / sums["theft_scored_accounts"])
        at = out["region"] == TOTAL
        out.loc[at, ["theft_scored_accounts", "theft_top_accounts", "theft_mean_score"]] = [
            sums["theft_scored_accounts"], sums["theft_top_accounts"], mean]
    for col in REGION_COLUMNS:
        if col not in out:
            out[col] = np.nan
    return out[REGION_COLUMNS]


def analyse(load: pd.DataFrame, params: RegionalParams = RegionalParams(), *,
            weather_daily: pd.DataFrame | None = None, weather_hourly: pd.DataFrame | None = None,
            weather_stations: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
            readings_daily: pd.DataFrame | None = None, bills: pd.DataFrame | None = None,
            scores: pd.DataFrame | None = None) -> RegionalAnalysis:
    """The whole regional analysis of an hourly `region_load` (see the module docstring); the
    customer tables and theft scores are optional (a load export alone gives everything but
    line loss and sales by class)."""
    from powerlens.errors import InvalidInput

    if load is None or not len(load):
        raise InvalidInput("region_load is empty: the regional analysis needs the hourly load per region")
    hourly = with_total(load)
    daily = daily_load(hourly)
    monthly = monthly_load(hourly, daily)
    regions = sorted(set(hourly["region"]) - {TOTAL})
    temps, source = region_temperature(regions, weather_daily, weather_hourly, weather_stations)
    temps = pd.concat([temps, total_temperature(temps)], ignore_index=True) if len(temps) else temps
    days = region_days(daily, temps, params)
    month_dd = days.groupby(["region", days["date"].dt.to_period("M").rename("month")]).agg(
        heating_degree_days=("hdd", "sum"), cooling_degree_days=("cdd", "sum")).reset_index()
    monthly = monthly.merge(month_dd, on=["region", "month"], how="left")
    steps = detect_steps(days, params)
    monthly = monthly.merge(weather_sensitivity(days, monthly[["region", "month"]], params, steps),
                            on=["region", "month"], how="left")
    monthly = monthly.merge(year_on_year_growth(days, monthly, params), on=["region", "month"], how="left")

    has_customers = customers is not None and len(customers) and "region" in customers
    sales = pd.DataFrame(columns=SALES_COLUMNS)
    theft = pd.DataFrame(columns=["region", "theft_scored_accounts", "theft_mean_score", "theft_top_accounts"])
    if has_customers:
        cust_month, billed_source = customer_month_kwh(customers, readings_daily, bills)
        billed = billed_by_region(customers, cust_month).assign(billed_source=billed_source)
        monthly = monthly.merge(billed, on=["region", "month"], how="left")
        sales = sales_by_class(customers, cust_month)
        theft = theft_by_region(customers, scores, params.theft_top_n)
    else:
        monthly["billed_kwh"], monthly["billed_source"] = np.nan, None
    # line loss only where the month's load is complete and the region's customers were billed
    known = monthly["complete"] & monthly["billed_kwh"].notna()
    monthly["line_loss_kwh"] = (monthly["energy_kwh"] - monthly["billed_kwh"]).where(known)
    monthly["line_loss"] = monthly["line_loss_kwh"] / monthly["energy_kwh"].where(monthly["energy_kwh"] > 0)
    monthly = monthly[MONTHLY_COLUMNS]
    order = {r: i for i, r in enumerate([*regions, TOTAL])}
    monthly = monthly.sort_values(["month", "region"], key=lambda s: s.map(order) if s.name == "region" else s,
                                  kind="stable").reset_index(drop=True)
    summary = region_summary(monthly, steps, theft)
    return RegionalAnalysis(monthly=monthly, steps=steps, sales=sales, regions=summary, temperature_source=source)


def as_output(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as written to parquet: months as YYYY-MM text (periods do not round-trip every
    reader), everything else as is."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            out[col] = out[col].astype(str)
    return out
