"""Row rules for each canonical table: parse, check, quarantine with a reason.

Each function takes a frame already in canonical column names (ids already pseudonymized) with a
`_line` column, and returns the accepted rows typed as the canonical schema says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerlens.rules import TASKS
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
    return values.isna() | values.astype("string").str.strip().eq("").fillna(True)


# label values each known task accepts (other tasks: any non-empty text): the risk tasks are 0/1
LABEL_VALUES: dict[str, set[str]] = {
    "acorn_group": {"Affluent", "Comfortable", "Adversity"},
} | {task: {"0", "1"} for task in TASKS}
_TRUE = {"1", "1.0", "true", "t", "yes", "y", "是", "有"}
_FALSE = {"0", "0.0", "false", "f", "no", "n", "否", "无"}


def binary_label(values: pd.Series) -> pd.Series:
    """'1', '1.0', 'True', 't', 'yes' -> '1'; the false spellings -> '0'; anything else kept
    as given (and quarantined as label_not_allowed), so sources may spell flags their way."""
    text = values.astype("string").str.strip()
    low = text.str.lower()
    return text.mask(low.isin(_TRUE).fillna(False), "1").mask(low.isin(_FALSE).fillna(False), "0")


def dst_fold(ts: pd.Series) -> pd.Series:
    """True where a naive local timestamp lies in an hour that autumn DST repeats.

    The wall clock runs the same hour twice when clocks go back: the last Sunday of October
    01:00-02:00 (UK, Ireland, Portugal) or 02:00-03:00 (central and eastern Europe), and the
    first Sunday of November 01:00-02:00 (North America). A meter that stamps local time
    then writes two readings with the same stamp; the second one lands in quarantine as
    `dst_repeated_hour` instead of being mistaken for a plain duplicate."""
    dt = ts.dt
    sunday = dt.dayofweek.eq(6)
    october = dt.month.eq(10) & dt.day.ge(25) & dt.hour.isin([1, 2])
    november = dt.month.eq(11) & dt.day.le(7) & dt.hour.eq(1)
    return (sunday & (october | november)).fillna(False).astype(bool)


def off_interval_grid(customer: pd.Series, ts: pd.Series, eligible: pd.Series) -> pd.Series:
    """True for readings that break their customer's dominant interval grid.

    Per customer: the interval is the most common gap between consecutive readings, the phase
    the most common offset (ts mod interval); a reading with another offset (a 15-minute
    reading among hourly ones, a daily reading at 13:00 among midnights) is mixed-interval.
    Gaps (missing readings) are multiples of the interval and stay on the grid."""
    out = np.zeros(len(ts), dtype=bool)
    idx = np.flatnonzero(np.asarray(eligible, dtype=bool))
    if len(idx) < 3:
        return pd.Series(out, index=ts.index)
    codes = pd.factorize(customer.iloc[idx].astype(str) if not isinstance(customer.dtype, pd.CategoricalDtype)
                         else customer.iloc[idx].cat.codes)[0]
    t = ts.iloc[idx].to_numpy().astype("datetime64[us]").astype(np.int64)
    order = np.lexsort((t, codes))
    c, t = codes[order], t[order]
    same = np.r_[False, c[1:] == c[:-1]]
    gap = np.r_[0, np.diff(t)]
    use = same & (gap > 0)
    if not use.any():
        return pd.Series(out, index=ts.index)
    gaps = pd.DataFrame({"c": c[use], "g": gap[use]})
    # most common gap per customer (ties: the shortest)
    counts = gaps.value_counts().rename("n").reset_index().sort_values(["c", "n", "g"], ascending=[True, False, True])
    step = counts.drop_duplicates("c").set_index("c")["g"]
    step_of = step.reindex(c).to_numpy()
    has_step = ~np.isnan(step_of)
    phase = np.zeros(len(t), dtype=np.int64)
    phase[has_step] = t[has_step] % step_of[has_step].astype(np.int64)
    phases = pd.DataFrame({"c": c[has_step], "p": phase[has_step]})
    pc = phases.value_counts().rename("n").reset_index().sort_values(["c", "n", "p"], ascending=[True, False, True])
    modal = pc.drop_duplicates("c").set_index("c")["p"].reindex(c).to_numpy()
    bad_sorted = has_step & (phase != np.nan_to_num(modal, nan=0).astype(np.int64))
    bad = np.zeros(len(idx), dtype=bool)
    bad[order] = bad_sorted
    out[idx] = bad
    return pd.Series(out, index=ts.index)


def attribute_checks(df: pd.DataFrame, numeric: list[str] = (), dates: list[str] = (),
                     flags: list[str] = (), categories: list[str] = ()) -> tuple[pd.DataFrame, list]:
    """Type source-specific attributes (kept as static features) and say which rows break them.

    A value that is given but cannot be typed quarantines its row (with the reason) instead of
    becoming a silent NaN; empty values stay missing. Categories keep every label, `MISSING`
    included, as its own category."""
    df = df.copy()
    bad_num = pd.Series(False, index=df.index)
    bad_date = pd.Series(False, index=df.index)
    bad_flag = pd.Series(False, index=df.index)
    for col in [c for c in numeric if c in df]:
        parsed = to_number(df[col])
        bad_num |= ~_blank(df[col]) & parsed.isna()
        df[col] = parsed
    for col in [c for c in dates if c in df]:
        parsed = to_datetime(df[col])
        bad_date |= ~_blank(df[col]) & parsed.isna()
        df[col] = parsed
    for col in [c for c in flags if c in df]:
        low = df[col].astype("string").str.strip().str.lower()
        given = ~_blank(df[col])
        bad_flag |= given & ~(low.isin(_TRUE) | low.isin(_FALSE)).fillna(False)
        df[col] = low.isin(_TRUE).fillna(False).astype(bool)
    for col in [c for c in categories if c in df]:
        df[col] = df[col].astype("string").str.strip().fillna("MISSING").replace("", "MISSING").astype("category")
    checks = [("attribute_not_numeric", bad_num), ("attribute_bad_date", bad_date),
              ("attribute_not_boolean", bad_flag)]
    return df, checks


def customers(df: pd.DataFrame, q: Quarantine, source: str,
              extra_checks: list[tuple[str, pd.Series]] | None = None) -> pd.DataFrame:
    """Accounts; `extra_checks` (reason, bad-row mask) come from source-specific attributes."""
    df = df.copy()
    df["customer_class"] = df["customer_class"].astype("string").str.strip().str.lower()
    start = to_datetime(df["start_date"])
    end = to_datetime(df["end_date"]) if "end_date" in df else pd.Series(pd.NaT, index=df.index)
    capacity = to_number(df["capacity_kva"]) if "capacity_kva" in df else pd.Series(float("nan"), index=df.index)
    raw_capacity_given = ~_blank(df["capacity_kva"]) if "capacity_kva" in df else pd.Series(False, index=df.index)
    checks = [
        ("missing_customer_id", _blank(df["customer_id"])),
        ("duplicate_customer", df["customer_id"].duplicated(keep="first") & ~_blank(df["customer_id"])),
        *(extra_checks or []),
        ("unknown_customer_class", ~df["customer_class"].isin(CUSTOMER_CLASSES).fillna(False)),
        ("bad_start_date", start.isna()),
        ("end_before_start", end.notna() & (end < start)),
        ("capacity_not_numeric", raw_capacity_given & (capacity.isna() | (capacity < 0))),
        ("start_in_future", start > _now()),
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
             known_customers: pd.Index, check_grid: bool = True) -> pd.DataFrame:
    """Readings of one interval; `ts` is the start of the interval (naive local time).

    Extra aggregate columns are checked when present: `n_intervals` must be a count, and
    `kwh_min_interval` / `kwh_max_interval` finite and non-negative."""
    ts = to_datetime(df["ts"])
    kwh = to_number(df["kwh"])
    cid = df["customer_id"]
    valid_ts = ts.notna() & (ts >= EARLIEST) & (ts <= _now())
    dup = pd.DataFrame({"c": cid, "t": ts}).duplicated(keep="first") & ts.notna()
    repeated = dup & dst_fold(ts)
    known = cid.isin(known_customers)
    extra = {}
    interval_bad = pd.Series(False, index=df.index)
    if "n_intervals" in df:
        n = to_number(df["n_intervals"])
        interval_bad |= n.isna() | (n < 0) | (n > 10_000) | (n != np.floor(n))
        extra["n_intervals"] = n.fillna(0).clip(0, 10_000).astype("int16")
    for col in ("kwh_min_interval", "kwh_max_interval"):
        if col in df:
            v = to_number(df[col])
            interval_bad |= (~_blank(df[col]) & v.isna()) | (v < 0)
            extra[col] = v
    checks = [
        ("unknown_customer", ~known),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("kwh_not_numeric", kwh.isna()),
        ("kwh_negative", kwh < 0),
        ("dst_repeated_hour", repeated),
        ("duplicate_reading", dup),
        ("interval_count_invalid", interval_bad),
    ]
    if check_grid:
        eligible = known & valid_ts & ~dup & kwh.notna() & ~(kwh < 0)
        checks.append(("mixed_interval", off_interval_grid(cid, ts, eligible)))
    out = df.assign(ts=ts, kwh=kwh, **extra)
    ok = q.split(table, out, checks, source, 2)
    ok = ok[["customer_id", "ts", "kwh"] + [c for c in ok.columns if c not in ("customer_id", "ts", "kwh")]]
    if not isinstance(ok["customer_id"].dtype, pd.CategoricalDtype):
        ok["customer_id"] = ok["customer_id"].astype(str).astype("category")
    else:
        ids = ok["customer_id"].cat.remove_unused_categories()
        ids = ids.cat.rename_categories(ids.cat.categories.astype(str))
        ok["customer_id"] = ids.cat.reorder_categories(sorted(ids.cat.categories))  # same order whatever the file layout
    ok["kwh"] = ok["kwh"].astype("float32")
    for col in ("kwh_min_interval", "kwh_max_interval"):
        if col in ok:
            ok[col] = ok[col].astype("float32")
    return ok.sort_values(["customer_id", "ts"], kind="stable").reset_index(drop=True)


def bills(df: pd.DataFrame, q: Quarantine, source: str, known_customers: pd.Index) -> pd.DataFrame:
    due = to_datetime(df["due_date"])
    amount = to_number(df["amount"])
    period = df["period"].astype("string").str.strip()
    checks = [
        ("unknown_customer", ~df["customer_id"].isin(known_customers)),
        ("missing_bill_id", _blank(df["bill_id"])),
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
        checks.append(("due_before_bill_date", out["bill_date"].notna() & (due < out["bill_date"])))
    checks.append(("kwh_negative", out["kwh"] < 0))
    ok = q.split("bills", out, checks, source, 2)
    for col in ("customer_id", "bill_id", "period"):
        ok[col] = ok[col].astype(str)
    return ok.reset_index(drop=True)


def payments(df: pd.DataFrame, q: Quarantine, source: str, known_bills: pd.Index,
             bill_customers: pd.Series | None = None,
             extra_checks: list[tuple[str, pd.Series]] | None = None) -> pd.DataFrame:
    """Payments; `bill_customers` (bill_id -> customer_id) catches a payment booked to the
    wrong account."""
    paid = to_datetime(df["paid_on"])
    amount = to_number(df["amount"])
    mismatch = pd.Series(False, index=df.index)
    if bill_customers is not None:
        owner = df["bill_id"].map(bill_customers[~bill_customers.index.duplicated()])
        mismatch = owner.notna() & (owner.astype("string") != df["customer_id"].astype("string")).fillna(True)
    checks = [
        ("payment_without_bill", ~df["bill_id"].isin(known_bills)),
        ("payment_customer_mismatch", mismatch),
        ("ts_unparseable", paid.isna()),
        ("ts_out_of_range", (paid < EARLIEST) | (paid > _now())),
        ("amount_not_numeric", amount.isna()),
        ("amount_negative", amount < 0),
        *(extra_checks or []),
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


def weather_daily(df: pd.DataFrame, q: Quarantine, source: str) -> pd.DataFrame:
    """Daily mean temperature per region; a day repeated for a region keeps its first row."""
    date = to_datetime(df["date"]).dt.normalize()
    temp = to_number(df["temperature_mean"])
    region = df["region"].astype("string").str.strip().str.lower() if "region" in df else pd.Series(
        pd.NA, index=df.index, dtype="string")
    checks = [
        ("ts_unparseable", date.isna()),
        ("temperature_not_numeric", temp.isna()),
        ("temperature_out_of_range", (temp < -60) | (temp > 60)),
        ("duplicate_date", pd.DataFrame({"d": date, "r": region}).duplicated() & date.notna()),
    ]
    ok = q.split("weather_daily", df.assign(date=date, temperature_mean=temp, region=region), checks, source, 2)
    ok["region"] = ok["region"].astype(object).where(ok["region"].notna(), None)
    ok["date"] = ok["date"].astype("datetime64[us]")
    return ok[["date", "region", "temperature_mean"]].sort_values(["region", "date"]).reset_index(drop=True)


def labels(df: pd.DataFrame, q: Quarantine, source: str, known_customers: pd.Index) -> pd.DataFrame:
    """Given labels (customer x task x as_of); binary tasks are normalised to '0' / '1'."""
    df = df.copy()
    task = df["task"].astype("string").str.strip()
    as_of = to_datetime(df["as_of"])
    label = df["label"].astype("string").str.strip()
    binary = task.isin(TASKS).fillna(False)
    label = label.mask(binary, binary_label(label))
    allowed = pd.Series(True, index=df.index)
    for name, values in LABEL_VALUES.items():
        is_task = task.eq(name).fillna(False)
        allowed &= ~is_task | label.isin(values).fillna(False)
    dup = pd.DataFrame({"c": df["customer_id"], "t": task, "a": as_of}).duplicated(keep="first")
    checks = [
        ("missing_customer_id", _blank(df["customer_id"])),
        ("unknown_customer", ~df["customer_id"].isin(known_customers)),
        ("missing_task", _blank(task)),
        ("ts_unparseable", as_of.isna()),
        ("ts_out_of_range", (as_of < EARLIEST) | (as_of > _now())),
        ("label_missing", _blank(label)),
        ("label_not_allowed", ~allowed),
        ("duplicate_label", dup),
    ]
    ok = q.split("labels", df.assign(task=task, as_of=as_of, label=label), checks, source, 2)
    for col in ("customer_id", "task", "label"):
        ok[col] = ok[col].astype(str)
    return ok[["customer_id", "task", "as_of", "label"]].reset_index(drop=True)
