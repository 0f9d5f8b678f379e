"""Readings as dense customers x time matrices, the storage every load-profile indicator reads.

Readings are pivoted once into a matrix (customers x days, customers x hours); every cut-off is
then a slice of columns strictly before it, so features are point-in-time correct and cheap to
compute for several cut-offs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _quiet():
    return np.errstate(invalid="ignore", divide="ignore")


@dataclass
class SeriesMatrix:
    """Readings of one interval as a dense matrix; NaN where no reading exists."""

    customer_ids: pd.Index
    start: pd.Timestamp
    step: pd.Timedelta
    values: np.ndarray  # customers x steps, float32

    def columns_before(self, as_of: pd.Timestamp, days: int) -> tuple[int, int]:
        end = int((as_of - self.start) / self.step)
        begin = int((as_of - pd.Timedelta(days=days) - self.start) / self.step)
        end = min(max(end, 0), self.values.shape[1])
        begin = min(max(begin, 0), end)
        return begin, end


def to_matrix(readings: pd.DataFrame | pa.Table, customer_ids: pd.Index, step: str,
              value: str = "kwh") -> SeriesMatrix:
    """Pivot long readings (customer_id, ts, `value`) into a dense matrix aligned to `customer_ids`.

    An Arrow table is pivoted batch by batch without a pandas copy (the feature engine's path)."""
    step_td = pd.Timedelta(step)
    if len(readings) == 0:
        return SeriesMatrix(customer_ids, pd.Timestamp("2000-01-01"), step_td,
                            np.full((len(customer_ids), 0), np.nan, dtype=np.float32))
    if isinstance(readings, pa.Table):
        bounds = pc.min_max(readings["ts"])
        first, last = pd.Timestamp(bounds["min"].as_py()), pd.Timestamp(bounds["max"].as_py())
        batches = [(b.column("customer_id"), b.column("ts").to_numpy(), b.column(value).to_numpy())
                   for b in readings.to_batches()]
    else:
        first, last = pd.Timestamp(readings["ts"].min()), pd.Timestamp(readings["ts"].max())
        batches = [(readings["customer_id"], readings["ts"].to_numpy(), readings[value].to_numpy())]
    start = first.floor(step)
    n_cols = int((last - start) // step_td) + 1
    values = np.full((len(customer_ids), n_cols), np.nan, dtype=np.float32)
    flat_values = values.ravel()
    for cid, ts, kwh in batches:
        if len(ts):
            _scatter(flat_values, n_cols, _rows_of(cid, customer_ids), _columns_of(ts, start, step_td),
                     np.asarray(kwh, dtype=np.float32))
    return SeriesMatrix(customer_ids, start, step_td, values)


def _rows_of(cid, customer_ids: pd.Index) -> np.ndarray:
    """Matrix row of each reading's customer (-1 if unknown), mapping dictionary entries, not rows."""
    if isinstance(cid, pa.Array) and pa.types.is_dictionary(cid.type):
        row_of_code = customer_ids.get_indexer(cid.dictionary.to_pandas()).astype(np.int64)
        return row_of_code[cid.indices.to_numpy(zero_copy_only=False).astype(np.intp)]
    if isinstance(cid, pa.Array):
        return customer_ids.get_indexer(cid.to_pandas()).astype(np.int64)
    if isinstance(cid.dtype, pd.CategoricalDtype):
        # row of each category, -1 (unknown customer) also for the missing code -1
        row_of_code = np.r_[-1, customer_ids.get_indexer(cid.cat.categories)].astype(np.int64)
        return row_of_code[cid.cat.codes.to_numpy().astype(np.intp) + 1]
    return customer_ids.get_indexer(cid).astype(np.int64)


def _columns_of(ts: np.ndarray, start: pd.Timestamp, step: pd.Timedelta) -> np.ndarray:
    """Matrix column of each timestamp: integer arithmetic on ticks (timedelta division is slower)."""
    unit = np.datetime_data(ts.dtype)[0]
    col = ts.view(np.int64) - np.int64(start.to_datetime64().astype(f"datetime64[{unit}]").view(np.int64))
    col //= np.int64(step.to_timedelta64().astype(f"timedelta64[{unit}]").view(np.int64))
    return col


def _scatter(flat_values: np.ndarray, n_cols: int, row: np.ndarray, col: np.ndarray, kwh: np.ndarray) -> None:
    """values[row, col] = kwh through flat offsets (2-D fancy indexing is several times slower)."""
    flat = row * n_cols + col
    if (row < 0).any():
        keep = row >= 0
        flat, kwh = flat[keep], kwh[keep]
    flat_values[flat] = kwh


def _nanmean(x: np.ndarray, axis=1) -> np.ndarray:
    with _quiet():
        n = np.sum(~np.isnan(x), axis=axis)
        return np.where(n > 0, np.nansum(x, axis=axis) / np.maximum(n, 1), np.nan)


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """Longest run of True per row."""
    best = np.zeros(mask.shape[0], dtype=np.int32)
    cur = np.zeros(mask.shape[0], dtype=np.int32)
    for j in range(mask.shape[1]):
        cur = np.where(mask[:, j], cur + 1, 0)
        best = np.maximum(best, cur)
    return best


def daily_from_hourly(hourly: SeriesMatrix) -> SeriesMatrix:
    """Daily energy from interval readings: the sum of each complete day (NaN if an hour is missing)."""
    if hourly.values.shape[1] == 0:
        return SeriesMatrix(hourly.customer_ids, hourly.start, pd.Timedelta(days=1), hourly.values[:, :0])
    skip = (24 - hourly.start.hour) % 24  # start at the first midnight
    n_days = (hourly.values.shape[1] - skip) // 24
    x = hourly.values[:, skip:skip + n_days * 24].reshape(len(hourly.customer_ids), n_days, 24)
    return SeriesMatrix(hourly.customer_ids, (hourly.start + pd.Timedelta(hours=skip)).normalize(),
                        pd.Timedelta(days=1), x.sum(axis=2, dtype=np.float32))


def with_daily_from_hourly(daily: SeriesMatrix, hourly: SeriesMatrix) -> SeriesMatrix:
    """Daily readings, where a customer has none, derived from its interval readings: so a source
    with interval data only still gets every daily indicator."""
    derived = daily_from_hourly(hourly)
    need = ~np.isnan(derived.values).all(axis=1)
    if daily.values.shape[1]:
        need &= np.isnan(daily.values).all(axis=1)
    if not need.any():
        return daily
    if daily.values.shape[1] == 0:
        values = np.where(need[:, None], derived.values, np.nan).astype(np.float32)
        return SeriesMatrix(daily.customer_ids, derived.start, daily.step, values)
    start = min(daily.start, derived.start)
    end = max(daily.start + daily.values.shape[1] * daily.step, derived.start + derived.values.shape[1] * daily.step)
    values = np.full((len(daily.customer_ids), int((end - start) / daily.step)), np.nan, dtype=np.float32)
    d0 = int((daily.start - start) / daily.step)
    values[:, d0:d0 + daily.values.shape[1]] = daily.values
    h0 = int((derived.start - start) / daily.step)
    values[need, h0:h0 + derived.values.shape[1]] = derived.values[need]
    return SeriesMatrix(daily.customer_ids, start, daily.step, values)
