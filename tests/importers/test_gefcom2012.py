"""The GEFCom2012 load-track importer: hours, units, gaps, outages and quarantine on a small file
in the source's layout, and on the real files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerlens.importers import FORMATS, ImportFailed, import_source
from support import assert_reconciled, real_data

HOURS = [f"h{k}" for k in range(1, 25)]


def _day(zone, y, m, d, values) -> list:
    return [zone, y, m, d, *values]


def _gefcom_files(dest: Path) -> None:
    """Two zones x 40 days; zone 2 is small with two near-zero hours; blanks, bad values and a
    day given twice."""
    dest.mkdir(parents=True, exist_ok=True)
    rows = []
    days = pd.date_range("2004-01-01", periods=40)
    for zone, level in ((1, 16000), (2, 500)):
        for i, day in enumerate(days):
            values = [f"{level + 10 * h + i:,}" for h in range(24)]
            if zone == 1 and i == 3:
                values = [""] * 24  # a withheld day
            if zone == 2 and i == 5:
                values[6], values[7] = "1", "0"  # an outage
            if zone == 1 and i == 7:
                values[0], values[1], values[2] = "-5", "n/a", "99,000,000,000,000"
            rows.append(_day(zone, day.year, day.month, day.day, values))
    rows.append(_day(1, 2004, 1, 10, ["17,000"] * 24))  # day 10 of zone 1 again: 24 duplicate hours
    load = pd.DataFrame(rows, columns=["zone_id", "year", "month", "day", *HOURS])
    load.to_csv(dest / "Load_history.csv", index=False)
    temps = pd.DataFrame([_day(s, d.year, d.month, d.day, [32 + h for h in range(24)])
                          for s in (1, 2) for d in days], columns=["station_id", "year", "month", "day", *HOURS])
    temps.loc[0, "h2"] = 400  # 204 C: impossible
    temps.to_csv(dest / "temperature_history.csv", index=False)
    (dest / "Holiday_List.csv").write_text(
        ',2004,2005\nNew Year\'s Day,"Thursday, January 1","Friday, December 31, 2004"\n'
        '"Birthday of Martin Luther King, Jr.","Monday, January 19","Monday, January 17"\n')


def test_gefcom_hours_units_gaps_outages_and_quarantine_reconcile(key, tmp_path):
    assert "gefcom2012" in FORMATS
    src, out = tmp_path / "gefcom", tmp_path / "out"
    _gefcom_files(src)
    summary = import_source("gefcom2012", src, out, key, max_reject_fraction=0.1)
    assert_reconciled(summary)
    t = summary["tables"]["region_load"]
    given = 2 * 40 * 24 - 24 + 24
    assert t["rows_in"] == given and summary["notes"]["cells"]["region_load"]["blank"] == 24
    assert t["reasons"] == {"load_negative": 1, "load_not_numeric": 1, "load_implausible": 1, "duplicate_hour": 24}
    q = pd.read_parquet(out / "quarantine" / "region_load.parquet")
    assert set(q["source_file"]) == {"Load_history.csv"}
    assert sorted(q.loc[q["reason"] != "duplicate_hour", "source_line"].unique()) == [2 + 7]
    assert (q.loc[q["reason"] == "duplicate_hour", "source_line"] == 2 + 80).all()
    load = pd.read_parquet(out / "region_load.parquet")
    assert len(load) == t["accepted"] == summary["written"]["region_load"]
    assert sorted(load["region"].unique()) == ["zone_1", "zone_2"]
    z1 = load[load["region"] == "zone_1"].set_index("ts")["load_kw"]
    assert z1[pd.Timestamp("2004-01-01 00:00")] == 16000  # h1, the hour ending 01:00, is 00:00
    assert z1[pd.Timestamp("2004-01-01 23:00")] == 16230
    assert z1[pd.Timestamp("2004-01-10 00:00")] == 16009  # the first of the duplicated days is kept
    # the withheld day is a gap, not zeros; the quarantined hours are gaps too
    assert not z1.index.isin(pd.date_range("2004-01-04", periods=24, freq="h")).any()
    gaps = t["gaps"]
    assert gaps["zone_1"]["hours"] == 24 + 3
    assert gaps["zone_1"]["ranges"] == [["2004-01-04 00:00", "2004-01-04 23:00"], ["2004-01-08 00:00", "2004-01-08 02:00"]]
    assert "zone_2" not in gaps
    outage = load[load["outage"]]
    assert outage["region"].eq("zone_2").all()
    assert outage["ts"].tolist() == [pd.Timestamp("2004-01-06 06:00"), pd.Timestamp("2004-01-06 07:00")]
    assert not load.loc[load["region"] == "zone_1", "outage"].any()
    weather = pd.read_parquet(out / "weather_hourly.parquet")
    w1 = weather[weather["station"] == "station_1"].set_index("ts")["temperature_c"]
    assert w1[pd.Timestamp("2004-01-01 00:00")] == pytest.approx(0.0)  # 32 F
    assert w1[pd.Timestamp("2004-01-01 05:00")] == pytest.approx((37 - 32) * 5 / 9)
    assert summary["tables"]["weather_hourly"]["reasons"] == {"temperature_out_of_range": 1}
    assert len(pd.read_parquet(out / "weather_stations.parquet")) == 0
    assert "does not say which weather station" in summary["notes"]["weather_stations"]
    calendar = pd.read_parquet(out / "calendar.parquet")
    assert calendar.loc[calendar["is_holiday"], "date"].dt.strftime("%m-%d").tolist() == ["01-01", "01-19"]
    assert calendar["temperature_mean"].notna().all()
    validation = json.loads((out / "validation.json").read_text())
    assert validation["as_of"] == "2004-02-10"  # the day after the last load hour
    assert validation["tables"]["region_load"]["gaps"] == gaps
    assert any("zone_1: 27 hour(s) missing" in p for p in validation["problems"])


def test_gefcom_refuses_a_missing_folder_a_mapping_and_missing_hour_columns(key, tmp_path):
    with pytest.raises(ImportFailed, match="no Load_history.csv"):
        import_source("gefcom2012", tmp_path, tmp_path / "out", key)
    with pytest.raises(ImportFailed, match="takes no mapping"):
        import_source("gefcom2012", tmp_path, tmp_path / "out", key, mapping=tmp_path / "m.yaml")
    (tmp_path / "Load_history.csv").write_text("zone_id,year,month,day,h1\n1,2004,1,1,5\n")
    with pytest.raises(ImportFailed, match=r"Load_history.csv: missing column\(s\) h2"):
        import_source("gefcom2012", tmp_path, tmp_path / "out", key)


@pytest.mark.slow
@pytest.mark.real_data
def test_real_gefcom_20_zones_celsius_gaps_outages_and_counts(key, tmp_path):
    src = real_data("gefcom2012_load")
    out = tmp_path / "gefcom"
    t0 = time.perf_counter()
    summary = import_source("gefcom2012", src, out, key)
    seconds = time.perf_counter() - t0
    assert seconds < 30, seconds
    assert_reconciled(summary)
    raw = pd.read_csv(src / "Load_history.csv", dtype=str)
    cells = raw[HOURS].to_numpy()
    blank = int(pd.isna(cells).sum())
    t = summary["tables"]["region_load"]
    assert t["rows_in"] + blank == cells.size  # every cell is a row or a gap
    assert t["accepted"] + t["quarantined"] == t["rows_in"] == summary["written"]["region_load"] + t["quarantined"]
    load = pd.read_parquet(out / "region_load.parquet")
    assert load["region"].nunique() == 20 and set(load["region"]) == {f"zone_{z}" for z in range(1, 21)}
    assert load["ts"].min() == pd.Timestamp("2004-01-01 00:00") and load["ts"].max() == pd.Timestamp("2007-06-30 23:00")
    first = raw[(raw["zone_id"] == "1") & (raw["year"] == "2004") & (raw["month"] == "1") & (raw["day"] == "1")]
    z1 = load[load["region"] == "zone_1"].set_index("ts")["load_kw"]
    assert z1[pd.Timestamp("2004-01-01 00:00")] == float(first["h1"].iloc[0].replace(",", ""))
    assert z1[pd.Timestamp("2004-01-01 23:00")] == float(first["h24"].iloc[0].replace(",", ""))
    # withheld hours are gaps, never zeros: 8 weeks in every zone
    gaps = t["gaps"]
    assert len(gaps) == 20 and all(g["hours"] == blank // 20 == 8 * 7 * 24 for g in gaps.values())
    assert all(len(g["ranges"]) == 8 for g in gaps.values())
    assert (load["load_kw"] > 0).mean() > 0.9999
    # zone 4's near-zero hours are outages, kept and flagged; zone 9's industrial shutdowns are load
    outages = load[load["outage"]]
    assert set(outages["region"]) == {"zone_4"} and 5 <= len(outages) <= 30
    assert (outages["load_kw"] < 10).all()
    weather = pd.read_parquet(out / "weather_hourly.parquet")
    assert weather["station"].nunique() == 11
    assert -35 < weather["temperature_c"].min() < -10 and 35 < weather["temperature_c"].max() < 45
    assert len(pd.read_parquet(out / "weather_stations.parquet")) == 0
    calendar = pd.read_parquet(out / "calendar.parquet")
    assert len(calendar) == 1277 and calendar["is_holiday"].sum() == 10 * 3 + 4  # 2004-2006, then Jan-May 2007
    assert summary["as_of"] == "2007-07-01"
    # the source's clock: 24 hours every day, so no hour repeats, spring DST days included
    assert not load.duplicated(["region", "ts"]).any()
    assert np.isin(pd.Timestamp("2004-04-04 02:00"), load["ts"].to_numpy())
