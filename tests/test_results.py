"""Results tables rendered from DVC metrics (powerlens.results): built from small dicts here."""

from __future__ import annotations

import json

import pytest

from powerlens.errors import MissingInput
from powerlens.results import lead_interval, read_metrics, results_markdown, write_results


def family(roc, pr, brier, lift, fit, lead=None):
    m = {"roc_auc": roc, "pr_auc": pr, "brier": brier, "lift_at_10pct": lift, "fit_seconds": fit,
         "positives": 93.0, "n": 8894.0}
    if lead is not None:
        m |= {"lead_vs_logistic": lead[0], "lead_vs_logistic_low": lead[1], "lead_vs_logistic_high": lead[2]}
    return m


def train_metrics(**over):
    m = {
        "task": "churn", "primary_metric": "roc_auc", "n_train": 35768, "n_valid": 8894,
        "train_cutoffs": ["2025-08-01", "2025-11-01"], "valid_cutoff": "2026-08-01",
        "families": {
            "lightgbm": family(0.78893, 0.13588, 0.00971, 5.48017, 10.17, (0.01882, -0.0182, 0.05145)),
            "logistic": family(0.77011, 0.1227, 0.1637, 5.05036, 3.71),
            "histgb": family(0.8081, 0.1413, 0.00966, 5.58763, 5.45, (0.03799, 0.00981, 0.06978)),
            "blend": family(0.77934, 0.14493, 0.02648, 5.05036, 0.0, (0.00923, 0.00385, 0.01662)),
        },
        "validation": "time-aware: train on earlier cut-offs, validate on the latest",
        "positives_train": 420, "positives_valid": 93,
        "best_family": "histgb", "calibration": "isotonic", "registered_version": 1, "promoted": True,
        "decision": "no comparable champion: the new model becomes champion", "champion_metric_before": None,
        "champion_family": "histgb",
    }
    return m | over


SEGMENT = {
    "customers": 8801, "pareto_top20_share": 0.8759, "big_customers": 167, "pareto_basis": "revenue_12m",
    "big_revenue_share": 0.6052, "latent_big_customers": 100, "value_weights": {"method": "manual"},
    "load_shape_families": {
        "intraday": {"customers": 1934, "algorithm": "agglomerative", "k": 5, "silhouette": 0.722,
                     "davies_bouldin": 0.428, "cdi": 0.2408, "mia": 0.6328, "stability_ari": 0.998, "stable": True},
        "daily": {"customers": 6867, "algorithm": "kmeans", "k": 3, "silhouette": 0.2647,
                  "davies_bouldin": 1.2328, "cdi": 0.7847, "mia": 0.2076, "stability_ari": 0.7811, "stable": False},
    },
    "tiers": {"low": 4400, "medium": 2640, "high": 1761},
    "credit_grades": {"A": 6435, "C": 1405, "B": 961},
}


def rows_of(text: str, first_cell: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"| {first_cell} ")]


def test_one_table_per_task_with_every_family_row_and_the_champion_line():
    text = results_markdown({"train_theft": train_metrics(task="theft"), "train_churn": train_metrics()},
                            "git commit `abc1234` (committed 2026-12-02)")
    assert "git commit `abc1234` (committed 2026-12-02)" in text
    assert text.index("## churn") < text.index("## theft")  # the rules' task order, not the dict's
    for name in ("lightgbm", "logistic", "blend"):
        assert len(rows_of(text, name)) == 2
    assert len(rows_of(text, "**histgb** (best)")) == 2
    assert text.count("- Champion: histgb. This run's best family: histgb, calibration: isotonic, "
                      "registered as version 1 (champion).") == 2
    assert "- Decision: no comparable champion: the new model becomes champion." in text
    assert "- Positives at validation: 93 of 8,894 rows." in text
    assert ("- Validation: time-aware: train on earlier cut-offs, validate on the latest "
            "(trained on cut-offs 2025-08-01, 2025-11-01; validated on 2026-08-01).") in text


def test_cells_are_rounded_and_the_lead_carries_its_interval():
    text = results_markdown({"train_churn": train_metrics()}, "here")
    histgb = rows_of(text, "**histgb** (best)")[0]
    assert histgb == "| **histgb** (best) | 0.808 | 0.141 | 0.0097 | 5.59 | +0.038 (+0.010 to +0.070) | 5.5 |"
    assert "-0.018 to +0.051" in rows_of(text, "lightgbm")[0]  # an interval through zero shows its sign
    assert "| baseline |" in rows_of(text, "logistic")[0]
    header = [line for line in text.splitlines() if line.startswith("| family | ROC-AUC")][0]
    assert header.count("|") == 8 and "lead over logistic (roc_auc, 90% interval)" in header


