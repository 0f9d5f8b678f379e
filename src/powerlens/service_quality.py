"""Service quality (95598): KPIs per region, value tier and month against targets, the
rectification items their breaches open, and the follow-up that closes them.

KPIs of a month (`period`, YYYY-MM), from the clean `service_events` and `customers` tables:
  complaints_per_10k            complaints per 10,000 accounts open in the month
  fault_resolution_hours_median fault reports' hours to resolve (resolved ones), median
  fault_resolution_hours_p90    ... and 90th percentile
  satisfaction_mean             mean callback score (1-5) of the month's answered callbacks
  new_connection_days_median    new installs' lead time in days: `resolution_hours` / 24 where
                                the source records it, else the days from the `new_install`
                                event to the account's start date (a lower bound when the event
                                marks completion rather than application)
A KPI computed on too few accounts or events (`ServiceTargets.min_customers` / `min_events`)
is reported but never judged. Pure functions: the snapshot computes, the report shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from powerlens.errors import InvalidInput, UsageError

ALL = "all"  # the tier label of a region's whole row
KPI_COLUMNS = [
    "period", "region", "tier", "customers", "complaints", "complaints_per_10k", "faults_resolved",
    "fault_resolution_hours_median", "fault_resolution_hours_p90", "callbacks", "satisfaction_mean",
    "new_connections", "new_connection_days_median",
]
ITEM_COLUMNS = ["region", "tier", "period", "kpi", "value", "target", "direction"]
FOLLOW_UP_COLUMNS = [*ITEM_COLUMNS, "checked_period", "value_now", "status", "note"]


@dataclass(frozen=True)
class ServiceTargets:
    """Targets of the service KPIs (params `service.targets`); a KPI is judged only where its
    row has at least `min_customers` open accounts (complaint rate) or `min_events` events."""

    complaints_per_10k: float = 800.0
    fault_resolution_hours_median: float = 8.0
    fault_resolution_hours_p90: float = 20.0
    satisfaction_min: float = 3.2
    new_connection_days: float = 15.0
    min_customers: int = 50
    min_events: int = 8

    @classmethod
    def of(cls, value: ServiceTargets | Mapping | None) -> ServiceTargets:
        """Targets from a params mapping (unknown keys and non-numbers refused in one line)."""
        if value is None or isinstance(value, ServiceTargets):
            return value or cls()
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise InvalidInput(f"service.targets: unknown key(s) {', '.join(map(str, unknown))}; "
                               f"known: {', '.join(known)}")
        out = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise InvalidInput(f"service.targets.{k}: {v!r} is not a non-negative number")
            out[k] = int(v) if k in ("min_customers", "min_events") else float(v)
        return cls(**out)

    def rules(self) -> list[tuple[str, float, str, str]]:
        """(kpi, target, direction, support column): `max` breaches above, `min` below."""
        return [
            ("complaints_per_10k", self.complaints_per_10k, "max", "customers"),
            ("fault_resolution_hours_median", self.fault_resolution_hours_median, "max", "faults_resolved"),
            ("fault_resolution_hours_p90", self.fault_resolution_hours_p90, "max", "faults_resolved"),
            ("satisfaction_mean", self.satisfaction_min, "min", "callbacks"),
            ("new_connection_days_median", self.new_connection_days, "max", "new_connections"),
        ]


def _month_range(events: pd.DataFrame, periods: list[str] | None) -> list[str]:
    if periods is not None:
        bad = [p for p in periods if not (isinstance(p, str) and len(p) == 7 and p[4] == "-")]
        if bad:
            raise UsageError(f"periods must be YYYY-MM months, not {bad[0]!r}")
        return sorted(set(periods))
    ts = events["ts"].dropna()
    if not len(ts):
        return []
    return [str(p) for p in pd.period_range(ts.min().to_period("M"), ts.max().to_period("M"), freq="M")]


def _open_accounts(customers: pd.DataFrame, region: pd.Series, tier: pd.Series,
                   periods: list[str]) -> pd.DataFrame:
    """(period, region, tier) of every account open at some time in each month."""
    start = customers["start_date"].to_numpy("datetime64[ns]")
    end = (customers["end_date"].to_numpy("datetime64[ns]") if "end_date" in customers
           else np.full(len(customers), np.datetime64("NaT"), "datetime64[ns]"))
    rows = []
    for p in periods:
        month = pd.Period(p, "M")
        lo, hi = month.start_time.to_datetime64(), (month + 1).start_time.to_datetime64()
        is_open = (start < hi) & (np.isnat(end) | (end >= lo))
        rows.append(pd.DataFrame({"period": p, "region": region.to_numpy()[is_open],
                                  "tier": tier.to_numpy()[is_open]}))
    return pd.concat(rows, ignore_index=True)


def _labels(customers: pd.DataFrame, tiers: pd.Series | None) -> tuple[pd.Series, pd.Series]:
    """Each account's region (missing: 'unknown') and tier ('untiered' where not given)."""
    region = customers["region"].astype("string").fillna("unknown").astype(str)
    if tiers is None:
        tier = pd.Series(ALL, index=customers.index)
    else:
        tier = customers["customer_id"].astype(str).map(tiers.rename(index=str)).astype("string")
        tier = tier.fillna("untiered").astype(str)
    return region, tier


