"""The look-back's days per customer, and raw load profiles built from any weighting of them.

Profiles are built here from the readings (not read from the features stage) because the
stability check resamples days: a profile must be rebuildable from a bootstrap sample of the
look-back's days as easily as from all of them. A profile is a set of averages:

- weekday and weekend 24-hour profiles (kWh per hour), for customers with interval readings;
- day-of-week (7) and calendar-month (12) daily means, for everyone with daily readings;
- where the daily aggregate says how large its largest and smallest interval were (smart-meter
  daily summaries such as the London data's), the day's peak and base load relative to its mean
  interval: an intraday summary for customers whose 24-hour profile the data does not show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HOURS = [f"wd_h{h:02d}" for h in range(24)]
WEEKEND_HOURS = [f"we_h{h:02d}" for h in range(24)]
DOW = [f"dow_{d}" for d in range(7)]
MONTHS = [f"month_{m:02d}" for m in range(1, 13)]
INTRADAY_SUMMARY = ["peak_ratio", "base_ratio"]
RAW_COLUMNS = HOURS + WEEKEND_HOURS + DOW + MONTHS + INTRADAY_SUMMARY


@dataclass
class LookBack:
    """Readings of the `history_days` before a cut-off on one calendar of days (NaN = no reading)."""

    customer_ids: pd.Index
    days: pd.DatetimeIndex
    daily: np.ndarray                   # customers x days, kWh per day
    hourly_rows: np.ndarray             # positions of the customers that have interval readings
    hourly: np.ndarray                  # len(hourly_rows) x days x 24, kWh per hour
    peak_kwh: np.ndarray | None = None  # customers x days: largest interval x intervals per day
    base_kwh: np.ndarray | None = None  # customers x days: smallest interval x intervals per day

    def coverage(self) -> pd.Series:
        """Share of the look-back's days with a daily reading, per customer."""
        return pd.Series(np.isfinite(self.daily).mean(axis=1) if len(self.days) else 0.0,
                         index=self.customer_ids)

    def subset(self, positions: np.ndarray) -> LookBack:
        """The same look-back for some customers (positions into customer_ids)."""
        positions = np.asarray(positions)
        where = np.full(len(self.customer_ids), -1)
        where[self.hourly_rows] = np.arange(len(self.hourly_rows))
        h = where[positions]
        return LookBack(self.customer_ids[positions], self.days, self.daily[positions],
                        np.flatnonzero(h >= 0), self.hourly[h[h >= 0]],
                        None if self.peak_kwh is None else self.peak_kwh[positions],
                        None if self.base_kwh is None else self.base_kwh[positions])


def _calendar(as_of: pd.Timestamp, history_days: int) -> pd.DatetimeIndex:
    as_of = pd.Timestamp(as_of).normalize()
    return pd.date_range(as_of - pd.Timedelta(days=history_days), as_of - pd.Timedelta(days=1), freq="D")


def _daily_from_hourly(daily: np.ndarray, rows: np.ndarray, hourly: np.ndarray) -> np.ndarray:
    """Fill days without a daily reading from complete days of hourly readings (a source may
    export only interval data)."""
    if len(rows) == 0:
        return daily
    full = np.isfinite(hourly).all(axis=2)
    sums = np.where(full, np.nansum(hourly, axis=2), np.nan)
    block = daily[rows]
    daily[rows] = np.where(np.isfinite(block), block, sums)
    return daily


SLICE_ROWS = 1_000_000  # readings placed at once


