"""Real-format importers on their real samples, the csv mapping, and the validation rules they
added (DST-repeated hours, mixed intervals, future dates, orphan bills/payments, labels)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import real_data
from powerlens import validation
from powerlens.anonymize import pseudonymize
from powerlens.importers import FORMATS, ImportFailed, import_source
from powerlens.importers.utility_export import ImportFailed as LegacyImportFailed
from powerlens.schema import Quarantine

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_MAPPING = ROOT / "src" / "powerlens" / "importers" / "examples" / "state_grid_mapping.yaml"


def real(sub: str) -> Path:
    return real_data(sub)


def written_strings(out: Path) -> set[str]:
    """Every text value in every file an import wrote (parquet columns, validation.json)."""
    values: set[str] = set()
    for path in out.rglob("*.parquet"):
        frame = pd.read_parquet(path)
        values |= set(map(str, frame.columns))
        for col in frame.columns:
            s = frame[col]
            if isinstance(s.dtype, pd.CategoricalDtype):
                values |= set(map(str, s.cat.categories))
            elif s.dtype == object or str(s.dtype) in ("str", "string"):
                values |= set(s.dropna().astype(str).unique())
    values.add((out / "validation.json").read_text())
    return values


def assert_no_raw_ids(out: Path, raw_ids: set[str]) -> None:
    found = written_strings(out)
    blob = "\n".join(v for v in found if len(v) > 200)  # validation.json
    short = {v for v in found if len(v) <= 200}
    leaked = (raw_ids & short) | {r for r in raw_ids if r in blob}
    assert not leaked, f"raw ids written: {sorted(leaked)[:5]}"


def assert_reconciled(summary: dict) -> None:
    assert summary["reconciled"]
    for table, rep in summary["tables"].items():
        assert rep["rows_in"] == rep["accepted"] + rep["quarantined"], table
        assert rep["quarantined"] == sum(rep["reasons"].values()), table


# --------------------------------------------------------------------------- LCL (London)

@pytest.fixture(scope="session")
def lcl_import(key, tmp_path_factory):
    src = real("lcl_london")
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
    src = real("lcl_london")
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
    src = real("lcl_london")
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


# --------------------------------------------------------------------------- PowerCo

def test_powerco_customers_typed_with_churn_labels(key, tmp_path):
    src = real("powerco") / "client_data.csv.gz"
    raw = pd.read_csv(src, dtype=str)
    out = tmp_path / "pc"
    summary = import_source("powerco", src, out, key)
    assert_reconciled(summary)
    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == len(raw) == summary["tables"]["customers"]["rows_in"]
    assert set(customers["customer_class"]) == {"commercial"}
    assert customers["end_date"].isna().all()
    assert (customers["start_date"] == pd.to_datetime(raw["date_activ"]).to_numpy()).all()
    assert customers["has_gas"].dtype == bool and customers["has_gas"].sum() == (raw["has_gas"] == "t").sum()
    assert isinstance(customers["channel_sales"].dtype, pd.CategoricalDtype)
    assert "MISSING" in customers["channel_sales"].cat.categories
    assert customers["cons_12m"].dtype == float and str(customers["date_renewal"].dtype).startswith("datetime64")
    labels = pd.read_parquet(out / "labels.parquet")
    assert set(labels["task"]) == {"churn"} and (labels["as_of"] == pd.Timestamp("2016-01-01")).all()
    assert labels["label"].astype(int).sum() == raw["churn"].astype(int).sum()
    assert_no_raw_ids(out, set(raw["id"]))

    unlabelled = tmp_path / "client_data.csv"
    raw.drop(columns="churn").to_csv(unlabelled, index=False)
    summary = import_source("powerco", unlabelled, tmp_path / "pc2", key)
    assert not (tmp_path / "pc2" / "labels.parquet").exists() and "labels" not in summary["tables"]
    assert summary["written"]["customers"] == len(raw)


# --------------------------------------------------------------------------- UCI credit history

def test_credit_history_bills_payments_and_arrears_labels(key, tmp_path):
    src = real("uci_credit_default")
    raw = pd.read_csv(src / "credit_default.csv.gz")
    out = tmp_path / "cr"
    summary = import_source("credit-history", src, out, key)
    assert_reconciled(summary)
    n = len(raw)
    assert summary["written"] == {"customers": n, "bills": 6 * n, "payments": 5 * n, "labels": n}
    bills = pd.read_parquet(out / "bills.parquet")
    assert set(bills["period"]) == {f"2005-{m:02d}" for m in range(4, 10)}
    assert ((bills["due_date"] - bills["bill_date"]).dt.days == 20).all()
    # a negative statement is a credit balance, not a negative bill
    negative = int((raw[[f"BILL_AMT{k}" for k in range(1, 7)]] < 0).sum().sum())
    assert int((bills["credit_balance"] > 0).sum()) == negative and (bills["amount"] >= 0).all()
    pays = pd.read_parquet(out / "payments.parquet")
    assert pays["bill_id"].isin(bills["bill_id"]).all()
    merged = pays.merge(bills[["bill_id", "due_date", "period"]], on="bill_id")
    # paid in the month the source says (status known then), late or not
    assert (merged["paid_on"] == merged["due_date"]).all() and (merged["months_past_due"] > 0).any()
    # PAY_AMT1 (September) pays the August statement, with the September status
    sep = merged[merged["period"] == "2005-08"]
    assert sorted(sep["repayment_status"].unique()) == sorted(raw["PAY_0"].unique())
    customers = pd.read_parquet(out / "customers.parquet")
    assert customers["credit_limit"].sum() == raw["LIMIT_BAL"].sum()
    assert "ID" not in customers.columns
    assert set(customers["customer_id"]) == set(pseudonymize(key, raw["ID"].astype(str)))  # one key links all
    labels = pd.read_parquet(out / "labels.parquet")
    assert set(labels["task"]) == {"arrears"} and (labels["as_of"] == pd.Timestamp("2005-10-01")).all()
    assert labels["label"].astype(int).sum() == raw["defaulted"].sum()

    raw.drop(columns="defaulted").head(200).to_csv(tmp_path / "credit_default.csv", index=False)
    summary = import_source("credit-history", tmp_path / "credit_default.csv", tmp_path / "cr2", key)
    assert "labels" not in summary["written"] and summary["written"]["bills"] == 1200


# --------------------------------------------------------------------------- csv mapping

def _state_grid_export(dest: Path, with_flag: bool = True) -> None:
    """A tiny export in the example mapping's layout: GBK Chinese headers, a BOM theft file."""
    dest.mkdir(parents=True, exist_ok=True)
    customers = pd.DataFrame({
        "户号": ["0301001", "0301002", "0301003"], "户名": ["张三", "李四", "王五"],
        "用电地址": ["广州市天河路1号", "广州市天河路2号", "广州市天河路3号"],
        "联系电话": ["13800000001", "13800000002", "13800000003"],
        "表号": ["M01", "M02", "M03"], "用电类别": ["居民", "商业", "大工业"],
        "立户日期": ["2012-01-05", "2013-03-01", "2011-07-15"], "销户日期": ["", "", "2010-01-01"],
        "合同容量": ["8", "50", "630"], "电压等级": ["0.4", "0.4", "10"], "分时电价": ["否", "是", "是"],
        "台区编号": ["T9", "T9", "T7"], "行业分类": ["城乡居民", "零售", "制造"],
        "是否预付费": ["是", "否", "否"], "是否流失": ["0", "1", "0"],
    })
    customers.to_csv(dest / "客户档案.csv", index=False, encoding="gbk")
    days = pd.date_range("2014-01-01", periods=5)
    readings = pd.DataFrame({"表号": np.repeat(["M01", "M02", "M03"], 5),
                             "抄表日期": np.tile(days.strftime("%Y%m%d"), 3),
                             "日电量": ["5.1", "4.9", "-1", "5.0", "5.2"] + ["20"] * 5 + ["900"] * 5})
    readings.to_csv(dest / "日电量.csv", index=False, encoding="gbk")
    theft = pd.DataFrame({"CONS_NO": ["0301001", "0301002", "9999999"]})
    if with_flag:
        theft["FLAG"] = ["1", "0", "1"]
    for i, d in enumerate(days):
        theft[f"{d.year}/{d.month}/{d.day}"] = ["1.5", "", "2.0"] if i != 2 else ["abc", "3", "2.0"]
    theft.to_csv(dest / "sgcc_theft.csv", index=False, encoding="utf-8-sig")
    bills = pd.DataFrame({"户号": ["0301001", "0301002", "0309999"], "账单编号": ["B1", "B2", "B3"],
                          "电费年月": ["201401", "2014-01", "201401"], "电量": ["25", "100", "1"],
                          "应收电费": ["15.3", "80", "1"], "出账日期": ["2014-02-01"] * 3,
                          "缴费截止日期": ["2014-02-20", "2014-01-20", "2014-02-20"]})
    bills.to_csv(dest / "电费账单.csv", index=False, encoding="gbk")
    pays = pd.DataFrame({"账单编号": ["B1", "B9"], "缴费日期": ["2014-02-10", "2014-02-11"],
                         "实收金额": ["15.3", "3"], "缴费渠道": ["掌上电力", "营业厅"]})
    pays.to_csv(dest / "缴费记录.csv", index=False, encoding="gbk")
    events = pd.DataFrame({"户号": ["0301001", "0301002"], "受理时间": ["2014-01-03 09:00", "2014-01-04 10:00"],
                           "工单类型": ["投诉", "用电检查"], "处理结果": ["resolved", "theft_confirmed"]})
    events.to_csv(dest / "95598工单.csv", index=False, encoding="gbk")


