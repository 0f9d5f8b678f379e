"""Import the GEFCom2012 load track (Hong, Pinson & Fan 2014): a US utility's zones, hourly.

Layout of SRC (the folder; or its Load_history.csv, the other files then beside it):
  Load_history.csv         zone_id, year, month, day, h1..h24   load in kW ("16,853": thousands
                                                                separators); blank = withheld
  temperature_history.csv  station_id, year, month, day, h1..h24  degrees Fahrenheit (optional)
  Holiday_List.csv         one row per holiday, one column per year, cells such as
                           "Thursday, January 1" or "Friday, December 31, 2004" (optional)

Writes:
  region_load.parquet       region (`zone_<id>`), ts, load_kw, outage
  weather_hourly.parquet    station (`station_<id>`), ts, temperature_c
  weather_stations.parquet  empty: GEFCom2012 does not say which station belongs to which zone
  calendar.parquet          every day of the load: is_holiday (the US federal holidays, observed
                            days as listed), temperature_mean/max/min (the mean over the stations)

Time: `h<k>` is the hour ending at k:00, so its ts (the hour's beginning) is the day + (k - 1) h.
The source gives 24 hours on every day, DST change days included: its clock is the utility's
local wall clock with the spring hour filled in and the autumn repeated hour given once, so no
hour repeats and ts is the source's own clock (naive). Blank cells are hours the organisers
withheld: they are gaps (validation.json, tables.region_load.gaps: per region, the hours and
their ranges), never rows and never zeros, so rows read = values given = written + quarantined;
the blank cells are counted apart (notes.cells). Values that cannot be a load (not a number,
negative, absurd) are quarantined with the file and line; an hour far below its zone's normal
load (zone 4's near-zero hours) is kept and flagged `outage`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.importers._common import finish, quiet, read_table_file
from powerlens.importers.errors import ImportFailed
from powerlens.schema import Quarantine

__all__ = ["import_gefcom2012"]

LOAD = "Load_history.csv"
TEMPERATURE = "temperature_history.csv"
HOLIDAYS = "Holiday_List.csv"
HOURS = [f"h{k}" for k in range(1, 25)]
STATION_NOTE = ("GEFCom2012 does not say which weather station belongs to which zone: weather_stations is "
                "empty (choose stations per zone by fit, e.g. Hong's station selection)")
CLOCK_NOTE = ("ts = the hour's beginning on the source's clock (h1, the hour ending 01:00, is 00:00); 24 hours on "
              "every day, DST change days included (the spring hour filled in, the autumn hour given once): "
              "no repeated hour")


def fahrenheit_to_celsius(values: pd.Series) -> pd.Series:
    return (values - 32.0) * 5.0 / 9.0


def import_gefcom2012(src: str | Path, out: str | Path, key: bytes | None = None, mapping: str | Path | None = None,
                      max_reject_fraction: float = 0.05, progress=None, plausibility=None) -> dict:
    """Read, validate and write the GEFCom2012 load track's tables (no customer data: the key
    is not used; no mapping is taken)."""
    src, out = Path(src), Path(out)
    step = quiet(progress)
    if mapping is not None:
        raise ImportFailed(f"{Path(mapping).name}: the gefcom2012 format takes no mapping")
    rules = validation.Plausibility.of(plausibility)
    folder, load_path = _locate(src)
    q = Quarantine()
    tables: dict[str, pd.DataFrame] = {}
    cells: dict[str, dict[str, int]] = {}

    step(f"reading {load_path.name}")
    load_long, days, cells["region_load"] = hours_long(read_table_file(load_path), "zone_id", "zone_", load_path.name)
    load_long = load_long.rename(columns={"series": "region", "value": "load_kw"})
    step(f"validating {len(load_long):,} hourly loads")
    load = validation.region_load(load_long, q, load_path.name, rules=rules)
    tables["region_load"] = load
    first_hour = days.min() if len(days) else None
    last_hour = days.max() + pd.Timedelta(hours=23) if len(days) else None
    q.reports["region_load"].gaps = validation.hourly_gaps(load, "region", first_hour, last_hour)

    weather = None
    if (folder / TEMPERATURE).exists():
        step(f"reading {TEMPERATURE}")
        raw = read_table_file(folder / TEMPERATURE)
        temp_long, _, cells["weather_hourly"] = hours_long(raw, "station_id", "station_", TEMPERATURE)
        temp_long = temp_long.rename(columns={"series": "station"})
        temp_long["temperature_c"] = fahrenheit_to_celsius(_numbers(temp_long.pop("value")))
        weather = validation.weather_hourly(temp_long, q, TEMPERATURE)
        tables["weather_hourly"] = weather
        q.reports["weather_hourly"].gaps = validation.hourly_gaps(weather, "station", first_hour, last_hour)
    tables["weather_stations"] = pd.DataFrame({"station": pd.Series([], dtype=object),
                                               "region": pd.Series([], dtype=object)})
    holidays = _holidays(folder / HOLIDAYS, q) if (folder / HOLIDAYS).exists() else None
    if len(load):
        tables["calendar"] = calendar(load["ts"].min().normalize(), load["ts"].max().normalize(), weather, holidays)
    as_of = load["ts"].max().normalize() + pd.Timedelta(days=1) if len(load) else None
    notes = {"weather_stations": STATION_NOTE, "time": CLOCK_NOTE, "cells": cells,
             "outage_hours": {r: int(n) for r, n in load[load["outage"]].groupby("region").size().items()}}
    return finish(out, q, tables, max_reject_fraction, step, "gefcom2012", notes, as_of=as_of)


def _locate(src: Path) -> tuple[Path, Path]:
    """(the source folder, its load file)."""
    if src.is_file():
        return src.parent, src
    if src.is_dir():
        if not (src / LOAD).exists():
            raise ImportFailed(f"{src}: no {LOAD} (the GEFCom2012 load track)")
        return src, src / LOAD
    raise ImportFailed(f"{src}: no such file or folder")


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers with thousands separators ("16,853"); what is not a number becomes NaN."""
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def hours_long(raw: pd.DataFrame, id_col: str, prefix: str, file: str) -> tuple[pd.DataFrame, pd.Series, dict]:
    """A day-per-row file (`id_col`, year, month, day, h1..h24) -> one row per given hour:
    (series, ts, value as text with its thousands separators removed, _line), the valid days,
    and the count of cells (given and blank). A blank cell is a missing hour, not a row; a
    day that is not a date leaves its hours' ts missing (quarantined as ts_unparseable)."""
    missing = [c for c in [id_col, "year", "month", "day", *HOURS] if c not in raw.columns]
    if missing:
        raise ImportFailed(f"{file}: missing column(s) {', '.join(missing)}")
    parts = {p: pd.to_numeric(raw[p].astype("string").str.strip(), errors="coerce") for p in ("year", "month", "day")}
    day = pd.to_datetime(pd.DataFrame(parts), errors="coerce").astype("datetime64[us]")
    ident = raw[id_col].astype("string").str.strip()
    series = (prefix + ident).where(ident.ne("").fillna(False))
    text = raw[HOURS].astype("string")
    values = text.apply(lambda s: s.str.strip()).to_numpy(dtype=object)
    given = ~pd.isna(values)
    given[given] = values[given] != ""
    rows, cols = np.nonzero(given)
    ts = day.to_numpy()[rows] + cols.astype("timedelta64[h]")
    long = pd.DataFrame({
        "series": series.to_numpy(dtype=object)[rows],
        "ts": pd.Series(ts, dtype="datetime64[us]"),
        "value": pd.Series(values[rows, cols], dtype="string").str.replace(",", "", regex=False),
        "_line": raw["_line"].to_numpy()[rows],
    })
    counts = {"cells": int(given.size), "given": int(given.sum()), "blank": int((~given).sum())}
    return long, day.dropna(), counts


