"""The YAML mapping of the csv format: its tables, intervals and required columns, and the
check of a mapping file (a wrong mapping is one line naming the mapping file)."""

from __future__ import annotations

from pathlib import Path

from powerlens.anonymize import identifier_columns
from powerlens.importers._common import read_yaml
from powerlens.importers.errors import ImportFailed

TABLES = ("customers", "readings", "bills", "payments", "service_events", "region_load")
INTERVALS = {"daily": None, "hourly": 1, "30min": 2, "15min": 4, "5min": 12}
PER_DAY = {"daily": 1, "hourly": 24, "30min": 48, "15min": 96, "5min": 288}
REQUIRED = {
    "customers": ["customer_id"],
    "readings": ["ts", "kwh"],
    "bills": ["customer_id", "bill_id", "period", "amount", "due_date"],
    "payments": ["bill_id", "paid_on", "amount"],
    "service_events": ["customer_id", "ts", "kind"],
    "region_load": ["region"],  # + ts and load_kw (long layout) or date (wide hourly layout)
}
# tables that need no customers (a utility's load export may come alone)
WITHOUT_CUSTOMERS = ("region_load",)
LOAD_UNITS = {"w": 0.001, "kw": 1.0, "mw": 1000.0}
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
            file = item["file"]
            if not isinstance(file, str) or Path(file).is_absolute() or ".." in Path(file).parts:
                raise MappingError(f"{name}: tables.{table}.file {str(file)[:80]!r} must be a path inside the "
                                   "source folder (no absolute path, no `..`)")
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
            if table == "region_load":
                _check_region_load(name, item)
        specs[table] = items
    if len(specs.get("customers", [])) > 1:
        raise MappingError(f"{name}: only one customers file")
    m["specs"] = specs
    m["_file"] = name
    return m


def _check_region_load(name: str, item: dict) -> None:
    """A region_load spec: long (region, ts, load_kw per row) or wide (region, date, 24 hour
    columns); `hours` (wide) says whether hour columns are numbered by the hour's end (h1..h24,
    1..24: `ending`) or beginning (0..23: `beginning`); `unit` W, kW or MW."""
    layout = item.get("layout", "long")
    if layout not in ("long", "wide"):
        raise MappingError(f"{name}: tables.region_load.layout must be long or wide")
    if item.get("hours") is not None and item["hours"] not in ("ending", "beginning"):
        raise MappingError(f"{name}: tables.region_load.hours must be ending (h1..h24) or beginning (0..23)")
    if str(item.get("unit", "kW")).lower() not in LOAD_UNITS:
        raise MappingError(f"{name}: tables.region_load.unit must be W, kW or MW")
    targets = {str(v) for v in (item.get("columns") or {}).values()} | set(map(str, item.get("constants") or {}))
    needed = ["region", "ts", "load_kw"] if layout == "long" else ["region", "date"]
    missing = [c for c in needed if c not in targets]
    if missing:
        raise MappingError(f"{name}: tables.region_load ({layout} layout) maps no column to {', '.join(missing)}")
