"""Labels: derived from the clean tables (churn, arrears, theft) or given by the source."""


import pandas as pd
import pytest

from powerlens.risk import labels


def test_churn_label_is_a_closure_inside_the_horizon():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "end_date": pd.to_datetime(["2026-03-15", "2026-09-01", None])})
    y = labels.churn(customers, pd.Timestamp("2026-02-01"), 3)
    assert y.to_dict() == {"a": 1, "b": 0, "c": 0}


def test_arrears_label_needs_the_bill_unpaid_at_n_days():
    bills = pd.DataFrame({"customer_id": ["a", "b", "c"], "bill_id": ["1", "2", "3"], "amount": [10.0] * 3,
                          "due_date": pd.to_datetime(["2026-01-10"] * 3)})
    payments = pd.DataFrame({"customer_id": ["b", "c"], "bill_id": ["2", "3"], "amount": [10.0, 10.0],
                             "paid_on": pd.to_datetime(["2026-02-01", "2026-03-30"])})
    y = labels.arrears(bills, payments, pd.Index(["a", "b", "c"]), pd.Timestamp("2026-02-15"), 3, 60)
    assert y.to_dict() == {"a": 1, "b": 0, "c": 1}


def test_theft_label_is_a_confirmed_inspection_in_the_horizon():
    events = pd.DataFrame({"customer_id": ["a", "b", "c"], "kind": ["inspection"] * 3,
                           "outcome": ["theft_confirmed", "no_issue", "theft_confirmed"],
                           "ts": pd.to_datetime(["2026-03-01", "2026-03-01", "2026-01-01"])})
    y = labels.theft(events, pd.Index(["a", "b", "c"]), pd.Timestamp("2026-02-01"), 3)
    assert y.to_dict() == {"a": 1, "b": 0, "c": 0}


def test_given_labels_join_the_features_at_their_as_of():
    table = pd.DataFrame({"customer_id": ["a", "b", "c"], "task": ["churn", "churn", "other"],
                          "as_of": pd.to_datetime(["2016-01-01"] * 3), "label": ["1", "f", "1"]})
    feats = pd.DataFrame({"customer_id": ["a", "b", "z"], "as_of": pd.to_datetime(["2016-01-01"] * 3),
                          "x": [1.0, 2.0, 3.0]})
    y, rows = labels.given(table, "churn", feats)
    assert list(rows["customer_id"]) == ["a", "b"] and list(y) == [1, 0] and not labels.is_multiclass(y)
    multi = table.assign(customer_id=["a", "b", "z"], task="acorn_group", label=["Affluent", "Comfortable", "Adversity"])
    y, rows = labels.given(multi, "acorn_group", feats)
    assert list(y) == ["Affluent", "Comfortable", "Adversity"] and labels.is_multiclass(y)
    two = table.assign(label=["Affluent", "Comfortable", "x"])
    with pytest.raises(ValueError, match="binary task as 0/1"):
        labels.given(two, "churn", feats)
