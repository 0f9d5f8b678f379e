"""The UCI credit-history importer on its real sample."""

from __future__ import annotations

import pandas as pd
import pytest

from powerlens.anonymize import pseudonymize
from powerlens.importers import import_source
from support import assert_reconciled, real_data

pytestmark = [pytest.mark.slow, pytest.mark.real_data]


def test_credit_history_bills_payments_and_arrears_labels(key, tmp_path):
    src = real_data("uci_credit_default")
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
