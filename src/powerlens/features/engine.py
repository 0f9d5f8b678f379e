"""Features for any number of customers, one partition of customers at a time.

A utility has millions of meters; their readings do not fit in memory as one matrix. The feature
logic (`build`) is a pure function of one partition's tables, so the same code runs

- in this process (`engine="local"`, the default): partitions one after another, each read from
  the clean parquet files with a customer-id range filter, so memory is bounded by one partition;
- on a Dask cluster (`engine="dask"`): each partition is a task; `scheduler` is the address of a
  running scheduler (its workers must see the same data folder), or a `LocalCluster` is started
  on this machine when it is None.

Readings files are written sorted by customer id (see the importers), so a customer-id range reads
only the row groups of that range (schema.read_customer_range). Both engines return the same rows
in the same order: features sorted by cut-off then customer id.

Customer ids are keyed pseudonyms (a new key, new ids), so an order by customer id is an order
by the key. `canonical_order` sorts feature rows by cut-off and a hash of their feature values
instead: the order the features stage writes, and the one segmentation and training process
customers in, so that segments, models and metrics do not depend on the key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from powerlens.config import FeaturesConfig
from powerlens.errors import InvalidInput
from powerlens.partitions import ENGINES
from powerlens.schema import read_table


@dataclass(frozen=True)
class Partition:
    """A contiguous range of customer ids (inclusive on both ends)."""

    index: int
    first_id: str
    last_id: str
    n_customers: int

    @property
    def customer_range(self) -> tuple[str, str]:
        return self.first_id, self.last_id


def plan_partitions(customer_ids: Sequence[str], customers_per_partition: int) -> list[Partition]:
    """Split sorted customer ids into ranges of at most `customers_per_partition`."""
    if customers_per_partition < 1:
        raise InvalidInput("customers_per_partition must be at least 1")
    ids = sorted(set(map(str, customer_ids)))
    return [Partition(i, chunk[0], chunk[-1], len(chunk))
            for i, chunk in enumerate(ids[s:s + customers_per_partition]
                                      for s in range(0, len(ids), customers_per_partition))]


def load_partition(data_dir: str | Path, part: Partition | None = None):
    """The canonical tables of one partition's customers, readings pivoted (CleanData)."""
    from powerlens.features import load_clean

    return load_clean(data_dir, customer_range=part.customer_range if part is not None else None)


