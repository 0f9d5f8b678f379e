"""Import a utility's customer-information and metering export (the layout the synthetic
utility writes) into the canonical tables.

Layout of SRC (CSV or parquet for each table):
  customers      account_no, meter_no, customer_class, region, industry, voltage_kv,
                 capacity_kva, two_part_tariff, tou_tariff, prepaid_meter, start_date, end_date
                 (+ direct identifiers such as customer_name, address, phone: dropped)
  readings_daily   meter_no, reading_date, kwh
  readings_hourly  meter_no, reading_ts, kwh            (optional)
  bills          account_no, bill_no, period, kwh, amount, due_date
  payments       account_no, bill_no, paid_on, amount, channel
  service_events account_no, ts, kind, outcome           (+ contact_phone: dropped; kept where
                 present: channel, resolution_hours >= 0, satisfaction 1..5, checked by validate)
  weather_daily  date, region, temperature_mean          (optional; for heating/cooling sensitivity)
  region_load    region, ts, load_kw                      (optional; the system-side hourly load per region)
  ground_truth   account_no, ...   (synthetic only; written apart, never read by models)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.anonymize import identifier_columns, pseudonymize
from powerlens.atomic import write_parquet
from powerlens.importers.errors import ImportFailed
from powerlens.schema import Quarantine, check, write_summary

__all__ = ["ImportFailed", "import_utility_export"]

REQUIRED = {
    "customers": ["account_no", "customer_class", "start_date"],
    "readings_daily": ["meter_no", "reading_date", "kwh"],
    "readings_hourly": ["meter_no", "reading_ts", "kwh"],
    "bills": ["account_no", "bill_no", "period", "amount", "due_date"],
    "payments": ["account_no", "bill_no", "paid_on", "amount"],
    "service_events": ["account_no", "ts", "kind"],
    "weather_daily": ["date", "temperature_mean"],
    "region_load": ["region", "ts", "load_kw"],
}
OPTIONAL_TABLES = {"readings_hourly", "payments", "service_events", "weather_daily", "region_load"}
KEEP_AS_ID = {"account_no", "meter_no", "bill_no"}


def _find(src: Path, table: str) -> Path | None:
    for ext in (".parquet", ".csv", ".csv.gz"):
        path = src / f"{table}{ext}"
        if path.exists():
            return path
    return None


def _read(path: Path, table: str) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ImportFailed(f"{path.name}: cannot be read ({str(exc).splitlines()[0]})") from None
    missing = [c for c in REQUIRED[table] if c not in df.columns]
    if missing:
        raise ImportFailed(f"{path.name}: missing column(s) {', '.join(missing)}")
    df["_line"] = range(2 if path.suffix != ".parquet" else 1, len(df) + (2 if path.suffix != ".parquet" else 1))
    return df


def _drop_identifiers(df: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in identifier_columns(df.columns) if c not in KEEP_AS_ID]
    return df.drop(columns=drop)


def import_utility_export(src: str | Path, out: str | Path, key: bytes,
                          max_reject_fraction: float = 0.05, truth_out: str | Path | None = None,
                          progress=None, plausibility=None) -> dict:
    """Anonymize, validate and write the canonical tables; returns the validation summary.
    `plausibility`: validate.plausibility's rules (None: the defaults)."""
    src, out = Path(src), Path(out)
    rules = validation.Plausibility.of(plausibility)
    step = progress or (lambda msg: None)
    paths = _locate(src)
    out.mkdir(parents=True, exist_ok=True)
    q = Quarantine()

    step("customers")
    customers, meter_to_customer = _customers(paths, key, q, rules)
    known = pd.Index(customers["customer_id"])
    tables = {"customers": customers}
    # hourly first: a daily row that its complete day of hourly readings contradicts is
    # inconsistent_aggregate
    for table, ts_col in (("readings_hourly", "reading_ts"), ("readings_daily", "reading_date")):
        if paths[table] is None:
            continue
        step(table)
        tables[table] = _readings(paths, table, ts_col, meter_to_customer, q, known, customers, rules,
                                  hourly=tables.get("readings_hourly"))
    tables = {t: tables[t] for t in ("customers", "readings_daily", "readings_hourly") if t in tables}
    _billing_and_events(paths, key, q, known, tables, step, rules)

    summary = _refuse_too_many_rejects(q, max_reject_fraction)
    _write(out, q, tables, summary, step)
    _write_truth(src, key, truth_out)
    return summary


def _locate(src: Path) -> dict[str, Path | None]:
    """The file of each table in SRC (None for an optional table the export does not have)."""
    if not src.is_dir():
        raise ImportFailed(f"{src}: no such folder")
    paths = {t: _find(src, t) for t in REQUIRED}
    for table, path in paths.items():
        if path is None and table not in OPTIONAL_TABLES:
            raise ImportFailed(f"{src}: no {table}.csv or {table}.parquet")
    return paths


def _customers(paths: dict, key: bytes, q: Quarantine,
               rules: validation.Plausibility) -> tuple[pd.DataFrame, pd.Series | None]:
    """(the validated customers, the customer of each meter number when the export has them)."""
    raw = _drop_identifiers(_read(paths["customers"], "customers"))
    raw["customer_id"] = pseudonymize(key, raw.pop("account_no"))
    meter_to_customer = None
    if "meter_no" in raw:
        meter_to_customer = pd.Series(raw["customer_id"].to_numpy(), index=raw.pop("meter_no").astype(str))
        meter_to_customer = meter_to_customer[~meter_to_customer.index.duplicated()]
    customers = validation.customers(raw, q, paths["customers"].name, rules=rules)
    return customers, meter_to_customer