def test_lead_interval_formats():
    assert lead_interval({"lead_vs_logistic": 0.0842, "lead_vs_logistic_low": -0.003,
                          "lead_vs_logistic_high": 0.169}) == "+0.084 (-0.003 to +0.169)"
    assert lead_interval({"lead_vs_logistic": 0.01}) == "+0.010"
    assert lead_interval({}) == "–"
    assert lead_interval({"lead_vs_logistic": float("nan")}) == "–"


def test_a_challenger_a_skipped_task_and_pipes_in_values():
    challenger = train_metrics(promoted=False, champion_family="lightgbm", champion_metric_before=0.81234,
                               decision="challenger | 0.808 is not 0.005 above 0.812")
    text = results_markdown({"train_churn": challenger,
                             "train_theft": {"task": "theft", "skipped": "no theft labels in this source"}}, "x")
    assert "- Champion: lightgbm. This run's best family: histgb" in text
    assert "(challenger)" in text and "(the champion's roc_auc on these rows: 0.812)" in text
    assert "## theft\n\nNot trained: no theft labels in this source" in text
    odd = results_markdown({"train_a|b": train_metrics()}, "x")
    assert "## a|b" in odd  # headings need no escape; table cells do
    with_pipe = results_markdown({"train_churn": train_metrics(families={"x|y": family(0.7, 0.1, 0.01, 2.0, 1.0)})},
                                 "x")
    assert rows_of(with_pipe, "x\\|y")


def test_segmentation_section():
    text = results_markdown({"segment": SEGMENT}, "x")
    assert "## Segmentation" in text and "## churn" not in text
    assert "top 20% of customers by revenue_12m carry 87.6% of it" in text
    assert "Big customers: 167, with 60.5% of revenue; latent-big customers flagged: 100." in text
    assert "- Value tiers (manual value weights): high 1,761, medium 2,640, low 4,400." in text
    assert "- Credit grades: A 6,435, B 961, C 1,405." in text
    assert rows_of(text, "intraday")[0] == ("| intraday | 1,934 | agglomerative | 5 | 0.722 | 0.428 | 0.241 | 0.633 "
                                            "| 0.998 | yes |")
    assert rows_of(text, "daily")[0].endswith("| 0.781 | no (below min_stability) |")


def test_read_and_write(tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "train_churn.json").write_text(json.dumps(train_metrics()))
    (metrics / "segment.json").write_text(json.dumps(SEGMENT))
    (metrics / "score.json").write_text("{}")
    assert set(read_metrics(metrics)) == {"train_churn", "segment"}
    models = tmp_path / "models"
    (models / "arrears").mkdir(parents=True)
    (models / "arrears" / "metrics.json").write_text(json.dumps(train_metrics(task="arrears")))
    assert set(read_metrics(models)) == {"train_arrears"}
    out = write_results(metrics, tmp_path / "docs" / "results.md")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Results\n") and "not in a git repository" in text and "## churn" in text
    given = write_results(metrics, tmp_path / "given.md", source="the test's own run")
    assert "from the metrics files of the test's own run." in given.read_text(encoding="utf-8")
    with pytest.raises(MissingInput):
        read_metrics(tmp_path / "missing")
    with pytest.raises(MissingInput):
        read_metrics(models / "arrears")


def test_cross_validated_runs_name_their_folds():
    cv = train_metrics(validation="stratified cross-validation", cv_folds=5, train_cutoffs=["2016-01-01"],
                       valid_cutoff="2016-01-01", n_valid=10224, positives_valid=993)
    text = results_markdown({"train_churn": cv}, "x")
    assert "- Validation: stratified cross-validation, 5 folds (metrics: the mean over the folds)." in text
    assert "- Positives at validation: 993 of 10,224 rows." in text


def test_a_multiclass_task_lists_its_classes():
    acorn = train_metrics(task="acorn_group", positives_valid=None, classes={"Adversity": 1167, "Affluent": 1371})
    text = results_markdown({"train_acorn_group": acorn}, "x", title="Results on the real samples")
    assert text.startswith("# Results on the real samples\n")
    assert "- Classes: Adversity 1,167, Affluent 1,371 (ROC-AUC and PR-AUC: macro one-vs-rest)." in text
    assert "Positives at validation" not in text


def test_the_source_names_the_commit_and_ignores_a_rewritten_dvc_lock(tmp_path):
    import shutil
    import subprocess

    from powerlens.results import describe_source

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "dvc.lock").write_text("a")
    (tmp_path / "params.yaml").write_text("a")
    subprocess.run([*git, "add", "dvc.lock", "params.yaml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "train_churn.json").write_text(json.dumps(train_metrics()))
    (tmp_path / "dvc.lock").write_text("b")
    clean = describe_source(tmp_path / "metrics")
    assert clean.startswith(f"git commit `{commit}` (committed ") and "uncommitted" not in clean
    (tmp_path / "params.yaml").write_text("b")
    assert "with uncommitted changes to tracked files" in describe_source(tmp_path / "metrics")
