"""The csv mapping importer: GBK Chinese headers, BOM files, a wide theft file, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from powerlens.importers import ImportFailed, import_source
from support import ROOT, assert_no_raw_ids, assert_reconciled

EXAMPLE_MAPPING = ROOT / "src" / "powerlens" / "importers" / "examples" / "state_grid_mapping.yaml"


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


# --------------------------------------------------------------------------- a mapping stays in its folder

def _one_customer_export(src: Path) -> None:
    src.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ["A1"], "cls": ["residential"], "start": ["2020-01-01"]}).to_csv(src / "c.csv", index=False)


@pytest.mark.parametrize("file", ["../../etc/passwd", "/etc/passwd", "sub/../../outside.csv"])
def test_csv_mapping_file_outside_the_source_folder_is_refused(key, tmp_path, file):
    src = tmp_path / "src"
    _one_customer_export(src)
    (tmp_path / "outside.csv").write_text("id,cls,start\nX9,residential,2020-01-01\n")
    (src / "m.yaml").write_text(f"tables:\n  customers:\n    file: {file}\n"
                                "    columns: {id: customer_id, cls: customer_class, start: start_date}\n")
    with pytest.raises(ImportFailed, match="outside|inside the source folder") as exc:
        import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml")
    assert "\n" not in str(exc.value) and "m.yaml" in str(exc.value)
    assert not (tmp_path / "out" / "customers.parquet").exists()


def test_csv_mapping_symlink_out_of_the_source_folder_is_refused(key, tmp_path):
    src = tmp_path / "src"
    _one_customer_export(src)
    secret = tmp_path / "secret.csv"
    secret.write_text("id,cls,start\nX9,residential,2020-01-01\n")
    (src / "link.csv").symlink_to(secret)
    (src / "m.yaml").write_text("tables:\n  customers:\n    file: link.csv\n"
                                "    columns: {id: customer_id, cls: customer_class, start: start_date}\n")
    with pytest.raises(ImportFailed, match=r"link\.csv: outside the source folder") as exc:
        import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml")
    assert "\n" not in str(exc.value)
    # a symlink that stays inside the folder is an ordinary file
    (src / "inner.csv").symlink_to(src / "c.csv")
    (src / "m.yaml").write_text("tables:\n  customers:\n    file: inner.csv\n"
                                "    columns: {id: customer_id, cls: customer_class, start: start_date}\n")
    assert import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml")["written"] == {"customers": 1}


def test_csv_mapping_yaml_is_safe_and_on_yes_no_stay_strings(key, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    pd.DataFrame({"on": ["A1", "A2"], "kind": ["yes", "no"], "start": ["2020-01-01", "2021-01-01"],
                  "off": ["y", "n"]}).to_csv(src / "c.csv", index=False)
    (src / "m.yaml").write_text(
        "tables:\n  customers:\n    file: c.csv\n"
        "    columns: {on: customer_id, kind: customer_class, start: start_date}\n"
        "    values: {customer_class: {yes: residential, no: commercial}}\n"
        "    attributes: {off: {name: flag, type: text}}\n")
    summary = import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml", max_reject_fraction=0.0)
    assert summary["written"] == {"customers": 2}
    customers = pd.read_parquet(tmp_path / "out" / "customers.parquet")
    assert sorted(customers["customer_class"]) == ["commercial", "residential"]
    assert sorted(customers["flag"]) == ["n", "y"]
    # no Python objects: a tag that would build one is a one-line refusal naming the mapping
    (src / "m.yaml").write_text("tables: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ImportFailed, match=r"m\.yaml: cannot read the mapping") as exc:
        import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml")
    assert "\n" not in str(exc.value)


# --------------------------------------------------------------------------- known importer bugs

def test_csv_mapping_bill_id_in_two_bills_files_is_a_duplicate_not_a_crash(key, tmp_path):
    src = tmp_path / "src"
    _one_customer_export(src)
    for name, amount in (("b1.csv", "10"), ("b2.csv", "12")):
        pd.DataFrame({"id": ["A1"], "bill": ["B1"], "month": ["2021-01"], "amount": [amount],
                      "due": ["2021-02-20"]}).to_csv(src / name, index=False)
    pd.DataFrame({"bill": ["B1"], "paid": ["2021-02-10"], "amount": ["10"]}).to_csv(src / "p.csv", index=False)
    bills = "{id: customer_id, bill: bill_id, month: period, amount: amount, due: due_date}"
    (src / "m.yaml").write_text(
        "tables:\n  customers:\n    file: c.csv\n    columns: {id: customer_id, cls: customer_class, start: start_date}\n"
        f"  bills:\n    - file: b1.csv\n      columns: {bills}\n    - file: b2.csv\n      columns: {bills}\n"
        "  payments:\n    file: p.csv\n    columns: {bill: bill_id, paid: paid_on, amount: amount}\n")
    summary = import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml", max_reject_fraction=1.0)
    assert_reconciled(summary)
    assert summary["tables"]["bills"]["reasons"] == {"duplicate_bill": 1}
    q = pd.read_parquet(tmp_path / "out" / "quarantine" / "bills.parquet")
    assert q["source_file"].tolist() == ["b2.csv"] and q["source_line"].tolist() == [2]
    assert pd.read_parquet(tmp_path / "out" / "bills.parquet")["amount"].tolist() == [10.0]
    assert summary["written"]["payments"] == 1


def _interval_export(src: Path, hourly_ids: list[str], quarter_ids: list[str]) -> None:
    _one_customer_export(src)
    pd.DataFrame({"id": ["A1", "A2"], "cls": "residential", "start": "2020-01-01"}).to_csv(src / "c.csv", index=False)
    hours = pd.date_range("2021-03-01", periods=24, freq="h")
    quarters = pd.date_range("2021-03-01", periods=96, freq="15min")
    pd.DataFrame({"id": np.repeat(hourly_ids, len(hours)), "ts": np.tile(hours.astype(str), len(hourly_ids)),
                  "kwh": "1.0"}).to_csv(src / "h.csv", index=False)
    pd.DataFrame({"id": np.repeat(quarter_ids, len(quarters)), "ts": np.tile(quarters.astype(str), len(quarter_ids)),
                  "kwh": "0.25"}).to_csv(src / "q.csv", index=False)
    (src / "m.yaml").write_text(
        "tables:\n  customers:\n    file: c.csv\n    columns: {id: customer_id, cls: customer_class, start: start_date}\n"
        "  readings:\n    - {file: h.csv, interval: hourly, columns: {id: customer_id, ts: ts, kwh: kwh}}\n"
        "    - {file: q.csv, interval: 15min, columns: {id: customer_id, ts: ts, kwh: kwh}}\n")


def test_csv_mapping_hourly_and_15min_files_are_merged_with_honest_counts(key, tmp_path):
    src = tmp_path / "src"
    _interval_export(src, hourly_ids=["A1"], quarter_ids=["A2"])
    summary = import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml", max_reject_fraction=0.0)
    t = summary["tables"]
    assert t["readings_hourly"]["accepted"] == 24 and t["readings_15min"]["accepted"] == 96
    hourly = pd.read_parquet(tmp_path / "out" / "readings_hourly.parquet")
    # every accepted reading is in the written table: 24 given hours + 96 quarters summed into 24
    assert len(hourly) == summary["written"]["readings_hourly"] == 48
    assert hourly["customer_id"].nunique() == 2 and hourly["kwh"].eq(1.0).all()
    assert hourly["n_intervals"].tolist().count(4) == 24 and not hourly["partial_hour"].any()


def test_csv_mapping_same_hours_from_hourly_and_15min_files_are_refused(key, tmp_path):
    src = tmp_path / "src"
    _interval_export(src, hourly_ids=["A1"], quarter_ids=["A1"])
    with pytest.raises(ImportFailed, match=r"h\.csv and q\.csv: both give readings_hourly .*\(24 times") as exc:
        import_source("csv", src, tmp_path / "out", key, mapping=src / "m.yaml", max_reject_fraction=0.0)
    assert "\n" not in str(exc.value)
