"""The utility-export importer on malformed inputs: bad rows quarantined with reasons, the rest
kept, counts reconciled, no direct identifier written."""

import shutil

import pandas as pd
import pytest

from powerlens.importers.utility_export import ImportFailed, import_utility_export
from support import write_daily_csv as _write


def test_negative_duplicate_unknown_rows_are_quarantined_and_counts_reconcile(tiny_export, key, tmp_path):
    src, daily = tiny_export
    first = daily.iloc[0]
    bad = [
        {"meter_no": first["meter_no"], "reading_date": "2026-01-05", "kwh": "-3.2"},
        {"meter_no": first["meter_no"], "reading_date": first["reading_date"], "kwh": "9.9"},
        {"meter_no": "MT0000000000", "reading_date": "2026-01-05", "kwh": "4.0"},
        {"meter_no": first["meter_no"], "reading_date": "not a date", "kwh": "4.0"},
        {"meter_no": first["meter_no"], "reading_date": "2026-01-06", "kwh": "abc"},
    ]
    _write(src, daily, bad)
    out = tmp_path / "clean"
    summary = import_utility_export(src, out, key)
    table = summary["tables"]["readings_daily"]
    assert table["rows_in"] == len(daily) + len(bad)
    assert table["accepted"] == len(daily)
    assert table["quarantined"] == len(bad)
    assert table["reconciled"] and summary["reconciled"]
    assert table["reasons"] == {"kwh_negative": 1, "duplicate_reading": 1, "unknown_customer": 1,
                                "ts_unparseable": 1, "kwh_not_numeric": 1}
    q = pd.read_parquet(out / "quarantine" / "readings_daily.parquet")
    assert set(q["reason"]) == set(table["reasons"])
    assert (q["source_file"] == "readings_daily.csv").all()
    # the line numbers point at the bad rows in the CSV (header is line 1)
    assert sorted(q["source_line"]) == [len(daily) + 2 + i for i in range(len(bad))]
    assert len(pd.read_parquet(out / "readings_daily.parquet")) == len(daily)
    assert all("line" in p for p in summary["problems"]) and len(summary["problems"]) == 5


def test_too_many_rejects_fail_with_the_top_reasons(tiny_export, key, tmp_path):
    src, daily = tiny_export
    daily = daily.assign(kwh="-1")
    _write(src, daily, [])
    with pytest.raises(ImportFailed, match="kwh_negative"):
        import_utility_export(src, tmp_path / "clean", key, max_reject_fraction=0.001)


def test_bad_customers_bills_and_payments_are_quarantined(small_raw, key, tmp_path):
    src = tmp_path / "raw"
    shutil.copytree(small_raw, src)
    customers = pd.read_csv(src / "customers.csv", dtype=str)
    extra = customers.iloc[[0]].assign(start_date="2025-05-01", end_date="2024-01-01",
                                       account_no="AC999", meter_no="MT999")
    pd.concat([customers, extra]).to_csv(src / "customers.csv", index=False)
    payments = pd.read_csv(src / "payments.csv", dtype=str)
    ghost = payments.iloc[[0]].assign(bill_no="B_missing")
    pd.concat([payments, ghost]).to_csv(src / "payments.csv", index=False)
    summary = import_utility_export(src, tmp_path / "clean", key)
    assert summary["tables"]["customers"]["reasons"] == {"end_before_start": 1}
    assert summary["tables"]["payments"]["reasons"] == {"payment_without_bill": 1}
    assert summary["reconciled"]


def test_no_direct_identifier_survives_the_import(small_raw, small_clean):
    customers = pd.read_csv(small_raw / "customers.csv", dtype=str)
    raw_values = set(customers["account_no"]) | set(customers["meter_no"]) | set(customers["phone"]) \
        | set(customers["customer_name"]) | set(customers["address"])
    for path in small_clean.rglob("*.parquet"):
        frame = pd.read_parquet(path)
        for col in frame.columns:
            if frame[col].dtype == object or str(frame[col].dtype) in ("str", "string", "category"):
                values = set(frame[col].astype(str).unique())
                assert not (values & raw_values), f"{path.name}:{col} carries a raw identifier"
        assert not {"account_no", "meter_no", "customer_name", "address", "phone"} & set(frame.columns)


