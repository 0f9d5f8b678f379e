"""Value tiers, credit scores and grades, big customers (per-region rules, apparent power,
over-contract use, month-on-month changes), latent big customers, Pareto, value weights
(entropy, AHP)."""


import numpy as np
import pandas as pd
import pytest

from powerlens.config import load_config
from powerlens.errors import InvalidInput
from powerlens.segmentation.value import (
    WeightsError,
    ahp_weights,
    apparent_power,
    big_customer_changes,
    big_customer_rules,
    credit_criteria,
    credit_grades,
    credit_scores,
    credit_weights,
    entropy_weights,
    latent_big,
    pareto,
    value_scores,
    value_tiers,
    value_weights,
)

PF = {"residential": 0.95, "commercial": 0.9, "general_industrial": 0.85}
DEFAULT_RULE = {"min_capacity_kva": 315, "min_peak_kw": None, "two_part_tariff_only": False, "min_voltage_kv": 10,
                "by_region": {"developed": {"min_capacity_kva": 500, "min_peak_kw": 400, "two_part_tariff_only": True}},
                "power_factor_by_class": PF, "power_factor_default": 0.9, "over_contract_tolerance": 0.1}


def _accounts(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"customer_class": ["general_industrial"] * n, "region": ["plain"] * n, "voltage_kv": [10.0] * n,
            "two_part_tariff": [True] * n, "kwh_365d": [1e5] * n}
    return pd.DataFrame(base | columns)


def _big(feats: pd.DataFrame, rule: dict = DEFAULT_RULE) -> pd.DataFrame:
    return big_customer_rules(feats, apparent_power(feats, rule["power_factor_by_class"],
                                                    rule["power_factor_default"]), rule)


