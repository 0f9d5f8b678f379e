"""The canonical tables (the contract between all stages), their validation and quarantine.

Every row that breaks a rule lands in `quarantine/<table>.parquet` with a reason code, the
source file and line; rows in = rows accepted + rows quarantined, always.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from powerlens.errors import PowerlensError

CUSTOMER_CLASSES = [
    "residential", "commercial", "general_industrial", "large_industrial", "agricultural", "public",
]
EVENT_KINDS = [
    "complaint", "fault_report", "service_request", "capacity_increase", "capacity_decrease",
    "new_install", "inspection",
]
EARLIEST = pd.Timestamp("1990-01-01")

# reason code -> one-line meaning, shown to the user next to the count
REASONS = {
    "missing_customer_id": "the customer id is empty",
    "duplicate_customer": "the same customer id appears more than once",
    "unknown_customer_class": f"customer_class is not one of {', '.join(CUSTOMER_CLASSES)}",
    "bad_start_date": "start_date is missing or not a date",
    "end_before_start": "end_date is before start_date",
    "capacity_not_numeric": "capacity_kva is not a non-negative number",
    "ts_unparseable": "the timestamp could not be parsed",
    "ts_out_of_range": "the timestamp is before 1990 or in the future",
    "kwh_not_numeric": "kWh is not a number",
    "kwh_negative": "kWh is negative",
    "duplicate_reading": "a second reading for the same customer and timestamp",
    "unknown_customer": "the customer id is not in the customer table",
    "missing_bill_id": "the bill id is empty",
    "duplicate_bill": "the same bill id appears more than once",
    "amount_not_numeric": "amount is not a number",
    "amount_negative": "amount is negative",
    "bad_period": "the billing period is not a YYYY-MM month",
    "payment_without_bill": "the payment refers to a bill that is not in the bill table",
    "unknown_event_kind": f"kind is not one of {', '.join(EVENT_KINDS)}",
    "start_in_future": "start_date is in the future",
    "dst_repeated_hour": "a second reading at the same wall-clock hour on an autumn DST change day "
                         "(the repeated hour; the first reading is kept)",
    "mixed_interval": "the reading is off the customer's dominant interval grid (e.g. a 15-minute "
                      "reading among hourly ones, a daily reading stamped 13:00 among midnights)",
    "interval_count_invalid": "the number of intervals in the aggregate is not a count in range",
    "due_before_bill_date": "due_date is before bill_date",
    "payment_customer_mismatch": "the payment's customer is not the customer of its bill",
    "missing_task": "the label's task is empty",
    "label_missing": "the label is empty",
    "label_not_allowed": "the label is not one of the values allowed for its task",
    "duplicate_label": "a second label for the same customer, task and as_of",
    "attribute_not_numeric": "a numeric attribute holds something that is not a finite number",
    "attribute_bad_date": "a date attribute holds something that is not a date",
    "attribute_not_boolean": "a yes/no attribute holds something other than t/f, true/false, 1/0",
    "duplicate_date": "the same date appears more than once",
    "repayment_status_invalid": "the repayment status is not one of -2, -1, 0, 1..9",
    "no_readings": "the customer has no readings, so no start date can be given",
}

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "customers": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str, unique=True),
            "customer_class": pa.Column(str, pa.Check.isin(CUSTOMER_CLASSES)),
            "region": pa.Column(str, nullable=True),
            "industry": pa.Column(str, nullable=True),
            "voltage_kv": pa.Column(float, pa.Check.ge(0), nullable=True),
            "capacity_kva": pa.Column(float, pa.Check.ge(0), nullable=True),
            "two_part_tariff": pa.Column(bool),
            "tou_tariff": pa.Column(bool),
            "prepaid_meter": pa.Column(bool),
            "start_date": pa.Column("datetime64[us]"),
            "end_date": pa.Column("datetime64[us]", nullable=True),
        },
        strict=False,
    ),
    "readings": pa.DataFrameSchema(
        {
            "customer_id": pa.Column("category"),
            "ts": pa.Column("datetime64[us]"),
            "kwh": pa.Column("float32", pa.Check.ge(0)),
        },
        strict=False,
    ),
    "bills": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str),
            "bill_id": pa.Column(str, unique=True),
            "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
            "kwh": pa.Column(float, pa.Check.ge(0), nullable=True),
            "amount": pa.Column(float, pa.Check.ge(0)),
            "due_date": pa.Column("datetime64[us]"),
        },
        strict=False,
    ),
    "payments": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str),
            "bill_id": pa.Column(str),
            "paid_on": pa.Column("datetime64[us]"),
            "amount": pa.Column(float, pa.Check.ge(0)),
            "channel": pa.Column(str, nullable=True),
        },
        strict=False,
    ),
    "service_events": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str),
            "ts": pa.Column("datetime64[us]"),
            "kind": pa.Column(str, pa.Check.isin(EVENT_KINDS)),
            "outcome": pa.Column(str, nullable=True),
        },
        strict=False,
    ),
    "labels": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str),
            "task": pa.Column(str),
            "as_of": pa.Column("datetime64[us]"),
            "label": pa.Column(str),
        },
        strict=False,
    ),
    # auxiliary, per day (weather and holidays), written by importers that have them
    "calendar": pa.DataFrameSchema(
        {
            "date": pa.Column("datetime64[us]", unique=True),
            "temperature_mean": pa.Column(float, nullable=True),
            "temperature_max": pa.Column(float, nullable=True),
            "temperature_min": pa.Column(float, nullable=True),
            "is_holiday": pa.Column(bool),
        },
        strict=False,
    ),
    # auxiliary, per day and region (region empty = every region): the weather behind the load
    "weather_daily": pa.DataFrameSchema(
        {
            "date": pa.Column("datetime64[us]"),
            "region": pa.Column(str, nullable=True),
            "temperature_mean": pa.Column(float),
        },
        unique=["date", "region"],
        strict=False,
    ),
}
# which schema each canonical file follows
TABLE_SCHEMA = {
    "customers": "customers",
    "readings_daily": "readings",
    "readings_hourly": "readings",
    "bills": "bills",
    "payments": "payments",
    "service_events": "service_events",
    "labels": "labels",
    "calendar": "calendar",
    "weather_daily": "weather_daily",
}
# every file an import may write (an import removes the ones it did not write this time)
CANONICAL_FILES = tuple(TABLE_SCHEMA)


class ValidationFailed(PowerlensError, RuntimeError):
    """Too many rows were rejected, or a table breaks its schema after cleaning."""


@dataclass
class TableReport:
    table: str
    source_file: str
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: dict[str, int] = field(default_factory=dict)  # reason -> first source line
    example_files: dict[str, str] = field(default_factory=dict)  # reason -> its file (multi-file)

    @property
    def reconciled(self) -> bool:
        return self.rows_in == self.accepted + self.quarantined

    def lines(self) -> list[str]:
        """One line per problem, for people."""
        out = []
        for code, n in sorted(self.reasons.items(), key=lambda kv: -kv[1]):
            out.append(
                f"{self.table}: {n} row(s) quarantined: {code} ({REASONS.get(code, code)}), "
                f"first at {self.example_files.get(code, self.source_file)} line {self.examples[code]}"
            )
        return out

    def as_dict(self) -> dict:
        return {
            "source_file": self.source_file,
            "rows_in": self.rows_in,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "reconciled": self.reconciled,
            "reasons": dict(self.reasons),
        }


class Quarantine:
    """Collects rejected rows per table with their reason, source file and line."""

    def __init__(self) -> None:
        self.rejected: dict[str, list[pd.DataFrame]] = {}
        self.reports: dict[str, TableReport] = {}

    def split(self, table: str, df: pd.DataFrame, checks: list[tuple[str, pd.Series]],
              source_file: str, first_line: int) -> pd.DataFrame:
        """Apply checks in order (first failing reason wins); returns the accepted rows.

        `df` carries a `_line` column: the row's line in its source file; a source read from
        several files (blocks) also carries `_file`, the file of each row."""
        codes = np.zeros(len(df), dtype=np.int16)  # 0 = fine, i + 1 = checks[i] failed first
        for i, (_, bad) in enumerate(checks):
            bad = np.asarray(pd.Series(bad).fillna(False), dtype=bool)
            codes[(codes == 0) & bad] = i + 1
        is_bad = codes > 0
        reason = np.array([""] + [code for code, _ in checks], dtype=object)[codes[is_bad]]
        report = self.reports.setdefault(table, TableReport(table, source_file))
        report.rows_in += len(df)
        report.accepted += int((~is_bad).sum())
        report.quarantined += int(is_bad.sum())
        if is_bad.any():
            rejected = df.loc[is_bad].copy()
            rejected.insert(0, "reason", reason)
            rejected = rejected.rename(columns={"_line": "source_line"})
            files = rejected.pop("_file").astype(str) if "_file" in rejected else source_file
            rejected.insert(1, "source_file", files)
            for col in rejected.columns:  # keep whatever the source said, as text
                if col not in ("source_line",):
                    rejected[col] = rejected[col].astype("string")
            self.rejected.setdefault(table, []).append(rejected)
            firsts = rejected.drop_duplicates("reason").set_index("reason")
            for code, n in rejected["reason"].value_counts().items():
                report.reasons[code] = report.reasons.get(code, 0) + int(n)
                if code not in report.examples:
                    report.examples[code] = int(firsts.loc[code, "source_line"])
                    if firsts.loc[code, "source_file"] != source_file:
                        report.example_files[code] = str(firsts.loc[code, "source_file"])
        return df.loc[~is_bad].drop(columns=[c for c in ("_line", "_file") if c in df])

    @property
    def rows_in(self) -> int:
        return sum(r.rows_in for r in self.reports.values())

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.reports.values())

    def write(self, out_dir: Path) -> None:
        qdir = Path(out_dir) / "quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        for old in qdir.glob("*.parquet"):
            old.unlink()
        for table, parts in self.rejected.items():
            pd.concat(parts, ignore_index=True).to_parquet(qdir / f"{table}.parquet", index=False)

    def summary(self) -> dict:
        return {
            "tables": {t: r.as_dict() for t, r in self.reports.items()},
            "rows_in": self.rows_in,
            "quarantined": self.quarantined,
            "reject_fraction": self.quarantined / self.rows_in if self.rows_in else 0.0,
            "reconciled": all(r.reconciled for r in self.reports.values()),
        }

    def problem_lines(self) -> list[str]:
        return [line for r in self.reports.values() for line in r.lines()]


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


def check(table_or_schema: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check a clean table against its canonical schema; raises ValidationFailed with the
    failing columns named (never a raw traceback for the user)."""
    schema = SCHEMAS[TABLE_SCHEMA.get(table_or_schema, table_or_schema)]
    try:
        return schema.validate(df, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        detail = ""
        if cases is not None and len(cases):
            detail = "; ".join(
                f"{r.column}: {r.check}" for r in cases.drop_duplicates(["column", "check"]).head(5).itertuples()
            )
        raise ValidationFailed(f"{table_or_schema} breaks its schema: {detail or exc}") from None


def read_table(data_dir: str | Path, table: str, columns: list[str] | None = None,
               filters=None) -> pd.DataFrame:
    """Read one canonical table (an empty frame when the source has none)."""
    path = Path(data_dir) / f"{table}.parquet"
    if not path.exists():
        return empty_table(table, columns)
    return pd.read_parquet(path, columns=columns, filters=filters)


def read_customer_range(data_dir: str | Path, table: str, first_id: str, last_id: str,
                        columns: list[str] | None = None, as_arrow: bool = False):
    """Rows of one canonical table whose customer_id is in [first_id, last_id], reading only the
    row groups whose statistics overlap the range. (pyarrow's dataset filters do not prune with
    statistics of dictionary-encoded columns, which readings are, so a filter would scan the file.)"""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(data_dir) / f"{table}.parquet"
    if not path.exists():
        empty = empty_table(table, columns)
        return pa.Table.from_pandas(empty, preserve_index=False) if as_arrow else empty
    pf = pq.ParquetFile(path)
    meta = pf.metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if "customer_id" not in names:
        return pq.read_table(path, columns=columns) if as_arrow else pd.read_parquet(path, columns=columns)
    idx = names.index("customer_id")
    inside, boundary = [], []  # row groups wholly inside the range need no row filter
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(idx).statistics
        if stats is None or not stats.has_min_max:
            boundary.append(g)
        elif stats.min >= first_id and stats.max <= last_id:
            inside.append(g)
        elif stats.min <= last_id and stats.max >= first_id:
            boundary.append(g)
    parts = [pf.read_row_groups(inside, columns=columns, use_pandas_metadata=True)] if inside else []
    for g in boundary:
        group = pf.read_row_group(g, columns=columns, use_pandas_metadata=True)
        masks = []
        for chunk in group.column("customer_id").chunks:
            values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
            keep = pc.and_(pc.greater_equal(values, first_id), pc.less_equal(values, last_id))
            masks.append(pc.take(keep, chunk.indices) if pa.types.is_dictionary(chunk.type) else keep)
        parts.append(group.filter(pa.chunked_array(masks, type=pa.bool_())))
    if not parts:
        parts = [pf.schema_arrow.empty_table().select(columns or pf.schema_arrow.names)]
    data = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    return data if as_arrow else data.to_pandas()


def empty_table(table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A frame with no rows but the schema's column types, so that downstream code can filter
    and compare dates on a table the source did not have."""
    schema = SCHEMAS[TABLE_SCHEMA.get(table, table)]
    extra = {"bills": {"bill_date": "datetime64[us]"}}.get(table, {})
    out = {}
    for name in columns or [*schema.columns, *extra]:
        col = schema.columns.get(name)
        dtype = extra.get(name) or (str(col.dtype) if col is not None and col.dtype is not None else "object")
        out[name] = pd.Series(dtype="float64" if dtype in ("float", "float32") else dtype)
    return pd.DataFrame(out)


def write_summary(out_dir: Path, summary: dict) -> None:
    (Path(out_dir) / "validation.json").write_text(json.dumps(summary, indent=2))


def first_line_numbers(n: int, header: bool) -> np.ndarray:
    """Source line of each data row: CSV rows start at line 2 (after the header)."""
    return np.arange(n) + (2 if header else 1)
