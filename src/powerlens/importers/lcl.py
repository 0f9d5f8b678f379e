"""London smart meters ("Low Carbon London", UK Power Networks 2011-2014) -> canonical tables.

SRC is a folder (or one readings file whose folder holds the rest):
  daily_dataset.parquet | daily_dataset.csv[.gz] | daily_dataset/ (folder of CSV blocks)
      LCLid, day, energy_median, energy_mean, energy_max, energy_count, energy_std,
      energy_sum, energy_min          (kWh per half-hour; energy_sum = kWh per day)
  halfhourly_dataset.parquet | .csv[.gz] | halfhourly_dataset/ (blocks)   (optional)
      LCLid, tstp, energy(kWh/hh)
  informations_households.csv   LCLid, stdorToU, Acorn, Acorn_grouped, file
  weather_daily_darksky.csv     time, temperatureMax, temperatureMin, ...   (optional)
  uk_bank_holidays.csv          Bank holidays, Type                         (optional)

Writes:
  readings_daily   customer_id, ts (= day), kwh (= energy_sum), kwh_min_interval (= energy_min),
                   kwh_max_interval (= energy_max), n_intervals (= energy_count),
                   partial_day (= energy_count < 48: flagged, not hidden; DST days are not
                   special because the trial stamped GMT: no day in the data has > 48)
  readings_hourly  from the half-hourly form only: the two half-hours of each hour summed
                   (hourly is what the load-profile features read), with n_intervals (1 or 2)
                   and partial_hour; half-hourly rows are validated one by one first (their
                   quarantine is `readings_halfhourly`). Without a daily file the daily table
                   is aggregated from the accepted half-hours.
  customers        customer_class residential, region "london", tou_tariff = (stdorToU == "ToU"),
                   start_date = first day with a usable reading, end_date = the day after the last
                   reading when that is more than `stale_after_days` (30) before the data end
                   (the household left the trial or its meter stopped reporting: not a proven
                   account closure), else NaT. A household without any reading is quarantined
                   (`no_readings`). Acorn / Acorn_grouped are not kept as attributes: they are
                   the label.
  labels           task `acorn_group`, label = Acorn_grouped (Affluent / Comfortable /
                   Adversity; ACORN-U "unclassified" is quarantined as label_not_allowed),
                   as_of = the data end (the day after the last reading, as CleanData.data_end).
                   Absent when the households file has no Acorn_grouped column.
  calendar.parquet date (every day from the first to the last reading), temperature_max /
                   temperature_min (Dark Sky daily; its day stamps are local midnight in UTC,
                   23:00 the day before in summer, so each is taken to the nearest midnight),
                   temperature_mean = their midpoint (the
                   source has no daily mean), is_holiday (UK bank holidays).

Plausibility (validate.plausibility): a day or half-hour above the residential class's maximum
demand x hours x margin, or far above the household's own history (robust z-score of log kWh),
is `kwh_implausible`; a day whose energy_sum is not energy_mean x energy_count (or lies outside
energy_min / energy_max x energy_count) is `inconsistent_aggregate` (energy_mean is checked,
not kept). Where both forms exist, a complete day whose half-hours (all accepted) sum to another
total than its daily row is `inconsistent_aggregate` too (the daily row is quarantined).

Ids (LCLid) become keyed pseudonyms; the block `file` column is dropped. A MAPPING YAML may set
`region` and `stale_after_days`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.anonymize import pseudonymize
from powerlens.importers._common import (
    finish,
    is_data_file,
    pseudonymize_categorical,
    quiet,
    read_table_file,
    read_yaml,
    to_daily,
    to_hourly,
)
from powerlens.importers.errors import ImportFailed
from powerlens.schema import EARLIEST, Quarantine, to_datetime, to_number

DAILY = ["LCLid", "day", "energy_sum"]
DAILY_OPTIONAL = ["energy_max", "energy_count", "energy_min", "energy_mean"]
HALFHOURLY = ["LCLid", "tstp", "energy(kWh/hh)"]
HOUSEHOLDS = "informations_households.csv"
WEATHER = "weather_daily_darksky.csv"
HOLIDAYS = "uk_bank_holidays.csv"
INTERVALS_PER_DAY = 48
MAX_ABS_CELSIUS = 60  # a London daily temperature beyond +-60 C is not a temperature (as weather_daily)


def _files(src: Path, stem: str) -> list[Path]:
    """`stem`.parquet/.csv/.csv.gz in SRC, else the data files of a `stem`/ folder (blocks)."""
    single = [p for p in (src / f"{stem}.parquet", src / f"{stem}.csv", src / f"{stem}.csv.gz") if p.exists()]
    if single:
        return single[:1]
    folder = src / stem
    if folder.is_dir():
        return sorted(p for p in folder.rglob("*") if is_data_file(p))
    return []


def read_table_file_header(path: Path) -> list[str]:
    """Column names only, to tell a daily file from a half-hourly one."""
    if path.name.lower().endswith(".parquet"):
        try:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure is an unreadable file
            raise ImportFailed(f"{path.name}: cannot be read ({type(exc).__name__})") from None
    try:
        return [str(c).strip() for c in pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns]
    except Exception as exc:  # noqa: BLE001 - any parser failure is an unreadable file
        raise ImportFailed(f"{path.name}: cannot be read ({type(exc).__name__})") from None


def locate(src: Path) -> tuple[Path, list[Path], list[Path]]:
    """(folder of the auxiliary files, daily files, half-hourly files)."""
    if src.is_file():
        cols = read_table_file_header(src)
        if "energy_sum" in cols or "day" in cols:
            return src.parent, [src], []
        if "tstp" in cols:
            return src.parent, [], [src]
        raise ImportFailed(f"{src.name}: neither a daily ({', '.join(DAILY)}) nor a half-hourly "
                           f"({', '.join(HALFHOURLY)}) LCL file")
    if not src.is_dir():
        raise ImportFailed(f"{src}: no such file or folder")
    daily, half = _files(src, "daily_dataset"), _files(src, "halfhourly_dataset")
    if not daily and not half:
        raise ImportFailed(f"{src}: no daily_dataset(.parquet|.csv) or daily_dataset/ folder of blocks, "
                           "nor halfhourly_dataset")
    return src, daily, half


def read_blocks(paths: list[Path], required: list[str], optional: list[str], ts_col: str) -> tuple[pd.DataFrame, str]:
    """Read one file or many blocks into one frame (`_file` says which block a row is from)."""
    frames = []
    for path in paths:
        df = read_table_file(path, required=required, categorical=["LCLid", ts_col],
                             columns=required + optional)
        if len(paths) > 1:
            df["_file"] = path.name
        frames.append(df)
    if len(frames) == 1:
        return frames[0], paths[0].name
    for df in frames:  # categories differ per block: concat as categories of the union
        for col in ("LCLid", ts_col):
            df[col] = df[col].astype("string")
    df = pd.concat(frames, ignore_index=True)
    for col in ("LCLid", ts_col, "_file"):
        df[col] = df[col].astype("category")
    return df, f"{paths[0].parent.name}/"


def household_span(customer: pd.Series, ts: pd.Series, kwh: pd.Series) -> tuple[pd.Series, pd.Series]:
    """First and last reading day per customer, from rows with a usable date and kWh (a
    household whose every reading is empty has no span and is quarantined as no_readings)."""
    ok = ts.notna() & customer.notna() & (ts >= EARLIEST) & (ts <= pd.Timestamp.now()) & (kwh >= 0)
    g = pd.DataFrame({"c": customer[ok].astype(str), "t": ts[ok]}).groupby("c")["t"]
    return g.min(), g.max()


def end_dates(last: pd.Series, data_end: pd.Timestamp, stale_after_days: int) -> pd.Series:
    """Day after the last reading for households that stopped reporting well before the data
    end (so features do not treat them as open and silent); NaT for the others."""
    stopped = last < data_end - pd.Timedelta(days=stale_after_days)
    return (last + pd.Timedelta(days=1)).where(stopped)


def calendar(first: pd.Timestamp, last: pd.Timestamp, weather: pd.DataFrame | None,
             holidays: pd.Series | None) -> pd.DataFrame:
    """One row per day of the readings: temperatures (midpoint as mean) and bank holidays."""
    days = pd.DataFrame({"date": pd.date_range(first.normalize(), last.normalize(), freq="D").astype("datetime64[us]")})
    if weather is not None and len(weather):
        days = days.merge(weather, on="date", how="left")
    for col in ("temperature_max", "temperature_min"):
        if col not in days:
            days[col] = np.nan
        days[col] = days[col].astype(float)
    days["temperature_mean"] = (days["temperature_max"] + days["temperature_min"]) / 2
    days["is_holiday"] = days["date"].isin(holidays if holidays is not None else []).astype(bool)
    return days[["date", "temperature_mean", "temperature_max", "temperature_min", "is_holiday"]]


def _weather(path: Path, q: Quarantine) -> pd.DataFrame:
    raw = read_table_file(path, required=["time", "temperatureMax", "temperatureMin"],
                          columns=["time", "temperatureMax", "temperatureMin"])
    # Dark Sky stamps each day at local midnight written in UTC: 23:00 the day before in
    # summer time, so the nearest midnight is the day meant
    date = to_datetime(raw["time"]).dt.round("D")
    tmax, tmin = to_number(raw["temperatureMax"]), to_number(raw["temperatureMin"])
    bad_num = (raw["temperatureMax"].notna() & tmax.isna()) | (raw["temperatureMin"].notna() & tmin.isna())
    outside = ((tmax.abs() > MAX_ABS_CELSIUS) | (tmin.abs() > MAX_ABS_CELSIUS)).fillna(False)
    checks = [("ts_unparseable", date.isna()), ("duplicate_date", date.duplicated() & date.notna()),
              ("attribute_not_numeric", bad_num), ("temperature_out_of_range", outside)]
    ok = q.split("weather", raw.assign(date=date, temperature_max=tmax, temperature_min=tmin),
                 checks, path.name, 2)
    return ok[["date", "temperature_max", "temperature_min"]]


def _holidays(path: Path, q: Quarantine) -> pd.Series:
    raw = read_table_file(path, required=["Bank holidays"])
    date = to_datetime(raw["Bank holidays"]).dt.normalize()
    checks = [("ts_unparseable", date.isna()), ("duplicate_date", date.duplicated() & date.notna())]
    return q.split("holidays", raw.assign(date=date), checks, path.name, 2)["date"]


def import_lcl(src: str | Path, out: str | Path, key: bytes, mapping: str | Path | None = None,
               max_reject_fraction: float = 0.05, progress=None, plausibility=None) -> dict:
    """Anonymize, validate and write the LCL tables; returns the validation summary."""
    src, out = Path(src), Path(out)
    rules = validation.Plausibility.of(plausibility)
    step = quiet(progress)
    opts = read_yaml(Path(mapping)) if mapping else {}
    region = str(opts.get("region", "london"))
    stale_after_days = int(opts.get("stale_after_days", 30))
    folder, daily_paths, half_paths = locate(src)
    q = Quarantine()
    notes: dict = {}

    step("reading LCL readings")
    daily, half = _read_readings(daily_paths, half_paths, key)
    first, last = _reading_spans(daily, half, daily_paths or half_paths)
    data_end = last.max()

    step("households")
    households_path = folder / HOUSEHOLDS
    info, hh_name, tou = _households(households_path, key, last, notes)
    customers = _customers(info, hh_name, tou, first, last, data_end, region, stale_after_days, q, rules)
    known = pd.Index(customers["customer_id"])
    tables: dict[str, pd.DataFrame] = {"customers": customers}
    _validate_readings(daily, half, q, known, tables, step, customers, rules)

    if households_path.exists() and "Acorn_grouped" in info:
        step("labels")
        raw_labels = pd.DataFrame({"customer_id": info["customer_id"], "task": "acorn_group",
                                   "as_of": data_end + pd.Timedelta(days=1),
                                   "label": info["Acorn_grouped"], "_line": info["_line"]})
        tables["labels"] = validation.labels(raw_labels, q, hh_name, known)

    step("calendar")
    weather = _weather(folder / WEATHER, q) if (folder / WEATHER).exists() else None
    holidays = _holidays(folder / HOLIDAYS, q) if (folder / HOLIDAYS).exists() else None
    tables["calendar"] = calendar(first.min(), data_end, weather, holidays)
    notes["data_end"] = str((data_end + pd.Timedelta(days=1)).date())
    return finish(out, q, tables, max_reject_fraction, step, "lcl", notes,
                  as_of=data_end + pd.Timedelta(days=1))


def _read_readings(daily_paths: list[Path], half_paths: list[Path], key: bytes
                   ) -> tuple[tuple[pd.DataFrame, str] | None, tuple[pd.DataFrame, str] | None]:
    """(daily readings, their source name) and (half-hourly readings, their source name), each
    None when the source has no such files; ids pseudonymized, timestamps parsed."""
    daily = half = None
    if daily_paths:
        daily_raw, daily_name = read_blocks(daily_paths, DAILY, DAILY_OPTIONAL, "day")
        daily_raw["customer_id"] = pseudonymize_categorical(key, daily_raw.pop("LCLid"))
        daily_raw["ts"] = to_datetime(daily_raw.pop("day"))
        daily = (daily_raw, daily_name)
    if half_paths:
        half_raw, half_name = read_blocks(half_paths, HALFHOURLY, [], "tstp")
        half_raw["customer_id"] = pseudonymize_categorical(key, half_raw.pop("LCLid"))
        half_raw["ts"] = to_datetime(half_raw.pop("tstp"))
        half_raw["kwh"] = half_raw.pop("energy(kWh/hh)")
        half = (half_raw, half_name)
    return daily, half


def _reading_spans(daily: tuple[pd.DataFrame, str] | None, half: tuple[pd.DataFrame, str] | None,
                   paths: list[Path]) -> tuple[pd.Series, pd.Series]:
    """First and last usable reading day per customer over both forms; refuses a source with
    none."""
    daily_raw = daily[0] if daily is not None else None
    half_raw = half[0] if half is not None else None
    spans = [household_span(r["customer_id"], r["ts"], to_number(r[k]))
             for r, k in ((daily_raw, "energy_sum"), (half_raw, "kwh")) if r is not None]
    first = pd.concat([s[0] for s in spans]).groupby(level=0).min()
    last = pd.concat([s[1] for s in spans]).groupby(level=0).max()
    if not len(last):
        raise ImportFailed(f"{paths[0].name}: no reading with a usable household id and date")
    return first, last


def _households(households_path: Path, key: bytes, last: pd.Series,
                notes: dict) -> tuple[pd.DataFrame, str, pd.Series]:
    """(households with pseudonymized ids, their source name, time-of-use flags); without a
    households file, the households are the ids of the readings (tariff unknown)."""
    if households_path.exists():
        info = read_table_file(households_path, required=["LCLid", "stdorToU"])
        hh_name = households_path.name
        info["customer_id"] = pseudonymize(key, info.pop("LCLid"))
        tou = info["stdorToU"].astype("string").str.strip().str.lower().isin(["tou", "dtou"]).fillna(False)
    else:
        notes["households"] = f"no {HOUSEHOLDS}: tariff unknown (tou_tariff false), no acorn_group labels"
        ids = last.index
        info = pd.DataFrame({"customer_id": ids, "_line": np.arange(1, len(ids) + 1)})
        hh_name = "readings (no households file)"
        tou = pd.Series(False, index=info.index)
    return info, hh_name, tou


def _customers(info: pd.DataFrame, hh_name: str, tou: pd.Series, first: pd.Series, last: pd.Series,
               data_end: pd.Timestamp, region: str, stale_after_days: int, q: Quarantine,
               rules: validation.Plausibility | None = None) -> pd.DataFrame:
    """The validated customers: residential, in `region`, from their first reading, closed
    after their last when they stopped reporting; a household without readings is quarantined."""
    cid = info["customer_id"].astype("string")
    start = cid.map(first)
    customers_raw = pd.DataFrame({
        "customer_id": info["customer_id"], "customer_class": "residential", "region": region,
        "industry": None, "voltage_kv": np.nan, "capacity_kva": np.nan, "two_part_tariff": False,
        "tou_tariff": tou.astype(bool), "prepaid_meter": False,
        "start_date": start, "end_date": end_dates(cid.map(last), data_end, stale_after_days),
        "_line": info["_line"],
    })
    no_readings = cid.notna() & start.isna()
    return validation.customers(customers_raw, q, hh_name, extra_checks=[("no_readings", no_readings)],
                                rules=rules)


def _validate_readings(daily: tuple[pd.DataFrame, str] | None, half: tuple[pd.DataFrame, str] | None,
                       q: Quarantine, known: pd.Index, tables: dict[str, pd.DataFrame], step,
                       customers: pd.DataFrame | None = None, rules: validation.Plausibility | None = None) -> None:
    """Daily readings (partial days flagged) and half-hourly ones, summed into hours (and into
    days when there is no daily file); with both, a daily row that its complete half-hours
    contradict is quarantined as inconsistent_aggregate."""
    half_ok = None
    if half is not None:
        half_raw, half_name = half
        step(f"validating {len(half_raw):,} half-hourly readings")
        readings = half_raw[[c for c in ("customer_id", "ts", "kwh", "_line", "_file") if c in half_raw]]
        half_ok = validation.readings(readings, q, half_name, "readings_halfhourly", known,
                                      customers=customers, rules=rules)
        tables["readings_hourly"] = to_hourly(half_ok, per_hour=2)
        if daily is None:
            tables["readings_daily"] = to_daily(half_ok, per_day=INTERVALS_PER_DAY)
    if daily is not None:
        daily_raw, daily_name = daily
        step(f"validating {len(daily_raw):,} daily readings")
        renamed = daily_raw.rename(columns={"energy_sum": "kwh", "energy_min": "kwh_min_interval",
                                            "energy_max": "kwh_max_interval", "energy_count": "n_intervals",
                                            "energy_mean": "kwh_mean_interval"})
        renamed = renamed[[c for c in ("customer_id", "ts", "kwh", "kwh_min_interval", "kwh_max_interval",
                                       "kwh_mean_interval", "n_intervals", "_line", "_file") if c in renamed]]
        checks = []
        if half_ok is not None:
            checks = [("inconsistent_aggregate",
                       validation.daily_disagrees_with_intervals(renamed, half_ok, INTERVALS_PER_DAY, rules))]
        ok = validation.readings(renamed, q, daily_name, "readings_daily", known, customers=customers,
                                 rules=rules, extra_checks=checks)
        if "n_intervals" in ok:
            ok["partial_day"] = (ok["n_intervals"] < INTERVALS_PER_DAY).to_numpy()
        tables["readings_daily"] = ok
