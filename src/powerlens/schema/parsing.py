"""Lenient parsing of source values: dates, numbers and yes/no flags (what cannot be parsed
becomes missing, for the validators to quarantine)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def to_datetime(values: pd.Series) -> pd.Series:
    """Parse dates leniently (unparseable -> NaT) at microsecond resolution.

    Time-zone-aware values keep their local wall-clock time (what tariffs and load shapes
    use); categoricals are parsed once per category (millions of rows, a few hundred days)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = to_datetime(pd.Series(values.cat.categories.astype(str)))
        codes = values.cat.codes.to_numpy()
        arr = cats.to_numpy()[np.maximum(codes, 0)] if len(cats) else np.full(len(codes), np.datetime64("NaT", "us"))
        arr = np.where(codes >= 0, arr, np.datetime64("NaT", "us"))
        return pd.Series(arr, index=values.index, dtype="datetime64[us]")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]")
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        values = values.astype(str)  # a bare number is not a date we can trust
    try:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        parsed = pd.Series([_one_date(v) for v in values], index=values.index)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype) or parsed.dtype == object:
        parsed = pd.Series([_one_date(v) for v in values], index=values.index)
    try:
        return parsed.astype("datetime64[us]")
    except (ValueError, TypeError, OverflowError):
        return pd.Series([_one_date(v) for v in values], index=values.index).astype("datetime64[us]")


def _one_date(value) -> pd.Timestamp:
    """Slow path for odd inputs (mixed time zones, out-of-bounds years): one value at a time."""
    try:
        ts = pd.Timestamp(value)
        if ts is pd.NaT:
            return pd.NaT
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        return ts.as_unit("us") if pd.Timestamp.min < ts < pd.Timestamp.max else pd.NaT
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def to_number(values: pd.Series) -> pd.Series:
    """Parse numbers leniently; unparseable and infinite values (e.g. '1e999') become NaN."""
    if pd.api.types.is_bool_dtype(values):
        out = values.astype(float)
    elif pd.api.types.is_numeric_dtype(values):
        out = values.astype(float)
    else:
        out = pd.to_numeric(values, errors="coerce").astype(float)
    return out.where(np.isfinite(out.to_numpy(dtype=float, na_value=np.nan)))


def to_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype(bool)
    text = values.astype("string").str.strip().str.lower()
    return text.isin(["true", "t", "1", "1.0", "yes", "y", "是"]).fillna(False).astype(bool)
