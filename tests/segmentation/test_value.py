"""Value tiers, credit grades, big customers, Pareto, value weights (entropy, AHP)."""


import numpy as np
import pandas as pd
import pytest

from powerlens.segmentation.value import (
    WeightsError,
    ahp_weights,
    big_customers,
    credit_grades,
    entropy_weights,
    pareto,
    value_tiers,
)


def test_pareto_curve_and_top_share():
    curve, top20 = pareto(pd.Series([80.0, 10, 5, 3, 2, 0, 0, 0, 0, 0]))
    assert top20 == pytest.approx(0.9)
    assert curve["revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["revenue_share"].is_monotonic_increasing


def test_tiers_follow_the_quantiles():
    tiers = value_tiers(pd.Series(np.linspace(0, 1, 100)), [0.8, 0.5])
    assert (tiers == "high").sum() == 20 and (tiers == "medium").sum() == 30 and (tiers == "low").sum() == 50


def test_credit_grades():
    feats = pd.DataFrame({
        "on_time_rate": [1.0, 0.7, 0.95, 0.2],
        "arrears_amount": [0.0, 0.0, 0.0, 500.0],
        "days_past_due_max": [0, 20, 5, 120],
        "arrears_61_90d": [0.0, 0.0, 0.0, 0.0],
        "arrears_over_90d": [0.0, 0.0, 0.0, 500.0],
    })
    assert list(credit_grades(feats)) == ["A", "B", "A", "C"]


def test_big_customer_rule_uses_params_thresholds():
    feats = pd.DataFrame({"capacity_kva": [100, 315, 630, 200], "peak_kw": [50, 100, 400, 450]})
    assert list(big_customers(feats, 315, 400)) == [False, True, True, True]
    assert list(big_customers(feats, 500, 1000)) == [False, False, True, False]


def test_entropy_weights_favour_the_criterion_customers_differ_on():
    rng = np.random.default_rng(0)
    values = pd.DataFrame({"constant": np.full(500, 3.0), "spread": rng.uniform(0, 1, 500),
                           "concentrated": np.where(rng.random(500) < 0.05, 100.0, 1.0)})
    w = entropy_weights(values)
    assert w["constant"] == 0 and sum(w.values()) == pytest.approx(1.0)
    assert w["concentrated"] > w["spread"] > 0


def test_ahp_weights_and_consistency_ratio():
    criteria = ["revenue", "kwh", "reliability"]
    w, cr = ahp_weights({"revenue/kwh": 2, "revenue/reliability": 4, "kwh/reliability": 2}, criteria)
    assert cr == pytest.approx(0.0, abs=1e-9)
    assert [round(w[c], 4) for c in criteria] == [round(4 / 7, 4), round(2 / 7, 4), round(1 / 7, 4)]
    # revenue > kwh > reliability, but reliability > revenue: a circle, not a judgment
    with pytest.raises(WeightsError, match=r"inconsistent \(consistency ratio \d\.\d\d > 0\.10\)"):
        ahp_weights({"revenue/kwh": 5, "kwh/reliability": 5, "reliability/revenue": 5}, criteria, "x")
    with pytest.raises(WeightsError, match="missing pairwise judgment.*kwh/reliability"):
        ahp_weights({"revenue/kwh": 2, "revenue/reliability": 4}, criteria)
    with pytest.raises(WeightsError, match="outside Saaty's scale"):
        ahp_weights({"revenue/kwh": 20, "revenue/reliability": 4, "kwh/reliability": 2}, criteria)
