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


def customer_frame(raw: pd.DataFrame, customer_class: str, region: str | None) -> tuple[pd.DataFrame, list]:
    """Canonical customer columns plus the typed PowerCo attributes, and the attribute checks."""
    typed, checks = validation.attribute_checks(raw, numeric=NUMERIC, dates=DATES, flags=FLAGS,
                                                categories=CATEGORIES)
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
                   max_reject_fraction: float = 0.05, progress=None) -> dict:
    """Anonymize, type, validate and write PowerCo customers and churn labels."""
    out = Path(out)
    path, raw, opts, step = read_source(src, mapping, progress, FILE_NAMES, REQUIRED)
    raw, dropped = drop_identifiers(raw, keep=["id"])
    known_cols = set(REQUIRED + NUMERIC + DATES + FLAGS + CATEGORIES + ["churn", "_line"])
    unknown = [c for c in raw.columns if c not in known_cols]
    raw = raw.drop(columns=unknown)
    raw["customer_id"] = pseudonymize(key, raw.pop("id"))
    q = Quarantine()
    step("customers")
    frame, checks = customer_frame(raw, str(opts.get("customer_class", "commercial")), opts.get("region"))
    customers = validation.customers(frame, q, path.name, extra_checks=checks)
    tables = {"customers": customers}
    if "churn" in raw:
        step("labels")
        labels = pd.DataFrame({"customer_id": raw["customer_id"], "task": "churn",
                               "as_of": pd.Timestamp(str(opts.get("as_of", AS_OF))),
                               "label": raw["churn"], "_line": raw["_line"]})
        tables["labels"] = validation.labels(labels, q, path.name, pd.Index(customers["customer_id"]))
    notes = {"dropped_columns": dropped + unknown} if dropped or unknown else None
    return finish(out, q, tables, max_reject_fraction, step, "powerco", notes)
