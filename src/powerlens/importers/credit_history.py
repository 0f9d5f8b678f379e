"""Six-month billing and repayment histories in the UCI "default of credit card clients" layout
-> canonical customers, bills, payments (+ arrears labels).

No public utility arrears data exists, so this real bill -> payment -> delay history stands in
for it. SRC is `credit_default.csv[.gz]` (or a folder holding it):
  ID, LIMIT_BAL, PAY_0, PAY_2..PAY_6, BILL_AMT1..BILL_AMT6, PAY_AMT1..PAY_AMT6[, defaulted]

The mapping (month k = 1..6 runs backwards from the latest month, September 2005):
  month:       k=1 Sep 2005 | k=2 Aug | k=3 Jul | k=4 Jun | k=5 May | k=6 Apr 2005
  statement:   BILL_AMTk    -> one bill per account and month: period YYYY-MM, bill_date = the
               last day of the month (the statement closes), due_date = bill_date + 20 days,
               amount = the statement balance. A negative balance (the account is in credit)
               becomes amount 0 with the credit kept in `credit_balance` (bills are >= 0).
               kwh unknown (NaN).
  status:      PAY_0 (Sep), PAY_2 (Aug), ..., PAY_6 (Apr): -2 no consumption, -1 paid duly,
               0 revolving (minimum paid), 1..8 months of delay (9 = nine or more).
  payment:     PAY_AMTk, paid in month k, is toward the previous month's statement
               (BILL_AMT(k+1)), so k = 1..5 make five payments per account; each carries
               `months_past_due` = max(status of month k, 0) and `repayment_status` (the code as
               given). paid_on = due_date, the 20th of month k: the source says PAY_AMTk was
               paid in month k, and the status is the account's delinquency in that month, so
               both are known by the end of month k (moving a late payment d months into the
               future would hide September's payment and status from a cut-off on 1 October,
               the strongest signal of a default in October). A zero PAY_AMT is kept as a
               payment row of amount 0: it carries the month's status.
               channel unknown.
  April 2005:  PAY_AMT6 / PAY_6 pay the March 2005 statement, which is not in the data: kept as
               customer attributes `paid_2005_04` and `repayment_status_2005_04`.
  customers:   customer_id (keyed pseudonym of ID), customer_class residential (a MAPPING YAML
               may say `customer_class: commercial`), credit_limit = LIMIT_BAL (float),
               start_date = the first day of the first month (2005-04-01), end_date NaT,
               tariffs false.
  labels:      task `arrears`, label = defaulted (0/1, default in the month after the history),
               as_of = 2005-10-01; absent when the file has no defaulted column.

A MAPPING YAML may also set `last_month` (YYYY-MM of BILL_AMT1, default 2005-09) for the same
layout over another half-year, `as_of`, and `columns` (source name -> UCI name) for an export
whose headers differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.anonymize import pseudonymize
from powerlens.importers._common import (
    drop_identifiers,
    finish,
    read_source,
)
from powerlens.importers.errors import ImportFailed
from powerlens.schema import Quarantine, to_number

FILE_NAMES = ("credit_default.csv.gz", "credit_default.csv", "credit_default.parquet")
MONTHS = 6
STATUS_COLS = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"]
BILL_COLS = [f"BILL_AMT{k}" for k in range(1, MONTHS + 1)]
PAY_COLS = [f"PAY_AMT{k}" for k in range(1, MONTHS + 1)]
REQUIRED = ["ID", "LIMIT_BAL", *STATUS_COLS, *BILL_COLS, *PAY_COLS]
DUE_DAYS = 20


def month_periods(last_month: str) -> list[pd.Period]:
    """Period of month k = 1..6 (k = 1 is the latest)."""
    last = pd.Period(last_month, freq="M")
    return [last - (k - 1) for k in range(1, MONTHS + 1)]


def bill_dates(period: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(bill_date, due_date): the statement closes on the month's last day, due 20 days later."""
    bill = period.to_timestamp(how="end").normalize()
    return bill, bill + pd.Timedelta(days=DUE_DAYS)


def months_past_due(status: pd.Series) -> pd.Series:
    """-2 / -1 / 0 (no consumption, paid duly, revolving) are not late; 1..9 are months late."""
    return status.clip(lower=0)


def status_valid(status: pd.Series) -> pd.Series:
    """A repayment status is an integer code from -2 to 9."""
    return status.notna() & status.between(-2, 9) & (status == np.floor(status))


def paid_on(due: pd.Series, delay_months: pd.Series) -> pd.Series:
    """The day a bill is taken as settled: its due date, plus the months of delay."""
    months = delay_months.fillna(0).astype(int).to_numpy()
    out = due.to_numpy().astype("datetime64[M]") + months.astype("timedelta64[M]")
    days = (due.to_numpy() - due.to_numpy().astype("datetime64[M]"))
    result = pd.Series(out.astype("datetime64[us]") + days, index=due.index)
    return result.astype("datetime64[us]")


