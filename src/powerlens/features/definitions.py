"""Every feature in one place: its unit and a one-line meaning, in the words of the field.

The report, reason codes and MLflow read these descriptions; a feature that is not listed here
is not built.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    unit: str
    meaning: str


_DEFS = [
    # load profile, from daily readings
    ("kwh_365d", "load_profile", "kWh", "energy used in the 365 days before the cut-off"),
    ("kwh_90d", "load_profile", "kWh", "energy used in the 90 days before the cut-off"),
    ("kwh_daily_mean", "load_profile", "kWh/day", "average daily energy over the look-back"),
    ("daily_load_factor", "load_profile", "ratio", "mean over maximum daily energy (flatness across days)"),
    ("daily_cv", "load_profile", "ratio", "coefficient of variation of daily energy"),
    ("trend_pct_per_year", "load_profile", "%/year", "growth (+) or decline (-) of consumption"),
    ("recent_change_ratio", "load_profile", "ratio", "last 30 days over the earlier look-back average"),
    ("weekend_weekday_ratio", "load_profile", "ratio", "weekend over weekday daily energy"),
    ("summer_index", "load_profile", "ratio", "June-August over the annual daily average"),
    ("winter_index", "load_profile", "ratio", "December-February over the annual daily average"),
    *[(f"month_{m:02d}_index", "load_profile", "ratio",
       f"{name} daily energy over the look-back's daily average (seasonal index)")
      for m, name in enumerate(["January", "February", "March", "April", "May", "June", "July", "August",
                                "September", "October", "November", "December"], start=1)],
    ("heating_sensitivity", "load_profile", "%/degree-day",
     "extra daily energy per heating degree-day (base 15.5 C), as % of the daily mean"),
    ("cooling_sensitivity", "load_profile", "%/degree-day",
     "extra daily energy per cooling degree-day (base 22 C), as % of the daily mean"),
    ("away_spells", "load_profile", "spells/year",
     "spells of 3+ days each under 70% of the usual daily energy (median of the 57 days around), per year"),
    ("high_day_share", "load_profile", "share",
     "share of days over 140% of the usual daily energy (median of the 57 days around)"),
    ("zero_days_90d", "theft_signal", "days", "days with zero consumption in the last 90 days"),
    ("longest_zero_streak", "theft_signal", "days", "longest run of zero-consumption days in the look-back"),
    ("largest_level_drop", "theft_signal", "share", "largest drop of a 30-day level against the level before it"),
    ("weekly_autocorrelation", "theft_signal", "corr", "correlation of daily energy with a week earlier (last 90 days)"),
    ("longest_missing_streak", "theft_signal", "days", "longest run of days without a reading since the first reading"),
    ("missing_days", "theft_signal", "days", "days without a reading since the first reading in the look-back"),
    # load profile, from interval (hourly) readings; where a source gives only each day's smallest
    # and largest interval reading (the London sample's half-hours), load factor, min/max rate,
    # peak-valley difference, base load, peak kW and the utilisations come from those
    # (features.intraday.daily_extreme_features): "hourly" then reads "per interval"
    ("load_factor", "load_profile", "ratio", "mean over maximum hourly load"),
    ("min_max_rate", "load_profile", "ratio", "daily minimum over daily maximum hourly load, averaged"),
    ("peak_valley_diff_rate", "load_profile", "ratio", "(daily max - daily min) / daily max, averaged"),
    ("peak_valley_ratio", "load_profile", "ratio", "energy per peak hour over energy per valley hour"),
    ("base_load_share", "load_profile", "share", "lowest 5% hourly load over the mean load"),
    ("peak_share", "load_profile", "share", "share of energy used in tariff peak hours"),
    ("valley_share", "load_profile", "share", "share of energy used in tariff valley hours"),
    ("flat_share", "load_profile", "share", "share of energy used in tariff flat (shoulder) hours"),
    ("night_ratio", "load_profile", "share", "share of energy used 00:00-06:00"),
    ("peak_kw", "load_profile", "kW", "highest hourly demand"),
    ("capacity_utilisation", "load_profile", "ratio", "highest hourly demand over contracted capacity (kW/kVA)"),
    ("max_load_utilisation_hours", "load_profile", "h", "annualised energy over the highest hourly demand"),
    # billing and credit
    ("revenue_12m", "billing", "currency", "billed amount in the 12 months before the cut-off"),
    ("bill_amount_mean", "billing", "currency", "average monthly bill"),
    ("bill_volatility", "billing", "ratio", "coefficient of variation of monthly bills"),
    ("on_time_rate", "credit", "share", "share of bills due in the look-back paid in full by the due date"),
    ("days_past_due_mean", "credit", "days", "average days past due of bills due in the look-back"),
    ("days_past_due_max", "credit", "days", "worst days past due of bills due in the look-back"),
    ("bills_over_30dpd", "credit", "count", "bills that reached 30 days past due in the look-back"),
    ("arrears_count", "credit", "count", "bills past due and not fully paid at the cut-off"),
    ("arrears_amount", "credit", "currency", "amount past due and unpaid at the cut-off"),
    ("arrears_1_30d", "credit", "currency", "unpaid amount 1-30 days past due"),
    ("arrears_31_60d", "credit", "currency", "unpaid amount 31-60 days past due"),
    ("arrears_61_90d", "credit", "currency", "unpaid amount 61-90 days past due"),
    ("arrears_over_90d", "credit", "currency", "unpaid amount more than 90 days past due"),
    ("bill_amount_last", "billing", "currency", "the latest bill issued before the cut-off"),
    ("paid_to_billed_3m", "credit", "ratio", "paid over billed in the last 3 months"),
    ("months_past_due_last", "credit", "months", "months past due at the latest payment (billing system status)"),
    ("months_past_due_max", "credit", "months", "worst months past due in the look-back (billing system status)"),
    ("share_direct_debit", "credit", "share", "share of payments by direct debit"),
    ("share_counter", "credit", "share", "share of payments at a counter"),
    ("share_mobile_app", "credit", "share", "share of payments by mobile app"),
    ("share_prepaid", "credit", "share", "share of payments by prepaid top-up"),
    # bill by bill (features.billing.payment_history)
    ("bill_amount_prev", "billing", "currency", "the bill before the latest one"),
    ("bill_amount_max", "billing", "currency", "the largest bill in the look-back"),
    ("paid_12m", "credit", "currency", "paid in the 12 months before the cut-off"),
    ("paid_last_due", "credit", "currency", "paid toward the latest bill that is due"),
    ("paid_share_last_due", "credit", "share", "share of the latest due bill paid by the cut-off"),
    ("paid_share_mean", "credit", "share", "average share paid of the bills due in the look-back"),
    ("paid_share_min", "credit", "share", "smallest share paid of a bill due in the look-back"),
    ("bills_unpaid_12m", "credit", "count", "bills due in the look-back with nothing paid toward them"),
    ("bills_paid_full_12m", "credit", "count", "bills due in the look-back paid in full by the cut-off"),
    ("bills_zero_12m", "billing", "count", "bills in the look-back with nothing to pay"),
    ("repayment_status_last", "credit", "code", "billing system's repayment status of the latest due bill"),
    ("repayment_status_prev", "credit", "code", "billing system's repayment status of the due bill before it"),
    # price (powerlens.features.price; the bill shares and the elasticity need a tariffs table)
    ("avg_price_per_kwh", "price", "currency/kWh", "billed amount over billed kWh in the look-back"),
    *[(f"bill_share_{p}", "price", "share", f"share of the ToU energy charge in the {name} period (look-back)")
      for p, name in (("sharp", "sharp"), ("peak", "peak"), ("flat", "shoulder (flat)"), ("valley", "valley"))],
    ("price_elasticity_kwh", "price", "ratio",
     "fall in consumption per rise in tariff price, year on year (0.5: a 10% rise cut kWh by 5%)"),
    ("complaints_after_bill_rise", "price", "count", "complaints in the 60 days after a bill rise of 10% or more, per rise"),
    ("price_sensitivity", "price", "score",
     "price sensitivity: the price elasticity (at least 0) plus 0.05 per complaint after a bill rise"),
    # service
    ("complaints_12m", "service", "count", "complaints in the last 12 months"),
    ("complaints_90d", "service", "count", "complaints in the last 90 days"),
    ("days_since_complaint", "service", "days", "days since the last complaint (look-back + 1 if none)"),
    ("fault_reports_12m", "service", "count", "fault reports in the last 12 months"),
    ("service_requests_12m", "service", "count", "service requests in the last 12 months"),
    ("capacity_increase_requests", "service", "count", "capacity increase requests in the last 12 months"),
    ("capacity_decrease_requests", "service", "count", "capacity decrease requests in the last 12 months"),
    ("inspections_12m", "service", "count", "meter inspections in the last 12 months"),
    ("theft_confirmed_before", "service", "count", "inspections that confirmed theft before the cut-off"),
    # static attributes
    ("customer_class", "static", "category", "customer class (residential, commercial, ...)"),
    ("region", "static", "category", "service region"),
    ("industry", "static", "category", "industry of the account"),
    ("voltage_kv", "static", "kV", "supply voltage"),
    ("capacity_kva", "static", "kVA", "contracted transformer capacity"),
    ("two_part_tariff", "static", "flag", "on the two-part (capacity + energy) tariff"),
    ("tou_tariff", "static", "flag", "on a time-of-use tariff"),
    ("prepaid_meter", "static", "flag", "has a prepaid meter"),
    ("tenure_years", "static", "years", "years since the account started"),
]

FEATURES: dict[str, Feature] = {name: Feature(name, g, u, m) for name, g, u, m in _DEFS}
CATEGORICAL = ["customer_class", "region", "industry"]


def describe(name: str) -> str:
    """Human words for a feature name (used in reason codes and the report)."""
    f = FEATURES.get(name)
    if f is None and name.startswith("attr_"):
        return f"source attribute {name[5:].replace('_', ' ')}"
    if f is None:
        for prefix in ("customer_class_", "region_", "industry_"):
            if name.startswith(prefix):
                base = FEATURES[prefix[:-1]]
                return f"{base.meaning}: {name[len(prefix):]}"
        return name.replace("_", " ")
    return f.meaning


def table():
    """The definitions as a DataFrame (for reports and MLflow)."""
    import pandas as pd

    return pd.DataFrame([f.__dict__ for f in FEATURES.values()])


def format_value(name: str, value) -> str:
    """A feature's value for a reader, in its unit (a share as a percentage, money rounded,
    a flag as yes/no), so that a reason says how much as well as what."""
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return "missing"
    unit = FEATURES[name].unit if name in FEATURES else ""
    v = float(value)
    if unit == "share":
        return f"{v:.0%}"
    if unit == "flag":
        return "yes" if v else "no"
    if unit in ("%/year", "%/degree-day"):
        return f"{v:+.1f} {unit}"
    if unit in ("currency", "count", "code"):
        return f"{v:,.0f}"
    if unit in ("days", "months", "years", "h", "kWh", "kWh/day", "kW", "kVA", "kV", "spells/year"):
        return f"{v:,.1f} {unit}" if abs(v) < 10 and v != round(v) else f"{v:,.0f} {unit}"
    return f"{v:.3g}"
