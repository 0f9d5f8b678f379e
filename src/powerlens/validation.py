"""Row rules for each canonical table: parse, check, quarantine with a reason.

Each function takes a frame already in canonical column names (ids already pseudonymized) with a
`_line` column, and returns the accepted rows typed as the canonical schema says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerlens.rules import TASKS
from powerlens.schema import (
    CUSTOMER_CLASSES,
    EARLIEST,
    EVENT_KINDS,
    LOAD_KW_CAP,
    TEMPERATURE_RANGE_C,
    Quarantine,
    to_bool,
    to_datetime,
    to_number,
)
from powerlens.schema.tables import SATISFACTION_RANGE


def _now() -> pd.Timestamp:
    return pd.Timestamp.now().normalize() + pd.Timedelta(days=1)


def among(ids: pd.Series, known) -> pd.Series:
    """Whether each id is one of `known` (Series.isin for text ids; a missing id is not). By
    pyarrow's is_in on the text as it is stored: pandas' isin on text first makes a Python object
    of every known id, seconds per million bills."""
    def text(values) -> pa.Array:
        arr = pa.array(pd.Series(values, copy=False).astype("string").array)
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return arr.cast(pa.large_string())

    if isinstance(ids.dtype, pd.CategoricalDtype):  # the readings' ids: each category looked up once
        known_category = among(pd.Series(ids.cat.categories), known).to_numpy()
        codes = ids.cat.codes.to_numpy()
        return pd.Series(known_category[codes] & (codes >= 0) if len(known_category) else codes < -1,
                         index=ids.index)
    found = pc.is_in(text(ids), value_set=text(known), skip_nulls=True)
    return pd.Series(found.to_numpy(zero_copy_only=False).astype(bool), index=ids.index)


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
    `dst_repeated_hour` instead of being mistaken for a plain duplicate.

    Naive timestamps are tested by integer day and hour (the calendar of the few distinct
    days, not four calendar fields of every reading: a tenth of validate's readings time)."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)  # the wall clock
    values = ts.to_numpy()
    valid = ~np.isnat(values)
    seconds = values.astype("datetime64[s]").astype(np.int64)
    day = np.floor_divide(seconds, 86_400)
    hour = (seconds - day * 86_400) // 3_600
    out = np.zeros(len(values), dtype=bool)
    if valid.any():
        first = int(day[valid].min())
        days = pd.DatetimeIndex(np.arange(first, int(day[valid].max()) + 1).astype("datetime64[D]"))
        sunday = np.asarray(days.dayofweek == 6)
        october = sunday & np.asarray((days.month == 10) & (days.day >= 25))
        november = sunday & np.asarray((days.month == 11) & (days.day <= 7))
        k = np.where(valid, day - first, 0)
        out = valid & ((october[k] & ((hour == 1) | (hour == 2))) | (november[k] & (hour == 1)))
    return pd.Series(out, index=ts.index)


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
    n_codes = int(c.max()) + 1
    step_of = _modal_per_code(c[use], gap[use], n_codes)[c]  # most common gap (ties: the shortest)
    has_step = step_of > 0
    phase = np.zeros(len(t), dtype=np.int64)
    phase[has_step] = t[has_step] % step_of[has_step]
    modal = _modal_per_code(c[has_step], phase[has_step], n_codes)[c]  # most common offset (ties: the smallest)
    bad_sorted = has_step & (phase != modal)
    bad = np.zeros(len(idx), dtype=bool)
    bad[order] = bad_sorted
    out[idx] = bad
    return pd.Series(out, index=ts.index)


def _modal_per_code(codes: np.ndarray, values: np.ndarray, n_codes: int) -> np.ndarray:
    """The most common of `values` (int64) per code in [0, n_codes), ties to the smallest value;
    0 for a code without values."""
    out = np.zeros(n_codes, dtype=np.int64)
    if not len(codes):
        return out
    order = np.lexsort((values, codes))
    c, v = codes[order], values[order]
    start = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (v[1:] != v[:-1])])  # runs of one (code, value)
    count = np.diff(np.r_[start, len(c)])
    run_code, run_value = c[start], v[start]
    best = np.lexsort((run_value, -count, run_code))  # per code: the longest run first, then the smallest value
    first = best[np.r_[True, run_code[best][1:] != run_code[best][:-1]]]
    out[run_code[first]] = run_value[first]
    return out


@dataclasses.dataclass(frozen=True)
class Plausibility:
    """What a value may physically be (params.yaml `validate.plausibility`; the defaults live on
    config.PlausibilityConfig). `Plausibility.of(None)` gives the defaults."""

    capacity_margin: float
    max_kw_by_class: Mapping[str, float]
    max_robust_z: float
    min_log_mad: float
    min_history_readings: int
    aggregate_tolerance: float
    max_amount: float
    max_abs_value: float
    outage_share: float

    @classmethod
    def of(cls, rules: Plausibility | Mapping | None = None) -> Plausibility:
        """The rules from a Plausibility, a mapping (params.yaml's section, missing keys take
        their defaults), a config section, or None (the defaults)."""
        if isinstance(rules, Plausibility):
            return rules
        from powerlens.config import PlausibilityConfig

        if rules is None:
            section = PlausibilityConfig()
        elif isinstance(rules, PlausibilityConfig):
            section = rules
        else:
            section = PlausibilityConfig.from_dict(dict(rules))
        return cls(**section.as_dict())


# hours in one interval of each readings table (an unknown table: no capacity limit)
INTERVAL_HOURS = {"readings_daily": 24.0, "readings_hourly": 1.0, "readings_halfhourly": 0.5,
                  "readings_30min": 0.5, "readings_15min": 0.25, "readings_5min": 1 / 12}
HOURS_PER_BILL = 31 * 24  # a monthly bill: at most 31 days of the customer's maximum demand
ROBUST_Z_SCALE = 0.6745  # MAD x 1/0.6745 estimates a normal standard deviation


def _codes(customer: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(integer code of each row's customer, -1 for missing; the customers of the codes)."""
    if isinstance(customer.dtype, pd.CategoricalDtype):
        return customer.cat.codes.to_numpy(), pd.Index(customer.cat.categories.astype(str))
    codes, uniques = pd.factorize(customer.astype("string"), use_na_sentinel=True)
    return codes, pd.Index(pd.Series(uniques, dtype="string").astype(str))