def history_tables(raw: pd.DataFrame, periods: list[pd.Period]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long bills (one per account and month) and payments (months 1..5) from the wide rows."""
    bills, pays = [], []
    status = {k: to_number(raw[STATUS_COLS[k - 1]]) for k in range(1, MONTHS + 1)}
    for k in range(1, MONTHS + 1):
        period = periods[k - 1]
        bill_date, due = bill_dates(period)
        amount = to_number(raw[BILL_COLS[k - 1]])
        bills.append(pd.DataFrame({
            "customer_id": raw["customer_id"], "bill_id": raw["bill_key"] + f":{period}",
            "period": str(period), "bill_date": bill_date, "due_date": due, "kwh": np.nan,
            "amount": amount.clip(lower=0),
            "credit_balance": (-amount).clip(lower=0), "_line": raw["_line"],
        }))
    for k in range(1, MONTHS):  # PAY_AMTk pays the statement of month k + 1
        target = periods[k]
        _, due = bill_dates(target)
        st = status[k]
        st = st.where(status_valid(st))
        late = months_past_due(st)
        pay_amount = to_number(raw[PAY_COLS[k - 1]])
        pays.append(pd.DataFrame({
            "customer_id": raw["customer_id"], "bill_id": raw["bill_key"] + f":{target}",
            "paid_on": paid_on(pd.Series(due, index=raw.index), pd.Series(0, index=raw.index)),
            "amount": pay_amount,
            "channel": None, "months_past_due": late, "repayment_status": st, "_line": raw["_line"],
        }))
    return pd.concat(bills, ignore_index=True), pd.concat(pays, ignore_index=True)


def import_credit_history(src: str | Path, out: str | Path, key: bytes, mapping: str | Path | None = None,
                          max_reject_fraction: float = 0.05, progress=None, plausibility=None) -> dict:
    """Anonymize, reshape, validate and write accounts, bills, payments and arrears labels."""
    out = Path(out)
    rules = validation.Plausibility.of(plausibility)
    path, raw, opts, step = read_source(src, mapping, progress, FILE_NAMES, REQUIRED)
    raw, dropped = drop_identifiers(raw)
    try:
        periods = month_periods(str(opts.get("last_month", "2005-09")))
        as_of = pd.Timestamp(str(opts.get("as_of", periods[0].to_timestamp(how="end").normalize()
                                               + pd.Timedelta(days=1))))
    except (ValueError, TypeError) as exc:
        raise ImportFailed(f"{mapping}: bad last_month or as_of ({exc})") from None
    ids = raw.pop("ID")
    raw["customer_id"] = pseudonymize(key, ids)
    raw["bill_key"] = pseudonymize(key, "bill:" + ids.astype("string").str.strip()).fillna("").astype(str)
    q = Quarantine()

    step("customers")
    typed, checks = validation.attribute_checks(
        raw.assign(credit_limit=raw["LIMIT_BAL"], paid_2005_04=raw["PAY_AMT6"],
                   repayment_status_2005_04=raw["PAY_6"]),
        numeric=["credit_limit", "paid_2005_04", "repayment_status_2005_04"], rules=rules)
    start = periods[-1].to_timestamp(how="start")
    frame = pd.DataFrame({
        "customer_id": raw["customer_id"], "customer_class": str(opts.get("customer_class", "residential")),
        "region": opts.get("region"), "industry": None, "voltage_kv": np.nan, "capacity_kva": np.nan,
        "two_part_tariff": False, "tou_tariff": False, "prepaid_meter": False,
        "start_date": start, "end_date": pd.NaT,
        "credit_limit": typed["credit_limit"], "paid_2005_04": typed["paid_2005_04"],
        "repayment_status_2005_04": typed["repayment_status_2005_04"], "_line": raw["_line"],
    }, index=raw.index)
    customers = validation.customers(frame, q, path.name, extra_checks=checks, rules=rules)
    known = pd.Index(customers["customer_id"])
    tables = {"customers": customers}

    step("bills and payments")
    bills_raw, pays_raw = history_tables(raw, periods)
    # a statement in credit is as implausible as one in debit beyond max_amount
    tables["bills"] = validation.bills(bills_raw, q, path.name, known, rules=rules, extra_checks=[
        ("amount_implausible", bills_raw["credit_balance"] > rules.max_amount)])
    bill_owner = tables["bills"].set_index("bill_id")["customer_id"]
    bad_status = pays_raw["repayment_status"].isna()
    pays = validation.payments(pays_raw, q, path.name, pd.Index(tables["bills"]["bill_id"]), bill_owner,
                               extra_checks=[("repayment_status_invalid", bad_status)], rules=rules)
    pays["months_past_due"] = pays["months_past_due"].astype("int16")
    pays["repayment_status"] = pays["repayment_status"].astype("int16")
    tables["payments"] = pays

    if "defaulted" in raw:
        step("labels")
        labels = pd.DataFrame({"customer_id": raw["customer_id"], "task": "arrears", "as_of": as_of,
                               "label": raw["defaulted"], "_line": raw["_line"]})
        tables["labels"] = validation.labels(labels, q, path.name, known)
    notes = {"dropped_columns": dropped} if dropped else None
    return finish(out, q, tables, max_reject_fraction, step, "credit-history", notes, as_of=as_of)