def service_kpis(events: pd.DataFrame, customers: pd.DataFrame, tiers: pd.Series | None = None,
                 periods: list[str] | None = None) -> pd.DataFrame:
    """The service KPIs per (period, region, tier), with one row per region and month whose tier
    is `ALL`; `tiers` maps customer_id -> value tier (e.g. the segments' `value_tier`), none gives
    the `ALL` rows only; `periods` (YYYY-MM) defaults to the months the events span. Columns:
    KPI_COLUMNS; a KPI with nothing to measure is NaN (the complaint rate is 0 with accounts open
    and no complaint)."""
    for name, frame, cols in (("service_events", events, ["customer_id", "ts", "kind"]),
                              ("customers", customers, ["customer_id", "region", "start_date"])):
        missing = [c for c in cols if c not in frame]
        if missing:
            raise InvalidInput(f"{name}: missing column(s) {', '.join(missing)} for the service KPIs")
    periods = _month_range(events, periods)
    if not periods:
        return pd.DataFrame(columns=KPI_COLUMNS)
    customers = customers.reset_index(drop=True)
    region, tier = _labels(customers, tiers)
    cust = pd.DataFrame({"customer_id": customers["customer_id"].astype(str), "region": region, "tier": tier})
    ev = events.assign(customer_id=events["customer_id"].astype(str)).merge(cust, on="customer_id", how="inner")
    ev["period"] = ev["ts"].dt.to_period("M").astype(str)
    ev = ev[ev["period"].isin(periods)]
    hours = ev["resolution_hours"].astype(float) if "resolution_hours" in ev else pd.Series(np.nan, index=ev.index)
    score = ev["satisfaction"].astype(float) if "satisfaction" in ev else pd.Series(np.nan, index=ev.index)
    ev = ev.assign(hours=hours, score=score)
    ev["lead_days"] = _lead_days(ev, customers)

    accounts = _open_accounts(customers, region, tier, periods)
    out = [_kpis_by(ev, accounts, ["period", "region"]).assign(tier=ALL)]
    if tiers is not None:
        out.append(_kpis_by(ev, accounts, ["period", "region", "tier"]))
    kpis = pd.concat(out, ignore_index=True)[KPI_COLUMNS]
    return kpis.sort_values(["period", "region", "tier"], ignore_index=True)


def _lead_days(ev: pd.DataFrame, customers: pd.DataFrame) -> pd.Series:
    """New installs' lead time in days: resolution_hours / 24, else event to start date."""
    start = customers.assign(customer_id=customers["customer_id"].astype(str)).set_index("customer_id")["start_date"]
    start = start[~start.index.duplicated()]
    derived = (ev["customer_id"].map(start) - ev["ts"]).dt.total_seconds() / 86400
    lead = (ev["hours"] / 24).where(ev["hours"].notna(), derived.clip(lower=0))
    return lead.where(ev["kind"].eq("new_install"))


