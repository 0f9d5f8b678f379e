"""The report's charts of tiers, risk lists and the plan draw what they are given."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from powerlens.report import figures  # noqa: E402


def test_tier_heatmap_labels_cells_and_hides_small_ones():
    segments = pd.DataFrame({"value_tier": ["high"] * 12 + ["low"] * 3, "credit_grade": ["A"] * 12 + ["C"] * 3,
                             "revenue_12m": [100.0] * 12 + [1.0] * 3})
    fig = figures.tier_heatmap_figure(segments, ["high", "medium", "low"], ["A", "B", "C"], min_group_size=10)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "12 customers\n99.8% of revenue" in texts  # 1200 of 1203
    assert texts.count("<10") == 8 and not any("3 customers" in t for t in texts)


def test_score_distributions_mark_where_each_list_is_cut():
    rng = np.random.default_rng(0)
    scores = pd.DataFrame({"task": ["churn"] * 500 + ["theft"] * 300,
                           "score": np.r_[rng.beta(1, 30, 500), rng.beta(1, 80, 300)]})
    fig = figures.score_distributions_figure(scores, {"churn": 100}, ["churn", "arrears", "theft"])
    titled = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titled == ["churn: 500 scored customers", "theft: 300 scored customers"]  # no panel without scores
    cut = np.sort(scores.loc[scores["task"] == "churn", "score"].to_numpy())[::-1][99]
    legend = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert legend == f"list of 100 cut at {cut:.1%}"
    assert fig.axes[1].get_legend() is None  # theft: no capacity given


def test_plan_against_capacity():
    plan = pd.DataFrame({"action": ["inspection"] * 5 + ["retention_contact"] * 3,
                         "holdout": [False] * 5 + [False, False, True]})
    actions = pd.DataFrame({"action": ["inspection", "retention_contact", "efficiency_audit"], "capacity": [5, 2, 20]})
    fig = figures.plan_capacity_figure(plan, actions)
    bars = fig.axes[0].patches
    assert [b.get_width() for b in bars[:3]] == [5, 2, 0] and [b.get_width() for b in bars[3:]] == [0, 1, 0]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["inspection", "retention contact",
                                                                     "efficiency audit"]


def test_migration_heatmap_shows_counts_and_hidden_cells():
    from powerlens.report import tables

    previous = pd.DataFrame({"customer_id": [f"c{i}" for i in range(30)], "value_tier": "high", "credit_grade": "A"})
    current = previous.iloc[:27].assign(credit_grade=["A"] * 24 + ["B"] * 3)
    current = pd.concat([current, pd.DataFrame({"customer_id": ["n1"], "value_tier": ["low"], "credit_grade": ["C"]})])
    moves = tables.migration(current, previous, min_group_size=5)
    fig = figures.migration_heatmap_figure(moves, 5)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "24" in texts and texts.count("<5") == 3  # 3 to high/B, 3 left, 1 new: hidden
    assert fig.axes[0].get_xlabel() == "this period"


def test_model_health_small_multiples_mark_the_champion_and_the_drift():
    comparison = pd.DataFrame({"task": ["churn"] * 3 + ["theft"] * 2,
                               "family": ["histgb", "lightgbm", "logistic", "histgb", "logistic"],
                               "champion": ["yes", "", "", "", "yes"], "roc_auc": [0.81, 0.79, 0.75, 0.88, 0.77]})
    drift = pd.DataFrame({"task": ["churn", "theft"], "PSI": [0.01, 0.31]})
    fig = figures.model_health_figure(comparison, drift, ["churn", "arrears", "theft"])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["churn: ROC-AUC by family, score drift PSI 0.01", "theft: ROC-AUC by family, score drift PSI 0.31"]
    churn_bars = fig.axes[0].patches
    assert [round(b.get_width(), 2) for b in churn_bars] == [0.81, 0.79, 0.75]
    assert churn_bars[0].get_facecolor() != churn_bars[1].get_facecolor()  # the champion stands out
