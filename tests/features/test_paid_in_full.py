"""One rule for "paid in full by the due date" (powerlens.rules.paid_in_full): the billing
features and the review of past actions (arrears cured) draw the line at the same place."""

import pandas as pd
import pytest

from powerlens import outcomes, strategy
from powerlens.features.billing import billing_features
from powerlens.rules import paid_in_full

AMOUNT = 100.0
# the tolerance: 1% of the amount plus 0.01 (rounding and small write-offs)
JUST_ENOUGH, JUST_SHORT = 98.99, 98.98


def test_the_rule_at_its_boundary():
    assert paid_in_full(JUST_ENOUGH, AMOUNT) and not paid_in_full(JUST_SHORT, AMOUNT)
    assert paid_in_full(0.0, 0.0) and not paid_in_full(float("nan"), 10.0)  # nothing paid is unpaid


def _bills(paid: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    bills = pd.DataFrame({"customer_id": ["c1"], "bill_id": ["b1"], "amount": [AMOUNT],
                          "bill_date": pd.to_datetime(["2026-01-01"]), "due_date": pd.to_datetime(["2026-01-21"])})
    payments = pd.DataFrame({"customer_id": ["c1"], "bill_id": ["b1"], "amount": [paid],
                             "paid_on": pd.to_datetime(["2026-01-15"]), "channel": ["counter"]})
    return bills, payments


@pytest.mark.parametrize("paid, settled", [(JUST_ENOUGH, True), (JUST_SHORT, False), (AMOUNT, True)])
def test_billing_features_follow_the_rule(paid, settled):
    bills, payments = _bills(paid)
    f = billing_features(bills, payments, pd.Index(["c1"]), pd.Timestamp("2026-04-01"), 365)
    assert f.loc["c1", "bills_paid_full_12m"] == int(settled)
    assert f.loc["c1", "arrears_count"] == int(not settled)
    assert f.loc["c1", "on_time_rate"] == float(settled)


@pytest.mark.parametrize("paid, in_arrears", [(JUST_ENOUGH, False), (JUST_SHORT, True)])
def test_arrears_cured_follows_the_rule(paid, in_arrears):
    bills, payments = _bills(paid)
    customers = pd.DataFrame({"customer_id": ["c1"], "end_date": [pd.NaT]})
    flags = outcomes.outcome_flags("arrears_cured", pd.Index(["c1"]), pd.Timestamp("2026-03-01"),
                                   pd.Timestamp("2026-04-01"), customers, bills, payments, None)
    assert bool(flags.loc["c1", "measured"]) is in_arrears  # owing at the start of the window


def test_strategy_keeps_the_shared_names():
    from powerlens import rules

    assert strategy.TASKS is rules.TASKS
    assert strategy.VALUE_TIERS is rules.VALUE_TIERS and strategy.CREDIT_GRADES is rules.CREDIT_GRADES
    assert strategy.outcome_flags is outcomes.outcome_flags