def test_the_synthetic_region_load_is_imported_per_region_and_hour(small_clean):
    import pandas as pd

    load = pd.read_parquet(small_clean / "region_load.parquet")
    customers = pd.read_parquet(small_clean / "customers.parquet")
    assert set(load["region"]) == set(customers["region"].astype(str))
    assert not load.duplicated(["region", "ts"]).any() and (load["load_kw"] > 0).all()
    assert (load["ts"] == load["ts"].dt.floor("h")).all() and not load["outage"].any()
    hours = load.groupby("region")["ts"].agg(["min", "max", "size"])
    assert ((hours["max"] - hours["min"]) / pd.Timedelta(hours=1) + 1 == hours["size"]).all()  # no gap


def test_the_tariffs_are_imported_and_every_synthetic_bill_matches_its_tariff(small_clean):
    import json

    summary = json.loads((small_clean / "validation.json").read_text())
    check = summary["bills_against_tariffs"]
    bills = pd.read_parquet(small_clean / "bills.parquet")
    assert check["bills_checked"] == len(bills) > 0
    assert check["bills_matching_tariff"] == len(bills) and check["bills_off_tariff"] == 0
    assert check["bills_without_tariff"] == 0 and check["largest_deviations"] == []
    tariffs = pd.read_parquet(small_clean / "tariffs.parquet")
    assert {"flat", "tou"} == set(tariffs["scheme"]) and (tariffs["price_per_kwh"] > 0).all()
    tou = bills["kwh_peak"].notna()  # the ToU bills keep their kWh per period
    periods = [c for c in ("kwh_sharp", "kwh_peak", "kwh_flat", "kwh_valley") if c in bills]
    assert tou.any() and {"kwh_peak", "kwh_valley"} <= set(periods)
    assert ((bills.loc[tou, periods].sum(axis=1) - bills.loc[tou, "kwh"]).abs()
            <= 0.01 * bills.loc[tou, "kwh"] + 0.01).all()


def test_an_export_without_tariffs_removes_an_earlier_tariffs_table(small_raw, key, tmp_path):
    src = tmp_path / "raw"
    shutil.copytree(small_raw, src)
    out = tmp_path / "clean"
    import_utility_export(src, out, key)
    assert (out / "tariffs.parquet").exists()
    (src / "tariffs.csv").unlink()
    summary = import_utility_export(src, out, key)
    assert not (out / "tariffs.parquet").exists() and "bills_against_tariffs" not in summary


# --------------------------------------------------------------------------- partitions