def max_kwh(customer: pd.Series, hours: float | None, customers: pd.DataFrame | None,
            rules: Plausibility) -> np.ndarray:
    """The most energy each row's customer can draw in `hours`: its contracted capacity (kVA,
    taken as kW) x hours x the margin; the class's physical maximum demand when the capacity is
    unknown; never above `max_abs_value` (which also keeps every value finite as float32)."""
    ceiling = np.full(len(customer), rules.max_abs_value, dtype=float)
    if hours is None or customers is None or not len(customers) or not len(customer):
        return ceiling
    codes, ids = _codes(customer)
    info = customers.drop_duplicates("customer_id")
    info = info.set_index(info["customer_id"].astype(str).to_numpy())
    capacity = (pd.to_numeric(info["capacity_kva"], errors="coerce") if "capacity_kva" in info
                else pd.Series(np.nan, index=info.index)).reindex(ids).to_numpy(dtype=float)
    klass = (info["customer_class"].astype(str) if "customer_class" in info
             else pd.Series("", index=info.index)).reindex(ids)
    class_kw = klass.map(lambda c: rules.max_kw_by_class.get(c, np.nan)).to_numpy(dtype=float)
    kw = np.where(capacity > 0, capacity, class_kw)
    per_customer = np.fmin(kw * hours * rules.capacity_margin, rules.max_abs_value)
    per_customer = np.where(np.isnan(per_customer), rules.max_abs_value, per_customer)
    ok = codes >= 0
    ceiling[ok] = per_customer[codes[ok]]
    return ceiling


def far_above_history(customer: pd.Series, kwh: pd.Series, eligible: pd.Series,
                      rules: Plausibility) -> pd.Series:
    """True for a reading far above its customer's own history: robust z-score of log kWh,
    0.6745 x (log kWh - median) / max(MAD, min_log_mad), above `max_robust_z`, for customers with
    at least `min_history_readings` positive readings. Only upward: a drop (a vacation, a vacant
    home, a tamperer) is behaviour to study, not an impossible value; zero readings are not in
    the log and never flagged."""
    out = np.zeros(len(kwh), dtype=bool)
    codes, _ = _codes(customer)
    values = kwh.to_numpy(dtype=float, na_value=np.nan)
    pos = np.asarray(eligible, dtype=bool) & (codes >= 0) & (values > 0)
    if not pos.any():
        return pd.Series(out, index=kwh.index)
    lg = pd.Series(np.log(values[pos]))
    group = codes[pos]
    g = lg.groupby(group)
    med = g.transform("median")
    mad = (lg - med).abs().groupby(group).transform("median")
    n = g.transform("size")
    z = ROBUST_Z_SCALE * (lg - med) / np.maximum(mad, rules.min_log_mad)
    out[pos] = ((n >= rules.min_history_readings) & (z > rules.max_robust_z)).to_numpy()
    return pd.Series(out, index=kwh.index)


def inconsistent_aggregate(total: pd.Series, mean: pd.Series | None, minimum: pd.Series | None,
                           maximum: pd.Series | None, count: pd.Series | None,
                           rules: Plausibility) -> pd.Series:
    """True where an aggregate contradicts its own parts (where both are given): the sum is not
    mean x count (within `aggregate_tolerance`, relative, + 0.01 kWh), or lies outside
    [min x count, max x count], or min > max."""
    bad = pd.Series(False, index=total.index)
    slack = 0.01
    if count is not None:
        n = count.astype(float)
        if mean is not None:
            expected = mean * n
            gap = (total - expected).abs()
            bad |= (gap > rules.aggregate_tolerance * np.maximum(total.abs(), expected.abs()) + slack).fillna(False)
        if maximum is not None:
            bad |= (maximum * n < total * (1 - rules.aggregate_tolerance) - slack).fillna(False)
        if minimum is not None:
            bad |= (minimum * n > total * (1 + rules.aggregate_tolerance) + slack).fillna(False)
    if minimum is not None and maximum is not None:
        bad |= (minimum > maximum + slack).fillna(False)
    return bad


