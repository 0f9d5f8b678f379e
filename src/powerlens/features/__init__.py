"""Customer features as of a cut-off, from data strictly before it.

`build` computes one cut-off; `build_many` reuses the pivoted readings for several cut-offs
(training uses several, scoring the latest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq

from powerlens.config import FeaturesConfig
from powerlens.errors import InvalidInput
from powerlens.features.billing import billing_features
from powerlens.features.daily import absence_features, daily_features, daily_shape, weather_features
from powerlens.features.definitions import CATEGORICAL, FEATURES, describe
from powerlens.features.intraday import (
    EXTREME_COLUMNS,
    daily_extreme_features,
    daily_extremes,
    hourly_features,
    hourly_shape,
)
from powerlens.features.price import price_features
from powerlens.features.series import SeriesMatrix, to_matrix, with_daily_from_hourly
from powerlens.features.service import service_features
from powerlens.schema import read_customer_range, read_table, read_table_if_present

__all__ = ["FEATURES", "CATEGORICAL", "describe", "CleanData", "build", "build_many", "build_options",
           "BUILD_OPTIONS", "cutoffs_for", "cutoffs_from_params", "label_cutoffs", "load_clean"]

# build()'s options: the `features` keys that change what a feature means (defaults: FeaturesConfig)
BUILD_OPTIONS = ("history_days", "peak_hours", "valley_hours", "tou_by_region")

STATIC = ["customer_class", "region", "industry", "voltage_kv", "capacity_kva",
          "two_part_tariff", "tou_tariff", "prepaid_meter"]


@dataclass
class CleanData:
    """The canonical tables of one data folder, readings pivoted for repeated cut-offs."""

    customers: pd.DataFrame
    daily: SeriesMatrix
    hourly: SeriesMatrix
    bills: pd.DataFrame
    payments: pd.DataFrame
    events: pd.DataFrame

    labels: pd.DataFrame | None = None
    weather: pd.DataFrame | None = None  # date, region (None = every region), temperature_mean
    extremes: dict[str, SeriesMatrix] | None = None  # daily min/max/mean kW (see daily_extremes)
    source_as_of: pd.Timestamp | None = None  # the date the source describes (validation.json "as_of")
    tariffs: pd.DataFrame | None = None  # the tariff schedule, where the source has one (powerlens.tariffs)

    @property
    def data_end(self) -> pd.Timestamp:
        """The first day after the data: after the last daily reading, else after the last bill,
        payment or event, else the as-of date of the given labels, else the date the source
        describes (a snapshot of customers without outcomes, e.g. new customers to score)."""
        if self.daily.values.shape[1]:
            return self.daily.start + self.daily.values.shape[1] * self.daily.step
        if self.hourly.values.shape[1]:
            last = self.hourly.start + (self.hourly.values.shape[1] - 1) * self.hourly.step
            return last.normalize() + pd.Timedelta(days=1)
        candidates = []
        for frame, col in ((self.bills, "bill_date"), (self.payments, "paid_on"), (self.events, "ts")):
            if frame is not None and col in frame and frame[col].notna().any():
                candidates.append(pd.Timestamp(frame[col].max()).normalize() + pd.Timedelta(days=1))
        if not candidates and self.labels is not None and len(self.labels):
            candidates.append(pd.Timestamp(self.labels["as_of"].max()))
        if not candidates and self.source_as_of is not None:
            candidates.append(self.source_as_of)
        if not candidates:
            raise InvalidInput(UNDATED)
        return max(candidates)

    def label_cutoffs(self) -> dict[str, list[pd.Timestamp]]:
        """Given labels: task -> the as-of dates they were observed at."""
        return label_cutoffs(self.labels)


def _in_customer_order(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Each customer's rows in one order whatever the table's row order (a shuffled file, another
    import): sums of floats in another order differ in the last bit, and the models' binning
    sees that (tests/e2e/test_determinism.py). The order is by customer, then `columns`."""
    order = ["customer_id", *(c for c in columns if c in frame)]
    if frame.empty or "customer_id" not in frame:
        return frame
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