def read_look_back(clean_dir: str | Path, customer_ids: pd.Index, as_of: pd.Timestamp,
                   history_days: int, customer_range: tuple[str, str] | None = None) -> LookBack:
    """The look-back from a clean data folder, reading only the window's readings (and, with
    `customer_range` (first, last id), only the row groups of those customers)."""
    from powerlens.schema import read_table
    from powerlens.schema.reading import read_customer_range

    def read(table: str, columns: list[str] | None = None) -> pd.DataFrame:
        if customer_range is None:
            return read_table(clean_dir, table, columns, filters=window)
        data = read_customer_range(clean_dir, table, *customer_range, columns=columns, as_arrow=True)
        return in_window(data).to_pandas()

    def in_window(data):
        """The window's readings of a range of customers, cut in Arrow before pandas sees them
        (a range's row groups hold its whole history: three times the look-back's readings)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        ts = data.column("ts")
        if not pa.types.is_timestamp(ts.type):
            return data
        bounds = [pa.scalar(pd.Timestamp(t).tz_localize(ts.type.tz) if ts.type.tz else pd.Timestamp(t),
                            type=ts.type) for t in (window[0][2], window[1][2])]
        return data.filter(pc.and_(pc.greater_equal(ts, bounds[0]), pc.less(ts, bounds[1])))

    ids = pd.Index(pd.Index(customer_ids).astype(str), name="customer_id")
    days = _calendar(as_of, history_days)
    window = [("ts", ">=", days[0]), ("ts", "<", days[-1] + pd.Timedelta(days=1))]
    n, d = len(ids), len(days)

    def place(frame: pd.DataFrame):
        """Per slice of a million rows (small intermediates the allocator reuses: 3x faster than
        whole-column arithmetic on millions of readings): the slice, which of its rows fall in
        the window, and their row (customer), column (day) and hour."""
        cid = frame["customer_id"]
        if isinstance(cid.dtype, pd.CategoricalDtype):
            of_code = ids.get_indexer(cid.cat.categories.astype(str))
            codes = cid.cat.codes.to_numpy()
        else:
            of_code, codes = None, ids.get_indexer(cid.astype(str))
        stamps = frame["ts"].to_numpy()
        first = np.datetime64(days[0], "us").astype(np.int64)
        for lo in range(0, len(frame), SLICE_ROWS):
            code = codes[lo:lo + SLICE_ROWS]
            row = code if of_code is None else np.where(code >= 0, of_code[np.maximum(code, 0)], -1)
            since = stamps[lo:lo + SLICE_ROWS].astype("datetime64[us]").astype(np.int64) - first
            col = since // 86_400_000_000
            keep = (row >= 0) & (col >= 0) & (col < d)
            yield slice(lo, lo + SLICE_ROWS), keep, row[keep], col[keep], (since[keep] // 3_600_000_000) % 24

    def values(frame: pd.DataFrame, column: str) -> np.ndarray:
        return frame[column].to_numpy(dtype=np.float32)

    daily_table = read("readings_daily")
    daily = np.full((n, d), np.nan, dtype=np.float32)
    peak = base = None
    with_summary = {"kwh_max_interval", "kwh_min_interval", "n_intervals"} <= set(daily_table.columns)
    if len(daily_table):
        kwh = values(daily_table, "kwh")
        if with_summary:
            per_day, top, bottom = (values(daily_table, c) for c in ("n_intervals", "kwh_max_interval",
                                                                         "kwh_min_interval"))
            peak = np.full((n, d), np.nan, dtype=np.float32)
            base = np.full((n, d), np.nan, dtype=np.float32)
        for part, keep, r, c, _ in place(daily_table):
            daily[r, c] = kwh[part][keep]
            if with_summary:
                peak[r, c] = top[part][keep] * per_day[part][keep]
                base[r, c] = bottom[part][keep] * per_day[part][keep]
    hourly_table = read("readings_hourly", ["customer_id", "ts", "kwh"])
    rows, hourly = np.array([], dtype=int), np.full((0, d, 24), np.nan, dtype=np.float32)
    if len(hourly_table):
        placed = list(place(hourly_table))
        rows = np.flatnonzero(np.bincount(np.concatenate([r for _p, _k, r, _c, _h in placed]), minlength=n))
        slot = np.full(n, -1)
        slot[rows] = np.arange(len(rows))
        hourly = np.full((len(rows), d, 24), np.nan, dtype=np.float32)
        kwh = values(hourly_table, "kwh")
        for part, keep, r, c, hour in placed:
            hourly[slot[r], c, hour] = kwh[part][keep]
    return LookBack(ids, days, _daily_from_hourly(daily, rows, hourly), rows, hourly, peak, base)


@dataclass
class Profiles:
    """The look-back summarized per customer: the raw profiles and the coverage of everyone, and
    the day-level readings of some customers on demand (`read_days`: the bootstrap stability
    check re-measures a sample's profiles from resampled days). What the segment stage keeps in
    memory for a whole utility, where a LookBack of every customer would not fit."""

    raw: pd.DataFrame                            # RAW_COLUMNS per customer, indexed by customer_id
    coverage: pd.Series                          # share of the look-back's days with a daily reading
    n_hourly: int                                # customers with interval readings
    read_days: Callable[[pd.Index], LookBack]    # the look-back of these customers, in this order

    @property
    def customer_ids(self) -> pd.Index:
        return self.raw.index

    def reindexed(self, ids: pd.Index) -> Profiles:
        return Profiles(self.raw.reindex(ids), self.coverage.reindex(ids), self.n_hourly, self.read_days)


def summarize(lb: LookBack) -> Profiles:
    """A look-back in memory as Profiles."""
    return Profiles(raw_profiles(lb), lb.coverage(), len(lb.hourly_rows),
                    lambda ids: lb.subset(lb.customer_ids.get_indexer(pd.Index(ids).astype(str))))


def read_profiles(clean_dir: str | Path, customer_ids: pd.Index, as_of: pd.Timestamp, history_days: int,
                  customers_per_partition: int, progress: Callable[[str], object] | None = None, *,
                  engine: str = "local", scheduler: str | None = None) -> Profiles:
    """The look-back's Profiles read `customers_per_partition` customers at a time (ranges of
    sorted ids, as the features engine partitions), on `engine` (powerlens.partitions: in this
    process, or as Dask tasks): memory is bounded by a partition's readings. Each customer's
    profile is computed from its own readings only, so the result is the one a single LookBack
    of everyone gives, on either engine. `read_days` reads the partitions again, in this
    process, for the customers asked for (the stability check's sample); with one partition on
    the local engine its look-back is kept instead (read once)."""
    from powerlens.features.engine import plan_partitions
    from powerlens.partitions import map_partitions

    ids = pd.Index(pd.Index(customer_ids).astype(str), name="customer_id")
    parts = plan_partitions(ids, customers_per_partition)
    if len(parts) <= 1 and engine == "local":  # one partition: keep its look-back, nothing is read twice
        return summarize(read_look_back(clean_dir, ids, as_of, history_days))
    sorted_ids = ids.sort_values()
    folder = str(Path(clean_dir).resolve())

    def ids_of(part) -> pd.Index:
        lo, hi = sorted_ids.searchsorted(part.first_id), sorted_ids.searchsorted(part.last_id, side="right")
        return sorted_ids[lo:hi]

    results = map_partitions(
        partition_profiles, [(folder, ids_of(p), as_of, history_days, p.customer_range) for p in parts],
        engine=engine, scheduler=scheduler, name="powerlens-profiles", say=progress,
        done=lambda i, _r: f"look-back profiles: partition {i + 1}/{len(parts)}")

    def read_days(wanted: pd.Index) -> LookBack:
        wanted = pd.Index(wanted).astype(str)
        pieces = []
        for part in parts:
            part_ids = ids_of(part)
            part_ids = part_ids[part_ids.isin(wanted)]
            if len(part_ids):
                pieces.append(read_look_back(folder, part_ids, as_of, history_days, customer_range=part.customer_range))
        whole = concat_look_backs(pieces, ids[:0], _calendar(as_of, history_days))
        return whole.subset(whole.customer_ids.get_indexer(wanted))

    raw = pd.concat([r for r, _, _ in results]) if results else pd.DataFrame(columns=RAW_COLUMNS, dtype=float)
    coverage = pd.concat([c for _, c, _ in results]) if results else pd.Series(dtype=float)
    return Profiles(raw.reindex(ids), coverage.reindex(ids), sum(n for _, _, n in results), read_days)


def partition_profiles(clean_dir: str, part_ids: pd.Index, as_of: pd.Timestamp, history_days: int,
                       customer_range: tuple[str, str]) -> tuple[pd.DataFrame, pd.Series, int]:
    """One partition's raw profiles, coverage and number of interval-metered customers (a pure
    function of the clean folder: what a Dask worker runs)."""
    lb = read_look_back(clean_dir, part_ids, as_of, history_days, customer_range=customer_range)
    return raw_profiles(lb), lb.coverage(), len(lb.hourly_rows)


def concat_look_backs(pieces: list[LookBack], empty_ids: pd.Index, days: pd.DatetimeIndex) -> LookBack:
    """Look-backs of disjoint customers on the same calendar, one after the other."""
    if not pieces:
        return LookBack(empty_ids, days, np.full((0, len(days)), np.nan, dtype=np.float32), np.array([], dtype=int),
                        np.full((0, len(days), 24), np.nan, dtype=np.float32))
    offsets = np.cumsum([0] + [len(p.customer_ids) for p in pieces[:-1]])
    with_summary = all(p.peak_kwh is not None and p.base_kwh is not None for p in pieces)
    return LookBack(
        pieces[0].customer_ids.append([p.customer_ids for p in pieces[1:]]), pieces[0].days,
        np.vstack([p.daily for p in pieces]),
        np.concatenate([p.hourly_rows + o for p, o in zip(pieces, offsets, strict=True)]).astype(int),
        np.concatenate([p.hourly for p in pieces]),
        np.vstack([p.peak_kwh for p in pieces]) if with_summary else None,
        np.vstack([p.base_kwh for p in pieces]) if with_summary else None)


def look_back(data, as_of: pd.Timestamp, history_days: int, customer_ids: pd.Index | None = None) -> LookBack:
    """The look-back from loaded clean data (`features.CleanData`: its daily and hourly matrices)."""
    ids = pd.Index(data.customers["customer_id"].astype(str) if customer_ids is None else customer_ids,
                   name="customer_id").astype(str)
    days = _calendar(as_of, history_days)
    n, d = len(ids), len(days)

    def window(m, steps_per_day: int) -> np.ndarray:
        """Columns of a SeriesMatrix on the look-back's calendar, rows in `ids` order."""
        out = np.full((n, d * steps_per_day), np.nan, dtype=np.float32)
        if m.values.shape[1] == 0:
            return out
        pos = pd.Index(m.customer_ids.astype(str)).get_indexer(ids)
        offset = int(round((m.start - days[0]) / m.step))  # look-back column of the matrix's first column
        lo, hi = max(0, offset), min(d * steps_per_day, offset + m.values.shape[1])
        if hi > lo:
            src = m.values[np.maximum(pos, 0), lo - offset:hi - offset]
            out[:, lo:hi] = np.where((pos >= 0)[:, None], src, np.nan)
        return out

    daily = window(data.daily, 1)
    hourly_all = window(data.hourly, 24).reshape(n, d, 24)
    rows = np.flatnonzero(np.isfinite(hourly_all).any(axis=(1, 2)))
    hourly = hourly_all[rows]
    return LookBack(ids, days, _daily_from_hourly(daily, rows, hourly), rows, hourly)


