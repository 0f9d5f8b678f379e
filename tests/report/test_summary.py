"""The executive summary: sentences from the snapshot's tables, each linked to its section."""

import re
from types import SimpleNamespace

import pandas as pd

from powerlens.report.summary import PLAN_ANCHOR, executive_summary, summary_html


def _snapshot(psi: float = 0.05) -> SimpleNamespace:
    periods = [str(p) for p in pd.period_range("2025-10", "2026-10", freq="M")]
    kpis = pd.DataFrame({"period": periods, "region": "__all__", "kwh": [1e7] * 12 + [1.1e7],
                         "revenue": [8e6] * 12 + [9e6], "on_time_rate": [0.80] * 12 + [0.83],
                         "arrears_amount": [2e6] * 12 + [1.5e6]})
    kpis.loc[kpis["period"].eq("2026-09"), "kwh"] = 1.0e7
    kpis.loc[kpis["period"].eq("2025-10"), "kwh"] = 0.88e7
    plan = pd.DataFrame({"customer_id": list("abcdef"), "action": ["retention_contact"] * 3 + ["inspection"] * 2
                         + ["vip_account_manager"], "priority_score": [100.0, 50.0, 25.0, 900.0, 10.0, 0.9],
                         "holdout": [False, False, True, False, False, False], "region": ["north"] * 6})
    actions = pd.DataFrame({"action": ["retention_contact", "inspection", "vip_account_manager"],
                            "rank_by": ["expected_revenue", "expected_revenue", "value_score"]})
    drift = pd.DataFrame({"task": ["churn", "theft"], "PSI": [0.01, psi]})
    rect = pd.DataFrame({"region": ["north"], "period": ["2026-10"], "kpi": ["complaints_per_10k"]})
    follow = pd.DataFrame({"region": ["north", "south"], "status": ["closed", "still_open"]})
    regional = pd.DataFrame({"region": ["north", "south", "total"], "growth_yoy_weather_normalized": [0.02, 0.07, 0.04]})
    return SimpleNamespace(kpis=kpis, plan=plan, actions=actions, drift=drift, rectification=rect,
                           rectification_follow_up=follow, regional_summary=regional)


def test_the_summary_says_what_changed_what_to_do_and_what_to_check():
    sentences = executive_summary(_snapshot(), "2026-10", None, "__all__")
    text = " ".join(s for s, _ in sentences)
    assert 5 <= len(sentences) <= 7
    assert "11.0 GWh" in text and "+10.0% on last month" in text and "+25.0% on 2025-10" in text
    assert "83.0% of the bills due" in text and "+3.0 points" in text and "-25.0%" in text
    assert "The action plan lists 5 customers" in text  # the holdout is not acted on
    assert "largest by expected revenue is inspection: 2 customers, 910 CNY of expected revenue" in text
    assert "9,000,000 CNY of revenue" in text
    assert "stable" in text and "1 service KPI(s) break their target in 2026-10 (north)" in text
    assert "1 of last month's 2 rectification items are closed" in text
    assert "south grows fastest: +7.0%" in text
    assert dict((a, s) for s, a in sentences)[PLAN_ANCHOR]
    shifted = " ".join(s for s, _ in executive_summary(_snapshot(psi=0.31), "2026-10", None, "__all__"))
    assert "shifted since last month for theft (PSI 0.31)" in shifted


def test_the_summary_html_links_each_sentence_and_escapes_text():
    html = summary_html([("<b>north</b> grows", "sec-regions"), ("plan", PLAN_ANCHOR)])
    assert html.count("<li>") == 2 and '<a href="#sec-regions">' in html and "&lt;b&gt;north" in html
    assert "Nothing to summarize" in summary_html([])


def test_the_contents_link_every_section_and_the_regions_only_with_their_data():
    from powerlens.report.summary import SECTIONS, contents_html

    full, plain = contents_html(True), contents_html(False)
    assert full.count("<li>") == len(SECTIONS) and plain.count("<li>") == len(SECTIONS) - 1
    assert "10. Regions" in full and "10. Regions" not in plain
    assert '<a href="#sec-cards">cards</a>' in full
    chinese = contents_html(True, language="zh")
    assert '<a href="#sec-cards">大客户档案</a>' in chinese and "1. 关键指标" in chinese
    assert re.findall(r'href="#([^"]+)"', chinese) == re.findall(r'href="#([^"]+)"', full)  # the same ids


def test_the_summary_in_chinese_says_the_same_with_the_same_links():
    english = executive_summary(_snapshot(), "2026-10", None, "__all__")
    chinese = executive_summary(_snapshot(), "2026-10", None, "__all__", language="zh", currency="元")
    assert [a for _, a in chinese] == [a for _, a in english]
    text = " ".join(s for s, _ in chinese)
    assert "2026-10 售电量 11.0 GWh，电费收入 9,000,000 元（电量环比 +10.0%，较 2025-10 +25.0%）。" in text
    assert "行动计划共列出 5 户客户" in text and "用电检查 2 户" in text and "客户挽留 2 户" in text
    assert "south 增长最快：气温修正后年增长 +7.0%。" in text
    assert "customers" not in text and "last month" not in text