_YEAR = re.compile(r",\s*(\d{4})\s*$")


def _holidays(path: Path, q: Quarantine) -> pd.Series:
    """The holiday dates: one cell per holiday and year; a cell naming its own year (New Year's
    Day observed on December 31 of the year before) keeps it; a blank cell is no holiday."""
    raw = read_table_file(path)
    year_cols = [c for c in raw.columns if re.fullmatch(r"\d{4}", str(c))]
    if not year_cols:
        raise ImportFailed(f"{path.name}: no year columns (expected a header such as ,2004,2005,...)")
    long = raw.melt(id_vars=["_line"], value_vars=year_cols, var_name="year", value_name="cell")
    long = long[long["cell"].astype("string").str.strip().ne("").fillna(False)].copy()
    text = long["cell"].astype("string").str.strip()
    own_year = text.str.extract(_YEAR, expand=False)
    body = text.str.replace(_YEAR, "", regex=True).str.split(",", n=1).str[-1].str.strip()
    stamp = body + " " + own_year.fillna(long["year"].astype("string"))
    date = pd.to_datetime(stamp, format="%B %d %Y", errors="coerce").astype("datetime64[us]")
    long["date"] = date
    ok = q.split("holidays", long, [("ts_unparseable", date.isna())], path.name, 2)
    return ok["date"].drop_duplicates()


def calendar(first: pd.Timestamp, last: pd.Timestamp, weather: pd.DataFrame | None,
             holidays: pd.Series | None) -> pd.DataFrame:
    """One row per day from `first` to `last`: holidays and the day's temperatures (of the
    mean over the stations' hours; missing when no station gave an hour)."""
    days = pd.DataFrame({"date": pd.date_range(first, last, freq="D").astype("datetime64[us]")})
    if weather is not None and len(weather):
        hourly = weather.groupby("ts")["temperature_c"].mean()
        daily = hourly.groupby(hourly.index.normalize()).agg(["mean", "max", "min"])
        daily.index = daily.index.astype("datetime64[us]")
        for col in ("mean", "max", "min"):
            days[f"temperature_{col}"] = days["date"].map(daily[col]).astype(float)
    else:
        for col in ("mean", "max", "min"):
            days[f"temperature_{col}"] = np.nan
    days["is_holiday"] = days["date"].isin(holidays if holidays is not None else []).astype(bool)
    return days[["date", "temperature_mean", "temperature_max", "temperature_min", "is_holiday"]]
