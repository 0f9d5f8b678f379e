"""Fixtures of the end-to-end tests: a real small pipeline project (`pipeline_run`), shared by
test_pipeline.py and test_notebooks.py (one `dvc repro` per session, not one per module)."""

from __future__ import annotations

import sys

import pytest

from support import project_copy, run


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory, key_file):
    """A copy of the project (own git, DVC, MLflow store) after `dvc repro` on 500 synthetic
    customers: (project folder, its environment, the repro's completed process). Tests that edit
    a file of it put it back."""
    project = tmp_path_factory.mktemp("project")
    env = project_copy(project, key_file, {
        "generate": {"customers": 500, "months": 24},
        "features": {"n_training_cutoffs": 3},
        "segment": {"clustering": {"k_max": 6, "sample_size": 500}},
        "forecast": {"backtest_origins": 2, "calibration_weeks": 8,
                     "lightgbm": {"n_estimators": 100, "learning_rate": 0.12}},
    })
    repro = run([sys.executable, "-m", "dvc", "repro"], project, env)
    # what DVC says right after the repro, before any test runs a command in the project
    repro.status_after = run([sys.executable, "-m", "dvc", "status", "--json"], project, env).stdout
    return project, env, repro
