"""The validation rules the importers share: DST-repeated hours, mixed intervals, future dates,
orphan bills/payments, labels."""

import numpy as np
import pandas as pd

from powerlens import validation
from powerlens.schema import Quarantine


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
