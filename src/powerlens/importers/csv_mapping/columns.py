"""From a mapped source file to canonical columns: reading it, renaming the mapped columns
(unmapped ones are dropped), pseudonymizing ids, typing attributes, parsing timestamps and
billing periods, wide readings to long, readings keyed by meter to their account."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.anonymize import pseudonymize
from powerlens.importers._common import read_table_file
from powerlens.importers.csv_mapping.spec import ATTRIBUTE_TYPES, REQUIRED
from powerlens.importers.errors import ImportFailed
from powerlens.schema import to_datetime


def inside_source(src: Path, name: str) -> Path:
    """The file `name` of a mapping, resolved inside the source folder `src`; a path that leaves
    it (absolute, `..`, or a symlink pointing out) is refused in one line."""
    root = Path(src).resolve()
    given = Path(str(name))
    path = (root / given).resolve()
    if given.is_absolute() or ".." in given.parts or not path.is_relative_to(root):
        raise ImportFailed(f"{name}: outside the source folder {src} (a mapping's `file:` must name a file "
                           "inside it; absolute paths, `..` and symlinks out of it are refused)")
    return path


def read_source(src: Path, spec: dict, mapping: dict) -> tuple[pd.DataFrame, str]:
    """Read one mapped file; drop identifiers and unmapped columns; pseudonymize ids."""
    path = inside_source(src, str(spec["file"]))
    if not path.is_file():
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


def type_attributes(df: pd.DataFrame, rules=None) -> tuple[pd.DataFrame, list]:
    types = df.attrs.get("attribute_types", {})
    by = {t: [c for c, k in types.items() if k == t] for t in ATTRIBUTE_TYPES}
    return validation.attribute_checks(df, numeric=by["float"], dates=by["date"], flags=by["bool"],
                                       categories=by["category"], rules=rules)


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


# an hour column of a wide load export: h1, H01, 1, 01:00, 1时, 1点 (the number is the hour)
HOUR_HEADER = re.compile(r"^\s*[hH]?(\d{1,2})(?::00)?\s*(?:时|点)?\s*$")


def wide_hours_to_long(df: pd.DataFrame, raw: pd.DataFrame, spec: dict, file: str) -> pd.DataFrame:
    """A load export with one row per region and day and 24 hour columns -> one row per given
    hour (region, ts = the hour's beginning, load_kw as text, _line). Hour columns numbered
    1..24 are hours ending (h1 = 00:00-01:00, ts 00:00), 0..23 hours beginning; the spec's
    `hours` says so explicitly. A blank cell is a missing hour (a gap), not a row; a day that is
    not a date leaves its hours' ts missing (quarantined as ts_unparseable)."""
    mapped = set(map(str, (spec.get("columns") or {}))) | {"_line"}
    hour_of = {}
    for col in raw.columns:
        match = HOUR_HEADER.match(str(col)) if col not in mapped else None
        if match:
            hour_of[col] = int(match.group(1))
    numbers = sorted(hour_of.values())
    hours = spec.get("hours") or ("beginning" if numbers and numbers[0] == 0 else "ending")
    expected = list(range(0, 24)) if hours == "beginning" else list(range(1, 25))
    if numbers != expected:
        raise ImportFailed(f"{file}: a wide load export needs 24 hour columns ({'0..23' if hours == 'beginning' else 'h1..h24'}"
                           f", hours {hours}); found {len(numbers)}: {', '.join(map(str, list(hour_of)[:6]))}")
    cols = sorted(hour_of, key=hour_of.get)
    offset = np.array([hour_of[c] - (0 if hours == "beginning" else 1) for c in cols])
    day = parse_ts(df["date"], spec.get("date_format")).dt.normalize()
    values = raw[cols].astype("string").apply(lambda s: s.str.strip()).to_numpy(dtype=object)
    given = ~pd.isna(values)
    given[given] = values[given] != ""
    rows, hour_idx = np.nonzero(given)
    ts = day.to_numpy().astype("datetime64[us]")[rows] + offset[hour_idx].astype("timedelta64[h]")
    long = pd.DataFrame({
        "region": df["region"].to_numpy(dtype=object)[rows],
        "ts": pd.Series(ts, dtype="datetime64[us]"),
        "load_kw": pd.Series(values[rows, hour_idx], dtype="string"),
        "_line": df["_line"].to_numpy()[rows],
    })
    if "outage" in df:
        long["outage"] = df["outage"].to_numpy(dtype=object)[rows]
    long.attrs["blank_hours"] = int((~given).sum())
    return long