def daily_disagrees_with_intervals(daily: pd.DataFrame, intervals_ok: pd.DataFrame, per_day: int,
                                   rules: Plausibility | Mapping | None = None) -> pd.Series:
    """True for a daily row (customer_id, ts = the day, kwh as given) whose day has all `per_day`
    interval readings accepted (`intervals_ok`, e.g. hourly) and whose kWh is not their sum
    (relative gap above `aggregate_tolerance`, + 0.01 kWh). Autumn DST days are not compared
    (their repeated hour is quarantined, the daily total may include it)."""
    rules = Plausibility.of(rules)
    if not len(daily) or not len(intervals_ok):
        return pd.Series(False, index=daily.index)
    ts = to_datetime(daily["ts"])
    # customer and day as one integer key (string and timestamp MultiIndexes were most of the cost)
    stamps = _wall_clock(intervals_ok["ts"])
    dated = ~np.isnat(stamps)
    intervals = intervals_ok[dated]
    if not len(intervals):
        return pd.Series(False, index=daily.index)
    ids = pd.Index(_distinct_ids(intervals["customer_id"]).append(_distinct_ids(daily["customer_id"]))).unique()
    interval_day = stamps[dated].astype("datetime64[D]").astype(np.int64)
    first = int(interval_day.min())
    span = int(interval_day.max()) - first + 1
    key = _id_codes(intervals["customer_id"], ids) * span + (interval_day - first)
    sums = pd.Series(intervals["kwh"].to_numpy(dtype=float)).groupby(key).agg(["sum", "size"])
    total = sums.loc[sums["size"] == per_day, "sum"]
    wall = _wall_clock(ts)
    daily_day = wall.astype("datetime64[D]")
    since = np.where(np.isnat(daily_day), -1, daily_day.astype(np.int64) - first)
    known = (wall == daily_day.astype(wall.dtype)) & (since >= 0) & (since < span)  # a day (midnight) of the intervals
    at = total.index.get_indexer(_id_codes(daily["customer_id"], ids) * span + since)
    at[~known] = -1
    expected = pd.Series(np.where(at >= 0, total.to_numpy()[np.maximum(at, 0)], np.nan), index=daily.index)
    given = to_number(daily["kwh"])
    gap = (given - expected).abs()
    bad = (gap > rules.aggregate_tolerance * np.maximum(given.abs(), expected.abs()) + 0.01).fillna(False)
    fold_day = dst_fold(ts + pd.Timedelta(hours=1)) | dst_fold(ts + pd.Timedelta(hours=2))
    return bad & ~fold_day


def _wall_clock(ts: pd.Series) -> np.ndarray:
    """Timestamps as naive datetime64 on their local wall clock."""
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    return ts.to_numpy().astype("datetime64[us]")


def _distinct_ids(ids: pd.Series) -> pd.Index:
    """The distinct ids of a column, as strings (a categorical's categories: no pass over rows)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        return pd.Index(ids.cat.categories.astype(str))
    return pd.Index(pd.unique(ids.astype(str).to_numpy()))


def _id_codes(ids: pd.Series, distinct: pd.Index) -> np.ndarray:
    """The position of each row's id in `distinct` (-1 for a missing id)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        of_category = distinct.get_indexer(ids.cat.categories.astype(str))
        codes = ids.cat.codes.to_numpy()
        return np.where(codes >= 0, of_category[np.maximum(codes, 0)], -1).astype(np.int64)
    return distinct.get_indexer(ids.astype(str).to_numpy()).astype(np.int64)


def attribute_checks(df: pd.DataFrame, numeric: list[str] = (), dates: list[str] = (),
                     flags: list[str] = (), categories: list[str] = (),
                     rules: Plausibility | Mapping | None = None) -> tuple[pd.DataFrame, list]:
    """Type source-specific attributes (kept as static features) and say which rows break them.

    A value that is given but cannot be typed quarantines its row (with the reason) instead of
    becoming a silent NaN; empty values stay missing; a number beyond `max_abs_value` is
    `value_implausible`. Categories keep every label, `MISSING` included, as its own category."""
    rules = Plausibility.of(rules)
    df = df.copy()
    bad_num = pd.Series(False, index=df.index)
    huge = pd.Series(False, index=df.index)
    bad_date = pd.Series(False, index=df.index)
    bad_flag = pd.Series(False, index=df.index)
    for col in [c for c in numeric if c in df]:
        parsed = to_number(df[col])
        bad_num |= ~_blank(df[col]) & parsed.isna()
        huge |= (parsed.abs() > rules.max_abs_value).fillna(False)
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
    checks = [("attribute_not_numeric", bad_num), ("value_implausible", huge), ("attribute_bad_date", bad_date),
              ("attribute_not_boolean", bad_flag)]
    return df, checks


