"""snapshots.kpis: monthly KPIs and the Pareto curve, on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from powerlens.errors import UsageError
from powerlens.snapshots.kpis import monthly_kpis, pareto_table, revenue_by_customer


def _tables():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "start_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2026-09-15"]),
                              "end_date": pd.to_datetime([None, "2026-09-20", None])})
    bills = pd.DataFrame({"customer_id": ["a", "b", "a", "c"], "bill_id": ["a9", "b9", "a10", "c10"],
                          "period": ["2026-09", "2026-09", "2026-10", "2026-10"], "kwh": [100.0, 50, 120, 10],
                          "amount": [60.0, 30.0, 72.0, 6.0],
                          "due_date": pd.to_datetime(["2026-10-20", "2026-10-20", "2026-11-20", "2026-11-20"])})
    # a pays 99.5% of its September bill on time (within the paid-in-full tolerance); b pays half
    payments = pd.DataFrame({"customer_id": ["a", "b"], "bill_id": ["a9", "b9"], "amount": [59.7, 15.0],
                             "paid_on": pd.to_datetime(["2026-10-18", "2026-10-10"]), "channel": "app"})
    events = pd.DataFrame({"customer_id": ["b"], "ts": pd.to_datetime(["2026-09-05"]), "kind": ["inspection"],
                           "outcome": ["theft_confirmed"]})
    return customers, bills, payments, events


def test_monthly_kpis_count_what_happened_in_each_month():
    kpis = monthly_kpis(*_tables(), "2026-10", months=2).set_index("period")
    assert list(kpis.index) == ["2026-09", "2026-10"]
    assert kpis.loc["2026-09", "customers"] == 3 and kpis.loc["2026-09", "accounts_closed"] == 1
    assert kpis.loc["2026-10", "customers"] == 2
    assert kpis.loc["2026-09", "revenue"] == 90.0 and kpis.loc["2026-10", "kwh"] == 130.0
    assert kpis.loc["2026-09", "thefts_confirmed"] == 1
    # bills due in October: a's (paid in full by the rule's tolerance) and b's (half paid)
    assert kpis.loc["2026-10", "on_time_rate"] == 0.5
    assert kpis.loc["2026-10", "arrears_amount"] == pytest.approx(0.3 + 15.0)


def test_kpis_of_an_earlier_period_ignore_later_bills():
    customers, bills, payments, events = _tables()
    early = monthly_kpis(customers, bills, payments, events, "2026-09", months=1)
    assert early["revenue"].iloc[0] == 90.0 and np.isnan(early["on_time_rate"].iloc[0])


def test_missing_tables_give_empty_columns_and_bad_periods_one_error():
    kpis = monthly_kpis(None, None, None, None, "2026-10", months=3)
    assert len(kpis) == 3 and kpis.drop(columns="period").isna().all().all()
    with pytest.raises(UsageError, match="YYYY-MM"):
        monthly_kpis(None, None, None, None, "2026-13")


def test_pareto_table_is_a_thinned_curve_with_the_exact_top20_share():
    revenue = pd.Series(np.arange(1, 1001, dtype=float), index=[f"c{i}" for i in range(1000)])
    curve, summary = pareto_table(revenue, max_points=100)
    assert len(curve) <= 101 and curve["revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["revenue_share"].is_monotonic_increasing
    top = np.sort(revenue.to_numpy())[::-1][:200].sum() / revenue.sum()
    assert summary == {"customers": 1000, "top20_share": pytest.approx(top)}
    _, bills, _, _ = _tables()
    assert revenue_by_customer(bills, "2026-10", months=1).to_dict() == {"a": 72.0, "c": 6.0}