def _broken_export(small_raw, folder, n_customers=40):
    """The first customers of the small export, with readings that break rules across batch and
    partition boundaries: a duplicate far from its original, a negative and a spiking reading,
    an unknown meter, a daily total that its complete hourly day contradicts, and a meter
    listed twice (the second account's readings go to the first)."""
    import numpy as np

    folder.mkdir()
    customers = pd.read_csv(small_raw / "customers.csv", dtype=str)
    hourly = pd.read_parquet(small_raw / "readings_hourly.parquet")
    # customers with hourly readings first, so that the daily-vs-hourly rule is exercised
    with_hourly = set(hourly["meter_no"].astype(str))
    customers = customers.assign(_h=~customers["meter_no"].isin(with_hourly)).sort_values("_h", kind="stable")
    customers = customers.drop(columns="_h").head(n_customers)
    shared = customers.iloc[[1]].assign(account_no="AC_SHARED_METER")  # the same meter, another account
    pd.concat([customers, shared]).to_csv(folder / "customers.csv", index=False)
    accounts, meters = set(customers["account_no"]), set(customers["meter_no"])
    for name in ("bills", "payments", "service_events"):
        frame = pd.read_csv(small_raw / f"{name}.csv", dtype=str)
        frame[frame["account_no"].isin(accounts)].to_csv(folder / f"{name}.csv", index=False)
    for name in ("weather_daily.csv", "region_load.csv"):
        shutil.copy(small_raw / name, folder / name)
    hourly = hourly[hourly["meter_no"].astype(str).isin(meters)].reset_index(drop=True)
    assert hourly["meter_no"].nunique() >= 3
    hourly.to_parquet(folder / "readings_hourly.parquet", index=False)
    daily = pd.read_parquet(small_raw / "readings_daily.parquet")
    daily = daily[daily["meter_no"].astype(str).isin(meters)].reset_index(drop=True)
    daily = daily.assign(meter_no=daily["meter_no"].astype(str), reading_date=daily["reading_date"].dt.strftime("%Y-%m-%d"),
                         kwh=daily["kwh"].map(repr))
    first, other = daily.iloc[0], daily.iloc[len(daily) // 2]
    h_meter = str(hourly["meter_no"].iloc[0])
    of_meter = hourly[hourly["meter_no"].astype(str) == h_meter]
    h_day = of_meter["reading_ts"].dt.normalize().iloc[48]
    day_total = float(of_meter.loc[of_meter["reading_ts"].dt.normalize() == h_day, "kwh"].sum())
    contradicted = daily.index[(daily["meter_no"] == h_meter) & (daily["reading_date"] == h_day.strftime("%Y-%m-%d"))]
    assert len(contradicted) == 1
    daily.loc[contradicted, "kwh"] = repr(round(day_total * 1.3, 3))  # its 24 hours say otherwise
    bad = pd.DataFrame([
        {"meter_no": first["meter_no"], "reading_date": first["reading_date"], "kwh": "1.5"},   # duplicate
        {"meter_no": other["meter_no"], "reading_date": "2021-01-05", "kwh": "-3"},             # negative
        {"meter_no": "MT_UNKNOWN", "reading_date": "2024-01-05", "kwh": "4.0"},                 # unknown meter
        {"meter_no": other["meter_no"], "reading_date": "not a date", "kwh": "4.0"},
    ])
    rng = np.random.default_rng(0)
    mixed = pd.concat([daily, bad], ignore_index=True)
    # the source order interleaves customers, so every batch holds rows of every partition
    mixed = mixed.iloc[np.r_[rng.permutation(len(daily)), np.arange(len(daily), len(mixed))]]
    mixed.to_csv(folder / "readings_daily.csv", index=False)
    return folder


def _outputs(out):
    import json

    tables = {p.relative_to(out).as_posix(): pd.read_parquet(p) for p in sorted(out.rglob("*.parquet"))}
    for frame in tables.values():
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.CategoricalDtype):
                frame[col] = frame[col].astype(str)
    return tables, json.loads((out / "validation.json").read_text())


