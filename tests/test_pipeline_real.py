"""`dvc repro` with `data.source` set to the real London smart-meter sample: the loop runs
through features and segmentation and renders a report; tasks without labels are skipped
with a reason, not an error."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import project_copy, real_data, run


@pytest.fixture(scope="module")
def lcl_run(tmp_path_factory, key_file):
    source = real_data("lcl_london")
    project = tmp_path_factory.mktemp("lcl_project")
    env = project_copy(project, key_file, {
        "data": {"source": {"format": "lcl", "path": str(source)}},
        "generate": {"customers": 30, "months": 13},
        "report": {"period": "2014-02"},
    })
    repro = run([sys.executable, "-m", "dvc", "repro"], project, env)
    return project, repro


def test_lcl_runs_through_features_segments_and_report(lcl_run):
    project, repro = lcl_run
    validate = json.loads((project / "metrics" / "validate.json").read_text())
    assert validate["format"] == "lcl" and validate["reconciled"]
    features = json.loads((project / "metrics" / "features.json").read_text())
    assert features["customers_at_scoring_cutoff"] > 3000
    segment = json.loads((project / "metrics" / "segment.json").read_text())
    assert segment["pareto_basis"] == "kwh_365d" and segment["chosen_k"] >= 3
    html = project / "reports" / "2014-02" / "strategy_report.html"
    assert html.exists() and "data:image/png;base64" in html.read_text()
    assert not (project / "data" / "truth" / "ground_truth.parquet").exists()


def test_tasks_without_labels_are_skipped_with_a_reason(lcl_run):
    project, repro = lcl_run
    for task in ("arrears", "theft"):
        summary = json.loads((project / "metrics" / f"train_{task}.json").read_text())
        assert "too few positive labels" in summary["skipped"]
    assert "skipped" in repro.stdout
    assert "Traceback" not in repro.stdout + repro.stderr