def resampled_days(days: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap weights of the look-back's days: within each calendar month, as many days
    drawn with replacement as the month has (every month stays represented, so the seasonal
    profile is re-measured, not lost)."""
    weights = np.zeros(len(days))
    month = np.asarray(days.month)
    for mo in np.unique(month):
        idx = np.flatnonzero(month == mo)
        np.add.at(weights, rng.choice(idx, size=len(idx), replace=True), 1.0)
    return weights


def _weighted_means(x: np.ndarray, groups: np.ndarray, n_groups: int, weights: np.ndarray) -> np.ndarray:
    """Per row, the weighted mean of the finite values in each group of columns (NaN if none)."""
    ok = np.isfinite(x)
    g = np.zeros((x.shape[1], n_groups))
    g[np.arange(x.shape[1]), groups] = weights
    sums = np.where(ok, x, 0).astype(np.float64) @ g
    counts = ok.astype(np.float64) @ g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1e-12), np.nan)


def raw_profiles(lb: LookBack, day_weights: np.ndarray | None = None) -> pd.DataFrame:
    """Weekday/weekend 24-hour means, day-of-week and month means, and the intraday summary,
    from the look-back's days weighted by `day_weights` (all days once by default)."""
    w = np.ones(len(lb.days)) if day_weights is None else np.asarray(day_weights, dtype=float)
    n = len(lb.customer_ids)
    out = np.full((n, len(RAW_COLUMNS)), np.nan)
    dow = np.asarray(lb.days.day_of_week)
    if len(lb.hourly_rows):
        weekend = dow >= 5
        for cols, mask in ((slice(0, 24), ~weekend), (slice(24, 48), weekend)):
            h = lb.hourly
            ok = np.isfinite(h)
            wm = w * mask
            sums = np.einsum("mdh,d->mh", np.where(ok, h, 0).astype(np.float64), wm)
            counts = np.einsum("mdh,d->mh", ok.astype(np.float64), wm)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[lb.hourly_rows, cols] = np.where(counts > 0, sums / np.maximum(counts, 1e-12), np.nan)
    out[:, 48:55] = _weighted_means(lb.daily, dow, 7, w)
    month = np.asarray(lb.days.month) - 1
    out[:, 55:67] = _weighted_means(lb.daily, month, 12, w)
    if lb.peak_kwh is not None and lb.base_kwh is not None:
        both = np.isfinite(lb.daily) & np.isfinite(lb.peak_kwh) & np.isfinite(lb.base_kwh)
        total = (np.where(both, lb.daily, 0) * w).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, 67] = np.where(total > 0, (np.where(both, lb.peak_kwh, 0) * w).sum(axis=1) / total, np.nan)
            out[:, 68] = np.where(total > 0, (np.where(both, lb.base_kwh, 0) * w).sum(axis=1) / total, np.nan)
    return pd.DataFrame(out, index=lb.customer_ids, columns=RAW_COLUMNS)