def test_csv_mapping_gbk_chinese_headers_bom_and_wide_theft_file(key, tmp_path):
    src = tmp_path / "sg"
    _state_grid_export(src)
    out = tmp_path / "out"
    summary = import_source("csv", src, out, key, mapping=EXAMPLE_MAPPING, max_reject_fraction=1.0)
    assert_reconciled(summary)
    t = summary["tables"]
    assert t["customers"]["reasons"] == {"end_before_start": 1}
    customers = pd.read_parquet(out / "customers.parquet")
    assert sorted(customers["customer_class"]) == ["commercial", "residential"]
    assert customers["tou_tariff"].tolist() == [False, True] and customers["region"].eq("guangdong").all()
    assert isinstance(customers["industry_code"].dtype, pd.CategoricalDtype)
    assert customers["prepaid_flag"].tolist() == [True, False]
    assert not {"户名", "用电地址", "联系电话", "meter_id"} & set(customers.columns)
    assert customers["台区编号"].str.startswith("c").all()
    # long readings keyed by meter: one negative, the third account was quarantined
    # the wide file repeats days the meter file gave: duplicates across files are caught
    assert t["readings_daily"]["reasons"] == {"kwh_negative": 1, "unknown_customer": 5 + 5, "kwh_not_numeric": 1,
                                              "duplicate_reading": 4 + 1}
    q = pd.read_parquet(out / "quarantine" / "readings_daily.parquet")
    assert set(q["source_file"]) == {"日电量.csv", "sgcc_theft.csv"}
    daily = pd.read_parquet(out / "readings_daily.parquet")
    assert len(daily) == 4 + 5
    assert t["bills"]["reasons"] == {"unknown_customer": 1, "due_before_bill_date": 1}
    bills = pd.read_parquet(out / "bills.parquet")
    assert bills["period"].tolist() == ["2014-01"]
    assert t["payments"]["reasons"] == {"payment_without_bill": 1}
    assert pd.read_parquet(out / "payments.parquet")["channel"].tolist() == ["mobile_app"]
    assert set(pd.read_parquet(out / "service_events.parquet")["kind"]) == {"complaint", "inspection"}
    labels = pd.read_parquet(out / "labels.parquet")
    by_task = labels.groupby("task")["label"].apply(sorted).to_dict()
    assert by_task == {"churn": ["0", "1"], "theft": ["0", "1"]}
    assert (labels.loc[labels["task"] == "theft", "as_of"] == pd.Timestamp("2014-01-06")).all()
    assert t["labels"]["reasons"] == {"unknown_customer": 2}  # the closed account and 9999999
    raw = {"0301001", "0301002", "0301003", "9999999", "M01", "M02", "M03", "张三", "李四",
           "13800000001", "广州市天河路1号", "B1", "B2", "T9"}
    assert_no_raw_ids(out, raw)

    # the same export without the FLAG column: the same tables, theft labels gone
    src2 = tmp_path / "sg2"
    _state_grid_export(src2, with_flag=False)
    s2 = import_source("csv", src2, tmp_path / "out2", key, mapping=EXAMPLE_MAPPING, max_reject_fraction=1.0)
    labels2 = pd.read_parquet(tmp_path / "out2" / "labels.parquet")
    assert set(labels2["task"]) == {"churn"}
    assert {k: v for k, v in s2["written"].items() if k != "labels"} == \
        {k: v for k, v in summary["written"].items() if k != "labels"}


