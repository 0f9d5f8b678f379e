"""Big-customer cards: the right customers, their facts, their actions, and escaped text."""

import pandas as pd

from powerlens.report.cards import big_customer_cards


def test_cards_of_the_largest_big_customers_with_escaped_text_and_their_actions():
    segments = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "big_customer": [True, True, True, False],
        "revenue_12m": [5e5, 9e5, 1e5, 9e9], "customer_class": ["general_industrial"] * 4,
        "region": ["north", "<script>alert(1)</script>", "south", "north"], "capacity_kva": [630, 1250, 400, 50],
        "load_shape": ["flat_multishift"] * 4, "value_tier": ["high", "high", "medium", "low"],
        "credit_grade": ["A", "B", "A", "C"], "kwh_365d": [2e6, 4e6, 5e5, 1e4]})
    features = pd.DataFrame({"customer_id": ["a", "b", "c"], "industry": ["plastics", "textiles", "food"],
                             "two_part_tariff": [True, True, False], "tou_tariff": [True, False, False],
                             "voltage_kv": [10.0, 10.0, 0.4], "trend_pct_per_year": [12.5, -3.0, 0.0],
                             "peak_kw": [480.0, 900.0, 150.0], "load_factor": [0.42, 0.55, 0.3],
                             "complaints_12m": [2, 0, 1], "fault_reports_12m": [1, 0, 0],
                             "capacity_increase_requests": [1, 0, 0]})
    plan = pd.DataFrame({"customer_id": ["a", "a", "d"], "action": ["tou_offer", "account_manager", "inspection"],
                         "rank": [3, 1, 7]})
    peers = pd.DataFrame({"customer_id": ["a"], "load_factor_percentile": [25.0]})
    html, n_big = big_customer_cards(segments, features, plan, peers, top_n=2)
    assert n_big == 3
    assert html.count('class="pl-card"') == 2
    assert html.index(">b</h4>") < html.index(">a</h4>") and ">c</h4>" not in html and ">d</h4>" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    card_a = html[html.index(">a</h4>"):]
    assert "two-part, time-of-use" in card_a and "630 kVA at 10 kV" in card_a and "+12.5% per year" in card_a
    assert "account_manager (rank 1); ToU offer (rank 3)" in card_a and "percentile 25 in its industry" in card_a
    assert "inspection" not in card_a
