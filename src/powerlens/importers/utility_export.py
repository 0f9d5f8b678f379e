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
  tariffs        customer_class, region, voltage_kv_min, scheme, period, price_per_kwh,
                 capacity_charge_per_kva_month, valid_from  (optional; bills are checked against it)
  ground_truth   account_no, ...   (synthetic only; written apart, never read by models)

The readings are read in batches and validated by partitions of customers
(validate.customers_per_partition), so memory is bounded by a partition, not by the export;
the other tables are small beside them and are read whole.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.anonymize import identifier_columns, pseudonymize
from powerlens.atomic import atomic_file, write_parquet
from powerlens.importers.errors import ImportFailed
from powerlens.importers.partitioned_io import ReadingsWriter, Spill
from powerlens.schema import CANONICAL_FILES, Quarantine, check, write_summary

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
    "tariffs": ["customer_class", "scheme", "period", "price_per_kwh", "valid_from"],
}
OPTIONAL_TABLES = {"readings_hourly", "payments", "service_events", "weather_daily", "region_load", "tariffs"}
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
                          progress=None, plausibility=None, customers_per_partition: int | None = None,
                          engine: str = "local", scheduler: str | None = None) -> dict:
    """Anonymize, validate and write the canonical tables; returns the validation summary.
    `plausibility`: validate.plausibility's rules (None: the defaults).

    The readings, the export's big tables, are validated partition by partition of at most
    `customers_per_partition` customers (None: validate.customers_per_partition's default):
    streamed from the export in row batches, routed to their customer's partition in a spill
    folder beside `out`, then validated and appended to the canonical files in customer order.
    Every readings rule looks at one customer's rows only, so the outputs are the same for any
    partition size; memory is bounded by a partition, not by the table. The partitions are
    validated on `engine` (powerlens.partitions: in this process, or as Dask tasks that read
    the spill folder, which must then be on a file system the workers share) and written in
    order: the same outputs either way."""
    from powerlens.config import ValidateConfig

    src, out = Path(src), Path(out)
    per_partition = int(ValidateConfig.customers_per_partition if customers_per_partition is None
                        else customers_per_partition)
    if per_partition < 1:
        raise ImportFailed(f"customers_per_partition must be at least 1, got {per_partition}")
    from powerlens.partitions import check_engine

    check_engine(engine)
    rules = validation.Plausibility.of(plausibility)
    step = progress or (lambda msg: None)
    paths = _locate(src)
    out.mkdir(parents=True, exist_ok=True)
    q = Quarantine()

    step("customers")
    customers, meter_to_customer = _customers(paths, key, q, rules)
    known = pd.Index(customers["customer_id"])
    tables = {"customers": customers}
    readings_tables = [t for t in ("readings_hourly", "readings_daily") if paths[t] is not None]
    if readings_tables and meter_to_customer is None:
        raise ImportFailed(f"{paths['customers'].name}: no meter_no column to link {readings_tables[0]}")
    with contextlib.ExitStack() as stack:  # on success the readings files replace the old ones
        writers = {}
        for table in readings_tables:
            writers[table] = ReadingsWriter(stack.enter_context(atomic_file(out / f"{table}.parquet")), table)
            stack.callback(writers[table].close)
        if readings_tables:
            spill = stack.enter_context(Spill(out, in_memory=False))
            _readings_by_partition(paths, readings_tables, meter_to_customer, per_partition, q, known, customers,
                                   rules, writers, spill, step, engine, scheduler)
        _billing_and_events(paths, key, q, known, tables, step, rules)
        summary = _refuse_too_many_rejects(q, max_reject_fraction)  # the readings files are not in place yet
        if "tariffs" in tables:
            step("bills against tariffs")
            summary["bills_against_tariffs"] = validation.bill_tariff_check(tables["bills"], tables["customers"],
                                                                            tables["tariffs"])
        step("writing canonical tables")
        (out / "validation.json").unlink(missing_ok=True)  # written last: it says the import finished
        for writer in writers.values():
            writer.finish()
    _write(out, q, tables, summary, written_elsewhere=set(readings_tables))
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


# rows read from a raw readings file at a time while routing them to their partitions
READ_BATCH_ROWS = 1 << 20
TS_COLUMNS = {"readings_hourly": "reading_ts", "readings_daily": "reading_date"}


