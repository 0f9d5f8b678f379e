"""Billing and credit indicators as of the cut-off."""

import numpy as np
import pandas as pd
import pytest

from powerlens.features.billing import billing_features


def test_billing_credit_features_as_of_the_cutoff():
    ids = pd.Index(["c1", "c2"])
    bills = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2"], "bill_id": ["b1", "b2", "b3"], "amount": [100.0, 100.0, 50.0],
        "bill_date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-01"]),
        "due_date": pd.to_datetime(["2026-01-21", "2026-02-21", "2026-01-21"]),
    })
    payments = pd.DataFrame({
        "customer_id": ["c1", "c2", "c1"], "bill_id": ["b1", "b3", "b2"], "amount": [100.0, 50.0, 100.0],
        "paid_on": pd.to_datetime(["2026-01-20", "2026-02-25", "2026-04-15"]), "channel": ["counter", "mobile_app", "counter"],
    })
    f = billing_features(bills, payments, ids, pd.Timestamp("2026-04-01"), 365)
    # c1: b1 on time, b2 unpaid at the cut-off (paid after it) -> 39 days past due
    assert f.loc["c1", "on_time_rate"] == pytest.approx(0.5)
    assert f.loc["c1", "arrears_count"] == 1 and f.loc["c1", "arrears_amount"] == pytest.approx(100.0)
    assert f.loc["c1", "arrears_31_60d"] == pytest.approx(100.0)
    assert f.loc["c1", "days_past_due_max"] == 39
    assert f.loc["c1", "share_counter"] == pytest.approx(1.0)
    # c2: paid 35 days late
    assert f.loc["c2", "on_time_rate"] == 0 and f.loc["c2", "days_past_due_max"] == 35
    assert f.loc["c2", "arrears_amount"] == 0 and f.loc["c2", "bills_over_30dpd"] == 1
    assert f.loc["c1", "revenue_12m"] == pytest.approx(200.0)


def test_bill_by_bill_payment_history_as_of_the_cutoff():
    """What was paid toward each due bill, before the cut-off only; the billing system's status
    code of the last two due bills; counts unknown (not zero) for a customer with nothing due."""
    ids = pd.Index(["c1", "c2", "c3"])
    bills = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c2", "c3"], "bill_id": ["b1", "b2", "b3", "b4", "b5"],
        "amount": [80.0, 120.0, 90.0, 0.0, 40.0],
        "bill_date": pd.to_datetime(["2026-01-31", "2026-02-28", "2026-03-31", "2026-02-28", "2026-03-31"]),
        "due_date": pd.to_datetime(["2026-02-20", "2026-03-20", "2026-04-20", "2026-03-20", "2026-04-20"]),
    })
    payments = pd.DataFrame({
        "customer_id": ["c1", "c1", "c1"], "bill_id": ["b1", "b2", "b2"], "amount": [80.0, 30.0, 90.0],
        "paid_on": pd.to_datetime(["2026-02-18", "2026-03-25", "2026-04-02"]),  # the last is after the cut-off
        "channel": ["counter"] * 3, "repayment_status": [-1, 1, 0],
    })
    f = billing_features(bills, payments, ids, pd.Timestamp("2026-04-01"), 365)
    # c1: b3 is not due yet; b2 (due 20 March) had 30 of 120 paid by the cut-off
    assert f.loc["c1", "bill_amount_prev"] == pytest.approx(120.0) and f.loc["c1", "bill_amount_max"] == 120.0
    assert f.loc["c1", "paid_last_due"] == pytest.approx(30.0)
    assert f.loc["c1", "paid_share_last_due"] == pytest.approx(0.25)
    assert f.loc["c1", "paid_share_min"] == pytest.approx(0.25) and f.loc["c1", "paid_share_mean"] == pytest.approx(0.625)
    assert f.loc["c1", "paid_12m"] == pytest.approx(110.0)
    assert f.loc["c1", "bills_paid_full_12m"] == 1 and f.loc["c1", "bills_unpaid_12m"] == 0
    assert f.loc["c1", "repayment_status_last"] == 1 and f.loc["c1", "repayment_status_prev"] == -1
    # c2: a zero bill is due (nothing to pay, no share); c3: nothing due yet, so the counts are unknown
    assert f.loc["c2", "bills_zero_12m"] == 1 and np.isnan(f.loc["c2", "paid_share_last_due"])
    assert f.loc["c2", "bills_unpaid_12m"] == 0
    assert np.isnan(f.loc["c3", "bills_unpaid_12m"]) and np.isnan(f.loc["c3", "paid_last_due"])
    assert f.loc["c3", "paid_12m"] == 0 and np.isnan(f.loc["c3", "repayment_status_last"])
    # a source without the status code: unknown
    assert billing_features(bills, payments.drop(columns="repayment_status"), ids, pd.Timestamp("2026-04-01"),
                            365)["repayment_status_last"].isna().all()
