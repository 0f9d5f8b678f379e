"""Row rules for each canonical table: parse, check, quarantine with a reason.

Each function takes a frame already in canonical column names (ids already pseudonymized) with a
`_line` column, and returns the accepted rows typed as the canonical schema says.
"""

from __future__ import annotations

import pandas as pd

from powerlens.schema import (
    CUSTOMER_CLASSES,
    EARLIEST,
    EVENT_KINDS,
    Quarantine,
    to_bool,
    to_datetime,
    to_number,
)


def _now() -> pd.Timestamp:
    return pd.Timestamp.now().normalize() + pd.Timedelta(days=1)


def _blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype("string").str.strip().eq("")


def customers(df: pd.DataFrame, q: Quarantine, source: str) -> pd.DataFrame:
    df = df.copy()
    df["customer_class"] = df["customer_class"].astype("string").str.strip().str.lower()
    start = to_datetime(df["start_date"])
    end = to_datetime(df["end_date"]) if "end_date" in df else pd.Series(pd.NaT, index=df.index)
    capacity = to_number(df["capacity_kva"]) if "capacity_kva" in df else pd.Series(float("nan"), index=df.index)
    raw_capacity_given = ~_blank(df["capacity_kva"]) if "capacity_kva" in df else capacity.isna()
    checks = [
        ("missing_customer_id", _blank(df["customer_id"])),
        ("duplicate_customer", df["customer_id"].duplicated(keep="first") & ~_blank(df["customer_id"])),
        ("unknown_customer_class", ~df["customer_class"].isin(CUSTOMER_CLASSES).fillna(False)),
        ("bad_start_date", start.isna()),
        ("end_before_start", end.notna() & (end < start)),
        ("capacity_not_numeric", raw_capacity_given & (capacity.isna() | (capacity < 0))),
    ]
    df["start_date"], df["end_date"], df["capacity_kva"] = start, end, capacity
    ok = q.split("customers", df, checks, source, 2)
    ok["customer_class"] = ok["customer_class"].astype(str)
    ok["customer_id"] = ok["customer_id"].astype(str)
    for col in ("region", "industry"):
        ok[col] = ok[col].astype("string").str.strip().str.lower().astype(object) if col in ok else None
    ok["voltage_kv"] = to_number(ok["voltage_kv"]) if "voltage_kv" in ok else float("nan")
    for col in ("two_part_tariff", "tou_tariff", "prepaid_meter"):
        ok[col] = to_bool(ok[col]) if col in ok else False
    return ok.reset_index(drop=True)


def readings(df: pd.DataFrame, q: Quarantine, source: str, table: str,
             known_customers: pd.Index) -> pd.DataFrame:
    """Readings of one interval; `ts` is the start of the interval."""
    ts = to_datetime(df["ts"])
    kwh = to_number(df["kwh"])
    raw_kwh_missing = df["kwh"].isna() if not pd.api.types.is_numeric_dtype(df["kwh"]) else kwh.isna()
    cid = df["customer_id"]
    dup = pd.DataFrame({"c": cid, "t": ts}).duplicated(keep="first") & ts.notna()
    checks = [
        ("unknown_customer", ~cid.isin(known_customers)),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("kwh_not_numeric", kwh.isna() | raw_kwh_missing),
        ("kwh_negative", kwh < 0),
        ("duplicate_reading", dup),
    ]
    out = df.assign(ts=ts, kwh=kwh)
    ok = q.split(table, out, checks, source, 2)
    ok = ok[["customer_id", "ts", "kwh"] + [c for c in ok.columns if c not in ("customer_id", "ts", "kwh")]]
    ok["customer_id"] = ok["customer_id"].astype(str).astype("category")
    ok["kwh"] = ok["kwh"].astype("float32")
    return ok.sort_values(["customer_id", "ts"], kind="stable").reset_index(drop=True)


def bills(df: pd.DataFrame, q: Quarantine, source: str, known_customers: pd.Index) -> pd.DataFrame:
    due = to_datetime(df["due_date"])
    amount = to_number(df["amount"])
    period = df["period"].astype("string").str.strip()
    checks = [
        ("unknown_customer", ~df["customer_id"].isin(known_customers)),
        ("duplicate_bill", df["bill_id"].duplicated(keep="first")),
        ("bad_period", ~period.str.fullmatch(r"\d{4}-\d{2}").fillna(False)),
        ("ts_unparseable", due.isna()),
        ("ts_out_of_range", (due < EARLIEST) | (due > _now() + pd.Timedelta(days=62))),
        ("amount_not_numeric", amount.isna()),
        ("amount_negative", amount < 0),
    ]
    out = df.assign(due_date=due, amount=amount, period=period,
                    kwh=to_number(df["kwh"]) if "kwh" in df else float("nan"))
    if "bill_date" in out:
        out["bill_date"] = to_datetime(out["bill_date"])
    ok = q.split("bills", out, checks, source, 2)
    for col in ("customer_id", "bill_id", "period"):
        ok[col] = ok[col].astype(str)
    return ok.reset_index(drop=True)


def payments(df: pd.DataFrame, q: Quarantine, source: str, known_bills: pd.Index) -> pd.DataFrame:
    paid = to_datetime(df["paid_on"])
    amount = to_number(df["amount"])
    checks = [
        ("payment_without_bill", ~df["bill_id"].isin(known_bills)),
        ("ts_unparseable", paid.isna()),
        ("ts_out_of_range", (paid < EARLIEST) | (paid > _now())),
        ("amount_not_numeric", amount.isna()),
        ("amount_negative", amount < 0),
    ]
    ok = q.split("payments", df.assign(paid_on=paid, amount=amount), checks, source, 2)
    for col in ("customer_id", "bill_id"):
        ok[col] = ok[col].astype(str)
    ok["channel"] = ok["channel"].astype("string").str.strip().str.lower().astype(object) if "channel" in ok else None
    return ok.reset_index(drop=True)


def service_events(df: pd.DataFrame, q: Quarantine, source: str,
                   known_customers: pd.Index) -> pd.DataFrame:
    ts = to_datetime(df["ts"])
    kind = df["kind"].astype("string").str.strip().str.lower()
    checks = [
        ("unknown_customer", ~df["customer_id"].isin(known_customers)),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("unknown_event_kind", ~kind.isin(EVENT_KINDS).fillna(False)),
    ]
    ok = q.split("service_events", df.assign(ts=ts, kind=kind), checks, source, 2)
    ok["customer_id"] = ok["customer_id"].astype(str)
    ok["kind"] = ok["kind"].astype(str)
    ok["outcome"] = ok["outcome"].astype("string").str.strip().str.lower().astype(object) if "outcome" in ok else None
    return ok.sort_values(["customer_id", "ts"]).reset_index(drop=True)