def test_pareto_curve_and_top_share():
    curve, top20 = pareto(pd.Series([80.0, 10, 5, 3, 2, 0, 0, 0, 0, 0]))
    assert top20 == pytest.approx(0.9)
    assert curve["revenue_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["revenue_share"].is_monotonic_increasing


def test_tiers_follow_the_quantiles():
    tiers = value_tiers(pd.Series(np.linspace(0, 1, 100)), [0.8, 0.5])
    assert (tiers == "high").sum() == 20 and (tiers == "medium").sum() == 30 and (tiers == "low").sum() == 50


def _credit_feats() -> pd.DataFrame:
    return pd.DataFrame({
        "on_time_rate": [1.0, 0.7, 1.0, 0.2, np.nan, 1.0],
        "arrears_amount": [0.0, 0.0, 0.0, 500.0, 0.0, 0.0],
        "bill_amount_mean": [100.0, 100.0, 100.0, 100.0, np.nan, 100.0],
        "theft_confirmed_before": [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        "tenure_years": [10.0, 10.0, 1.0, 10.0, 0.2, 10.0],
    }, index=["on_time", "late", "new_on_time", "arrears", "no_bills_yet", "thief"])


def test_credit_score_weighs_punctuality_arrears_theft_and_tenure():
    credit = load_config().segment.credit.as_dict()
    criteria = credit_criteria(_credit_feats(), credit["arrears_bills_at_zero"], credit["tenure_years_full"])
    assert criteria.loc["arrears", "arrears_to_bill"] == 0  # five bills owed: beyond the two that score 0
    assert criteria["operating_condition"].isna().all()  # no source column: not counted
    weights, info = credit_weights(criteria, credit)
    score = credit_scores(criteria, weights)
    assert score["on_time"] == pytest.approx(1.0) and 0 <= score.min() and score.max() <= 1
    assert score["on_time"] > score["new_on_time"] > score["late"] > score["arrears"]
    assert score["thief"] < score["on_time"]  # pays on time, but a confirmed theft costs credit
    # a new account without bills due is judged on what it has: no arrears, no theft, short tenure
    assert score["no_bills_yet"] == pytest.approx((0.3 + 0.15 + 0.1 * 0.2 / 5) / 0.55)
    grades = credit_grades(score, credit["grade_a_min"], credit["grade_b_min"])
    assert list(grades) == ["A", "B", "A", "C", "B", "B"]  # 70% on time: slightly low credit, B
    # the operating condition counts where a source has it
    with_condition = _credit_feats().assign(operating_condition=[1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    again = credit_scores(credit_criteria(with_condition, 2, 5), weights)
    assert again["thief"] < score["thief"] and again["on_time"] == pytest.approx(1.0)


def test_credit_weights_by_entropy_and_ahp_and_refused_criteria():
    credit = load_config().segment.credit.as_dict()
    criteria = credit_criteria(_credit_feats(), 2, 5)
    w, info = credit_weights(criteria, credit | {"method": "ahp"})
    assert info["consistency_ratio"] <= 0.1 and max(w, key=w.get) == "payment_punctuality"
    w, _ = credit_weights(criteria, credit | {"method": "entropy"})
    assert w["operating_condition"] == 0 and sum(w.values()) == pytest.approx(1.0)
    with pytest.raises(WeightsError, match="'income' is not a credit criterion"):
        credit_weights(criteria, credit | {"weights": {"income": 1.0}})


def test_value_criteria_refuse_a_credit_feature():
    """Credit must not count twice: payment punctuality is on the credit axis only."""
    spec = load_config().segment.value_weights.as_dict()
    assert "on_time_rate" not in spec["current"]
    spec["current"] = {"revenue_12m": 0.8, "on_time_rate": 0.2}
    with pytest.raises(WeightsError, match="on_time_rate is a credit criterion"):
        value_weights(pd.DataFrame(), spec)


def test_big_customers_by_region_rule_voltage_and_tariff():
    feats = _accounts(capacity_kva=[630, 630, 400, 630, 450, 315],
                      peak_kw=[300, 300, 200, 300, 400, 100],
                      region=["plain", "developed", "developed", "developed", "developed", "plain"],
                      two_part_tariff=[True, True, True, False, True, True],
                      voltage_kv=[10.0, 10.0, 10.0, 10.0, 10.0, 0.4])
    big = _big(feats)
    assert list(big["big_customer"]) == [True, True, False, False, True, False]
    assert big["big_customer_rule"].iloc[0] == "capacity 630 kVA >= 315 kVA (default)"
    assert big["big_customer_rule"].iloc[1] == "capacity 630 kVA >= 500 kVA on the two-part tariff (developed)"
    assert big["big_customer_rule"].iloc[2] == "capacity 400 kVA < 500 kVA, demand 200 kW < 400 kW (developed)"
    assert big["big_customer_rule"].iloc[3].endswith("but not on the two-part tariff (developed)")
    assert big["big_customer_rule"].iloc[4] == (
        "demand 400 kW >= 400 kW within the contracted 450 kVA on the two-part tariff (developed)")
    assert big["big_customer_rule"].iloc[5] == "capacity 315 kVA >= 315 kVA but supplied at 0.4 kV < 10 kV (default)"
    # an unknown voltage is not held against an account
    assert _big(feats.assign(voltage_kv=np.nan))["big_customer"].iloc[5]
    with pytest.raises(InvalidInput, match="by_region.developed: unknown key 'min_kva'"):
        _big(feats, DEFAULT_RULE | {"by_region": {"developed": {"min_kva": 500}}})


def test_demand_above_the_contract_is_over_contract_use_not_a_big_customer():
    """A 200 kVA account with a 450 kW peak uses more than it contracted: practice flags it for
    inspection, it does not become a big customer (even where 400 kW would make one)."""
    feats = _accounts(capacity_kva=[200, 200, 630, 100], peak_kw=[450, 450, 300, 95],
                      region=["plain", "developed", "plain", "plain"])
    big = _big(feats)
    assert list(big["big_customer"]) == [False, False, True, False]
    assert list(big["over_contract"]) == [True, True, False, True]  # 95 kW / 0.85 = 112 kVA > 110 kVA
    assert big["over_contract_kva"].iloc[0] == pytest.approx(450 / 0.85 - 200)
    assert big["over_contract_reason"].iloc[0] == (
        "measured demand 529 kVA (450 kW at power factor 0.85, class default) is 265% of the contracted 200 kVA")
    assert "over-contract use" in big["big_customer_rule"].iloc[1]
    assert big["over_contract_reason"].iloc[2] == ""
    # at a power factor measured from reactive energy: 1 (no kvarh) is within the contract, 0.71 is not
    near = _accounts(capacity_kva=[100, 100], peak_kw=[95, 95], kvarh_365d=[0.0, 1e5])
    apparent = apparent_power(near, PF, 0.9)
    assert list(apparent["power_factor_source"]) == ["reactive energy", "reactive energy"]
    assert apparent["power_factor"].round(3).tolist() == [1.0, round(1 / np.sqrt(2), 3)]
    assert list(big_customer_rules(near, apparent, DEFAULT_RULE)["over_contract"]) == [False, True]


def test_accounts_entering_and_leaving_the_big_customer_list():
    previous = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "big_customer": [True, True, False, False],
                             "big_customer_rule": ["capacity 400 kVA >= 315 kVA (default)",
                                                   "capacity 630 kVA >= 315 kVA (default)",
                                                   "capacity 250 kVA < 315 kVA (default)", "x"]})
    current = pd.DataFrame({"customer_id": ["a", "c", "d", "e"], "big_customer": [False, True, False, True],
                            "big_customer_rule": ["capacity 250 kVA < 315 kVA (default)",
                                                  "capacity 400 kVA >= 315 kVA (default)", "x",
                                                  "capacity 800 kVA >= 315 kVA (default)"]})
    changes = big_customer_changes(previous, current).set_index("customer_id")
    assert list(changes.index) == ["c", "e", "a", "b"]
    assert list(changes["change"]) == ["entered", "entered", "left", "left"]
    assert changes.loc["a", "reason"] == ("capacity 250 kVA < 315 kVA (default); before: "
                                          "capacity 400 kVA >= 315 kVA (default)")
    assert changes.loc["b", "reason"].startswith("account closed")
    assert changes.loc["e", "reason"].endswith("(a new account)")
    assert big_customer_changes(current, current).empty


def test_latent_big_customers_are_high_on_both_current_and_potential_value():
    rng = np.random.default_rng(3)
    n = 400
    feats = pd.DataFrame({
        "customer_class": np.where(np.arange(n) < 100, "residential", "commercial"),
        "revenue_12m": rng.gamma(2, 1e4, n), "kwh_365d": rng.gamma(2, 2e4, n),
        "trend_pct_per_year": rng.normal(0, 10, n), "capacity_increase_requests": (rng.random(n) < 0.05) * 1.0,
        "tenure_years": rng.uniform(0, 20, n), "capacity_utilisation": rng.uniform(0.2, 0.9, n),
    })
    big = pd.Series(np.arange(n) >= 380)
    scores = value_scores(feats, {"revenue_12m": 0.6, "kwh_365d": 0.4},
                          {"trend_pct_per_year": 0.5, "capacity_increase_requests": 0.3, "new_install": 0.2}, 0.3)
    latent, thresholds = latent_big(feats, scores, big, 0.5, 0.8)
    flagged = latent["latent_big_customer"]
    eligible = ~big & (feats["customer_class"] != "residential")
    assert 0 < flagged.sum() < eligible.sum() and not (flagged & ~eligible).any()
    assert (scores.loc[flagged, "current_value"] >= scores.loc[eligible, "current_value"].median()).all()
    assert (scores.loc[flagged, "potential_value"] >= scores.loc[eligible, "potential_value"].quantile(0.8)).all()
    # everyone eligible in the quadrant is flagged: it is a quadrant, not a top share
    quadrant = eligible & (scores["current_value"] >= thresholds["current_min"]) & (
        scores["potential_value"] >= thresholds["potential_min"])
    assert (flagged == quadrant).all()
    assert latent.loc[flagged, "latent_big_reason"].str.startswith("current value ").all()
    assert sorted(latent.loc[flagged, "latent_big_rank"]) == list(range(1, flagged.sum() + 1))


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
