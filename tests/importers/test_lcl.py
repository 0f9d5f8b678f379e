"""The London smart-meter (LCL) importer on its real sample."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerlens.importers import import_source
from support import assert_no_raw_ids, assert_reconciled, real_data

pytestmark = [pytest.mark.slow, pytest.mark.real_data]


@pytest.fixture(scope="session")
def lcl_import(key, tmp_path_factory):
    src = real_data("lcl_london")
    out = tmp_path_factory.mktemp("lcl")
    t0 = time.perf_counter()
    summary = import_source("lcl", src, out, key)
    seconds = time.perf_counter() - t0
    return src, out, summary, seconds


def test_lcl_sample_imports_within_a_minute_and_reconciles(lcl_import):
    src, out, summary, seconds = lcl_import
    assert seconds <= 60, f"LCL import took {seconds:.1f}s"
    assert_reconciled(summary)
    source = pd.read_parquet(src / "daily_dataset.parquet", columns=["LCLid", "energy_sum", "energy_count"])
    daily = summary["tables"]["readings_daily"]
    assert daily["rows_in"] == len(source)
    written = pd.read_parquet(out / "readings_daily.parquet")
    assert len(written) == daily["accepted"] == summary["written"]["readings_daily"]
    # the only bad rows are the empty ones (an all-empty household's rows: unknown_customer)
    assert daily["quarantined"] == int(source["energy_sum"].isna().sum())
    assert set(daily["reasons"]) <= {"kwh_not_numeric", "unknown_customer"}
    customers = pd.read_parquet(out / "customers.parquet")
    # households whose every reading is empty have no start date: quarantined, not invented
    empty = source.groupby("LCLid")["energy_sum"].count().eq(0).sum()
    assert summary["tables"]["customers"]["reasons"] == ({"no_readings": int(empty)} if empty else {})
    assert len(customers) == source["LCLid"].nunique() - empty == written["customer_id"].nunique()
    assert set(customers["customer_class"]) == {"residential"} and set(customers["region"]) == {"london"}
    info = pd.read_csv(src / "informations_households.csv")
    assert customers["tou_tariff"].sum() == (info["stdorToU"] == "ToU").sum()
    assert customers["start_date"].notna().all()
    # households that stopped reporting well before the end get an end date after their last day
    last = written.groupby("customer_id", observed=True)["ts"].max()
    ended = customers.set_index("customer_id")["end_date"].dropna()
    assert (ended.index.isin(last.index)).all()
    assert (ended > last.reindex(ended.index)).all()
    print(f"\nLCL: {summary['rows_in']:,} rows in {seconds:.1f}s = {summary['rows_in'] / seconds:,.0f} rows/s")


def test_lcl_partial_days_are_flagged_not_hidden(lcl_import):
    src, out, _, _ = lcl_import
    source = pd.read_parquet(src / "daily_dataset.parquet", columns=["energy_sum", "energy_count"])
    written = pd.read_parquet(out / "readings_daily.parquet")
    expected = int(((source["energy_count"] < 48) & source["energy_sum"].notna()).sum())
    assert expected > 0
    assert int(written["partial_day"].sum()) == expected
    assert (written.loc[written["partial_day"], "n_intervals"] < 48).all()
    assert {"kwh_min_interval", "kwh_max_interval", "n_intervals"} <= set(written.columns)
    assert (written["kwh_min_interval"] <= written["kwh_max_interval"] + 1e-6).all()


def test_lcl_labels_calendar_and_no_raw_ids(lcl_import):
    src, out, summary, _ = lcl_import
    labels = pd.read_parquet(out / "labels.parquet")
    assert set(labels["task"]) == {"acorn_group"}
    assert set(labels["label"]) == {"Affluent", "Comfortable", "Adversity"}
    assert (labels["as_of"] == pd.Timestamp("2014-03-01")).all()
    info = pd.read_csv(src / "informations_households.csv")
    unclassified = int((~info["Acorn_grouped"].isin(["Affluent", "Comfortable", "Adversity"])).sum())
    reasons = summary["tables"]["labels"]["reasons"]
    assert reasons["label_not_allowed"] == unclassified
    assert reasons.get("unknown_customer", 0) == summary["tables"]["customers"]["quarantined"]
    assert len(labels) == len(info) - sum(reasons.values())
    cal = pd.read_parquet(out / "calendar.parquet")
    assert cal["date"].is_unique and cal["date"].min() == pd.Timestamp("2011-11-23")
    assert cal["is_holiday"].sum() > 10 and cal["temperature_mean"].notna().mean() > 0.99
    assert (pd.to_datetime(cal.loc[cal["is_holiday"], "date"]).dt.strftime("%m-%d") == "12-25").any()
    assert_no_raw_ids(out, set(info["LCLid"]))
    assert "Acorn" not in pd.read_parquet(out / "customers.parquet").columns


def _lcl_subset(src: Path, n_households: int = 3) -> pd.DataFrame:
    daily = pd.read_parquet(src / "daily_dataset.parquet")
    ids = sorted(daily["LCLid"].unique())[:n_households]
    return daily[daily["LCLid"].isin(ids)].reset_index(drop=True)


def _lcl_folder(src: Path, dest: Path, daily: pd.DataFrame, with_acorn: bool = True) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    info = pd.read_csv(src / "informations_households.csv")
    info = info[info["LCLid"].isin(daily["LCLid"])]
    if not with_acorn:
        info = info.drop(columns=["Acorn", "Acorn_grouped"])
    info.to_csv(dest / "informations_households.csv", index=False)
    return dest


def test_lcl_csv_blocks_match_parquet_and_a_source_without_labels_writes_no_labels(key, tmp_path):
    src = real_data("lcl_london")
    daily = _lcl_subset(src)
    a = _lcl_folder(src, tmp_path / "a", daily)
    daily.to_parquet(a / "daily_dataset.parquet", index=False)
    b = _lcl_folder(src, tmp_path / "b", daily, with_acorn=False)
    (b / "daily_dataset").mkdir()
    half = len(daily) // 2
    daily.iloc[:half].to_csv(b / "daily_dataset" / "block_0.csv", index=False)
    with gzip.open(b / "daily_dataset" / "block_1.csv.gz", "wt") as fh:
        daily.iloc[half:].to_csv(fh, index=False)
    out = tmp_path / "out"
    sa = import_source("lcl", a, out, key)
    assert (out / "labels.parquet").exists()
    from_parquet = pd.read_parquet(out / "readings_daily.parquet")
    sb = import_source("lcl", b, out, key)  # same folder: the old labels must not survive
    assert not (out / "labels.parquet").exists() and "labels" not in sb["written"]
    from_csv = pd.read_parquet(out / "readings_daily.parquet")
    assert sa["written"]["readings_daily"] == sb["written"]["readings_daily"] == len(daily)
    pd.testing.assert_frame_equal(from_parquet.drop(columns="customer_id"), from_csv.drop(columns="customer_id"),
                                  check_dtype=False)
    assert list(from_parquet["customer_id"].astype(str)) == list(from_csv["customer_id"].astype(str))


def test_lcl_half_hourly_form_becomes_hourly_and_daily(key, tmp_path):
    src = real_data("lcl_london")
    info = pd.read_csv(src / "informations_households.csv").head(2)
    ts = pd.date_range("2013-01-01", periods=96, freq="30min")
    rows = pd.DataFrame({
        "LCLid": np.repeat(info["LCLid"].to_numpy(), len(ts)),
        "tstp": np.tile(ts.strftime("%Y-%m-%d %H:%M:%S.0000000"), 2),
        "energy(kWh/hh)": np.tile(np.full(len(ts), "0.25"), 2),
    })
    rows.loc[5, "energy(kWh/hh)"] = "Null"
    dest = tmp_path / "hh"
    dest.mkdir()
    info.to_csv(dest / "informations_households.csv", index=False)
    rows.to_csv(dest / "halfhourly_dataset.csv", index=False)
    summary = import_source("lcl", dest, tmp_path / "out", key)
    assert_reconciled(summary)
    assert summary["tables"]["readings_halfhourly"]["reasons"] == {"kwh_not_numeric": 1}
    hourly = pd.read_parquet(tmp_path / "out" / "readings_hourly.parquet")
    assert len(hourly) == 2 * 48 and hourly["kwh"].max() == pytest.approx(0.5)
    assert hourly["partial_hour"].sum() == 1 and hourly["n_intervals"].max() == 2
    daily = pd.read_parquet(tmp_path / "out" / "readings_daily.parquet")
    assert len(daily) == 4 and daily["partial_day"].sum() == 1
    assert daily["kwh"].max() == pytest.approx(12.0)
