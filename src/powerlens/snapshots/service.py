"""The service part of a snapshot: 95598 service KPIs against their targets with the
rectification items of the period and the follow-up of last period's, and the payment channels
(the move to digital, the customers still paying at counters). Everything from data before the
period's end (see `powerlens.service_quality`, `powerlens.payment_channels`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from powerlens.payment_channels import counter_payers, digital_shift, digital_trend
from powerlens.service_quality import follow_up, rectification_items, service_kpis


def service_tables(clean: Any, period: str, cutoff: pd.Timestamp, segments: pd.DataFrame | None,
                   service_cfg: Any, payments_cfg: Any) -> dict[str, pd.DataFrame]:
    """The period's service and payment tables (only those the data supports): KPIs of the 12
    months up to the period per region (and value tier where segments exist), the items that
    break a target this period, last period's items checked now, the digital share per month
    and its trend, and the counter payers at the cut-off."""
    out: dict[str, pd.DataFrame] = {}
    customers = clean.customers
    customers = customers.reset_index(drop="customer_id" in customers.columns)
    customers = customers.assign(customer_id=customers["customer_id"].astype(str))
    months = [str(p) for p in pd.period_range(end=pd.Period(period, "M"), periods=12, freq="M")]
    previous = str(pd.Period(period, "M") - 1)
    events = clean.events
    if events is not None and len(events):
        events = events[events["ts"] < cutoff]
        tiers = (segments.assign(customer_id=segments["customer_id"].astype(str)).set_index("customer_id")["value_tier"]
                 if segments is not None and "value_tier" in segments else None)
        kpis = service_kpis(events, customers, tiers=tiers, periods=months)
        targets = dict(service_cfg.targets)
        out["service_kpis"] = kpis
        out["rectification"] = rectification_items(kpis[kpis["period"].eq(period)], targets)
        out["rectification_follow_up"] = follow_up(rectification_items(kpis[kpis["period"].eq(previous)], targets),
                                                   kpis, period, targets)
    payments = clean.payments
    if payments is not None and len(payments) and "channel" in payments and payments["channel"].notna().any():
        payments = payments[payments["paid_on"] < cutoff]
        shift = digital_shift(payments, customers)
        out["payment_channel_shift"] = shift
        out["payment_channel_trend"] = digital_trend(shift, min_payments=int(payments_cfg.trend_min_payments))
        out["counter_payers"] = counter_payers(payments, customers, cutoff, int(payments_cfg.counter_lookback_months),
                                               float(payments_cfg.counter_min_share))
    return out
