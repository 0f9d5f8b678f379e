"""`dvc repro` with `data.source` set to the real London smart-meter sample: the loop runs
through features and segmentation and renders a report; tasks without labels are skipped
with a reason, not an error."""

from __future__ import annotations

import json
import sys

import pytest

from support import project_copy, real_data, run

pytestmark = [pytest.mark.slow, pytest.mark.real_data]


@pytest.fixture(scope="module")
def lcl_run(tmp_path_factory, key_file):
    source = real_data("lcl_london")
    project = tmp_path_factory.mktemp("lcl_project")
    env = project_copy(project, key_file, {
        "data": {"source": {"format": "lcl", "path": str(source)}},
        "generate": {"customers": 30, "months": 13},
        "report": {"periods": ["2014-02"]},
    })
    repro = run([sys.executable, "-m", "dvc", "repro"], project, env)
    return project, repro, env


def test_lcl_runs_through_features_segments_and_report(lcl_run):
    project, repro, env = lcl_run
    validate = json.loads((project / "metrics" / "validate.json").read_text())
    assert validate["format"] == "lcl" and validate["reconciled"]
    features = json.loads((project / "metrics" / "features.json").read_text())
    assert features["customers_at_scoring_cutoff"] > 3000
    segment = json.loads((project / "metrics" / "segment.json").read_text())
    assert segment["pareto_basis"] == "kwh_365d" and segment["chosen_k"] >= 3
    # the London homes' chosen load shapes are stable under the customer-and-day bootstrap, and
    # their indices reach MLflow (the segment run) and the report (how the shapes were chosen)
    daily = segment["load_shape_families"]["daily"]
    assert daily["stability_ari"] >= 0.8 and daily["stable"], daily
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])  # the project copy's own store
    experiment = client.get_experiment_by_name("powerlens-segmentation")
    runs = client.search_runs([experiment.experiment_id], "tags.mlflow.runName = 'segment'")
    assert runs[0].data.metrics["daily_stability_ari"] == pytest.approx(daily["stability_ari"])
    html = project / "reports" / "2014-02" / "strategy_report.html"
    text = html.read_text()
    assert "data:image/png;base64" in text
    assert "stability (ARI)" in text and "silhouette" in text and f"{daily['stability_ari']:.3f}"[:4] in text
    assert not (project / "data" / "truth" / "ground_truth.parquet").exists()


def test_tasks_without_labels_are_skipped_with_a_reason(lcl_run):
    project, repro, _ = lcl_run
    for task in ("arrears", "theft"):
        summary = json.loads((project / "metrics" / f"train_{task}.json").read_text())
        assert "too few positive labels" in summary["skipped"]
    assert "skipped" in repro.stdout
    assert "Traceback" not in repro.stdout + repro.stderr
