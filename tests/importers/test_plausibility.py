"""Impossible values are quarantined by every importer (kwh_implausible, inconsistent_aggregate,
amount_implausible, value_implausible), counts reconcile, and the synthetic utility loses no row
to the plausibility rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerlens.config import ConfigError, load_config
from powerlens.importers import import_source
from powerlens.importers.utility_export import import_utility_export
from support import assert_reconciled, write_daily_csv

N_HOUSEHOLDS, N_DAYS = 20, 90
RESIDENTIAL_DAY_CEILING = 50 * 24 * 1.5  # params: residential max kW x 24 h x capacity_margin


def _lcl_daily(seed: int = 0) -> pd.DataFrame:
    """An LCL daily file (the real layout) of 20 households x 90 consistent days."""
    rng = np.random.default_rng(seed)
    ids = [f"MAC{i:06d}" for i in range(N_HOUSEHOLDS)]
    days = pd.date_range("2013-01-01", periods=N_DAYS).strftime("%Y-%m-%d")
    total = rng.lognormal(np.log(10), 0.3, N_HOUSEHOLDS * N_DAYS).round(3)
    df = pd.DataFrame({"LCLid": np.repeat(ids, N_DAYS), "day": np.tile(days, N_HOUSEHOLDS)})
    df["energy_median"] = (total / 48).round(6)
    df["energy_mean"] = total / 48
    df["energy_max"] = (total / 48 * 3).round(3)
    df["energy_count"] = 48
    df["energy_std"] = 0.1
    df["energy_sum"] = total
    df["energy_min"] = (total / 48 * 0.2).round(3)
    return df.astype(str)


def _households(dest: Path, ids) -> None:
    pd.DataFrame({"LCLid": sorted(set(ids)), "stdorToU": "Std", "Acorn": "ACORN-A",
                  "Acorn_grouped": "Affluent", "file": "block_0"}).to_csv(dest / "informations_households.csv",
                                                                          index=False)


def _plant_60_faults(daily: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, set[int]]]:
    """60 faults on distinct rows (the issue's file: 10 of them 1e12 kWh): reason -> source lines."""
    rng = np.random.default_rng(7)
    rows = rng.choice(len(daily), size=50, replace=False)
    groups = {reason: rows[i * 10:(i + 1) * 10] for i, reason in enumerate(
        ["kwh_implausible", "kwh_not_numeric", "kwh_negative", "inconsistent_aggregate", "history"])}
    daily = daily.copy()
    daily.loc[groups["kwh_implausible"], "energy_sum"] = "1000000000000"
    daily.loc[groups["kwh_not_numeric"], "energy_sum"] = "n/a"
    daily.loc[groups["kwh_negative"], "energy_sum"] = "-3.5"
    # the sum no longer matches mean x count (and still lies between min x 48 and max x 48)
    daily.loc[groups["inconsistent_aggregate"], "energy_mean"] = \
        (daily.loc[groups["inconsistent_aggregate"], "energy_sum"].astype(float) / 48 * 1.5).astype(str)
    # 1500 kWh in a day: under the residential ceiling (1800), ~150x the household's median: its
    # own history says impossible (aggregates kept consistent so only the history flags it)
    hist = groups.pop("history")
    daily.loc[hist, "energy_sum"] = "1500"
    daily.loc[hist, "energy_mean"] = str(1500 / 48)
    daily.loc[hist, "energy_max"] = "50"
    lines = {reason: set((idx + 2).tolist()) for reason, idx in groups.items()}
    lines["kwh_implausible"] |= set((hist + 2).tolist())
    # 10 second readings of a household day already given
    dup_rows = [r for r in range(len(daily)) if r not in set(rows)][:10]
    dups = daily.iloc[dup_rows].copy()
    daily = pd.concat([daily, dups], ignore_index=True)
    lines["duplicate_reading"] = set(range(len(daily) - 10 + 2, len(daily) + 2))
    return daily, lines


def test_lcl_file_with_60_planted_faults_quarantines_all_60_with_their_reasons(key, tmp_path):
    clean = _lcl_daily()
    daily, lines = _plant_60_faults(clean)
    src = tmp_path / "lcl"
    src.mkdir()
    daily.to_csv(src / "daily_dataset.csv", index=False)
    _households(src, daily["LCLid"])
    out = tmp_path / "out"
    summary = import_source("lcl", src, out, key, max_reject_fraction=0.05)
    assert_reconciled(summary)
    rep = summary["tables"]["readings_daily"]
    assert rep["rows_in"] == len(daily) == N_HOUSEHOLDS * N_DAYS + 10
    assert rep["reasons"] == {reason: 10 for reason in
                              ("kwh_not_numeric", "kwh_negative", "inconsistent_aggregate", "duplicate_reading")} \
        | {"kwh_implausible": 20}
    assert rep["quarantined"] == 60 and rep["accepted"] == len(daily) - 60
    q = pd.read_parquet(out / "quarantine" / "readings_daily.parquet")
    found = q.groupby("reason")["source_line"].apply(set).to_dict()
    assert found == lines
    assert set(q["source_file"]) == {"daily_dataset.csv"}
    written = pd.read_parquet(out / "readings_daily.parquet")
    assert len(written) == summary["written"]["readings_daily"] == rep["accepted"]
    for col in ("kwh", "kwh_min_interval", "kwh_max_interval"):
        values = written[col].to_numpy(dtype=float)
        assert np.isfinite(values).all() and values.max() < RESIDENTIAL_DAY_CEILING, col
    assert "kwh_mean_interval" not in written  # checked, not kept


def test_lcl_clean_file_and_real_step_changes_lose_nothing(key, tmp_path):
    """Zeros (a vacation), a drop to a tenth (a vacant home) and a doubling are not implausible."""
    daily = _lcl_daily(seed=1)
    total = daily["energy_sum"].astype(float)
    first = daily["LCLid"].eq("MAC000000")
    second = daily["LCLid"].eq("MAC000001")
    day_no = np.tile(np.arange(N_DAYS), N_HOUSEHOLDS)
    total = total.mask(first & (day_no >= 60), 0.0)                                  # away: zero days
    total = total.mask(first & (day_no >= 30) & (day_no < 60), total / 10)           # vacant: a tenth
    total = total.mask(second & (day_no >= 45), total * 2)                            # a heat pump
    daily["energy_sum"] = total.round(3).astype(str)
    daily["energy_mean"] = (total.round(3) / 48).astype(str)
    daily["energy_max"] = (total.round(3) / 48 * 3).round(3).astype(str)
    daily["energy_min"] = (total.round(3) / 48 * 0.2).round(3).astype(str)
    src = tmp_path / "lcl"
    src.mkdir()
    daily.to_csv(src / "daily_dataset.csv", index=False)
    _households(src, daily["LCLid"])
    summary = import_source("lcl", src, tmp_path / "out", key, max_reject_fraction=0.0)
    assert summary["quarantined"] == 0 and summary["written"]["readings_daily"] == len(daily)


def test_lcl_daily_row_that_its_half_hours_contradict_is_quarantined(key, tmp_path):
    src = tmp_path / "both"
    src.mkdir()
    ids = ["MAC000001", "MAC000002"]
    ts = pd.date_range("2013-01-01", periods=48 * 3, freq="30min")
    pd.DataFrame({"LCLid": np.repeat(ids, len(ts)), "tstp": np.tile(ts.strftime("%Y-%m-%d %H:%M:%S"), 2),
                  "energy(kWh/hh)": "0.25"}).to_csv(src / "halfhourly_dataset.csv", index=False)
    days = pd.date_range("2013-01-01", periods=3).strftime("%Y-%m-%d")
    daily = pd.DataFrame({"LCLid": np.repeat(ids, 3), "day": np.tile(days, 2), "energy_sum": "12.0",
                          "energy_count": "48"})
    daily.loc[4, "energy_sum"] = "20.0"  # MAC000002 on 2 January: its half-hours sum to 12
    daily.to_csv(src / "daily_dataset.csv", index=False)
    _households(src, ids)
    summary = import_source("lcl", src, tmp_path / "out", key, max_reject_fraction=1.0)
    assert_reconciled(summary)
    assert summary["tables"]["readings_daily"]["reasons"] == {"inconsistent_aggregate": 1}
    q = pd.read_parquet(tmp_path / "out" / "quarantine" / "readings_daily.parquet")
    assert q["source_line"].tolist() == [6]


def test_synthetic_utility_loses_no_row_to_the_plausibility_rules(small_clean):
    """The generated utility (tamperers' drops, vacations, every class) has no impossible value:
    the default validate quarantines nothing, as before the rules existed."""
    summary = json.loads((small_clean / "validation.json").read_text())
    assert summary["rows_in"] > 1_000_000
    assert summary["quarantined"] == 0, {t: r["reasons"] for t, r in summary["tables"].items()}


def test_synthetic_export_quarantines_impossible_readings_and_bills(tiny_export, key, tmp_path):
    src, daily = tiny_export
    meter = daily["meter_no"].iloc[0]
    frame = write_daily_csv(src, daily, [
        {"meter_no": meter, "reading_date": "2013-06-01", "kwh": "1000000000000"},
        {"meter_no": meter, "reading_date": "2013-06-02", "kwh": "9" * 40},   # inf as float32
    ])
    bills = pd.read_csv(src / "bills.csv", dtype=str, keep_default_na=False)
    bills.loc[0, "amount"] = "9" * 40
    bills.loc[1, "kwh"] = "1e13"
    bills.to_csv(src / "bills.csv", index=False)
    out = tmp_path / "out"
    summary = import_utility_export(src, out, key, max_reject_fraction=1.0)
    assert_reconciled(summary)
    assert summary["tables"]["readings_daily"]["reasons"] == {"kwh_implausible": 2}
    assert summary["tables"]["readings_daily"]["rows_in"] == len(frame)
    assert summary["tables"]["bills"]["reasons"] == {"amount_implausible": 1, "kwh_implausible": 1}
    q = pd.read_parquet(out / "quarantine" / "bills.parquet")
    assert sorted(q["source_line"]) == [2, 3] and set(q["source_file"]) == {"bills.csv"}
    written = pd.read_parquet(out / "bills.parquet")
    assert np.isfinite(written["amount"]).all() and written["amount"].max() < 1e9


def test_the_rules_come_from_params_and_a_stricter_limit_bites(tiny_export, key, tmp_path):
    """validate.plausibility is typed and checked; the importers apply what they are given."""
    rules = load_config().validate.plausibility
    assert rules.max_kw_by_class["residential"] == 50 and rules.capacity_margin == 1.5
    with pytest.raises(ConfigError, match="capacity_margin"):
        rules.replace(capacity_margin=0)
    src, daily = tiny_export
    write_daily_csv(src, daily, [])
    from powerlens.jobs import validate as job

    loose = job.run(src, out=tmp_path / "a", max_reject_fraction=1.0, plausibility=rules, echo=lambda m: None)
    assert loose["quarantined"] == 0
    # a margin of 1%: every day above 0.01 x capacity x 24 h is implausible (the generator's
    # days use 6.5% to 47% of it), so every reading goes
    strict = rules.replace(capacity_margin=0.01)
    summary = job.run(src, out=tmp_path / "b", max_reject_fraction=1.0, plausibility=strict, echo=lambda m: None)
    assert summary["tables"]["readings_daily"]["reasons"] == {"kwh_implausible": len(daily)}


def test_credit_history_and_powerco_quarantine_absurd_numbers(key, tmp_path):
    src = tmp_path / "credit"
    src.mkdir()
    n = 4
    df = pd.DataFrame({"ID": np.arange(1, n + 1), "LIMIT_BAL": [10_000, 20_000, 30_000, 40_000]})
    for c in ("PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"):
        df[c] = 0
    for k in range(1, 7):
        df[f"BILL_AMT{k}"] = 1000
        df[f"PAY_AMT{k}"] = 500
    df = df.astype(str)
    df.loc[0, "BILL_AMT1"] = "9" * 40
    df.loc[1, "BILL_AMT2"] = "-" + "9" * 30       # a credit balance of 1e30
    df.loc[2, "PAY_AMT1"] = "1e20"
    df.loc[3, "LIMIT_BAL"] = "9" * 60
    df.to_csv(src / "credit_default.csv", index=False)
    summary = import_source("credit-history", src, tmp_path / "out", key, max_reject_fraction=1.0)
    assert_reconciled(summary)
    t = summary["tables"]
    assert t["customers"]["reasons"] == {"value_implausible": 1}
    assert t["bills"]["reasons"].get("amount_implausible") == 2
    assert t["payments"]["reasons"].get("amount_implausible") == 1
    for table in ("customers", "bills", "payments"):
        written = pd.read_parquet(tmp_path / "out" / f"{table}.parquet")
        floats = written.select_dtypes("number").to_numpy(dtype=float)
        assert np.isfinite(floats[~np.isnan(floats)]).all() and np.nanmax(np.abs(floats)) < 1e9, table

    pc = tmp_path / "pc"
    pc.mkdir()
    pd.DataFrame({"id": ["a", "b", "c"], "date_activ": "2012-03-01", "pow_max": ["15", "15", "15"],
                  "cons_12m": ["40000", "1e12", "9" * 40], "churn": ["0", "1", "0"]}).to_csv(
        pc / "client_data.csv", index=False)
    summary = import_source("powerco", pc, tmp_path / "pc_out", key, max_reject_fraction=1.0)
    assert summary["tables"]["customers"]["reasons"] == {"kwh_implausible": 1, "value_implausible": 1}
    assert pd.read_parquet(tmp_path / "pc_out" / "customers.parquet")["cons_12m"].tolist() == [40000.0]


def test_synthetic_daily_row_that_its_hours_contradict_is_quarantined(small_raw, key, tmp_path):
    """The export has both daily and hourly readings for interval-metered accounts: a day whose
    24 accepted hours sum to another total is inconsistent_aggregate (the daily row goes)."""
    import shutil

    src = tmp_path / "raw"
    shutil.copytree(small_raw, src)
    hourly = pd.read_parquet(src / "readings_hourly.parquet")
    meters = hourly["meter_no"].astype(str).unique()[:2]
    hourly = hourly[hourly["meter_no"].astype(str).isin(meters)]
    daily = pd.read_parquet(src / "readings_daily.parquet")
    daily = daily[daily["meter_no"].astype(str).isin(meters)].reset_index(drop=True)
    for frame in (hourly, daily):
        frame["meter_no"] = frame["meter_no"].astype(str)
    hourly.to_parquet(src / "readings_hourly.parquet", index=False)
    first_hour = hourly["reading_ts"].min().normalize()
    day = first_hour + pd.Timedelta(days=3)
    row = int(daily.index[(daily["meter_no"] == meters[0]) & (daily["reading_date"] == day)][0])
    daily.loc[row, "kwh"] *= 1.5
    daily.to_parquet(src / "readings_daily.parquet", index=False)
    summary = import_utility_export(src, tmp_path / "out", key, max_reject_fraction=1.0)
    assert_reconciled(summary)
    assert summary["tables"]["readings_daily"]["reasons"] == {"inconsistent_aggregate": 1}
    assert summary["tables"]["readings_hourly"]["quarantined"] == 0
    q = pd.read_parquet(tmp_path / "out" / "quarantine" / "readings_daily.parquet")
    assert q["source_line"].tolist() == [row + 1]  # parquet rows count from 1


def test_csv_daily_file_contradicted_by_its_15min_file_is_quarantined(key, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({"id": ["A1"], "cls": ["residential"], "start": ["2020-01-01"]}).to_csv(src / "c.csv", index=False)
    quarters = pd.date_range("2021-03-01", periods=96 * 2, freq="15min")
    pd.DataFrame({"id": "A1", "ts": quarters.astype(str), "kwh": "0.25"}).to_csv(src / "q.csv", index=False)
    pd.DataFrame({"id": "A1", "ts": ["2021-03-01", "2021-03-02"], "kwh": ["24.0", "30.0"]}).to_csv(
        src / "d.csv", index=False)
    (src / "m.yaml").write_text(
        "tables:\n  customers:\n    file: c.csv\n    columns: {id: customer_id, cls: customer_class, start: start_date}\n"
        "  readings:\n    - {file: d.csv, interval: daily, columns: {id: customer_id, ts: ts, kwh: kwh}}\n"
        "    - {file: q.csv, interval: 15min, columns: {id: customer_id, ts: ts, kwh: kwh}}\n")
    summary = import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml", max_reject_fraction=1.0)
    assert_reconciled(summary)
    assert summary["tables"]["readings_daily"]["reasons"] == {"inconsistent_aggregate": 1}
    q = pd.read_parquet(tmp_path / "out" / "quarantine" / "readings_daily.parquet")
    assert q["source_line"].tolist() == [3]
    assert summary["written"] == {"customers": 1, "readings_daily": 1, "readings_hourly": 48}
