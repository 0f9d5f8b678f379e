"""A utility's own hourly load export through the csv mapping: long and wide layouts, a GBK
file with Chinese headers, one line per problem, gaps reported, counts reconciled."""

from __future__ import annotations

import pandas as pd
import pytest

from powerlens.importers import ImportFailed, import_source
from support import assert_reconciled


def _long_gbk_export(dest) -> None:
    """Two substations, October-November 2024: a negative load, a duplicate hour, the autumn
    DST hour given twice (North America: 2024-11-03 01:00), a substation missing for a month."""
    dest.mkdir(parents=True, exist_ok=True)
    hours = pd.date_range("2024-10-01", "2024-11-30 23:00", freq="h")
    a = pd.DataFrame({"变电站": "东城站", "时间": hours.strftime("%Y-%m-%d %H:%M"), "负荷(MW)": "12.5"})
    b_hours = hours[hours >= "2024-11-01"]  # 西城站 misses October
    b = pd.DataFrame({"变电站": "西城站", "时间": b_hours.strftime("%Y-%m-%d %H:%M"), "负荷(MW)": "8.25"})
    frame = pd.concat([a, b], ignore_index=True)
    frame.loc[5, "负荷(MW)"] = "-3"
    extra = pd.DataFrame({"变电站": ["东城站", "东城站"], "时间": ["2024-10-02 00:00", "2024-11-03 01:00"],
                          "负荷(MW)": ["12.6", "12.7"]})
    pd.concat([frame, extra], ignore_index=True).to_csv(dest / "负荷.csv", index=False, encoding="gbk")
    (dest / "mapping.yaml").write_text(
        "version: 1\nencoding: gbk\ntables:\n  region_load:\n    file: 负荷.csv\n    layout: long\n    unit: MW\n"
        "    columns: {变电站: region, 时间: ts, 负荷(MW): load_kw}\n", encoding="utf-8")


def test_long_gbk_load_export_one_line_per_problem_gaps_and_reconciled(key, tmp_path):
    src, out = tmp_path / "load", tmp_path / "out"
    _long_gbk_export(src)
    summary = import_source("csv", src, out, key)
    assert_reconciled(summary)
    t = summary["tables"]
    assert set(t) == {"region_load"}  # a load export needs no customers
    rl = t["region_load"]
    assert rl["reasons"] == {"load_negative": 1, "duplicate_hour": 1, "dst_repeated_hour": 1}
    assert rl["rows_in"] == 61 * 24 + 30 * 24 + 2
    problems = summary["problems"]
    assert sum("load_negative" in p and "负荷.csv line 7" in p for p in problems) == 1
    assert sum("dst_repeated_hour" in p for p in problems) == 1 and sum("duplicate_hour" in p for p in problems) == 1
    # the missing month and the quarantined hour are gaps, never zeros
    assert rl["gaps"]["西城站"] == {"hours": 31 * 24, "ranges": [["2024-10-01 00:00", "2024-10-31 23:00"]]}
    assert rl["gaps"]["东城站"] == {"hours": 1, "ranges": [["2024-10-01 05:00", "2024-10-01 05:00"]]}
    load = pd.read_parquet(out / "region_load.parquet")
    assert len(load) == rl["accepted"]
    assert load.groupby("region")["load_kw"].first().to_dict() == {"东城站": 12500.0, "西城站": 8250.0}  # MW -> kW
    east = load[load["region"] == "东城站"].set_index("ts")["load_kw"]
    assert east[pd.Timestamp("2024-10-02 00:00")] == 12500.0  # the first value of an hour is kept
    assert not load["outage"].any()
    assert summary["as_of"] == "2024-12-01"
    q = pd.read_parquet(out / "quarantine" / "region_load.parquet")
    assert set(q["source_file"]) == {"负荷.csv"} and sorted(q["source_line"]) == [7, 2 + 61 * 24 + 30 * 24, 3 + 61 * 24 + 30 * 24]


@pytest.mark.parametrize(("headers", "hours"), [([f"h{k}" for k in range(1, 25)], None),
                                                 ([f"{k}时" for k in range(24)], "beginning")])
def test_wide_hourly_load_export_hour_columns_to_hour_beginnings(key, tmp_path, headers, hours):
    src, out = tmp_path / "wide", tmp_path / "out"
    src.mkdir()
    rows = []
    for region in ("north", "south"):
        for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
            rows.append([region, day] + [str(100 + h) for h in range(24)])
    frame = pd.DataFrame(rows, columns=["area", "date", *headers])
    frame.iloc[0, 2 + 23] = ""  # north's last hour of 1 March: withheld
    frame.iloc[4, 2 + 10] = "abc"
    frame.iloc[5, 2 + 3] = "0"  # south, 3 March, 03:00: an outage
    frame.to_csv(src / "load.csv", index=False)
    spec = "layout: wide, columns: {area: region, date: date}" + (f", hours: {hours}" if hours else "")
    (src / "mapping.yaml").write_text(f"version: 1\ntables:\n  region_load: {{file: load.csv, {spec}}}\n")
    summary = import_source("csv", src, out, key)
    assert_reconciled(summary)
    rl = summary["tables"]["region_load"]
    assert rl["rows_in"] == 6 * 24 - 1 and rl["reasons"] == {"load_not_numeric": 1}
    assert summary["notes"]["region_load_blank_hours"] == 1
    assert rl["gaps"] == {"north": {"hours": 1, "ranges": [["2024-03-01 23:00", "2024-03-01 23:00"]]},
                          "south": {"hours": 1, "ranges": [["2024-03-02 10:00", "2024-03-02 10:00"]]}}
    load = pd.read_parquet(out / "region_load.parquet").set_index(["region", "ts"])
    assert load.loc[("north", pd.Timestamp("2024-03-01 00:00")), "load_kw"] == 100  # the first hour column
    assert load.loc[("south", pd.Timestamp("2024-03-03 22:00")), "load_kw"] == 122
    assert load["outage"].sum() == 1 and load.loc[("south", pd.Timestamp("2024-03-03 03:00")), "outage"]


def test_wide_load_export_without_24_hour_columns_is_one_line(key, tmp_path):
    src = tmp_path / "wide"
    src.mkdir()
    pd.DataFrame({"area": ["n"], "date": ["2024-03-01"], "h1": ["1"], "h2": ["2"]}).to_csv(src / "load.csv", index=False)
    (src / "mapping.yaml").write_text("version: 1\ntables:\n  region_load: {file: load.csv, layout: wide, "
                                      "columns: {area: region, date: date}}\n")
    with pytest.raises(ImportFailed, match=r"load.csv: a wide load export needs 24 hour columns"):
        import_source("csv", src, tmp_path / "out", key)
    (src / "mapping.yaml").write_text("version: 1\ntables:\n  region_load: {file: load.csv, layout: long, "
                                      "columns: {area: region, date: ts}}\n")
    with pytest.raises(ImportFailed, match=r"mapping.yaml: tables.region_load \(long layout\) maps no column to load_kw"):
        import_source("csv", src, tmp_path / "out", key)