def test_csv_mapping_utf8_bom_customers_and_derived_customers(key, tmp_path):
    src = tmp_path / "bom"
    src.mkdir()
    pd.DataFrame({"编号": ["A1", "A2"], "类别": ["residential", "commercial"], "开户": ["2020-01-01", "2021-05-05"],
                  "姓名": ["赵六", "钱七"]}).to_csv(src / "c.csv", index=False, encoding="utf-8-sig")
    assert (src / "c.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    (src / "mapping.yaml").write_text(
        "tables:\n  customers:\n    file: c.csv\n    columns: {编号: customer_id, 类别: customer_class, 开户: start_date}\n",
        encoding="utf-8")
    summary = import_source("csv", src, tmp_path / "out", key)  # mapping.yaml found in SRC
    assert summary["written"] == {"customers": 2}
    assert_no_raw_ids(tmp_path / "out", {"A1", "A2", "赵六", "钱七"})

    # no customers table: customers are the ids of the wide readings
    theft = pd.DataFrame({"CONS_NO": ["X1", "X2"], "FLAG": ["1", "0"], "2014/1/1": ["1", "2"], "2014/1/2": ["", "2"]})
    theft.to_csv(src / "t.csv", index=False)
    (src / "m2.yaml").write_text(
        "tables:\n  readings:\n    file: t.csv\n    layout: wide\n    columns: {CONS_NO: customer_id}\n"
        "    label: {column: FLAG, task: theft}\n", encoding="utf-8")
    summary = import_source("csv", src, tmp_path / "out2", key, mapping=src / "m2.yaml")
    assert summary["written"] == {"customers": 2, "readings_daily": 3, "labels": 2}


