"""The canonical tables: their schemas (the contract between all stages), the check of a clean
table against its schema, and the empty table of a schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from powerlens.errors import PowerlensError
from powerlens.tariffs import SCHEMES as TARIFF_SCHEMES
from powerlens.tariffs import TARIFF_PERIODS

CUSTOMER_CLASSES = [
    "residential", "commercial", "general_industrial", "large_industrial", "agricultural", "public",
]
EVENT_KINDS = [
    "complaint", "fault_report", "service_request", "capacity_increase", "capacity_decrease",
    "new_install", "inspection",
]
EARLIEST = pd.Timestamp("1990-01-01")
# the callback satisfaction score of a service event (1 = very dissatisfied .. 5 = very satisfied)
SATISFACTION_RANGE = (1.0, 5.0)
# no region, feeder or substation draws more (the world's peak load is ~3e9 kW): a load above it
# is a unit or parsing error, never a load
LOAD_KW_CAP = 1.0e12
# the range of air temperatures on Earth, with a margin (records: -89.2 C and 56.7 C)
TEMPERATURE_RANGE_C = (-60.0, 60.0)


def _finite() -> pa.Check:
    """Every given value is a finite number (missing values are the column's nullable's business):
    ge(0) alone lets inf through, e.g. 1e40 cast to float32."""
    return pa.Check(lambda s: pd.Series(~np.isinf(s.to_numpy(dtype=float)), index=s.index), name="finite")

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "customers": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str, unique=True),
            "customer_class": pa.Column(str, pa.Check.isin(CUSTOMER_CLASSES)),
            "region": pa.Column(str, nullable=True),
            "industry": pa.Column(str, nullable=True),
            "voltage_kv": pa.Column(float, [pa.Check.ge(0), _finite()], nullable=True),
            "capacity_kva": pa.Column(float, [pa.Check.ge(0), _finite()], nullable=True),
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
            "kwh": pa.Column("float32", [pa.Check.ge(0), _finite()]),
        },
        strict=False,
    ),
    "bills": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str),
            "bill_id": pa.Column(str, unique=True),
            "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
            "kwh": pa.Column(float, [pa.Check.ge(0), _finite()], nullable=True),
            "amount": pa.Column(float, [pa.Check.ge(0), _finite()]),
            "due_date": pa.Column("datetime64[us]"),
            # where the meter registers ToU periods: the bill's kWh per tariff period (a bill with
            # them was billed under the ToU scheme, see powerlens.tariffs)
            **{f"kwh_{period}": pa.Column(float, [pa.Check.ge(0), _finite()], nullable=True, required=False)
               for period in TARIFF_PERIODS},
        },
        strict=False,
    ),
    "payments": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str),
            "bill_id": pa.Column(str),
            "paid_on": pa.Column("datetime64[us]"),
            "amount": pa.Column(float, [pa.Check.ge(0), _finite()]),
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
            # where the source has them (a 95598 service system): the contact channel, the hours
            # to resolve (a new install: application to connection) and the callback score
            "channel": pa.Column(str, nullable=True, required=False),
            "resolution_hours": pa.Column(float, [pa.Check.ge(0), _finite()], nullable=True, required=False),
            "satisfaction": pa.Column(float, pa.Check.in_range(*SATISFACTION_RANGE), nullable=True,
                                      required=False),
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
            "temperature_mean": pa.Column(float, _finite(), nullable=True),
            "temperature_max": pa.Column(float, _finite(), nullable=True),
            "temperature_min": pa.Column(float, _finite(), nullable=True),
            "is_holiday": pa.Column(bool),
        },
        strict=False,
    ),
    # auxiliary, per day and region (region empty = every region): the weather behind the load
    "weather_daily": pa.DataFrameSchema(
        {
            "date": pa.Column("datetime64[us]"),
            "region": pa.Column(str, nullable=True),
            "temperature_mean": pa.Column(float, _finite()),
        },
        unique=["date", "region"],
        strict=False,
    ),
    # system-side load per region (zone, feeder, substation) and hour, as SCADA or the metering
    # system records it: ts = the hour's beginning (naive local time); `outage` flags an hour
    # with near-zero load in a region whose normal load is far higher (kept, not dropped)
    "region_load": pa.DataFrameSchema(
        {
            "region": pa.Column(str),
            "ts": pa.Column("datetime64[us]"),
            "load_kw": pa.Column(float, [pa.Check.ge(0), pa.Check.le(LOAD_KW_CAP), _finite()]),
            "outage": pa.Column(bool),
        },
        unique=["region", "ts"],
        strict=False,
    ),
    # the tariff schedule (powerlens.tariffs): a price per kWh for each customer class, region
    # (empty: every region), supply voltage band (from voltage_kv_min up), scheme (flat or ToU) and
    # tariff period, valid from a date until the next row of the same key; the two-part tariff's
    # monthly capacity charge per contracted kVA where it applies
    "tariffs": pa.DataFrameSchema(
        {
            "customer_class": pa.Column(str, pa.Check.isin(CUSTOMER_CLASSES)),
            "region": pa.Column(str, nullable=True),
            "voltage_kv_min": pa.Column(float, [pa.Check.ge(0), _finite()]),
            "scheme": pa.Column(str, pa.Check.isin(list(TARIFF_SCHEMES))),
            "period": pa.Column(str, pa.Check.isin(list(TARIFF_PERIODS))),
            "price_per_kwh": pa.Column(float, [pa.Check.gt(0), _finite()]),
            "capacity_charge_per_kva_month": pa.Column(float, [pa.Check.ge(0), _finite()], nullable=True),
            "valid_from": pa.Column("datetime64[us]"),
        },
        unique=["customer_class", "region", "voltage_kv_min", "scheme", "period", "valid_from"],
        strict=False,
    ),
    # hourly air temperature per weather station (ts = the hour's beginning, naive local time)
    "weather_hourly": pa.DataFrameSchema(
        {
            "station": pa.Column(str),
            "ts": pa.Column("datetime64[us]"),
            "temperature_c": pa.Column(float, [pa.Check.in_range(*TEMPERATURE_RANGE_C), _finite()]),
        },
        unique=["station", "ts"],
        strict=False,
    ),
    # which region each weather station stands for, where the source says so (may be empty)
    "weather_stations": pa.DataFrameSchema(
        {
            "station": pa.Column(str),
            "region": pa.Column(str),
        },
        unique=["station", "region"],
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
    "region_load": "region_load",
    "weather_hourly": "weather_hourly",
    "weather_stations": "weather_stations",
    "tariffs": "tariffs",
}
# every file an import may write (an import removes the ones it did not write this time)
CANONICAL_FILES = tuple(TABLE_SCHEMA)


class ValidationFailed(PowerlensError, RuntimeError):
    """Too many rows were rejected, or a table breaks its schema after cleaning."""


def check(table_or_schema: str, df: pd.DataFrame) -> pd.DataFrame:
    """Check a clean table against its canonical schema; raises ValidationFailed with the
    failing columns named (never a raw traceback for the user)."""
    schema = SCHEMAS[TABLE_SCHEMA.get(table_or_schema, table_or_schema)]
    infinite = [c for c in df.columns if pd.api.types.is_float_dtype(df[c].dtype)
                and np.isinf(df[c].to_numpy(dtype=float)).any()]
    if infinite:  # every float column, the schema's and the source's extra attributes alike
        raise ValidationFailed(f"{table_or_schema} breaks its schema: {', '.join(map(str, infinite))}: "
                               "infinite values (a number too large for its type)")
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


def empty_table(table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A frame with no rows but the schema's column types, so that downstream code can filter
    and compare dates on a table the source did not have."""
    if TABLE_SCHEMA.get(table, table) not in SCHEMAS:
        from powerlens.errors import UsageError

        raise UsageError(f"no canonical table {table!r}; the tables are: {', '.join(CANONICAL_FILES)}")
    schema = SCHEMAS[TABLE_SCHEMA.get(table, table)]
    extra = {"bills": {"bill_date": "datetime64[us]"}}.get(table, {})
    out = {}
    for name in columns or [*schema.columns, *extra]:
        col = schema.columns.get(name)
        dtype = extra.get(name) or (str(col.dtype) if col is not None and col.dtype is not None else "object")
        out[name] = pd.Series(dtype="float64" if dtype in ("float", "float32") else dtype)
    return pd.DataFrame(out)