def customers(df: pd.DataFrame, q: Quarantine, source: str,
              extra_checks: list[tuple[str, pd.Series]] | None = None,
              rules: Plausibility | Mapping | None = None) -> pd.DataFrame:
    """Accounts; `extra_checks` (reason, bad-row mask) come from source-specific attributes."""
    rules = Plausibility.of(rules)
    df = df.copy()
    df["customer_class"] = df["customer_class"].astype("string").str.strip().str.lower()
    start = to_datetime(df["start_date"])
    end = to_datetime(df["end_date"]) if "end_date" in df else pd.Series(pd.NaT, index=df.index)
    capacity = to_number(df["capacity_kva"]) if "capacity_kva" in df else pd.Series(float("nan"), index=df.index)
    raw_capacity_given = ~_blank(df["capacity_kva"]) if "capacity_kva" in df else pd.Series(False, index=df.index)
    voltage = to_number(df["voltage_kv"]) if "voltage_kv" in df else pd.Series(float("nan"), index=df.index)
    checks = [
        ("missing_customer_id", _blank(df["customer_id"])),
        ("duplicate_customer", df["customer_id"].duplicated(keep="first") & ~_blank(df["customer_id"])),
        *(extra_checks or []),
        ("unknown_customer_class", ~df["customer_class"].isin(CUSTOMER_CLASSES).fillna(False)),
        ("bad_start_date", start.isna()),
        ("end_before_start", end.notna() & (end < start)),
        ("capacity_not_numeric", raw_capacity_given & (capacity.isna() | (capacity < 0))),
        ("value_implausible", (capacity > rules.max_abs_value) | (voltage.abs() > rules.max_abs_value) | (voltage < 0)),
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


def _reading_checks(df: pd.DataFrame, table: str, known_customers: pd.Index, check_grid: bool,
                    customers: pd.DataFrame | None, rules: Plausibility, interval_hours: float | None,
                    extra_checks: list[tuple[str, np.ndarray]]) -> tuple[dict[str, pd.Series], list]:
    """The parsed columns and the checks (reason, bad-row mask) of readings of whole customers."""
    ts = to_datetime(df["ts"])
    kwh = to_number(df["kwh"])
    cid = df["customer_id"]
    valid_ts = ts.notna() & (ts >= EARLIEST) & (ts <= _now())
    dup = pd.DataFrame({"c": cid, "t": ts}).duplicated(keep="first") & ts.notna()
    repeated = dup & dst_fold(ts)
    known = among(cid, known_customers)
    extra = {}
    interval_bad = pd.Series(False, index=df.index)
    if "n_intervals" in df:
        n = to_number(df["n_intervals"])
        interval_bad |= n.isna() | (n < 0) | (n > 10_000) | (n != np.floor(n))
        extra["n_intervals"] = n.fillna(0).clip(0, 10_000).astype("int16")
    for col in ("kwh_min_interval", "kwh_max_interval", "kwh_mean_interval"):
        if col in df:
            v = to_number(df[col])
            interval_bad |= (~_blank(df[col]) & v.isna()) | (v < 0)
            extra[col] = v
    hours = interval_hours if interval_hours is not None else INTERVAL_HOURS.get(table)
    ceiling = max_kwh(cid, hours, customers, rules)
    too_much = (kwh > ceiling).fillna(False)
    for col in ("kwh_min_interval", "kwh_max_interval", "kwh_mean_interval"):
        if col in extra:  # one interval's kWh cannot exceed what the whole span can deliver
            too_much |= (extra[col] > ceiling).fillna(False)
    history = known & valid_ts & ~dup & kwh.notna() & ~(kwh < 0) & ~too_much
    implausible = too_much | far_above_history(cid, kwh, history, rules)
    aggregate = inconsistent_aggregate(kwh, extra.get("kwh_mean_interval"), extra.get("kwh_min_interval"),
                                       extra.get("kwh_max_interval"),
                                       extra["n_intervals"] if "n_intervals" in extra else None, rules)
    checks = [
        ("unknown_customer", ~known),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("kwh_not_numeric", kwh.isna()),
        ("kwh_negative", kwh < 0),
        ("kwh_implausible", implausible),
        ("dst_repeated_hour", repeated),
        ("duplicate_reading", dup),
        ("interval_count_invalid", interval_bad),
        ("inconsistent_aggregate", aggregate & ~interval_bad),
        *extra_checks,
    ]
    if check_grid:
        eligible = known & valid_ts & ~dup & kwh.notna() & ~(kwh < 0) & ~implausible
        checks.append(("mixed_interval", off_interval_grid(cid, ts, eligible)))
    checks = [(reason, np.asarray(pd.Series(bad).fillna(False), dtype=bool)) for reason, bad in checks]
    return {"ts": ts, "kwh": kwh, **extra}, checks


# rows of a readings table validated at once: every check is per customer, so a large table is
# validated in blocks of whole customers (the same result in a fraction of the time and memory:
# intermediates that the allocator reuses instead of fresh pages for each of 20 million rows)
READINGS_BLOCK_ROWS = 500_000


def customer_blocks(customer: pd.Series, rows_per_block: int = READINGS_BLOCK_ROWS) -> list[np.ndarray]:
    """Row positions of each block of whole customers, about `rows_per_block` rows each: blocks
    of consecutive customer ids (as text; rows without a customer in the first block), rows in
    their original order within a block."""
    n_blocks = max(1, -(-len(customer) // max(1, rows_per_block)))
    if n_blocks == 1:
        return [np.arange(len(customer))]
    codes, ids = _codes(customer)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids.to_numpy(dtype=str), kind="stable")] = np.arange(len(ids))
    n_blocks = min(n_blocks, max(1, len(ids)))
    block = np.where(codes >= 0, rank[np.maximum(codes, 0)] * n_blocks // max(1, len(ids)), 0)
    order = np.argsort(block, kind="stable")
    bounds = np.searchsorted(block[order], np.arange(n_blocks + 1))
    return [order[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True) if hi > lo]


def _as_ids(customer: pd.Series, id_type: pd.CategoricalDtype) -> pd.Series:
    """Customer ids as text categories of `id_type` (recoding a categorical's codes, not its rows)."""
    if isinstance(customer.dtype, pd.CategoricalDtype):
        as_text = customer.cat.rename_categories(customer.cat.categories.astype(str))
        return as_text.cat.set_categories(id_type.categories)
    return customer.astype(str).astype(id_type)


def readings(df: pd.DataFrame, q: Quarantine, source: str, table: str,
             known_customers: pd.Index, check_grid: bool = True, customers: pd.DataFrame | None = None,
             rules: Plausibility | Mapping | None = None, interval_hours: float | None = None,
             extra_checks: list[tuple[str, pd.Series]] | None = None) -> pd.DataFrame:
    """Readings of one interval; `ts` is the start of the interval (naive local time).

    Extra aggregate columns are checked when present: `n_intervals` must be a count, and
    `kwh_min_interval` / `kwh_max_interval` finite and non-negative; with `kwh_mean_interval`
    (checked, not kept) the sum must agree with mean x count (`inconsistent_aggregate`).
    `kwh_implausible`: above what the customer's capacity (or class, from `customers`) can draw
    in the interval (`interval_hours`, else known from the table name), or far above the
    customer's own history (see `far_above_history`). A large table is validated in blocks of
    whole customers (`customer_blocks`); the accepted rows come sorted by customer and time."""
    rules = Plausibility.of(rules)
    blocks = customer_blocks(df["customer_id"], READINGS_BLOCK_ROWS)
    extra_checks = [(reason, np.asarray(pd.Series(bad).fillna(False), dtype=bool)) for reason, bad in extra_checks or []]
    known_ids = _codes(df["customer_id"])[1]
    id_type = pd.CategoricalDtype(pd.Index(sorted(set(known_ids))))  # sorted: the same whatever the file layout
    parts = []
    for rows in blocks:
        part = df.iloc[rows] if len(blocks) > 1 else df
        parsed, checks = _reading_checks(part, table, known_customers, check_grid, customers, rules, interval_hours,
                                         [(reason, bad[rows]) for reason, bad in extra_checks])
        ok = q.split(table, part.assign(**parsed), checks, source, 2).drop(columns=["kwh_mean_interval"],
                                                                            errors="ignore")
        parts.append(ok.assign(customer_id=_as_ids(ok["customer_id"], id_type)).sort_values(["customer_id", "ts"],
                                                                                           kind="stable"))
    ok = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    ok = ok[["customer_id", "ts", "kwh"] + [c for c in ok.columns if c not in ("customer_id", "ts", "kwh")]]
    ok["customer_id"] = ok["customer_id"].cat.remove_unused_categories()
    ok["kwh"] = ok["kwh"].astype("float32")
    for col in ("kwh_min_interval", "kwh_max_interval"):
        if col in ok:
            ok[col] = ok[col].astype("float32")
    return ok


def bills(df: pd.DataFrame, q: Quarantine, source: str, known_customers: pd.Index,
          customers: pd.DataFrame | None = None, rules: Plausibility | Mapping | None = None,
          extra_checks: list[tuple[str, pd.Series]] | None = None) -> pd.DataFrame:
    """Bills; `amount_implausible` above `max_amount`, `kwh_implausible` above what the
    customer's capacity (or class) can draw in a month."""
    rules = Plausibility.of(rules)
    due = to_datetime(df["due_date"])
    amount = to_number(df["amount"])
    period = df["period"].astype("string").str.strip()
    kwh = to_number(df["kwh"]) if "kwh" in df else pd.Series(float("nan"), index=df.index)
    checks = [
        ("unknown_customer", ~among(df["customer_id"], known_customers)),
        ("missing_bill_id", _blank(df["bill_id"])),
        ("duplicate_bill", df["bill_id"].duplicated(keep="first")),
        ("bad_period", ~period.str.fullmatch(r"\d{4}-\d{2}").fillna(False)),
        ("ts_unparseable", due.isna()),
        ("ts_out_of_range", (due < EARLIEST) | (due > _now() + pd.Timedelta(days=62))),
        ("amount_not_numeric", amount.isna()),
        ("amount_negative", amount < 0),
        ("amount_implausible", amount > rules.max_amount),
        *(extra_checks or []),
    ]
    out = df.assign(due_date=due, amount=amount, period=period, kwh=kwh)
    if "bill_date" in out:
        out["bill_date"] = to_datetime(out["bill_date"])
        checks.append(("due_before_bill_date", out["bill_date"].notna() & (due < out["bill_date"])))
    checks.append(("kwh_negative", out["kwh"] < 0))
    checks.append(("kwh_implausible", kwh > max_kwh(df["customer_id"], HOURS_PER_BILL, customers, rules)))
    checks.extend(_period_kwh_checks(df, out))
    ok = q.split("bills", out, checks, source, 2)
    for col in ("customer_id", "bill_id", "period"):
        ok[col] = ok[col].astype(str)
    return ok.reset_index(drop=True)


def _period_kwh_checks(df: pd.DataFrame, out: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """A ToU bill's kWh per tariff period (kwh_peak, ...; powerlens.tariffs), made numbers in
    `out`: each a number at or above 0, and together the bill's kWh within 1% (a register that
    does not add up is a misread)."""
    from powerlens.tariffs import BILL_TOLERANCE, PERIOD_KWH

    cols = [c for c in PERIOD_KWH.values() if c in df]
    if not cols:
        return []
    checks = []
    for col in cols:
        out[col] = to_number(df[col])
        checks.append(("period_kwh_not_numeric", ~_blank(df[col]) & out[col].isna()))
        checks.append(("period_kwh_negative", out[col] < 0))
    given = out[cols].notna().any(axis=1)
    total = out[cols].sum(axis=1, min_count=1)
    off = (total - out["kwh"]).abs() > np.maximum(BILL_TOLERANCE * out["kwh"].abs(), 0.01 * len(cols))
    checks.append(("period_kwh_not_summing", given & out["kwh"].notna() & off))
    return checks


def payments(df: pd.DataFrame, q: Quarantine, source: str, known_bills: pd.Index,
             bill_customers: pd.Series | None = None,
             extra_checks: list[tuple[str, pd.Series]] | None = None,
             rules: Plausibility | Mapping | None = None) -> pd.DataFrame:
    """Payments; `bill_customers` (bill_id -> customer_id) catches a payment booked to the
    wrong account; `amount_implausible` above `max_amount`."""
    rules = Plausibility.of(rules)
    paid = to_datetime(df["paid_on"])
    amount = to_number(df["amount"])
    mismatch = pd.Series(False, index=df.index)
    if bill_customers is not None:
        owner = df["bill_id"].map(bill_customers[~bill_customers.index.duplicated()])
        mismatch = owner.notna() & (owner.astype("string") != df["customer_id"].astype("string")).fillna(True)
    checks = [
        ("payment_without_bill", ~among(df["bill_id"], known_bills)),
        ("payment_customer_mismatch", mismatch),
        ("ts_unparseable", paid.isna()),
        ("ts_out_of_range", (paid < EARLIEST) | (paid > _now())),
        ("amount_not_numeric", amount.isna()),
        ("amount_negative", amount < 0),
        ("amount_implausible", amount > rules.max_amount),
        *(extra_checks or []),
    ]
    ok = q.split("payments", df.assign(paid_on=paid, amount=amount), checks, source, 2)
    for col in ("customer_id", "bill_id"):
        ok[col] = ok[col].astype(str)
    ok["channel"] = ok["channel"].astype("string").str.strip().str.lower().astype(object) if "channel" in ok else None
    return ok.reset_index(drop=True)


def service_events(df: pd.DataFrame, q: Quarantine, source: str,
                   known_customers: pd.Index) -> pd.DataFrame:
    """Service events; where the source has them, `resolution_hours` (a number >= 0) and the
    callback `satisfaction` (1..5) are checked and `channel` is kept as lower-case text."""
    ts = to_datetime(df["ts"])
    kind = df["kind"].astype("string").str.strip().str.lower()
    checks = [
        ("unknown_customer", ~among(df["customer_id"], known_customers)),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("unknown_event_kind", ~kind.isin(EVENT_KINDS).fillna(False)),
    ]
    typed = {"ts": ts, "kind": kind}
    if "resolution_hours" in df:
        hours = to_number(df["resolution_hours"])
        checks += [("resolution_hours_not_numeric", ~_blank(df["resolution_hours"]) & hours.isna()),
                   ("resolution_hours_negative", hours < 0)]
        typed["resolution_hours"] = hours
    if "satisfaction" in df:
        score = to_number(df["satisfaction"])
        low, high = SATISFACTION_RANGE
        checks.append(("satisfaction_out_of_range", ~_blank(df["satisfaction"])
                       & ~score.between(low, high).fillna(False)))
        typed["satisfaction"] = score
    ok = q.split("service_events", df.assign(**typed), checks, source, 2)
    ok["customer_id"] = ok["customer_id"].astype(str)
    ok["kind"] = ok["kind"].astype(str)
    for col in ("outcome", "channel"):
        if col in ok:
            ok[col] = ok[col].astype("string").str.strip().str.lower().astype(object)
    if "outcome" not in ok:
        ok["outcome"] = None
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
        ("unknown_customer", ~among(df["customer_id"], known_customers)),
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


def _hours(values: pd.Series) -> pd.Series:
    return values if pd.api.types.is_datetime64_any_dtype(values) and not isinstance(
        values.dtype, pd.DatetimeTZDtype) else to_datetime(values)


def _second_value_for_hour(series: pd.Series, ts: pd.Series, candidate: pd.Series) -> pd.Series:
    """Rows that give a series (region, station) a second value for an hour, among the rows
    otherwise valid (`candidate`): the first valid value of an hour is kept."""
    dup = pd.Series(False, index=ts.index)
    dup[candidate] = pd.DataFrame({"s": series[candidate], "t": ts[candidate]}).duplicated(keep="first").to_numpy()
    return dup


def region_load(df: pd.DataFrame, q: Quarantine, source: str, rules: Plausibility | Mapping | None = None,
                extra_checks: list[tuple[str, pd.Series]] | None = None,
                outage_share: float | None = None) -> pd.DataFrame:
    """Hourly load per region (`region`, `ts` = the hour's beginning, `load_kw`; `_line`, and
    `_file` for several files; an optional `outage` flag the source gives).

    Quarantined: an empty region, an unparseable, out-of-range or off-the-hour timestamp, a load
    that is not a number, negative, or implausible (above LOAD_KW_CAP or max_abs_value, or far
    above the region's own history, see `far_above_history`), a second value for an hour
    (`dst_repeated_hour` on an autumn DST change hour, else `duplicate_hour`; the first valid
    value is kept). Accepted hours with a load below `outage_share` (default: the rules'
    `outage_share`) of the region's median are flagged `outage` (kept: an outage is what happened,
    not a bad value; GEFCom zone 4 drops to 0-6 kW against a median of 488 kW, while zone 9's
    industrial shutdowns go down to 3.7% and are load). Regions are lower case, like the
    customers' regions. A missing hour is never a zero: see `hourly_gaps`."""
    rules = Plausibility.of(rules)
    outage_share = rules.outage_share if outage_share is None else outage_share
    region = df["region"].astype("string").str.strip().str.lower()
    blank = _blank(region)
    ts = _hours(df["ts"])
    load = to_number(df["load_kw"])
    valid_ts = ts.notna() & (ts >= EARLIEST) & (ts <= _now())
    on_hour = (ts == ts.dt.floor("h")).fillna(False)
    too_much = (load > min(rules.max_abs_value, LOAD_KW_CAP)).fillna(False)
    usable = ~blank & valid_ts & on_hour & load.notna() & ~(load < 0).fillna(False)
    implausible = too_much | far_above_history(region.fillna(""), load, usable & ~too_much, rules)
    candidate = usable & ~implausible
    dup = _second_value_for_hour(region, ts, candidate)
    checks = [
        ("missing_region", blank),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("off_the_hour", ~on_hour),
        ("load_not_numeric", load.isna()),
        ("load_negative", load < 0),
        ("load_implausible", implausible),
        ("dst_repeated_hour", dup & dst_fold(ts)),
        ("duplicate_hour", dup),
        *(extra_checks or []),
    ]
    given_outage = to_bool(df["outage"]) if "outage" in df else pd.Series(False, index=df.index)
    out = pd.DataFrame({"region": region, "ts": ts, "load_kw": load, "outage": given_outage, "_line": df["_line"]},
                       index=df.index)
    if "_file" in df:
        out["_file"] = df["_file"]
    ok = q.split("region_load", out, checks, source, 2)
    ok["region"] = ok["region"].astype(str)
    ok["ts"] = ok["ts"].astype("datetime64[us]")
    ok["load_kw"] = ok["load_kw"].astype(float)
    normal = ok.groupby("region")["load_kw"].transform("median")
    ok["outage"] = ok["outage"].astype(bool) | (ok["load_kw"] < outage_share * normal).fillna(False)
    return ok[["region", "ts", "load_kw", "outage"]].sort_values(["region", "ts"]).reset_index(drop=True)


def hourly_gaps(accepted: pd.DataFrame, series: str = "region", first: pd.Timestamp | None = None,
                last: pd.Timestamp | None = None) -> dict[str, dict]:
    """The hours each series (region, station) has no value for, between `first` and `last`
    (default: the first and last hour of the whole table): {series: {"hours": n, "ranges":
    [[first missing hour, last missing hour], ...]}}, only series with gaps. A withheld hour, an
    hour the source never gave and a quarantined hour are all gaps: never zeros."""
    if not len(accepted):
        return {}
    first = accepted["ts"].min() if first is None else pd.Timestamp(first)
    last = accepted["ts"].max() if last is None else pd.Timestamp(last)
    grid = pd.date_range(first, last, freq="h").to_numpy().astype("datetime64[us]")
    out = {}
    for name, ts in accepted.groupby(series, sort=True)["ts"]:
        missing = grid[~np.isin(grid, ts.to_numpy().astype("datetime64[us]"))]
        if not len(missing):
            continue
        step = np.diff(missing.astype(np.int64)) != 3_600_000_000
        starts = np.r_[0, np.flatnonzero(step) + 1]
        ends = np.r_[np.flatnonzero(step), len(missing) - 1]
        fmt = "%Y-%m-%d %H:%M"
        out[str(name)] = {"hours": int(len(missing)),
                          "ranges": [[pd.Timestamp(missing[a]).strftime(fmt), pd.Timestamp(missing[b]).strftime(fmt)]
                                     for a, b in zip(starts, ends, strict=True)]}
    return out


def weather_hourly(df: pd.DataFrame, q: Quarantine, source: str) -> pd.DataFrame:
    """Hourly temperature per station (`station`, `ts` = the hour's beginning, `temperature_c`);
    a blank temperature is a missing hour, not a row (the caller leaves it out)."""
    station = df["station"].astype("string").str.strip()
    blank = _blank(station)
    ts = _hours(df["ts"])
    temp = to_number(df["temperature_c"])
    lo, hi = TEMPERATURE_RANGE_C
    on_hour = (ts == ts.dt.floor("h")).fillna(False)
    candidate = ~blank & ts.notna() & on_hour & temp.between(lo, hi)
    dup = _second_value_for_hour(station, ts, candidate)
    checks = [
        ("missing_station", blank),
        ("ts_unparseable", ts.isna()),
        ("ts_out_of_range", (ts < EARLIEST) | (ts > _now())),
        ("off_the_hour", ~on_hour),
        ("temperature_not_numeric", temp.isna()),
        ("temperature_out_of_range", (temp < lo) | (temp > hi)),
        ("duplicate_hour", dup),
    ]
    out = pd.DataFrame({"station": station, "ts": ts, "temperature_c": temp, "_line": df["_line"]}, index=df.index)
    if "_file" in df:
        out["_file"] = df["_file"]
    ok = q.split("weather_hourly", out, checks, source, 2)
    ok["station"] = ok["station"].astype(str)
    ok["ts"] = ok["ts"].astype("datetime64[us]")
    ok["temperature_c"] = ok["temperature_c"].astype(float)
    return ok[["station", "ts", "temperature_c"]].sort_values(["station", "ts"]).reset_index(drop=True)


def weather_stations(df: pd.DataFrame, q: Quarantine, source: str) -> pd.DataFrame:
    """Which region each weather station stands for (a station may serve several regions)."""
    station = df["station"].astype("string").str.strip()
    region = df["region"].astype("string").str.strip().str.lower()
    checks = [
        ("missing_station", _blank(station)),
        ("missing_region", _blank(region)),
        ("duplicate_mapping", pd.DataFrame({"s": station, "r": region}).duplicated(keep="first")),
    ]
    ok = q.split("weather_stations", df.assign(station=station, region=region), checks, source, 2)
    return ok[["station", "region"]].astype(str).reset_index(drop=True)


def tariffs(df: pd.DataFrame, q: Quarantine, source: str) -> pd.DataFrame:
    """The tariff schedule (powerlens.tariffs): a known class, scheme and period (the flat scheme
    has the one period `flat`), a price per kWh above 0, a capacity charge at or above 0 (or
    none), a parseable `valid_from`, a voltage band at or above 0 (empty: from 0), one row per
    key. Region and class are normalized as the customers' are (trimmed, lower case)."""
    from powerlens.tariffs import SCHEMES, TARIFF_PERIODS

    def text(col: str) -> pd.Series:
        return (df[col] if col in df else pd.Series(pd.NA, index=df.index)).astype("string").str.strip().str.lower()

    cls, scheme, period, region = text("customer_class"), text("scheme"), text("period"), text("region")
    region = region.where(~_blank(region))
    voltage_raw = df["voltage_kv_min"] if "voltage_kv_min" in df else pd.Series(pd.NA, index=df.index)
    voltage = to_number(voltage_raw)
    price = to_number(df["price_per_kwh"]) if "price_per_kwh" in df else pd.Series(np.nan, index=df.index)
    charge_raw = (df["capacity_charge_per_kva_month"] if "capacity_charge_per_kva_month" in df
                  else pd.Series(pd.NA, index=df.index))
    charge = to_number(charge_raw)
    valid_from = to_datetime(df["valid_from"]) if "valid_from" in df else pd.Series(pd.NaT, index=df.index)
    key = pd.DataFrame({"c": cls, "r": region.fillna(""), "v": voltage.fillna(0.0), "s": scheme, "p": period,
                        "f": valid_from})
    checks = [
        ("unknown_customer_class", ~cls.isin(CUSTOMER_CLASSES).fillna(False)),
        ("unknown_scheme", ~scheme.isin(list(SCHEMES)).fillna(False)),
        ("unknown_period", ~period.isin(list(TARIFF_PERIODS)).fillna(False)),
        ("flat_scheme_period", scheme.eq("flat").fillna(False) & ~period.eq("flat").fillna(False)),
        ("voltage_not_numeric", ~_blank(voltage_raw) & voltage.isna()),
        ("voltage_negative", voltage < 0),
        ("price_not_numeric", price.isna()),
        ("price_not_positive", price <= 0),
        ("capacity_charge_not_numeric", ~_blank(charge_raw) & charge.isna()),
        ("capacity_charge_negative", charge < 0),
        ("ts_unparseable", valid_from.isna()),
        ("ts_out_of_range", (valid_from < EARLIEST) | (valid_from > _now() + pd.Timedelta(days=366))),
        ("duplicate_tariff", key.duplicated(keep="first")),
    ]
    out = df.assign(customer_class=cls, region=region, voltage_kv_min=voltage.fillna(0.0), scheme=scheme,
                    period=period, price_per_kwh=price, capacity_charge_per_kva_month=charge, valid_from=valid_from)
    ok = q.split("tariffs", out, checks, source, 2)
    ok = ok[["customer_class", "region", "voltage_kv_min", "scheme", "period", "price_per_kwh",
             "capacity_charge_per_kva_month", "valid_from"]]
    for col in ("customer_class", "scheme", "period"):
        ok[col] = ok[col].astype(str)
    ok["region"] = ok["region"].astype(object).where(ok["region"].notna(), None)
    ok["valid_from"] = ok["valid_from"].astype("datetime64[us]")
    return ok.sort_values(["customer_class", "region", "voltage_kv_min", "scheme", "period", "valid_from"],
                          na_position="first").reset_index(drop=True)


def bill_tariff_check(bills: pd.DataFrame, customers: pd.DataFrame, tariffs: pd.DataFrame) -> dict:
    """The bills recomputed from the tariffs (powerlens.tariffs.expected_bills): how many were
    checked, how many match within 1%, how many are off, how many no tariff applies to, and a
    few of the bills off (pseudonymous ids) to look at. Bills are kept either way: a bill that
    does not match its tariff is what was billed, and worth a look, not bad input."""
    from powerlens.tariffs import expected_bills

    checked = expected_bills(bills, customers, tariffs)
    unpriced = checked["expected_amount"].isna()
    off = ~checked["within_tolerance"] & ~unpriced
    # the gap is set before the rows are cut: assigned to an empty frame, a column brings its index
    worst = checked.assign(gap=checked["deviation"].abs())[off].sort_values(["gap", "bill_id"],
                                                                            ascending=[False, True])
    return {
        "bills_checked": int(len(checked) - unpriced.sum()),
        "bills_matching_tariff": int(checked["within_tolerance"].sum()),
        "bills_off_tariff": int(off.sum()),
        "bills_without_tariff": int(unpriced.sum()),
        "largest_deviations": [{"bill_id": r.bill_id, "period": r.period, "amount": r.amount,
                                "expected_amount": r.expected_amount} for r in worst.head(5).itertuples()],
    }