def partition_starts(n_customers: int, customers_per_partition: int) -> np.ndarray:
    """The first customer (by rank in sorted id order) of each partition, and n_customers at the
    end: the fewest partitions of at most `customers_per_partition`, as even as can be."""
    n_parts = max(1, -(-n_customers // customers_per_partition))
    return np.arange(n_parts + 1) * n_customers // n_parts


def _readings_by_partition(paths: dict, tables: list[str], meter_to_customer: pd.Series, per_partition: int,
                           q: Quarantine, known: pd.Index, customers: pd.DataFrame,
                           rules: validation.Plausibility, writers: dict, spill: Spill, step,
                           engine: str = "local", scheduler: str | None = None) -> None:
    """Route each readings table to customer partitions, then validate partition by partition
    (`validate_partition`, on `engine`), writing each partition's accepted rows and merging its
    quarantine in partition order."""
    from powerlens.partitions import iter_partitions

    # every customer a reading can belong to (every account with a meter, accepted or not), sorted
    ids = np.unique(meter_to_customer.dropna().astype(str).to_numpy(dtype=str))
    starts = partition_starts(len(ids), per_partition)
    n_parts = len(starts) - 1
    spill.in_memory = n_parts == 1 and engine == "local"  # Dask workers read the pieces from the spill folder
    templates = {}
    for table in tables:
        step(f"{table}: routing to {n_parts} partition(s) of <= {per_partition:,} customers")
        templates[table] = _route(paths[table], table, meter_to_customer, ids, starts, spill)
    sources = {table: paths[table].name for table in tables}
    # each customer's partition, found once (not by a look-up of every customer per partition)
    customer_part = _partition_of(customers["customer_id"], ids, starts)
    known_part = _partition_of(pd.Series(known), ids, starts)

    def task(part: int) -> tuple:
        """A partition's arguments: its pieces, and only its own customers (a rule looks at a
        reading's own customer; the rest would only cost time, and a Dask task's transfer)."""
        part_ids = pd.Index(ids[starts[part]:starts[part + 1]])
        return ({table: spill.pop(table, part) for table in tables}, spill.in_memory, part_ids, int(starts[part]),
                tables, sources, known[known_part == part], customers[customer_part == part], rules)

    tasks = [task(part) for part in range(n_parts)]
    for accepted, part_q in iter_partitions(
            validate_partition, tasks, engine=engine, scheduler=scheduler, name="powerlens-validate", say=step,
            done=lambda i, _r: f"readings: partition {i + 1}/{n_parts}", window=2):
        q.merge(part_q)
        for table, ok in accepted.items():
            writers[table].append(ok)
    for table in tables:
        if not writers[table].rows_written and table not in q.reports:
            # an empty table still gets its report (0 rows in) and an empty canonical file
            ok = validation.readings(templates[table], q, paths[table].name, table, known, customers=customers,
                                     rules=rules)
            writers[table].append(ok)
        report = q.reports[table]
        # the reasons in one order whatever the partitions: most rows first, then the first in the file
        report.reasons = dict(sorted(report.reasons.items(), key=lambda kv: (-kv[1], report.examples[kv[0]], kv[0])))


def _partition_of(customer_ids: pd.Series, ids: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The partition of each customer id (by its rank in the sorted `ids`), -1 for an id that
    no reading can belong to."""
    values = customer_ids.astype(str).to_numpy(dtype=str)
    rank = np.searchsorted(ids, values)
    found = rank < len(ids)
    found[found] = ids[rank[found]] == values[found]
    return np.where(found, np.searchsorted(starts, rank, side="right") - 1, -1)


def validate_partition(pieces: dict[str, list], in_memory: bool, part_ids: pd.Index, first_rank: int,
                       tables: list[str], sources: dict[str, str], known: pd.Index, customers: pd.DataFrame,
                       rules: validation.Plausibility) -> tuple[dict[str, pd.DataFrame], Quarantine]:
    """One partition's readings validated: (accepted rows per table, its own quarantine). Hourly
    first, as a daily row that its complete day of accepted hourly readings contradicts is
    inconsistent_aggregate. A pure function of its pieces (frames, or spill files): what a Dask
    worker runs."""
    q = Quarantine()
    accepted: dict[str, pd.DataFrame] = {}
    hourly = None
    for table in tables:
        raw = Spill.load(pieces.get(table), in_memory, part_ids, first_rank)
        if raw is None:
            continue
        checks = []
        if table == "readings_daily" and hourly is not None:
            checks = [("inconsistent_aggregate", validation.daily_disagrees_with_intervals(raw, hourly, 24, rules))]
        ok = validation.readings(raw, q, sources[table], table, known, customers=customers, rules=rules,
                                 extra_checks=checks)
        accepted[table] = ok
        if table == "readings_hourly":
            hourly = ok
    return accepted, q


def _route(path: Path, table: str, meter_to_customer: pd.Series, ids: np.ndarray, starts: np.ndarray,
           spill: Spill) -> pd.DataFrame:
    """Stream one raw readings file in batches, give each row its customer (by meter) and send
    it to its customer's partition (rows of an unknown meter: the first); the empty frame with
    the table's columns (for a file without rows)."""
    template = None
    for batch in _batches(path, table):
        meters = batch.pop("meter_no")
        customer = _meters_to_customers(meters, meter_to_customer)
        rank = np.searchsorted(ids, np.asarray(customer.categories, dtype=str)) if len(customer.categories) else \
            np.zeros(0, dtype=np.int64)
        codes = customer.codes
        row_rank = np.where(codes >= 0, rank[np.maximum(codes, 0)] if len(rank) else -1, -1)
        batch = batch.rename(columns={TS_COLUMNS[table]: "ts"})
        if template is None:
            template = batch.iloc[:0]
        if not len(batch):
            continue
        part = np.clip(np.searchsorted(starts, np.maximum(row_rank, 0), side="right") - 1, 0, len(starts) - 2)
        if part.min() == part.max():  # the whole batch in one partition (a file in customer order)
            spill.add(table, int(part[0]), batch.assign(_rank=row_rank))
            continue
        order = np.argsort(part, kind="stable")  # stable: each piece keeps the file's order
        bounds = np.searchsorted(part[order], np.arange(part.max() + 2))
        for k in range(len(bounds) - 1):
            rows = order[bounds[k]:bounds[k + 1]]
            if len(rows):
                spill.add(table, k, batch.iloc[rows].assign(_rank=row_rank[rows]))
    if template is None:
        template = _header_only(path, table)
    return template.assign(customer_id=pd.Categorical([], categories=pd.Index([], dtype=str)))


def _header_only(path: Path, table: str) -> pd.DataFrame:
    """A file without rows as the empty frame of its columns (`_line` included)."""
    frame = _read(path, table)
    meters = frame.pop("meter_no")
    frame["customer_id"] = meters.astype(str)
    return frame.rename(columns={TS_COLUMNS[table]: "ts"})


def _batches(path: Path, table: str):
    """The raw rows of a readings file (CSV or parquet file, or a folder of parquet files) in
    batches of about READ_BATCH_ROWS, as `_read` types them, with their source `_line`."""
    name = path.name
    try:
        if path.suffix == ".parquet":
            yield from _parquet_batches(path, table)
        else:
            header = pd.read_csv(path, nrows=0)
            missing = [c for c in REQUIRED[table] if c not in header.columns]
            if missing:
                raise ImportFailed(f"{name}: missing column(s) {', '.join(missing)}")
            line = 2
            with pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], chunksize=READ_BATCH_ROWS) as reader:
                for chunk in reader:
                    chunk["_line"] = range(line, line + len(chunk))
                    line += len(chunk)
                    yield chunk
    except ImportFailed:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ImportFailed(f"{name}: cannot be read ({str(exc).splitlines()[0]})") from None


def _parquet_batches(path: Path, table: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(p for p in path.rglob("*.parquet") if p.is_file()) if path.is_dir() else [path]
    line = 1
    for file in files:
        pf = pq.ParquetFile(file)
        missing = [c for c in REQUIRED[table] if c not in pf.schema_arrow.names]
        if missing:
            raise ImportFailed(f"{path.name}: missing column(s) {', '.join(missing)}")
        for batch in pf.iter_batches(batch_size=READ_BATCH_ROWS):
            frame = pa.Table.from_batches([batch]).to_pandas()
            frame["_line"] = range(line, line + len(frame))
            line += len(frame)
            yield frame


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
    bill_no = "bill:" + raw.pop("bill_no").astype(str)
    raw["bill_id"] = pseudonymize(key, bill_no)
    bill_pseudonyms = pd.Series(raw["bill_id"].array, index=pd.Index(bill_no.array))  # the payments name them
    del bill_no
    tables["bills"] = validation.bills(raw, q, paths["bills"].name, known, customers=tables["customers"],
                                       rules=rules)

    if paths["payments"] is not None:
        step("payments")
        raw = _drop_identifiers(_read(paths["payments"], "payments"))
        raw["customer_id"] = pseudonymize(key, raw.pop("account_no"))
        raw["bill_id"] = pseudonymize(key, "bill:" + raw.pop("bill_no").astype(str), made=bill_pseudonyms)
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
    if paths["tariffs"] is not None:
        step("tariffs")
        tables["tariffs"] = validation.tariffs(_read(paths["tariffs"], "tariffs"), q, paths["tariffs"].name)


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


def _write(out: Path, q: Quarantine, tables: dict[str, pd.DataFrame], summary: dict,
           written_elsewhere: set[str]) -> None:
    """Check and write the tables other than the readings, the quarantine and validation.json;
    a canonical table this export does not have (left by an earlier import) is removed."""
    for name in CANONICAL_FILES:
        if name not in tables and name not in written_elsewhere:
            (out / f"{name}.parquet").unlink(missing_ok=True)
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
