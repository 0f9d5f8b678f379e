import hashlib

import numpy as np
import pandas as pd
import pytest

from powerlens.synthetic import SyntheticConfig, generate


def _digests(folder) -> dict[str, str]:
    """A digest of every file the generator wrote: CSVs and JSON by their bytes, parquet
    (readings, ground truth) by their values, so that a library's metadata cannot hide a change."""
    out = {}
    for f in sorted(folder.iterdir()):
        if f.suffix == ".parquet":
            frame = pd.read_parquet(f)
            values = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
            out[f.name] = hashlib.md5(values + ",".join(frame.columns).encode()).hexdigest()
        else:
            out[f.name] = hashlib.md5(f.read_bytes()).hexdigest()
    return out


def test_same_seed_same_utility_other_seed_other_utility(tmp_path):
    cfg = SyntheticConfig(customers=80, months=13, seed=3)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    generate(SyntheticConfig(customers=80, months=13, seed=4), tmp_path / "c")
    a, b, c = (_digests(tmp_path / name) for name in "abc")
    assert {"readings_daily.parquet", "readings_hourly.parquet", "ground_truth.parquet", "customers.csv",
            "bills.csv"} <= set(a)
    assert a == b  # every file, readings and truth included
    for name in ("readings_daily.parquet", "readings_hourly.parquet", "ground_truth.parquet", "customers.csv",
                 "bills.csv", "payments.csv"):
        assert a[name] != c[name], name


def test_raw_export_carries_direct_identifiers_and_truth_apart(small_raw):
    customers = pd.read_csv(small_raw / "customers.csv")
    for col in ("account_no", "meter_no", "customer_name", "address", "phone"):
        assert col in customers and customers[col].notna().all()
    truth = pd.read_parquet(small_raw / "ground_truth.parquet")
    assert {"credit_class", "theft", "load_shape_class", "latent_big"} <= set(truth.columns)
    assert "credit_class" not in customers.columns  # models never see the truth


@pytest.mark.slow
def test_class_mix_big_customers_and_pareto(tmp_path):
    generate(SyntheticConfig(customers=3000, months=13, seed=5), tmp_path)
    customers = pd.read_csv(tmp_path / "customers.csv").set_index("account_no")
    share = customers["customer_class"].value_counts(normalize=True)
    assert share["residential"] > 0.75
    assert {"commercial", "general_industrial", "large_industrial", "agricultural", "public"} <= set(share.index)
    big = customers["capacity_kva"] >= 315
    assert 0.005 < big.mean() < 0.06
    assert customers.loc[big, "two_part_tariff"].all()
    revenue = pd.read_csv(tmp_path / "bills.csv").groupby("account_no")["amount"].sum().sort_values(ascending=False)
    top20 = revenue.iloc[: int(0.2 * len(revenue))].sum() / revenue.sum()
    assert 0.7 < top20 < 0.97
    assert revenue[big.reindex(revenue.index).fillna(False)].sum() / revenue.sum() > 0.4


def test_interval_meters_have_hourly_readings_summing_to_daily(small_raw):
    customers = pd.read_csv(small_raw / "customers.csv")
    hourly = pd.read_parquet(small_raw / "readings_hourly.parquet")
    daily = pd.read_parquet(small_raw / "readings_daily.parquet")
    non_res = customers.loc[customers["customer_class"] != "residential", "meter_no"]
    assert set(non_res) <= set(hourly["meter_no"].astype(str).unique()) | set(
        customers.loc[customers["end_date"].notna(), "meter_no"])
    meter = hourly["meter_no"].iloc[0]
    h = hourly[hourly["meter_no"] == meter].assign(day=lambda d: d["reading_ts"].dt.normalize())
    per_day = h.groupby("day")["kwh"].sum()
    d = daily[daily["meter_no"] == meter].set_index("reading_date")["kwh"].reindex(per_day.index)
    assert np.allclose(per_day.to_numpy(), d.to_numpy(), rtol=0.01, atol=0.05)


def test_churned_accounts_stop_reading_and_billing(small_raw):
    customers = pd.read_csv(small_raw / "customers.csv", parse_dates=["start_date", "end_date"])
    closed = customers[customers["end_date"].notna()]
    assert len(closed) > 0
    daily = pd.read_parquet(small_raw / "readings_daily.parquet")
    last = daily.groupby("meter_no", observed=True)["reading_date"].max()
    assert (last.reindex(closed["meter_no"]).to_numpy() < closed["end_date"].to_numpy()).all()