def test_csv_mapping_refuses_identifier_attributes_and_bad_encoding(key, tmp_path):
    src = tmp_path / "bad"
    src.mkdir()
    pd.DataFrame({"户号": ["1"], "户名": ["张三"]}).to_csv(src / "c.csv", index=False, encoding="gbk")
    (src / "m.yaml").write_text("tables:\n  customers:\n    file: c.csv\n    columns: {户号: customer_id}\n"
                                "    attributes: {户名: text}\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="m.yaml: .*identifier"):
        import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml")
    (src / "m.yaml").write_text("tables:\n  customers:\n    file: c.csv\n    columns: {户号: customer_id}\n",
                                encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"c\.csv: cannot be decoded as utf-8"):
        import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml")


# --------------------------------------------------------------------------- registry

def test_registry_and_import_failed_is_shared(small_raw, key, tmp_path):
    assert set(FORMATS) == {"synthetic", "lcl", "powerco", "credit-history", "csv"}
    assert LegacyImportFailed is ImportFailed
    with pytest.raises(ImportFailed, match="unknown source format"):
        import_source("xml", tmp_path, tmp_path / "o", key)
    summary = import_source("synthetic", small_raw, tmp_path / "syn", key)
    assert summary["reconciled"] and json.loads((tmp_path / "syn" / "validation.json").read_text())["rows_in"]


# --------------------------------------------------------------------------- validation rules

def _readings(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "ts", "kwh"])
    df["_line"] = np.arange(2, len(df) + 2)
    return df