def compute_partition(data_dir: str | Path, part: Partition, cutoffs: list[pd.Timestamp],
                      options: dict, profile_cutoff: pd.Timestamp | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features at every cut-off (and raw load profiles at `profile_cutoff`) for one partition.

    A pure function of the files and its arguments: what Dask ships to a worker."""
    from powerlens.features import build, profile_matrix

    data = load_partition(data_dir, part)
    feats = pd.concat([build(data, c, **options) for c in cutoffs], ignore_index=True)
    if profile_cutoff is None:
        profiles = pd.DataFrame(index=pd.Index([], name="customer_id"))
    else:
        # the look-back of the features (build()'s default when the options leave it out)
        profiles = profile_matrix(data, profile_cutoff, **{k: options[k] for k in ("history_days",) if k in options})
        profiles.index.name = "customer_id"
    return feats, profiles


def customer_ids(data_dir: str | Path) -> pd.Series:
    return read_table(data_dir, "customers", ["customer_id"])["customer_id"].astype(str)


def build_features(data_dir: str | Path, cutoffs: list[pd.Timestamp], options: dict, *,
                   profile_cutoff: pd.Timestamp | None = None, engine: str = "local",
                   scheduler: str | None = None,
                   customers_per_partition: int = FeaturesConfig.customers_per_partition,
                   scheduler_timeout: float = 10.0, threads: int = 1,
                   progress: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features for every customer and cut-off, partition by partition, on the chosen engine.

    `threads` partitions run at once on the local engine. Returns (features sorted by as_of then
    customer_id, profiles indexed by customer_id)."""
    from powerlens.partitions import check_engine, map_partitions

    check_engine(engine)
    parts = plan_partitions(customer_ids(data_dir), customers_per_partition)
    say = progress or (lambda message: None)
    say(f"{sum(p.n_customers for p in parts)} customers in {len(parts)} partition(s) "
        f"of <= {customers_per_partition}, engine {engine}")
    # a Dask worker may run elsewhere: the data folder by its absolute path
    folder = str(Path(data_dir).resolve()) if engine == "dask" else data_dir
    results = map_partitions(
        compute_partition, [(folder, p, cutoffs, options, profile_cutoff) for p in parts], engine=engine,
        scheduler=scheduler, threads=threads, timeout=scheduler_timeout, name="powerlens-features", say=say,
        done=lambda i, result: f"partition {i + 1}/{len(parts)}: {parts[i].n_customers} customers, "
                               f"{len(result[0])} feature rows")
    return _combine(results)


def _combine(results: list[tuple[pd.DataFrame, pd.DataFrame]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    feats = pd.concat([f for f, _ in results], ignore_index=True)
    if len(feats):
        feats = feats.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)
    profiles = pd.concat([p for _, p in results]) if results else pd.DataFrame()
    return feats, profiles.sort_index(kind="stable")


def _significant(values: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Floats as (integer mantissa, decimal exponent) at `digits` significant digits: the same
    pair for values equal to that precision (last-bit differences of a summation order
    disappear); NaN and infinities get fixed sentinels."""
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x) & (x != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        exp = np.where(finite, np.floor(np.log10(np.abs(np.where(finite, x, 1.0)))), 0).astype(np.int64)
        mant = np.where(finite, np.round(x / np.power(10.0, (exp - (digits - 1)).astype(np.float64))), 0.0)
    # rounding may carry into one more digit (9.9999999995 -> 10000000000): renormalize
    carry = np.abs(mant) >= 10.0 ** digits
    mant = np.where(carry, np.round(mant / 10.0), mant)
    exp = exp + carry
    mant = np.where(np.isfinite(mant), mant, 0.0).astype(np.int64)
    mant = np.where(np.isnan(x), np.int64(-(10 ** (digits + 1))), mant)
    mant = np.where(np.isposinf(x), np.int64(10 ** (digits + 2)), mant)
    mant = np.where(np.isneginf(x), np.int64(-(10 ** (digits + 2))), mant)
    return mant, np.where(finite, exp, 0)


def row_fingerprint(feats: pd.DataFrame, digits: int = 9, exclude: Sequence[str] = ("customer_id",)) -> np.ndarray:
    """A hash of each row's values, independent of the pseudonym key: numbers rounded to `digits`
    significant digits, text and categories by their value, the columns by name (their order in
    the table does not matter); the columns in `exclude` (the customer id) are left out."""
    parts = {}
    for col in sorted(c for c in feats.columns if c not in exclude):
        s = feats[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            parts[col] = s.astype("float64").fillna(-1.0).astype(np.int64).to_numpy()
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            parts[col] = s.astype("datetime64[ns]").astype("int64").to_numpy()  # NaT: its int64 sentinel
        elif pd.api.types.is_numeric_dtype(s.dtype):
            mant, exp = _significant(s.to_numpy(dtype=np.float64, na_value=np.nan), digits)
            parts[col], parts[f"{col}\0exp"] = mant, exp
        else:
            parts[col] = s.astype(object).where(s.notna(), "\0na").astype(str).to_numpy()
    if not parts:
        return np.zeros(len(feats), dtype=np.uint64)
    return pd.util.hash_pandas_object(pd.DataFrame(parts, index=feats.index), index=False).to_numpy()


def canonical_positions(feats: pd.DataFrame) -> np.ndarray:
    """Positions that put feature rows in an order the pseudonym key does not decide: by cut-off
    (when there is an `as_of` column), then by the hash of the row's feature values
    (row_fingerprint, without the customer id). Rows with identical features (customers nothing
    tells apart) keep their order among themselves (a stable sort)."""
    if not len(feats):
        return np.arange(0)
    fingerprint = row_fingerprint(feats)
    if "as_of" not in feats.columns:
        return np.argsort(fingerprint, kind="stable")
    as_of = pd.to_datetime(feats["as_of"]).astype("datetime64[ns]").astype("int64").to_numpy()
    return np.lexsort((fingerprint, as_of))


def canonical_order(feats: pd.DataFrame) -> pd.DataFrame:
    """The feature rows in canonical order (canonical_positions), with a fresh index: the order
    the features stage writes, and the one segmentation and training process customers in."""
    return feats.iloc[canonical_positions(feats)].reset_index(drop=True)


def data_end_of(data_dir: str | Path) -> pd.Timestamp:
    """The first day after the data, from parquet statistics (no readings are loaded).

    The same rule as CleanData.data_end: after the last daily reading, else after the last hourly
    reading's day, else after the last bill, payment or event, else the labels' as-of date, else
    the date the source describes."""
    data_dir = Path(data_dir)
    for table, step in (("readings_daily", pd.Timedelta(days=1)), ("readings_hourly", None)):
        last = _max_statistic(data_dir / f"{table}.parquet", "ts")
        if last is not None:
            return last + step if step is not None else last.normalize() + pd.Timedelta(days=1)
    candidates = []
    for table, col in (("bills", "bill_date"), ("payments", "paid_on"), ("service_events", "ts")):
        last = _max_statistic(data_dir / f"{table}.parquet", col)
        if last is not None:
            candidates.append(last.normalize() + pd.Timedelta(days=1))
    if not candidates:
        labels = read_table(data_dir, "labels")
        if len(labels):
            candidates.append(pd.Timestamp(labels["as_of"].max()))
    if not candidates:
        from powerlens.features import source_as_of

        given = source_as_of(data_dir)
        if given is not None:
            candidates.append(given)
    if not candidates:
        from powerlens.features import UNDATED

        raise InvalidInput(UNDATED)
    return max(candidates)


def _max_statistic(path: Path, column: str) -> pd.Timestamp | None:
    if not path.exists():
        return None
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if column not in names:
        return None
    idx = names.index(column)
    best = None
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(idx).statistics
        if stats is None or not stats.has_min_max:
            values = pd.read_parquet(path, columns=[column])[column]
            return pd.Timestamp(values.max()) if values.notna().any() else None
        value = pd.Timestamp(stats.max)
        best = value if best is None or value > best else best
    return best


__all__ = ["ENGINES", "Partition", "plan_partitions", "load_partition", "compute_partition",
           "build_features", "canonical_order", "canonical_positions", "row_fingerprint", "data_end_of", "customer_ids"]