def _kpis_by(ev: pd.DataFrame, accounts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grid = accounts.groupby(keys, observed=True).size().rename("customers")
    complaints = ev[ev["kind"].eq("complaint")].groupby(keys).size().rename("complaints")
    faults = ev[ev["kind"].eq("fault_report") & ev["hours"].notna()].groupby(keys)["hours"]
    callbacks = ev[ev["score"].notna()].groupby(keys)["score"]
    installs = ev[ev["lead_days"].notna()].groupby(keys)["lead_days"]
    table = pd.concat([
        grid, complaints,
        faults.size().rename("faults_resolved"),
        faults.median().rename("fault_resolution_hours_median"),
        faults.quantile(0.9).rename("fault_resolution_hours_p90"),
        callbacks.size().rename("callbacks"),
        callbacks.mean().rename("satisfaction_mean"),
        installs.size().rename("new_connections"),
        installs.median().rename("new_connection_days_median"),
    ], axis=1)
    for col in ("customers", "complaints", "faults_resolved", "callbacks", "new_connections"):
        table[col] = table[col].fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = table["complaints"] / table["customers"] * 10_000
    table["complaints_per_10k"] = rate.where(table["customers"] > 0).round(1)
    return table.reset_index()


def rectification_items(kpis: pd.DataFrame, targets: ServiceTargets | Mapping | None = None,
                        tiers: str | None = ALL) -> pd.DataFrame:
    """One rectification item per KPI that breaks its target in a (region, tier, period) row with
    enough support: region, tier, period, kpi, value, target, direction (`max`: the value is above
    its ceiling, `min`: below its floor). `tiers=ALL` judges the region rows only (a tier row is
    detail of its region); None judges every row."""
    targets = ServiceTargets.of(targets)
    rows = kpis if tiers is None else kpis[kpis["tier"].eq(tiers)]
    items = []
    for kpi, target, direction, support in targets.rules():
        enough = rows[support] >= (targets.min_customers if support == "customers" else targets.min_events)
        value = rows[kpi].astype(float)
        bad = enough & (value > target if direction == "max" else value < target).fillna(False)
        hit = rows[bad]
        items.append(pd.DataFrame({"region": hit["region"], "tier": hit["tier"], "period": hit["period"],
                                   "kpi": kpi, "value": value[bad].round(2), "target": float(target),
                                   "direction": direction}))
    out = pd.concat(items, ignore_index=True) if items else pd.DataFrame(columns=ITEM_COLUMNS)
    return out[ITEM_COLUMNS].sort_values(["period", "region", "tier", "kpi"], ignore_index=True)


def follow_up(items: pd.DataFrame, kpis: pd.DataFrame, period: str,
              targets: ServiceTargets | Mapping | None = None) -> pd.DataFrame:
    """Last period's rectification items checked against `period`'s KPIs: `closed` where the
    same region, tier and KPI now meets its target, `still_open` where it still breaks it or
    could not be judged (too few accounts or events: said in `note`)."""
    targets = ServiceTargets.of(targets)
    support = {kpi: (s, targets.min_customers if s == "customers" else targets.min_events)
               for kpi, _t, _d, s in targets.rules()}
    now = kpis[kpis["period"].eq(period)].set_index(["region", "tier"])
    rows = []
    for item in items[ITEM_COLUMNS].itertuples(index=False):
        row = now.loc[(item.region, item.tier)] if (item.region, item.tier) in now.index else None
        col, need = support.get(item.kpi, (None, 0))
        if row is None or col is None or row[col] < need or pd.isna(row[item.kpi]):
            rows.append((*item, period, np.nan, "still_open", f"not measured in {period} (too few accounts or events)"))
            continue
        value = float(row[item.kpi])
        met = value <= item.target if item.direction == "max" else value >= item.target
        rows.append((*item, period, round(value, 2), "closed" if met else "still_open",
                     "meets its target" if met else "still breaks its target"))
    return pd.DataFrame(rows, columns=FOLLOW_UP_COLUMNS)
