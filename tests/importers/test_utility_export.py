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