def test_partitions_of_three_customers_give_the_outputs_of_one_partition(small_raw, key, tmp_path, monkeypatch):
    from powerlens.importers import utility_export

    src = _broken_export(small_raw, tmp_path / "raw")
    one, three = tmp_path / "one" / "clean", tmp_path / "three" / "clean"
    whole = import_utility_export(src, one, key, max_reject_fraction=1.0, customers_per_partition=10**6)
    monkeypatch.setattr(utility_export, "READ_BATCH_ROWS", 997)  # many batches, each split over partitions
    seen = []
    parts = import_utility_export(src, three, key, max_reject_fraction=1.0, customers_per_partition=3,
                                  progress=seen.append)
    assert any("partition 14/14" in line for line in seen)  # 41 accounts, 40 meters: 14 partitions
    assert parts == whole
    reasons = whole["tables"]["readings_daily"]["reasons"]
    assert reasons == {"duplicate_reading": 1, "kwh_negative": 1, "unknown_customer": 1, "ts_unparseable": 1,
                       "inconsistent_aggregate": 1}, reasons
    for table in ("readings_daily", "readings_hourly"):
        counts = whole["tables"][table]
        assert counts["rows_in"] == counts["accepted"] + counts["quarantined"] and counts["reconciled"]
    (tables_one, summary_one), (tables_three, summary_three) = _outputs(one), _outputs(three)
    assert summary_one == summary_three
    assert list(tables_one) == list(tables_three) and "quarantine/readings_daily.parquet" in tables_one
    for name, frame in tables_one.items():
        pd.testing.assert_frame_equal(tables_three[name], frame, obj=name)
    daily = tables_three["readings_daily.parquet"]
    assert daily["customer_id"].is_monotonic_increasing  # one file, in customer order, as the readers expect
    assert not daily.duplicated(["customer_id", "ts"]).any()
    # the second account of the shared meter has no readings: its meter's go to the first account
    assert daily["customer_id"].nunique() == 40
    assert not list(three.parent.glob(".*"))  # the spill folder is gone


def test_partitions_validated_on_a_dask_cluster_give_the_outputs_of_the_local_engine(small_raw, key, tmp_path):
    """validate.engine dask: the partitions' readings validated by the workers of a 2-process
    LocalCluster (reading the spill folder), their quarantines merged in order: the same
    canonical tables, quarantine and validation.json as in this process."""
    src = _broken_export(small_raw, tmp_path / "raw")
    local, on_dask = tmp_path / "local" / "clean", tmp_path / "dask" / "clean"
    summary_local = import_utility_export(src, local, key, max_reject_fraction=1.0, customers_per_partition=7)
    seen = []
    summary_dask = import_utility_export(src, on_dask, key, max_reject_fraction=1.0, customers_per_partition=7,
                                         engine="dask", progress=seen.append)
    assert any("local Dask cluster with 2 worker(s)" in line for line in seen)
    assert sum("(on Dask)" in line for line in seen) == 6  # 40 meters' accounts in partitions of 7
    assert summary_dask == summary_local
    assert summary_dask["tables"]["readings_daily"]["quarantined"] == 5
    (tables_local, json_local), (tables_dask, json_dask) = _outputs(local), _outputs(on_dask)
    assert json_local == json_dask and list(tables_local) == list(tables_dask)
    for name, frame in tables_local.items():
        pd.testing.assert_frame_equal(tables_dask[name], frame, obj=name)
    assert not list(on_dask.parent.glob(".*"))  # the spill folder is gone


def test_a_failed_import_leaves_the_previous_readings_and_no_spill(small_raw, key, tmp_path):
    src = _broken_export(small_raw, tmp_path / "raw")
    out = tmp_path / "clean"
    import_utility_export(src, out, key, max_reject_fraction=1.0, customers_per_partition=5)
    before = (out / "readings_daily.parquet").read_bytes()
    with pytest.raises(ImportFailed, match="rows rejected"):
        import_utility_export(src, out, key, max_reject_fraction=0.0, customers_per_partition=5)
    assert (out / "readings_daily.parquet").read_bytes() == before and (out / "validation.json").exists()
    assert not [p.name for p in tmp_path.glob(".*")] and not [p.name for p in out.glob(".*")]


def test_the_partition_size_comes_from_params_and_must_be_positive(tmp_path):
    from powerlens.config import Config, ConfigError, load_config

    assert load_config().validate.customers_per_partition >= 1000  # params.yaml sets it, in the thousands
    with pytest.raises(ConfigError, match="validate.customers_per_partition' must be at least 1"):
        Config.from_dict({"validate": {"customers_per_partition": 0}})
    with pytest.raises(ImportFailed, match="customers_per_partition must be at least 1"):
        import_utility_export(tmp_path, tmp_path / "clean", b"k" * 32, customers_per_partition=0)