def test_dst_repeated_hour_and_mixed_interval_are_quarantined():
    hours = pd.date_range("2023-10-29 00:00", periods=6, freq="h").strftime("%Y-%m-%d %H:%M").tolist()
    rows = [("a", h, 1.0) for h in hours]
    rows.append(("a", "2023-10-29 01:00", 1.1))          # the autumn repeat of 01:00 (UK)
    rows.append(("a", "2023-10-29 04:00", 1.2))          # a plain duplicate outside the fold
    rows.append(("a", "2023-10-29 03:15", 0.3))          # a 15-minute reading among hourly ones
    rows += [("b", f"2023-05-0{d} 00:00", 5.0) for d in range(1, 8)]
    rows.append(("b", "2023-05-03 13:00", 2.0))          # a daily series with one 13:00 stamp
    q = Quarantine()
    ok = validation.readings(_readings(rows), q, "r.csv", "readings_hourly", pd.Index(["a", "b"]))
    rep = q.reports["readings_hourly"]
    assert rep.reasons == {"dst_repeated_hour": 1, "duplicate_reading": 1, "mixed_interval": 2}
    assert rep.reconciled and len(ok) == len(rows) - 4
    bad = pd.concat(q.rejected["readings_hourly"])
    assert set(bad.loc[bad["reason"] == "mixed_interval", "source_line"]) == {10, 18}


def test_future_start_orphans_and_payment_on_anothers_bill():
    q = Quarantine()
    future = (pd.Timestamp.now() + pd.Timedelta(days=400)).strftime("%Y-%m-%d")
    cust = pd.DataFrame({"customer_id": ["a", "b"], "customer_class": ["residential"] * 2,
                         "start_date": ["2020-01-01", future], "_line": [2, 3]})
    ok = validation.customers(cust, q, "c.csv")
    assert q.reports["customers"].reasons == {"start_in_future": 1} and len(ok) == 1
    bills = pd.DataFrame({"customer_id": ["a", "zz", "a"], "bill_id": ["b1", "b2", "b3"],
                          "period": ["2021-01"] * 3, "amount": ["1", "2", "3"],
                          "bill_date": ["2021-02-01", "2021-02-01", "2021-02-01"],
                          "due_date": ["2021-02-20", "2021-02-20", "2021-01-20"], "_line": [2, 3, 4]})
    b = validation.bills(bills, q, "b.csv", pd.Index(ok["customer_id"]))
    assert q.reports["bills"].reasons == {"unknown_customer": 1, "due_before_bill_date": 1}
    pays = pd.DataFrame({"customer_id": ["a", "x", "a"], "bill_id": ["b1", "b1", "b2"],
                         "paid_on": ["2021-02-10"] * 3, "amount": ["1", "1", "2"], "_line": [2, 3, 4]})
    validation.payments(pays, q, "p.csv", pd.Index(b["bill_id"]), b.set_index("bill_id")["customer_id"])
    assert q.reports["payments"].reasons == {"payment_customer_mismatch": 1, "payment_without_bill": 1}


def test_labels_validator():
    q = Quarantine()
    df = pd.DataFrame({
        "customer_id": ["a", "a", "b", "zz", "b", "a"],
        "task": ["churn", "churn", "theft", "churn", "", "acorn_group"],
        "as_of": ["2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01"],
        "label": ["t", "1", "maybe", "0", "1", "ACORN-U"],
        "_line": range(2, 8),
    })
    ok = validation.labels(df, q, "l.csv", pd.Index(["a", "b"]))
    assert q.reports["labels"].reasons == {"duplicate_label": 1, "label_not_allowed": 2, "unknown_customer": 1,
                                           "missing_task": 1}
    assert ok.to_dict("records") == [{"customer_id": "a", "task": "churn", "as_of": pd.Timestamp("2020-01-01"),
                                      "label": "1"}]


def test_a_mapping_that_renames_onto_an_existing_column_is_refused_by_name(tmp_path):
    from powerlens.importers._common import read_source

    (tmp_path / "client_data.csv").write_text("id,client_id,churn\na,b,0\n")
    (tmp_path / "map.yaml").write_text("columns:\n  client_id: id\n")
    with pytest.raises(ImportFailed, match="client_data.csv: the mapping's column renames give duplicate column"):
        read_source(tmp_path, tmp_path / "map.yaml", None, ["client_data.csv"], ["id"])
    path, raw, opts, _ = read_source(tmp_path, None, None, ["client_data.csv"], ["id"])
    assert path.name == "client_data.csv" and list(raw.columns[:3]) == ["id", "client_id", "churn"]