def _readings(paths: dict, table: str, ts_col: str, meter_to_customer: pd.Series | None,
              q: Quarantine, known: pd.Index, customers: pd.DataFrame,
              rules: validation.Plausibility, hourly: pd.DataFrame | None = None) -> pd.DataFrame:
    """One readings table keyed by meter, linked to its customers and validated (plausible for
    each customer's capacity and history)."""
    raw = _read(paths[table], table)
    meters = raw.pop("meter_no")
    if meter_to_customer is None:
        raise ImportFailed(f"{paths['customers'].name}: no meter_no column to link {table}")
    raw["customer_id"] = _meters_to_customers(meters, meter_to_customer)
    raw = raw.rename(columns={ts_col: "ts"})
    checks = []
    if hourly is not None and table == "readings_daily":
        checks = [("inconsistent_aggregate", validation.daily_disagrees_with_intervals(raw, hourly, 24, rules))]
    return validation.readings(raw, q, paths[table].name, table, known, customers=customers, rules=rules,
                               extra_checks=checks)


def _meters_to_customers(meters: pd.Series, meter_to_customer: pd.Series) -> pd.Categorical:
    """The customer of each reading's meter (missing for an unknown meter), as categories."""
    if not isinstance(meters.dtype, pd.CategoricalDtype):
        meters = meters.astype(str).astype("category")
    # map the few meter categories, not the millions of rows
    per_meter = meter_to_customer.reindex(meters.cat.categories.astype(str))
    customer_ids = pd.Index(per_meter.dropna().unique())
    new_code = customer_ids.get_indexer(per_meter.fillna("").to_numpy())
    codes = meters.cat.codes.to_numpy()
    return pd.Categorical.from_codes(
        np.where(codes >= 0, new_code[np.maximum(codes, 0)], -1), categories=customer_ids
    )


def _billing_and_events(paths: dict, key: bytes, q: Quarantine, known: pd.Index,
                        tables: dict[str, pd.DataFrame], step, rules: validation.Plausibility) -> None:
    """Bills, then payments (linked to the bills), service events and weather when present."""
    step("bills")
    raw = _drop_identifiers(_read(paths["bills"], "bills"))
    raw["customer_id"] = pseudonymize(key, raw.pop("account_no"))
    raw["bill_id"] = pseudonymize(key, "bill:" + raw.pop("bill_no").astype(str))
    tables["bills"] = validation.bills(raw, q, paths["bills"].name, known, customers=tables["customers"],
                                       rules=rules)

    if paths["payments"] is not None:
        step("payments")
        raw = _drop_identifiers(_read(paths["payments"], "payments"))
        raw["customer_id"] = pseudonymize(key, raw.pop("account_no"))
        raw["bill_id"] = pseudonymize(key, "bill:" + raw.pop("bill_no").astype(str))
        tables["payments"] = validation.payments(raw, q, paths["payments"].name,
                                                 pd.Index(tables["bills"]["bill_id"]), rules=rules)
    if paths["service_events"] is not None:
        step("service events")
        raw = _drop_identifiers(_read(paths["service_events"], "service_events"))
        raw["customer_id"] = pseudonymize(key, raw.pop("account_no"))
        tables["service_events"] = validation.service_events(raw, q, paths["service_events"].name, known)
    if paths["weather_daily"] is not None:
        step("weather")
        tables["weather_daily"] = validation.weather_daily(_read(paths["weather_daily"], "weather_daily"), q,
                                                           paths["weather_daily"].name)
    if paths["region_load"] is not None:
        step("region load")
        tables["region_load"] = validation.region_load(_read(paths["region_load"], "region_load"), q,
                                                       paths["region_load"].name, rules=rules)
        q.reports["region_load"].gaps = validation.hourly_gaps(tables["region_load"])


def _refuse_too_many_rejects(q: Quarantine, max_reject_fraction: float) -> dict:
    """The validation summary; raises ImportFailed with the top reasons when more than
    `max_reject_fraction` of the rows were quarantined."""
    summary = q.summary()
    if summary["reject_fraction"] > max_reject_fraction:
        top = sorted(((n, f"{t}: {code}") for t, r in q.reports.items() for code, n in r.reasons.items()),
                     reverse=True)[:3]
        raise ImportFailed(
            f"{summary['quarantined']} of {summary['rows_in']} rows rejected "
            f"({summary['reject_fraction']:.1%} > {max_reject_fraction:.1%}); top reasons: "
            + ", ".join(f"{name} ({n})" for n, name in top)
        )
    return summary


def _write(out: Path, q: Quarantine, tables: dict[str, pd.DataFrame], summary: dict, step) -> None:
    """Check and write every table, the quarantine and validation.json."""
    step("writing canonical tables")
    (out / "validation.json").unlink(missing_ok=True)  # written last: it says the import finished
    for table, df in tables.items():
        check(table, df)
        write_parquet(df, out / f"{table}.parquet")
    q.write(out)
    summary["problems"] = q.problem_lines()
    write_summary(out, summary)


def _write_truth(src: Path, key: bytes, truth_out: str | Path | None) -> None:
    """The synthetic utility's ground truth, keyed by the same pseudonyms, to `truth_out`."""
    truth_path = _find(src, "ground_truth")
    if truth_out is not None and truth_path is not None:
        truth = pd.read_parquet(truth_path) if truth_path.suffix == ".parquet" else pd.read_csv(truth_path)
        truth.insert(0, "customer_id", pseudonymize(key, truth.pop("account_no")))
        Path(truth_out).parent.mkdir(parents=True, exist_ok=True)
        write_parquet(truth, truth_out)
