"""PowerCo (BCG churn case) SME customers -> canonical customers (+ churn labels).

SRC is `client_data.csv[.gz]` (or a folder holding it):
  id, channel_sales, cons_12m, cons_gas_12m, cons_last_month, date_activ, date_end,
  date_modif_prod, date_renewal, forecast_*, has_gas, imp_cons, margin_*, nb_prod_act,
  net_margin, num_years_antig, origin_up, pow_max[, churn]

Writes:
  customers  customer_id (keyed pseudonym of `id`), customer_class "commercial", region and
             industry unknown, start_date = date_activ, end_date NaT (the snapshot is of
             customers still supplied in January 2016; date_end is the contract end, kept as
             an attribute), capacity_kva = pow_max (subscribed power in kW, taken as kVA at
             unity power factor, so the big-customer thresholds apply), tou_tariff =
             forecast_price_energy_peak > 0 (a peak-period energy price means a two-period
             tariff), two_part_tariff / prepaid_meter false.
             Extra typed attributes (static features): date_end, date_modif_prod,
             date_renewal (dates); has_gas (t/f -> bool); channel_sales, origin_up (hashed
             categories, `MISSING` kept as its own category, blanks -> `MISSING`); every other
             numeric column (consumption, forecasts, margins, tenure, pow_max) as float.
             Unknown extra columns are dropped (listed in the summary notes): nothing raw
             passes by accident. A value that is given but cannot be typed quarantines its row
             (attribute_not_numeric / attribute_bad_date / attribute_not_boolean).
             Plausibility: a consumption (cons_12m, cons_last_month, forecast_cons_12m,
             forecast_cons_year, imp_cons) above the class's maximum demand x the hours of its
             span x the margin is `kwh_implausible`; pow_max is not used as the bound: on the
             real sample 995 of 10,224 customers (9.7%) consume more than pow_max x 8760 h x 1.5
             in 12 months, so pow_max is not the contracted capacity of the whole supply.
             Any number above max_abs_value is `value_implausible`.
  labels     task `churn`, label 0/1, as_of 2016-01-01 (churn = left within 3 months after
             the January 2016 snapshot); absent when the file has no churn column.
A MAPPING YAML may set `customer_class`, `region`, `as_of` and `columns` (source name -> PowerCo
name, for a file whose headers differ).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from powerlens import validation
from powerlens.anonymize import pseudonymize
from powerlens.importers._common import (
    drop_identifiers,
    finish,
    read_source,
)
from powerlens.importers.errors import ImportFailed
from powerlens.schema import Quarantine

FILE_NAMES = ("client_data.csv.gz", "client_data.csv", "client_data.parquet")
REQUIRED = ["id", "date_activ"]
DATES = ["date_end", "date_modif_prod", "date_renewal"]
FLAGS = ["has_gas"]
CATEGORIES = ["channel_sales", "origin_up"]
NUMERIC = [
    "cons_12m", "cons_gas_12m", "cons_last_month", "forecast_cons_12m", "forecast_cons_year",
    "forecast_discount_energy", "forecast_meter_rent_12m", "forecast_price_energy_off_peak",
    "forecast_price_energy_peak", "forecast_price_pow_off_peak", "imp_cons",
    "margin_gross_pow_ele", "margin_net_pow_ele", "nb_prod_act", "net_margin", "num_years_antig",
    "pow_max",
]
AS_OF = "2016-01-01"
# electricity consumption columns (kWh) and the hours they span
CONSUMPTION_HOURS = {"cons_12m": 8760.0, "forecast_cons_12m": 8760.0, "forecast_cons_year": 8760.0,
                     "imp_cons": 8760.0, "cons_last_month": 31 * 24.0}


def customer_frame(raw: pd.DataFrame, customer_class: str, region: str | None,
                   rules: validation.Plausibility | None = None) -> tuple[pd.DataFrame, list]:
    """Canonical customer columns plus the typed PowerCo attributes, and the attribute checks
    (consumption beyond the class's physical maximum included)."""
    rules = validation.Plausibility.of(rules)
    typed, checks = validation.attribute_checks(raw, numeric=NUMERIC, dates=DATES, flags=FLAGS,
                                                categories=CATEGORIES, rules=rules)
    max_kw = float(rules.max_kw_by_class.get(customer_class, float("nan")))
    too_much = pd.Series(False, index=typed.index)
    for col, hours in CONSUMPTION_HOURS.items():
        if col in typed and max_kw == max_kw:
            too_much |= (typed[col] > max_kw * hours * rules.capacity_margin).fillna(False)
    checks = [*checks, ("kwh_implausible", too_much)]
    peak = typed["forecast_price_energy_peak"] if "forecast_price_energy_peak" in typed else None
    frame = pd.DataFrame({
        "customer_id": typed["customer_id"],
        "customer_class": customer_class,
        "region": region,
        "industry": None,
        "voltage_kv": float("nan"),
        "capacity_kva": typed["pow_max"] if "pow_max" in typed else float("nan"),
        "two_part_tariff": False,
        "tou_tariff": (peak.fillna(0) > 0) if peak is not None else False,
        "prepaid_meter": False,
        "start_date": typed["date_activ"],
        "end_date": pd.NaT,
    }, index=typed.index)
    extras = [c for c in NUMERIC + DATES + FLAGS + CATEGORIES if c in typed]
    return pd.concat([frame, typed[extras + ["_line"]]], axis=1), checks


def import_powerco(src: str | Path, out: str | Path, key: bytes, mapping: str | Path | None = None,
                   max_reject_fraction: float = 0.05, progress=None, plausibility=None) -> dict:
    """Anonymize, type, validate and write PowerCo customers and churn labels."""
    out = Path(out)
    path, raw, opts, step = read_source(src, mapping, progress, FILE_NAMES, REQUIRED)
    raw, dropped = drop_identifiers(raw, keep=["id"])
    known_cols = set(REQUIRED + NUMERIC + DATES + FLAGS + CATEGORIES + ["churn", "_line"])
    unknown = [c for c in raw.columns if c not in known_cols]
    raw = raw.drop(columns=unknown)
    raw["customer_id"] = pseudonymize(key, raw.pop("id"))
    q = Quarantine()
    try:
        as_of = pd.Timestamp(str(opts.get("as_of", AS_OF)))
    except ValueError as exc:
        raise ImportFailed(f"{mapping}: bad as_of ({exc})") from None
    step("customers")
    rules = validation.Plausibility.of(plausibility)
    frame, checks = customer_frame(raw, str(opts.get("customer_class", "commercial")), opts.get("region"), rules)
    customers = validation.customers(frame, q, path.name, extra_checks=checks, rules=rules)
    tables = {"customers": customers}
    if "churn" in raw:
        step("labels")
        labels = pd.DataFrame({"customer_id": raw["customer_id"], "task": "churn",
                               "as_of": as_of,
                               "label": raw["churn"], "_line": raw["_line"]})
        tables["labels"] = validation.labels(labels, q, path.name, pd.Index(customers["customer_id"]))
    notes = {"dropped_columns": dropped + unknown} if dropped or unknown else None
    return finish(out, q, tables, max_reject_fraction, step, "powerco", notes, as_of=as_of)
