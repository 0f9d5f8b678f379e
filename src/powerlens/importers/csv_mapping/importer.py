"""`import_csv_mapping`: read the files a mapping describes (readings first: without a customers
table they define the customers), map and anonymize them, validate every table (bad rows to
quarantine), collect the given labels and write the canonical tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from powerlens import validation
from powerlens.importers._common import finish, first_line, quiet, to_daily, to_hourly
from powerlens.importers.csv_mapping.columns import (
    canonical_columns,
    link_meters,
    normalize_period,
    parse_ts,
    read_source,
    type_attributes,
    wide_hours_to_long,
    wide_to_long,
)
from powerlens.importers.csv_mapping.spec import (
    INTERVALS,
    LOAD_UNITS,
    PER_DAY,
    WITHOUT_CUSTOMERS,
    MappingError,
    load_mapping,
)
from powerlens.importers.errors import ImportFailed
from powerlens.schema import EARLIEST, Quarantine

# (label rows with customer_id, task, as_of, label, _line; their source file)
LabelParts = list[tuple[pd.DataFrame, str]]


def import_csv_mapping(src: str | Path, out: str | Path, key: bytes, mapping: str | Path | None = None,
                       max_reject_fraction: float = 0.05, progress=None, plausibility=None) -> dict:
    """Read, map, anonymize, validate and write the tables a mapping describes."""
    src, out = Path(src), Path(out)
    step = quiet(progress)
    rules = validation.Plausibility.of(plausibility)
    m = _load(src, mapping)
    specs = m["specs"]
    q = Quarantine()
    tables: dict[str, pd.DataFrame] = {}
    label_parts: LabelParts = []

    notes: dict = {}
    as_of = _source_as_of(m)
    if set(specs) - set(WITHOUT_CUSTOMERS):
        # readings are read first: without a customers table they define the customers
        readings_in = _read_readings(src, m, key, label_parts, step)
        meter_owner = None
        if "customers" in specs:
            customers, customer_source, meter_owner = _mapped_customers(src, m, key, q, readings_in,
                                                                        label_parts, step, rules)
        else:
            customers, customer_source = derived_customers(readings_in, m, q, meter_owner, rules)
        known = pd.Index(customers["customer_id"])
        tables["customers"] = customers
        last_reading = _validate_readings(readings_in, meter_owner, q, known, tables, step, rules)
        _bills(src, m, key, q, known, tables, step, rules)
        _payments(src, m, key, q, tables, step, rules)
        _service_events(src, m, key, q, known, tables, step)
        if label_parts:
            step("labels")
            tables["labels"] = _labels(label_parts, m, last_reading, q, known)
        notes["customers_from"] = customer_source
    if "region_load" in specs:
        blank = _region_load(src, m, key, q, tables, step, rules)
        notes["region_load_blank_hours"] = blank
        if as_of is None and set(specs) == {"region_load"} and len(tables["region_load"]):
            as_of = tables["region_load"]["ts"].max().normalize() + pd.Timedelta(days=1)
    return finish(out, q, tables, max_reject_fraction, step, "csv", notes or None, as_of=as_of)


def _region_load(src: Path, m: dict, key: bytes, q: Quarantine, tables: dict[str, pd.DataFrame], step,
                 rules: validation.Plausibility | None = None) -> int:
    """A utility's hourly load per region (long: region, ts, load_kw; wide: region, date and 24
    hour columns), every file validated together (an hour given twice is a duplicate_hour);
    the missing hours of each region go to validation.json as gaps. Returns the blank cells of
    wide files (missing hours, not rows)."""
    parts, blank = [], 0
    for spec in m["specs"]["region_load"]:
        raw, file = read_source(src, spec, m)
        step(f"region load from {file}")
        wide = spec.get("layout", "long") == "wide"
        df = canonical_columns(raw, spec, "region_load", key, file, wide=wide)
        if wide:
            df = wide_hours_to_long(df, raw, spec, file)
            blank += df.attrs.get("blank_hours", 0)
        else:
            df["ts"] = parse_ts(df["ts"], spec.get("date_format"))
        thousands = spec.get("thousands")
        text = df["load_kw"].astype("string").str.strip()
        if thousands:
            text = text.str.replace(str(thousands), "", regex=False)
        factor = LOAD_UNITS[str(spec.get("unit", "kW")).lower()]
        number = pd.to_numeric(text, errors="coerce")
        df["load_kw"] = text.where(number.isna() | (factor == 1.0), (number * factor).astype("string"))
        parts.append((df[[c for c in ("region", "ts", "load_kw", "outage", "_line") if c in df]], file))
    if len(parts) > 1:
        df = pd.concat([p.assign(_file=f) for p, f in parts], ignore_index=True)
        source = f"{parts[0][1]} (+{len(parts) - 1} more)"
    else:
        df, source = parts[0]
    step(f"validating {len(df):,} hourly loads")
    ok = validation.region_load(df, q, source, rules=rules)
    valid = df["ts"][(df["ts"] >= EARLIEST) & (df["ts"] <= pd.Timestamp.now())]
    report = q.reports["region_load"]
    report.gaps = validation.hourly_gaps(ok, "region", valid.min() if len(valid) else None,
                                         valid.max() if len(valid) else None)
    tables["region_load"] = ok
    return blank


def _source_as_of(m: dict) -> pd.Timestamp | None:
    """The date the source describes, when the mapping gives one (`labels_as_of`)."""
    given = m.get("labels_as_of")
    if given is None:
        return None
    try:
        return pd.Timestamp(str(given))
    except ValueError:
        raise ImportFailed(f"mapping: labels_as_of {str(given)[:40]!r} is not a date (YYYY-MM-DD)") from None


def _load(src: Path, mapping: str | Path | None) -> dict:
    """The checked mapping: MAPPING, else SRC/mapping.yaml."""
    if not src.is_dir():
        raise ImportFailed(f"{src}: no such folder")
    mapping_path = Path(mapping) if mapping else src / "mapping.yaml"
    if not mapping_path.exists():
        raise ImportFailed(f"{mapping_path.name}: no mapping file (the csv format needs --mapping)")
    return load_mapping(mapping_path)


def _label_rows(label_parts: LabelParts, df: pd.DataFrame, spec: dict, file: str) -> None:
    """Collect the given labels of a mapped table that names a label column."""
    label = spec.get("label") or {}
    if "_label" in df and label.get("task"):
        # long readings repeat the label on every row: the customer's first row gives it
        frame = df.drop_duplicates("customer_id") if "ts" in df else df
        label_parts.append((pd.DataFrame({
            "customer_id": frame["customer_id"], "task": str(label["task"]),
            "as_of": label.get("as_of"), "label": frame["_label"], "_line": frame["_line"]}), file))


def _without_label(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in ("_label",) if c in df])


def _read_readings(src: Path, m: dict, key: bytes, label_parts: LabelParts,
                   step) -> list[tuple[pd.DataFrame, dict, str]]:
    """Every readings file, mapped and in long form: (readings, spec, file)."""
    readings_in: list[tuple[pd.DataFrame, dict, str]] = []
    for spec in m["specs"].get("readings", []):
        raw, file = read_source(src, spec, m)
        step(f"reading {file}")
        wide = spec.get("layout", "long") == "wide"
        df = canonical_columns(raw, spec, "readings", key, file, wide=wide)
        if wide:
            if "customer_id" in df:
                _label_rows(label_parts, df, spec, file)
            df = wide_to_long(df, raw, spec, file)
        else:
            df["ts"] = parse_ts(df["ts"], spec.get("date_format"))
            if "customer_id" in df:
                _label_rows(label_parts, df, spec, file)
        readings_in.append((_without_label(df), spec, file))
    return readings_in


def _mapped_customers(src: Path, m: dict, key: bytes, q: Quarantine, readings_in: list,
                      label_parts: LabelParts, step,
                      rules: validation.Plausibility | None = None) -> tuple[pd.DataFrame, str, pd.Series | None]:
    """(the validated customers of the customers file, its name, the account of each meter id
    when the file maps meter_id); start_date defaults to the first reading."""
    meter_owner = None
    spec = m["specs"]["customers"][0]
    raw, file = read_source(src, spec, m)
    step(f"customers from {file}")
    df = canonical_columns(raw, spec, "customers", key, file)
    _label_rows(label_parts, df, spec, file)
    df = _without_label(df)
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
    typed, checks = type_attributes(df, rules)
    customers = validation.customers(typed, q, file, extra_checks=checks, rules=rules)
    return customers, file, meter_owner


def _by_interval(readings_in: list, meter_owner: pd.Series | None) -> dict[str, list[tuple[pd.DataFrame, str]]]:
    """The readings of each interval, keyed by account: (readings, file) per file."""
    by_interval: dict[str, list[tuple[pd.DataFrame, str]]] = {}
    for df, spec, file in readings_in:
        df = link_meters(df, meter_owner, file)
        if "customer_id" not in df:
            raise ImportFailed(f"{file}: readings have no customer_id or meter_id")
        cols = [c for c in ("customer_id", "ts", "kwh", "kw_max", "_line") if c in df]
        by_interval.setdefault(str(spec.get("interval", "daily")), []).append((df[cols], file))
    return by_interval


def _validate_readings(readings_in: list, meter_owner: pd.Series | None, q: Quarantine, known: pd.Index,
                       tables: dict[str, pd.DataFrame], step,
                       rules: validation.Plausibility | None = None) -> pd.Timestamp:
    """Validate the readings of each interval together (a reading given twice is a duplicate,
    one beyond the customer's capacity or history is implausible) and write sub-hourly ones as
    hours (and days when no daily file is given); returns the last accepted reading (NaT when
    none). Hours given by an hourly file and hours summed from sub-hourly files are merged when
    they cover different customers or times; the same customer and hour from both is refused
    (every accepted reading is written, none overwritten). A daily file is validated last: a
    daily row that a complete day of the other intervals' accepted readings contradicts is
    inconsistent_aggregate."""
    daily_given = any(str(s.get("interval", "daily")) == "daily" for _, s, _ in readings_in)
    by_interval = _by_interval(readings_in, meter_owner)
    customers = tables.get("customers")
    written: dict[str, list[tuple[pd.DataFrame, str]]] = {}  # table -> (accepted rows, their source)
    last_reading = pd.NaT
    for interval in sorted(by_interval, key=lambda i: i == "daily"):  # daily last
        parts = by_interval[interval]
        # every file of one interval is validated together: a reading given twice is a duplicate
        if len(parts) > 1:
            df = pd.concat([p.assign(_file=f) for p, f in parts], ignore_index=True)
            source = f"{parts[0][1]} (+{len(parts) - 1} more)"
        else:
            df, source = parts[0]
        step(f"validating {len(df):,} {interval} readings")
        table = f"readings_{interval}"
        checks = []
        if interval == "daily" and "readings_hourly" in written:
            hours = merge_interval_tables("readings_hourly", written["readings_hourly"])
            if "partial_hour" in hours:
                hours = hours[~hours["partial_hour"].astype(bool)]
            checks = [("inconsistent_aggregate", validation.daily_disagrees_with_intervals(df, hours, 24, rules))]
        ok = validation.readings(df, q, source, table, known, customers=customers, rules=rules,
                                 extra_checks=checks)
        if interval not in ("daily", "hourly"):
            written.setdefault("readings_hourly", []).append((to_hourly(ok, INTERVALS[interval]), source))
            if not daily_given:
                written.setdefault("readings_daily", []).append((to_daily(ok, PER_DAY[interval]), source))
        else:
            written.setdefault(table, []).append((ok, source))
        if len(ok):
            last = ok["ts"].max()
            last_reading = last if pd.isna(last_reading) else max(last, last_reading)
    for table in ("readings_daily", "readings_hourly"):
        if table in written:
            tables[table] = merge_interval_tables(table, written[table])
    return last_reading


def merge_interval_tables(table: str, parts: list[tuple[pd.DataFrame, str]]) -> pd.DataFrame:
    """One readings table from the parts of several intervals (an hourly file and hours summed
    from a 15-minute file, say). Parts must not overlap: the same customer and hour from two
    intervals is refused in one line naming both sources. Rows given at the table's own
    interval count as one complete interval (`n_intervals` 1, not partial)."""
    if len(parts) == 1:
        return parts[0][0]
    seen: list[tuple[pd.MultiIndex, str]] = []
    frames = []
    for df, source in parts:
        keys = pd.MultiIndex.from_arrays([df["customer_id"].astype(str), df["ts"]])
        for other_keys, other_source in seen:
            both = keys.intersection(other_keys)
            if len(both):
                cid, ts = both[0]
                raise ImportFailed(f"{other_source} and {source}: both give {table} for the same customer and "
                                   f"time ({len(both)} times, e.g. {ts}); give each meter's readings at one interval")
        seen.append((keys, source))
        frames.append(df.assign(customer_id=df["customer_id"].astype(str)))
    out = pd.concat(frames, ignore_index=True)
    flag = "partial_hour" if table == "readings_hourly" else "partial_day"
    if "n_intervals" in out:
        out["n_intervals"] = out["n_intervals"].fillna(1).astype("int16")
    if flag in out:
        out[flag] = out[flag].fillna(False).astype(bool)
    out["customer_id"] = out["customer_id"].astype("category")
    out["customer_id"] = out["customer_id"].cat.reorder_categories(sorted(out["customer_id"].cat.categories))
    out["kwh"] = out["kwh"].astype("float32")
    return out.sort_values(["customer_id", "ts"], kind="stable").reset_index(drop=True)


def _bills(src: Path, m: dict, key: bytes, q: Quarantine, known: pd.Index,
           tables: dict[str, pd.DataFrame], step, rules: validation.Plausibility | None = None) -> None:
    """Bills, billing periods normalized to YYYY-MM; every bills file is validated together, so
    a bill id given in two files is a duplicate_bill (the first kept), not two bills."""
    specs = m["specs"]
    if "bills" in specs:
        parts = []
        for spec in specs["bills"]:
            raw, file = read_source(src, spec, m)
            step(f"bills from {file}")
            df = canonical_columns(raw, spec, "bills", key, file)
            df["period"] = normalize_period(df["period"])
            parts.append((_without_label(df), file))
        if len(parts) > 1:
            df = pd.concat([p.assign(_file=f) for p, f in parts], ignore_index=True)
            source = f"{parts[0][1]} (+{len(parts) - 1} more)"
        else:
            df, source = parts[0]
        tables["bills"] = validation.bills(df, q, source, known, customers=tables.get("customers"), rules=rules)


def _payments(src: Path, m: dict, key: bytes, q: Quarantine, tables: dict[str, pd.DataFrame],
              step, rules: validation.Plausibility | None = None) -> None:
    """Payments, checked against the bills; a payment without customer_id gets its bill's."""
    specs = m["specs"]
    if "payments" in specs:
        bills_known = pd.Index(tables["bills"]["bill_id"]) if "bills" in specs else pd.Index([])
        owner = tables["bills"].set_index("bill_id")["customer_id"] if "bills" in tables else None
        parts = []
        for spec in specs["payments"]:
            raw, file = read_source(src, spec, m)
            step(f"payments from {file}")
            df = canonical_columns(raw, spec, "payments", key, file)
            if "customer_id" not in df:
                df["customer_id"] = df["bill_id"].map(owner) if owner is not None else None
            parts.append(validation.payments(_without_label(df), q, file, bills_known, owner, rules=rules))
        tables["payments"] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _service_events(src: Path, m: dict, key: bytes, q: Quarantine, known: pd.Index,
                    tables: dict[str, pd.DataFrame], step) -> None:
    """Service events, timestamps parsed with the spec's `date_format` when it gives one."""
    specs = m["specs"]
    if "service_events" in specs:
        parts = []
        for spec in specs["service_events"]:
            raw, file = read_source(src, spec, m)
            step(f"service events from {file}")
            df = canonical_columns(raw, spec, "service_events", key, file)
            df["ts"] = parse_ts(df["ts"], spec.get("date_format"))
            parts.append(validation.service_events(_without_label(df), q, file, known))
        tables["service_events"] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _labels(label_parts: LabelParts, m: dict, last_reading: pd.Timestamp, q: Quarantine,
            known: pd.Index) -> pd.DataFrame:
    """The given labels, validated; as_of defaults to `labels_as_of`, else the day after the
    last reading."""
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
    return pd.concat(parts, ignore_index=True)


def derived_customers(readings_in: list, m: dict, q: Quarantine, meter_owner,
                      rules: validation.Plausibility | None = None) -> tuple[pd.DataFrame, str]:
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
                                         extra_checks=[("no_readings", frame["start_date"].isna())], rules=rules)
    except (ValueError, TypeError) as exc:
        raise ImportFailed(f"{file}: cannot derive customers ({first_line(exc)})") from None
    return customers, "readings"
