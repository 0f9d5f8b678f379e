import hashlib
import json

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
            "bills.csv", "region_load.csv"} <= set(a)
    assert a == b  # every file, readings and truth included
    for name in ("readings_daily.parquet", "readings_hourly.parquet", "ground_truth.parquet", "customers.csv",
                 "bills.csv", "payments.csv", "region_load.csv"):
        assert a[name] != c[name], name


def test_the_export_does_not_depend_on_the_partition_size(tmp_path):
    """Generated a few customers at a time (bounded memory, issue 18) or all at once: the same
    readings, bills and truth, and the readings file has a row group per partition."""
    import pyarrow.parquet as pq

    cfg = SyntheticConfig(customers=90, months=13, seed=6, interval_metered_residential_share=0.5)
    generate(cfg, tmp_path / "whole", customers_per_partition=10_000)
    generate(cfg, tmp_path / "parts", customers_per_partition=7)
    assert _digests(tmp_path / "whole") == _digests(tmp_path / "parts")
    assert pq.ParquetFile(tmp_path / "parts" / "readings_daily.parquet").num_row_groups == -(-91 // 7)
    assert pq.ParquetFile(tmp_path / "whole" / "readings_daily.parquet").num_row_groups == 1


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


def _line_loss(raw):
    """(monthly line loss per region, (region load - billed kWh) / region load; the manifest's
    truth behind the region load)."""
    truth = json.loads((raw / "manifest.json").read_text())["region_load"]
    load = pd.read_csv(raw / "region_load.csv", parse_dates=["ts"])
    load["period"] = load["ts"].dt.strftime("%Y-%m")
    customers = pd.read_csv(raw / "customers.csv", usecols=["account_no", "region"])
    bills = pd.read_csv(raw / "bills.csv", usecols=["account_no", "period", "kwh"]).merge(customers, on="account_no")
    supplied = load.groupby(["region", "period"])["load_kw"].sum()
    billed = bills.groupby(["region", "period"])["kwh"].sum()
    return ((supplied - billed) / supplied).dropna(), truth


def test_region_load_line_loss_is_technical_loss_plus_theft(small_raw):
    loss, truth = _line_loss(small_raw)
    stolen = pd.DataFrame(truth["stolen_kwh"]).stack().swaplevel()
    load = pd.read_csv(small_raw / "region_load.csv", parse_dates=["ts"])
    supplied = load.assign(period=load["ts"].dt.strftime("%Y-%m")).groupby(["region", "period"])["load_kw"].sum()
    stolen_share = (stolen.reindex(loss.index) / supplied.reindex(loss.index))
    technical = loss.index.get_level_values("region").map(truth["technical_loss"]).to_numpy()
    # every month of every region: line loss = technical share + stolen share of the load
    assert np.allclose(loss.to_numpy(), technical + stolen_share.to_numpy(), atol=0.0005)
    assert (loss > 0.05).all() and len(loss) == 4 * 24  # every month: the new connection is billed too
    # theft raises line loss: within a region month by month, and between regions
    for region, months in loss.groupby(level="region"):
        if stolen_share[region].std() > 0.001:
            assert months.corr(stolen_share[region], method="spearman") > 0.8, region
    per_region = loss.groupby(level="region").mean()
    theft = stolen_share.groupby(level="region").mean()
    for a in theft.index:
        for b in theft.index:
            if theft[a] > theft[b] + 0.0002:
                assert per_region[a] > per_region[b], (a, b)


def test_region_load_steps_up_at_the_growth_event(small_raw):
    """A large new connection: an account appended to the export, connected on the event day."""
    event = json.loads((small_raw / "manifest.json").read_text())["region_load"]["growth_event"]
    customers = pd.read_csv(small_raw / "customers.csv").set_index("account_no")
    plant = customers.loc[event["account_no"]]
    assert (plant["region"], plant["start_date"]) == (event["region"], event["date"]) and len(customers) == 601
    assert plant["capacity_kva"] >= event["kw"]
    load = pd.read_csv(small_raw / "region_load.csv", parse_dates=["ts"])
    day = pd.Timestamp(event["date"])
    weeks = pd.Timedelta(days=28)
    before = load[(load["ts"] >= day - weeks) & (load["ts"] < day)].groupby("region")["load_kw"].mean()
    after = load[(load["ts"] >= day) & (load["ts"] < day + weeks)].groupby("region")["load_kw"].mean()
    ratio = after / before
    assert ratio[event["region"]] > 1.15
    assert ratio.drop(event["region"]).between(0.85, 1.1).all()
    assert (after - before)[event["region"]] == pytest.approx(event["kw"], rel=0.5)  # plus the season's drift
    daily = load[load["region"] == event["region"]].set_index("ts")["load_kw"].resample("D").mean()
    past = daily.rolling(28).mean().shift(1)  # the 4 weeks before each day
    coming = daily[::-1].rolling(28).mean()[::-1]  # each day and the 3 weeks and 6 days after it
    assert abs(((coming - past).idxmax() - day).days) <= 7  # the largest 4-week step is the event


def test_region_load_export_imports_through_the_csv_mapping(small_raw, key, tmp_path):
    from powerlens.importers import import_source

    (tmp_path / "mapping.yaml").write_text("version: 1\ntables:\n  region_load: {file: region_load.csv, "
                                           "columns: {region: region, ts: ts, load_kw: load_kw}}\n")
    summary = import_source("csv", small_raw, tmp_path / "out", key, mapping=tmp_path / "mapping.yaml")
    rl = summary["tables"]["region_load"]
    assert rl["quarantined"] == 0 and rl["accepted"] == len(pd.read_csv(small_raw / "region_load.csv"))
    assert "gaps" not in rl and summary["reconciled"]
    load = pd.read_parquet(tmp_path / "out" / "region_load.parquet")
    assert set(load["region"]) == set(pd.read_csv(small_raw / "customers.csv")["region"])


def test_planted_over_contract_accounts_draw_more_than_they_contracted(small_raw):
    """The generator plants a few small and medium accounts whose hourly peak exceeds their
    contracted capacity (over-contract use), and records them in the truth."""
    customers = pd.read_csv(small_raw / "customers.csv")
    truth = pd.read_parquet(small_raw / "ground_truth.parquet").set_index("account_no")
    planted = truth.index[truth["over_contract"]]
    assert len(planted) >= 2 and not truth.loc[planted, "fast_growth"].any()
    hourly = pd.read_parquet(small_raw / "readings_hourly.parquet")
    meters = customers.set_index("account_no").loc[planted, ["meter_no", "capacity_kva", "customer_class"]]
    assert (meters["customer_class"] != "residential").all() and (meters["capacity_kva"] < 315).all()
    peak = hourly[hourly["meter_no"].astype(str).isin(meters["meter_no"].astype(str))].groupby(
        hourly["meter_no"].astype(str))["kwh"].max()
    assert (peak.reindex(meters["meter_no"].astype(str)).to_numpy() > meters["capacity_kva"].to_numpy()).all()
    # the latent big customers of the truth are fast growers that would need a big connection in 3 years
    latent = truth[truth["latent_big"]]
    capacity = customers.set_index("account_no").loc[latent.index, "capacity_kva"]
    assert len(latent) > 0 and latent["fast_growth"].all()
    assert (capacity * np.exp(3 * latent["growth_per_year"]) >= 315).all()


def test_service_events_carry_95598_attributes_and_the_planted_poor_service_month(small_raw):
    from conftest import SMALL
    from powerlens.synthetic.events import planted_poor_service

    events = pd.read_csv(small_raw / "service_events.csv", parse_dates=["ts"])
    customers = pd.read_csv(small_raw / "customers.csv", usecols=["account_no", "region"])
    events = events.merge(customers, on="account_no")
    contacts = events[events["kind"].isin(["complaint", "fault_report", "service_request"])]
    assert contacts["channel"].notna().all() and events.loc[events["kind"].eq("inspection"), "channel"].isna().all()
    assert events["resolution_hours"].dropna().gt(0).all()
    assert set(events["satisfaction"].dropna().unique()) <= {1, 2, 3, 4, 5}
    planted = planted_poor_service(SyntheticConfig(**SMALL))
    region = events[events["region"].eq(planted["region"])]
    month = region["ts"].dt.strftime("%Y-%m")
    complaints = region[region["kind"].eq("complaint")].groupby(month).size()
    others = complaints.drop(planted["period"])
    assert complaints[planted["period"]] > 1.5 * others.max(), complaints
    faults = region[region["kind"].eq("fault_report") & month.eq(planted["period"])]
    normal_faults = region[region["kind"].eq("fault_report") & month.ne(planted["period"])]
    assert faults["resolution_hours"].median() > 2 * normal_faults["resolution_hours"].median()
    in_month = region[month.eq(planted["period"])]["satisfaction"].dropna()
    assert in_month.mean() < region[month.ne(planted["period"])]["satisfaction"].dropna().mean() - 1