def load_clean(data_dir: str | Path, with_readings: bool = True,
               customer_range: tuple[str, str] | None = None) -> CleanData:
    """Read a clean data folder; `with_readings=False` skips the (large) readings for work that
    only needs accounts, bills, payments and events (labels). `customer_range` (first, last id)
    reads one partition of customers (see features.engine)."""

    def read(table: str, columns: list[str] | None = None) -> pd.DataFrame:
        if customer_range is None:
            return read_table(data_dir, table, columns)
        return read_customer_range(data_dir, table, *customer_range, columns=columns)

    data_dir = Path(data_dir)
    customers = read("customers").set_index("customer_id", drop=False)
    ids = pd.Index(customers["customer_id"].astype(str), name="customer_id")
    empty = pd.DataFrame({"customer_id": [], "ts": pd.to_datetime([]), "kwh": []})

    def readings(table: str, extra: tuple[str, ...] = ()) -> pd.DataFrame | pyarrow.Table:
        """Readings as an Arrow table: the pivot reads its batches without a pandas copy."""
        if not with_readings:
            return empty
        columns = ["customer_id", "ts", "kwh", *extra]
        if customer_range is not None:
            return read_customer_range(data_dir, table, *customer_range, columns=columns, as_arrow=True)
        path = data_dir / f"{table}.parquet"
        return pq.read_table(path, columns=columns) if path.exists() else empty

    hourly = to_matrix(readings("readings_hourly"), ids, "1h")
    daily_path = data_dir / "readings_daily.parquet"
    extra = ()
    if with_readings and daily_path.exists():
        present = set(pq.read_schema(daily_path).names)
        extra = tuple(c for c in (*EXTREME_COLUMNS, "partial_day") if c in present)
    daily_table = readings("readings_daily", extra if set(EXTREME_COLUMNS) <= set(extra) else ())
    daily = with_daily_from_hourly(to_matrix(daily_table, ids, "1D"), hourly)
    extremes = None
    if set(EXTREME_COLUMNS) <= set(daily_table.column_names if isinstance(daily_table, pyarrow.Table) else daily_table):
        extremes = daily_extremes(daily_table.to_pandas() if isinstance(daily_table, pyarrow.Table) else daily_table,
                                  ids)
    del daily_table
    return CleanData(
        customers=customers,
        daily=daily,
        hourly=hourly,
        bills=_in_customer_order(read("bills"), ("period", "due_date", "amount", "kwh")),
        payments=_in_customer_order(read("payments"), ("paid_on", "amount", "months_past_due")),
        events=_in_customer_order(read("service_events"), ("ts", "kind", "outcome")),
        labels=read("labels"),
        weather=daily_temperature(data_dir),
        extremes=extremes,
        source_as_of=source_as_of(data_dir),
        tariffs=read_table_if_present(data_dir, "tariffs"),  # small: read whole for every partition
    )


UNDATED = ("the data folder has no readings, bills, payments, events or labels, and its source gave no "
           "date (validation.json has no as_of): pass --as-of YYYY-MM-DD, the date the data describes")


def source_as_of(data_dir: str | Path) -> pd.Timestamp | None:
    """The date the imported source describes (`as_of` in its validation.json), if it gave one."""
    path = Path(data_dir) / "validation.json"
    if not path.exists():
        return None
    try:
        given = json.loads(path.read_text(encoding="utf-8")).get("as_of")
        return pd.Timestamp(given) if given else None
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(f"{path}: not the validation summary an import writes (unreadable as_of); "
                           "import the source again") from None


def daily_temperature(data_dir: str | Path) -> pd.DataFrame | None:
    """Daily mean temperature: the regional `weather_daily` table, else the calendar's utility-wide
    temperatures (region None), else None."""
    weather = read_table(data_dir, "weather_daily")
    if len(weather):
        return weather[["date", "region", "temperature_mean"]]
    calendar = read_table(data_dir, "calendar")
    if len(calendar) and calendar["temperature_mean"].notna().any():
        return calendar.loc[calendar["temperature_mean"].notna(), ["date", "temperature_mean"]].assign(region=None)
    return None


