"""Malformed inputs: one line per problem, bad rows quarantined with reasons, the rest kept."""

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from powerlens.cli import app
from powerlens.importers.utility_export import ImportFailed, import_utility_export


@pytest.fixture()
def tiny_export(small_raw, tmp_path):
    """A copy of a small export whose daily readings are CSV we can break by hand."""
    src = tmp_path / "raw"
    shutil.copytree(small_raw, src)
    daily = pd.read_parquet(src / "readings_daily.parquet")
    (src / "readings_daily.parquet").unlink()
    (src / "readings_hourly.parquet").unlink()
    meters = daily["meter_no"].astype(str).unique()[:3]
    daily = daily[daily["meter_no"].astype(str).isin(meters)].head(60).copy()
    daily["meter_no"] = daily["meter_no"].astype(str)
    daily["reading_date"] = daily["reading_date"].dt.strftime("%Y-%m-%d")
    daily["kwh"] = daily["kwh"].astype(str)
    return src, daily


def _write(src, daily, bad_rows):
    frame = pd.concat([daily, pd.DataFrame(bad_rows)], ignore_index=True)
    frame.to_csv(src / "readings_daily.csv", index=False)
    return frame


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


def test_cli_prints_one_line_per_problem_and_no_traceback(tiny_export, key_file, tmp_path):
    src, daily = tiny_export
    first = daily.iloc[0]
    _write(src, daily, [{"meter_no": first["meter_no"], "reading_date": "2026-01-05", "kwh": "-1"},
                        {"meter_no": "MT0000000000", "reading_date": "2026-01-05", "kwh": "1"}])
    result = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / "clean"),
                                      "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "quarantined:" in ln]
    assert len(lines) == 2
    assert any("kwh_negative" in ln and "readings_daily.csv line" in ln for ln in lines)
    assert any("unknown_customer" in ln for ln in lines)
    assert "Traceback" not in result.output


def test_too_many_rejects_fail_with_the_top_reasons(tiny_export, key, tmp_path):
    src, daily = tiny_export
    daily = daily.assign(kwh="-1")
    _write(src, daily, [])
    with pytest.raises(ImportFailed, match="kwh_negative"):
        import_utility_export(src, tmp_path / "clean", key, max_reject_fraction=0.001)


def test_missing_column_is_a_one_line_error_with_exit_code_2(tiny_export, key_file, tmp_path):
    src, daily = tiny_export
    daily.drop(columns=["kwh"]).to_csv(src / "readings_daily.csv", index=False)
    result = CliRunner().invoke(app, ["validate", str(src), "--out", str(tmp_path / "clean"),
                                      "--key-file", str(key_file)])
    assert result.exit_code == 2
    assert "readings_daily.csv: missing column(s) kwh" in result.output
    assert "Traceback" not in result.output


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
