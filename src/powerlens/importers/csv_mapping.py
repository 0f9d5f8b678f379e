"""A utility's own CSV exports, described by a YAML mapping file -> canonical tables.

`import_csv_mapping(src, out, key, mapping)`: SRC is the folder of the exports, MAPPING the YAML
(default: SRC/mapping.yaml). Every file path in the mapping is relative to SRC. Example:
src/powerlens/importers/examples/state_grid_mapping.yaml (and the tests).

YAML format (version 1)::

    version: 1
    encoding: utf-8            # default for every file: utf-8 (a BOM is accepted), utf-8-sig,
                               # gbk, gb18030, big5, latin-1, ...
    delimiter: ","             # default field separator
    customer_defaults:         # used when there is no customers table: customers are then the
      customer_class: residential   # distinct ids of the readings (and bills), start_date = the
      region: null                  # first reading (or bill) date
    tables:
      customers:
        file: 客户档案.csv
        encoding: gbk
        columns:               # source header -> canonical column (headers may be Chinese);
          户号: customer_id     # unmapped columns are DROPPED: nothing raw passes by accident
          表号: meter_id        # meter ids link readings keyed by meter to the account
          用电类别: customer_class
          立户日期: start_date
          销户日期: end_date
          合同容量: capacity_kva
        values:                # optional: canonical column -> {source value: canonical value}
          customer_class: {居民: residential, 商业: commercial, 大工业: large_industrial}
        constants: {region: guangdong}   # canonical columns fixed for the whole file
        identifiers: [户名, 地址, 联系电话]   # direct identifiers: dropped (an identifier may not
                                          # also be mapped or kept)
        pseudonymize: [台区编号]  # extra source columns kept only as keyed pseudonyms
        attributes:            # extra source columns kept typed on customers (static features)
          行业分类: {name: industry_code, type: category}  # float | date | bool | category | text
        label: {column: 是否流失, task: churn, as_of: 2016-01-01}   # optional given label
      readings:                # one spec, or a list of specs (e.g. a daily and a 15-min file)
        file: 日电量.csv
        layout: long           # long: one reading per row (customer or meter, timestamp, kWh)
        interval: daily        # daily -> readings_daily; hourly -> readings_hourly; 15min / 30min
                               # -> validated per row (quarantine readings_15min ...), summed into
                               # readings_hourly (n_intervals, partial_hour) and, when there is no
                               # daily spec, into readings_daily
        columns: {户号: customer_id, 日期: ts, 电量: kwh}
        date_format: "%Y%m%d"  # optional strftime format of the timestamps (else parsed leniently)
      # wide form, like the State Grid theft data (CONS_NO, FLAG, 2014/1/1, 2014/1/2, ...):
      #   readings: {file: data.csv, layout: wide, interval: daily,
      #              columns: {CONS_NO: customer_id}, date_format: "%Y/%m/%d",
      #              label: {column: FLAG, task: theft}}
      # one row per customer, every header that parses as a date is a day; a blank cell is a
      # missing reading (not a row); a non-numeric or negative cell is a quarantined reading
      # whose source line is the customer's row.
      bills:    {file: ..., columns: {..: customer_id, ..: bill_id, ..: period, ..: amount,
                 ..: due_date, ..: kwh, ..: bill_date}}     # period: YYYY-MM, YYYYMM or a date
      payments: {file: ..., columns: {..: bill_id, ..: paid_on, ..: amount, ..: channel,
                 ..: customer_id}}   # customer_id optional: taken from the bill
      service_events: {file: ..., columns: {..: customer_id, ..: ts, ..: kind, ..: outcome},
                       values: {kind: {投诉: complaint, 故障报修: fault_report}}}
    labels_as_of: 2016-11-01   # as_of of given labels without their own (default: the day
                               # after the last reading)

Ids: customer_id, meter_id and bill_id become keyed pseudonyms (one key links every table and
every import); the columns listed in `identifiers`, and unmapped columns, are dropped.
Labels: label rows go through the labels validator (binary tasks accept 0/1, t/f, yes/no).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.anonymize import identifier_columns, pseudonymize
from powerlens.importers._common import (
    finish,
    first_line,
    quiet,
    read_table_file,
    read_yaml,
    to_daily,
    to_hourly,
)
from powerlens.importers.errors import ImportFailed
from powerlens.schema import EARLIEST, Quarantine, to_datetime

TABLES = ("customers", "readings", "bills", "payments", "service_events")
INTERVALS = {"daily": None, "hourly": 1, "30min": 2, "15min": 4, "5min": 12}
PER_DAY = {"daily": 1, "hourly": 24, "30min": 48, "15min": 96, "5min": 288}
REQUIRED = {
    "customers": ["customer_id"],
    "readings": ["ts", "kwh"],
    "bills": ["customer_id", "bill_id", "period", "amount", "due_date"],
    "payments": ["bill_id", "paid_on", "amount"],
    "service_events": ["customer_id", "ts", "kind"],
}
ID_COLUMNS = ("customer_id", "meter_id", "bill_id")
# Chinese headers that name a direct identifier (the English hints live in anonymize)
CN_IDENTIFIER_HINTS = ("姓名", "户名", "用户名称", "客户名称", "地址", "电话", "手机", "身份证",
                       "联系人", "邮箱", "证件")
ATTRIBUTE_TYPES = ("float", "date", "bool", "category", "text")


class MappingError(ImportFailed):
    """The mapping file itself is wrong (names the mapping file)."""


def looks_like_identifier(name: str) -> bool:
    return bool(identifier_columns([name])) or any(h in str(name) for h in CN_IDENTIFIER_HINTS)


def load_mapping(path: Path) -> dict:
    """Read and sanity-check the mapping; a wrong mapping is one line naming the mapping file."""
    m = read_yaml(path)
    name = path.name
    tables = m.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise MappingError(f"{name}: no `tables:` section")
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise MappingError(f"{name}: unknown table(s) {', '.join(map(str, unknown))}; known: {', '.join(TABLES)}")
    specs: dict[str, list[dict]] = {}
    for table, spec in tables.items():
        items = spec if isinstance(spec, list) else [spec]
        for item in items:
            if not isinstance(item, dict) or not item.get("file"):
                raise MappingError(f"{name}: tables.{table} needs a `file:`")
            cols = item.get("columns") or {}
            if not isinstance(cols, dict):
                raise MappingError(f"{name}: tables.{table}.columns must map source -> canonical")
            ids = set(map(str, item.get("identifiers") or []))
            leaked = ids & (set(map(str, cols)) | set(map(str, (item.get("attributes") or {}))))
            if leaked:
                raise MappingError(f"{name}: tables.{table}: identifier column(s) {', '.join(sorted(leaked))} "
                                   "are also mapped or kept")
            for src_col, attr in (item.get("attributes") or {}).items():
                kind = (attr or {}).get("type", "text") if isinstance(attr, dict) else str(attr)
                if kind not in ATTRIBUTE_TYPES:
                    raise MappingError(f"{name}: tables.{table}.attributes.{src_col}: type {kind!r} is not "
                                       f"one of {', '.join(ATTRIBUTE_TYPES)}")
                if looks_like_identifier(str(src_col)):
                    raise MappingError(f"{name}: tables.{table}.attributes.{src_col} looks like a direct "
                                       "identifier; list it under identifiers or pseudonymize")
            if table == "readings":
                if item.get("layout", "long") not in ("long", "wide"):
                    raise MappingError(f"{name}: tables.readings.layout must be long or wide")
                if str(item.get("interval", "daily")) not in INTERVALS:
                    raise MappingError(f"{name}: tables.readings.interval must be one of {', '.join(INTERVALS)}")
        specs[table] = items
    if len(specs.get("customers", [])) > 1:
        raise MappingError(f"{name}: only one customers file")
    m["specs"] = specs
    m["_file"] = name
    return m


def read_source(src: Path, spec: dict, mapping: dict) -> tuple[pd.DataFrame, str]:
    """Read one mapped file; drop identifiers and unmapped columns; pseudonymize ids."""
    path = (src / str(spec["file"])).resolve()
    if not path.exists():
        raise ImportFailed(f"{spec['file']}: not found in {src}")
    encoding = str(spec.get("encoding") or mapping.get("encoding") or "utf-8")
    delimiter = spec.get("delimiter") or mapping.get("delimiter")
    raw = read_table_file(path, encoding=encoding, delimiter=delimiter)
    return raw, path.name


def canonical_columns(raw: pd.DataFrame, spec: dict, table: str, key: bytes, file: str,
                      wide: bool = False) -> pd.DataFrame:
    """Rename mapped columns, keep attributes and pseudonyms, drop everything else."""
    cols = {str(k): str(v) for k, v in (spec.get("columns") or {}).items()}
    missing = [s for s in cols if s not in raw.columns]
    if missing:
        raise ImportFailed(f"{file}: missing column(s) {', '.join(missing)}")
    attrs = {}
    for src_col, attr in (spec.get("attributes") or {}).items():
        attr = attr if isinstance(attr, dict) else {"type": str(attr)}
        if str(src_col) not in raw.columns:
            raise ImportFailed(f"{file}: missing column(s) {src_col}")
        attrs[str(src_col)] = (str(attr.get("name", src_col)), str(attr.get("type", "text")))
    pseudo = [str(c) for c in (spec.get("pseudonymize") or [])]
    for c in pseudo:
        if c not in raw.columns:
            raise ImportFailed(f"{file}: missing column(s) {c}")
    label = spec.get("label") or {}
    label_col = str(label["column"]) if label.get("column") is not None else None
    out = pd.DataFrame(index=raw.index)
    for s, c in cols.items():
        out[c] = raw[s]
    for s, (c, _) in attrs.items():
        out[c] = raw[s]
    for s in pseudo:
        out[cols.get(s, s)] = pseudonymize(key, f"{s}:" + raw[s].astype("string").str.strip())
    if label_col is not None and label_col in raw.columns:
        out["_label"] = raw[label_col]
    out["_line"] = raw["_line"]
    for c, value in (spec.get("constants") or {}).items():
        out[str(c)] = value
    for c, values in (spec.get("values") or {}).items():
        if str(c) in out and isinstance(values, dict):
            text = out[str(c)].astype("string").str.strip()
            out[str(c)] = text.replace({str(k): str(v) for k, v in values.items()})
    needed = [c for c in REQUIRED[table] if c not in out]
    if table == "readings" and "customer_id" not in out and "meter_id" not in out:
        needed.append("customer_id or meter_id")
    if wide:
        needed = [c for c in needed if c not in ("ts", "kwh")]
    if needed:
        raise ImportFailed(f"{file}: the mapping gives no column for {', '.join(needed)}")
    for c in ("customer_id", "meter_id"):
        if c in out and c not in pseudo:
            out[c] = pseudonymize(key, out[c])
    if "bill_id" in out:
        out["bill_id"] = pseudonymize(key, "bill:" + out["bill_id"].astype("string").str.strip())
    out.attrs["attribute_types"] = {c: t for _, (c, t) in attrs.items()}
    return out


def type_attributes(df: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    types = df.attrs.get("attribute_types", {})
    by = {t: [c for c, k in types.items() if k == t] for t in ATTRIBUTE_TYPES}
    return validation.attribute_checks(df, numeric=by["float"], dates=by["date"], flags=by["bool"],
                                       categories=by["category"])


def parse_ts(values: pd.Series, fmt: str | None) -> pd.Series:
    """Timestamps with an explicit format when the mapping gives one, else lenient."""
    if not fmt:
        return to_datetime(values)
    parsed = pd.to_datetime(values.astype("string"), format=fmt, errors="coerce")
    return parsed.astype("datetime64[us]")


def normalize_period(values: pd.Series) -> pd.Series:
    """Billing months as YYYY-MM from YYYY-MM, YYYYMM, YYYY/MM or a date; others kept (and
    quarantined as bad_period)."""
    text = values.astype("string").str.strip()
    ok = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False)
    compact = text.str.fullmatch(r"\d{6}").fillna(False)
    text = text.mask(compact, text.str[:4] + "-" + text.str[4:6])
    slash = text.str.fullmatch(r"\d{4}[/.]\d{1,2}").fillna(False)
    text = text.mask(slash, text.str.replace(r"^(\d{4})[/.](\d{1,2})$", lambda m: f"{m[1]}-{int(m[2]):02d}", regex=True))
    other = ~(ok | compact | slash)
    dates = to_datetime(text.where(other))
    return text.mask(other & dates.notna(), dates.dt.strftime("%Y-%m"))


def wide_to_long(df: pd.DataFrame, raw: pd.DataFrame, spec: dict, file: str) -> pd.DataFrame:
    """One row per customer and day column -> one reading per non-blank cell."""
    mapped = set(map(str, (spec.get("columns") or {}))) | {"_line"}
    label = (spec.get("label") or {}).get("column")
    candidates = [c for c in raw.columns if c not in mapped and c != label]
    fmt = spec.get("date_format")
    days = parse_ts(pd.Series(candidates, dtype="string"), fmt) if candidates else pd.Series([], dtype="datetime64[us]")
    day_cols = [c for c, d in zip(candidates, days, strict=True) if pd.notna(d)]
    if not day_cols:
        raise ImportFailed(f"{file}: no column header is a date (wide readings need one column per day)")
    day_values = np.array([d for d in days if pd.notna(d)], dtype="datetime64[us]")
    cells = raw[day_cols].to_numpy(dtype=object)
    text = pd.DataFrame(cells).apply(lambda s: s.astype("string").str.strip())
    given = (text.notna() & text.ne("")).to_numpy()
    rows, cols_idx = np.nonzero(given)
    values = text.to_numpy(dtype=object)[rows, cols_idx]
    long = pd.DataFrame({
        "customer_id": df["customer_id"].to_numpy()[rows] if "customer_id" in df else None,
        "ts": day_values[cols_idx],
        "kwh": values,
        "_line": df["_line"].to_numpy()[rows],
    })
    if "meter_id" in df:
        long["meter_id"] = df["meter_id"].to_numpy()[rows]
    return long


def link_meters(readings: pd.DataFrame, meter_owner: pd.Series | None, file: str) -> pd.DataFrame:
    """Readings keyed by meter get the account of that meter (unknown meters stay blank and are
    quarantined as unknown_customer)."""
    if "customer_id" in readings or "meter_id" not in readings:
        return readings.drop(columns=[c for c in ("meter_id",) if c in readings])
    if meter_owner is None:
        raise ImportFailed(f"{file}: readings are keyed by meter but the customers table has no meter_id")
    readings = readings.copy()
    readings["customer_id"] = readings.pop("meter_id").map(meter_owner)
    return readings


def import_csv_mapping(src: str | Path, out: str | Path, key: bytes, mapping: str | Path | None = None,
                       max_reject_fraction: float = 0.05, progress=None) -> dict:
    """Read, map, anonymize, validate and write the tables a mapping describes."""
    src, out = Path(src), Path(out)
    step = quiet(progress)
    if not src.is_dir():
        raise ImportFailed(f"{src}: no such folder")
    mapping_path = Path(mapping) if mapping else src / "mapping.yaml"
    if not mapping_path.exists():
        raise ImportFailed(f"{mapping_path.name}: no mapping file (the csv format needs --mapping)")
    m = load_mapping(mapping_path)
    specs = m["specs"]
    q = Quarantine()
    tables: dict[str, pd.DataFrame] = {}
    label_parts: list[tuple[pd.DataFrame, str]] = []

    def label_rows(df: pd.DataFrame, spec: dict, file: str) -> None:
        label = spec.get("label") or {}
        if "_label" in df and label.get("task"):
            # long readings repeat the label on every row: the customer's first row gives it
            frame = df.drop_duplicates("customer_id") if "ts" in df else df
            label_parts.append((pd.DataFrame({
                "customer_id": frame["customer_id"], "task": str(label["task"]),
                "as_of": label.get("as_of"), "label": frame["_label"], "_line": frame["_line"]}), file))

    # readings are read first: without a customers table they define the customers
    readings_in: list[tuple[pd.DataFrame, dict, str]] = []
    for spec in specs.get("readings", []):
        raw, file = read_source(src, spec, m)
        step(f"reading {file}")
        wide = spec.get("layout", "long") == "wide"
        df = canonical_columns(raw, spec, "readings", key, file, wide=wide)
        if wide:
            if "customer_id" in df:
                label_rows(df, spec, file)
            df = wide_to_long(df, raw, spec, file)
        else:
            df["ts"] = parse_ts(df["ts"], spec.get("date_format"))
            if "customer_id" in df:
                label_rows(df, spec, file)
        readings_in.append((df.drop(columns=[c for c in ("_label",) if c in df]), spec, file))

    meter_owner = None
    if "customers" in specs:
        spec = specs["customers"][0]
        raw, file = read_source(src, spec, m)
        step(f"customers from {file}")
        df = canonical_columns(raw, spec, "customers", key, file)
        label_rows(df, spec, file)
        df = df.drop(columns=[c for c in ("_label",) if c in df])
        if "meter_id" in df:
            meter_owner = df.dropna(subset=["meter_id"]).drop_duplicates("meter_id").set_index("meter_id")["customer_id"]
            df = df.drop(columns="meter_id")
        defaults = m.get("customer_defaults") or {}
        for col in ("customer_class", "start_date"):
            if col not in df:
                df[col] = defaults.get(col)
        if df["start_date"].isna().all() and readings_in:
            first = pd.concat([r[0][["customer_id", "ts"]] for r in readings_in if "customer_id" in r[0]] or
                              [pd.DataFrame({"customer_id": [], "ts": []})])
            df["start_date"] = df["customer_id"].map(first.groupby("customer_id")["ts"].min())
        typed, checks = type_attributes(df)
        customers = validation.customers(typed, q, file, extra_checks=checks)
        customer_source = file
    else:
        customers, customer_source = derived_customers(readings_in, m, q, meter_owner)
    known = pd.Index(customers["customer_id"])
    tables["customers"] = customers

    daily_given = any(str(s.get("interval", "daily")) == "daily" for _, s, _ in readings_in)
    by_interval: dict[str, list[tuple[pd.DataFrame, str]]] = {}
    for df, spec, file in readings_in:
        df = link_meters(df, meter_owner, file)
        if "customer_id" not in df:
            raise ImportFailed(f"{file}: readings have no customer_id or meter_id")
        cols = [c for c in ("customer_id", "ts", "kwh", "kw_max", "_line") if c in df]
        by_interval.setdefault(str(spec.get("interval", "daily")), []).append((df[cols], file))
    last_reading = pd.NaT
    for interval, parts in by_interval.items():
        # every file of one interval is validated together: a reading given twice is a duplicate
        if len(parts) > 1:
            df = pd.concat([p.assign(_file=f) for p, f in parts], ignore_index=True)
            source = f"{parts[0][1]} (+{len(parts) - 1} more)"
        else:
            df, source = parts[0]
        step(f"validating {len(df):,} {interval} readings")
        table = f"readings_{interval}"
        ok = validation.readings(df, q, source, table, known)
        if interval not in ("daily", "hourly"):
            tables["readings_hourly"] = to_hourly(ok, INTERVALS[interval])
            if not daily_given:
                tables["readings_daily"] = to_daily(ok, PER_DAY[interval])
        else:
            tables[table] = ok
        if len(ok):
            last = ok["ts"].max()
            last_reading = last if pd.isna(last_reading) else max(last, last_reading)

    bills_known = pd.Index([])
    if "bills" in specs:
        parts = []
        for spec in specs["bills"]:
            raw, file = read_source(src, spec, m)
            step(f"bills from {file}")
            df = canonical_columns(raw, spec, "bills", key, file)
            df["period"] = normalize_period(df["period"])
            df = df.drop(columns=[c for c in ("_label",) if c in df])
            parts.append(validation.bills(df, q, file, known))
        tables["bills"] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        bills_known = pd.Index(tables["bills"]["bill_id"])
    if "payments" in specs:
        owner = tables["bills"].set_index("bill_id")["customer_id"] if "bills" in tables else None
        parts = []
        for spec in specs["payments"]:
            raw, file = read_source(src, spec, m)
            step(f"payments from {file}")
            df = canonical_columns(raw, spec, "payments", key, file)
            if "customer_id" not in df:
                df["customer_id"] = df["bill_id"].map(owner) if owner is not None else None
            parts.append(validation.payments(df.drop(columns=[c for c in ("_label",) if c in df]), q, file,
                                             bills_known, owner))
        tables["payments"] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if "service_events" in specs:
        parts = []
        for spec in specs["service_events"]:
            raw, file = read_source(src, spec, m)
            step(f"service events from {file}")
            df = canonical_columns(raw, spec, "service_events", key, file)
            df["ts"] = parse_ts(df["ts"], spec.get("date_format"))
            parts.append(validation.service_events(df.drop(columns=[c for c in ("_label",) if c in df]),
                                                   q, file, known))
        tables["service_events"] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    if label_parts:
        step("labels")
        default_as_of = m.get("labels_as_of")
        if default_as_of is None and pd.notna(last_reading):
            default_as_of = (last_reading.normalize() + pd.Timedelta(days=1))
        frames = []
        for frame, file in label_parts:
            frame = frame.copy()
            frame["as_of"] = frame["as_of"].where(frame["as_of"].notna(), default_as_of) \
                if default_as_of is not None else frame["as_of"]
            frames.append((frame, file))
        parts = [validation.labels(f, q, file, known) for f, file in frames]
        tables["labels"] = pd.concat(parts, ignore_index=True)
    notes = {"customers_from": customer_source}
    return finish(out, q, tables, max_reject_fraction, step, "csv", notes)


def derived_customers(readings_in: list, m: dict, q: Quarantine, meter_owner) -> tuple[pd.DataFrame, str]:
    """Customers as the distinct ids of the readings when the source has no customers table
    (e.g. the State Grid theft data); start_date = the first reading."""
    if not readings_in:
        raise MappingError(f"{m.get('_file', 'mapping')}: no customers table and no readings to take "
                           "customers from")
    parts = []
    for df, _, file in readings_in:
        if "customer_id" not in df:
            raise ImportFailed(f"{file}: readings keyed by meter need a customers table with meter_id")
        ts = df["ts"].where((df["ts"] >= EARLIEST) & (df["ts"] <= pd.Timestamp.now()))
        parts.append(pd.DataFrame({"customer_id": df["customer_id"], "ts": ts, "_line": df["_line"], "file": file}))
    allr = pd.concat(parts, ignore_index=True)
    allr = allr[allr["customer_id"].notna()]
    g = allr.groupby("customer_id", sort=False)
    first_row = g.head(1).set_index("customer_id")
    defaults = m.get("customer_defaults") or {}
    frame = pd.DataFrame({
        "customer_id": first_row.index.astype(str),
        "customer_class": defaults.get("customer_class", "residential"),
        "region": defaults.get("region"),
        "start_date": g["ts"].min().reindex(first_row.index).to_numpy(),
        "_line": first_row["_line"].to_numpy(),
    })
    file = readings_in[0][2]
    try:
        customers = validation.customers(frame, q, f"{file} (customers derived from readings)",
                                         extra_checks=[("no_readings", frame["start_date"].isna())])
    except (ValueError, TypeError) as exc:
        raise ImportFailed(f"{file}: cannot derive customers ({first_line(exc)})") from None
    return customers, "readings"