def active_at(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Accounts open at the cut-off (started before it, not closed before it)."""
    end = customers["end_date"]
    return (customers["start_date"] < as_of) & (end.isna() | (end >= as_of))


def build(data: CleanData, as_of: str | pd.Timestamp, history_days: int = FeaturesConfig.history_days,
          peak_hours: list[int] | None = None, valley_hours: list[int] | None = None,
          tou_by_region: dict | None = None) -> pd.DataFrame:
    """One row per account open at `as_of`, every feature in FEATURES (NaN where the data
    cannot support it). Tariff periods: `peak_hours`/`valley_hours` (default: params.yaml's
    defaults, `FeaturesConfig`), or a region's own in `tou_by_region` ({region: {peak_hours:
    [...], valley_hours: [...]}})."""
    as_of = pd.Timestamp(as_of)
    peak_hours = list(peak_hours or FeaturesConfig.peak_hours)
    valley_hours = list(valley_hours or FeaturesConfig.valley_hours)
    cust = data.customers
    ids = pd.Index(cust["customer_id"].astype(str), name="customer_id")
    parts = [
        daily_features(data.daily, as_of, history_days),
        absence_features(data.daily, as_of, history_days),
        hourly_features(data.hourly, as_of, history_days, cust.set_index(ids)["capacity_kva"],
                        peak_hours, valley_hours, cust.set_index(ids)["region"], tou_by_region).combine_first(
            # where there are no interval readings, what daily min/max loads can say
            daily_extreme_features(data.extremes, as_of, history_days, cust.set_index(ids)["capacity_kva"])),
        weather_features(data.daily, as_of, history_days, cust.set_index(ids)["region"], data.weather),
        billing_features(data.bills, data.payments, ids, as_of, history_days),
        service_features(data.events, ids, as_of, history_days),
        price_features(data.bills, data.events, cust, data.tariffs, ids, as_of, history_days),
    ]
    static = cust.set_index(ids)[[c for c in STATIC if c in cust]].copy()
    for col in ("two_part_tariff", "tou_tariff", "prepaid_meter"):
        if col in static:
            static[col] = static[col].astype(float)
    static["tenure_years"] = ((as_of - cust["start_date"]).dt.days / 365.25).to_numpy()
    parts.append(static)
    parts.append(source_attributes(cust.set_index(ids), as_of))
    feats = pd.concat(parts, axis=1)
    attrs = [c for c in feats.columns if c.startswith(ATTRIBUTE_PREFIX)]
    feats = feats.reindex(columns=[f for f in FEATURES if f in feats.columns or f not in CATEGORICAL] + attrs)
    categorical = [c for c in CATEGORICAL if c in feats] + [
        c for c in attrs if not pd.api.types.is_numeric_dtype(feats[c])]
    for col in categorical:
        feats[col] = feats[col].astype("string").fillna("unknown").astype(str)
    feats = feats.loc[active_at(cust.set_index(ids), as_of).to_numpy()]
    numeric = [c for c in feats.columns if c not in categorical]
    feats[numeric] = feats[numeric].astype(np.float64)
    # one block per dtype again (column-wise casts fragment the frame), as_of first
    feats = pd.concat([pd.Series(as_of, index=feats.index, name="as_of"), feats], axis=1).copy()
    return feats.reset_index()


CANONICAL_CUSTOMER_COLUMNS = {"customer_id", "customer_class", "region", "industry", "voltage_kv", "capacity_kva",
                              "two_part_tariff", "tou_tariff", "prepaid_meter", "start_date", "end_date"}
ATTRIBUTE_PREFIX = "attr_"


def source_attributes(customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """A source's own typed customer attributes (e.g. PowerCo margins, a credit limit) as
    static features `attr_<name>`: numbers and flags as numbers, categories as categories,
    dates as days from the cut-off (negative = before it)."""
    out = pd.DataFrame(index=customers.index)
    for col in customers.columns:
        if col in CANONICAL_CUSTOMER_COLUMNS:
            continue
        values = customers[col]
        name = f"{ATTRIBUTE_PREFIX}{col}"
        if pd.api.types.is_datetime64_any_dtype(values):
            out[f"{name}_days"] = (values - as_of).dt.days.astype(float).to_numpy()
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[name] = values.astype(float).to_numpy()
        else:
            out[name] = values.astype("string").to_numpy()
    return out


def build_many(data: CleanData, cutoffs: list[pd.Timestamp], **kwargs) -> pd.DataFrame:
    return pd.concat([build(data, c, **kwargs) for c in cutoffs], ignore_index=True)


def cutoffs_for(data_end: pd.Timestamp, n_training: int, step_months: int,
                horizon_months: int) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """Training cut-offs (oldest first; each leaves a full label horizon before the data end)
    and the scoring cut-off (the data end, on a month start)."""
    # on a month start: a partial last month of data is left out of the scoring cut-off
    scoring = pd.Timestamp(data_end).to_period("M").to_timestamp()
    latest = scoring - pd.DateOffset(months=horizon_months)
    training = [latest - pd.DateOffset(months=step_months * i) for i in range(n_training)]
    return sorted(pd.Timestamp(t) for t in training), scoring


def build_options(params: dict) -> dict:
    """build()'s keyword arguments from the `features` section (`cfg.features.as_dict()`)."""
    return {k: params[k] for k in BUILD_OPTIONS}


def cutoffs_from_params(data: CleanData | pd.Timestamp, params: dict) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    """cutoffs_for() on this data (or its data end) with the `features` section of params.yaml."""
    data_end = data.data_end if isinstance(data, CleanData) else pd.Timestamp(data)
    return cutoffs_for(data_end, params["n_training_cutoffs"], params["cutoff_step_months"],
                       params["horizon_months"])


def label_cutoffs(labels: pd.DataFrame | None) -> dict[str, list[pd.Timestamp]]:
    """Given labels: task -> the as-of dates they were observed at."""
    if labels is None or labels.empty:
        return {}
    return {task: sorted(pd.Timestamp(t) for t in g["as_of"].unique()) for task, g in labels.groupby("task")}


def profile_matrix(data: CleanData, as_of: pd.Timestamp,
                   history_days: int = FeaturesConfig.history_days) -> pd.DataFrame:
    """Raw profiles for load-shape clustering: weekday/weekend hours and day-of-week/month."""
    return pd.concat([hourly_shape(data.hourly, as_of, history_days),
                      daily_shape(data.daily, as_of, history_days)], axis=1)
