"""The exploratory notebooks (jupytext) execute through papermill against a real small pipeline
project (`pipeline_run` of conftest.py: `dvc repro` on 500 synthetic customers), from a folder
outside the project (`project_dir` given as a parameter), and show what the pipeline made: the
segment stage's segments, the registered champions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest

from support import ROOT

EXPLORATORY = ROOT / "notebooks" / "exploratory"

# per notebook: words the images' alt texts must carry
NOTEBOOKS = {
    "consumption": ["Billed energy per month by customer class", "Weekday hourly profile by class",
                    "Distributions at the scoring cut-off"],
    "segmentation": ["Tier sizes", "Pareto: top 20% =", "Cluster validity by k", "load-shape profiles"],
    "risk_models": ["top reasons", "histogram of the champion's scores"],
    "regional": ["Monthly energy per region", "Growth and load factor per region", "Line loss vs"],
}

SHOWN_SEGMENTS = ["customer_id", "value_tier", "credit_grade", "load_shape", "load_shape_family"]


def _execute(name: str, project: Path, env: dict, tmp_path: Path, monkeypatch, parameters: dict | None = None,
             extra: str | None = None) -> tuple[nbformat.NotebookNode, str]:
    """Run a notebook with papermill from a folder outside the project (the kernel inherits the
    project's MLflow store from os.environ); `extra` is appended as a last code cell. Returns the
    executed notebook and the text of its outputs."""
    import papermill as pm

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # 2 cores: LightGBM's threads crawl when the machine is busy
    monkeypatch.setenv("MLFLOW_TRACKING_URI", env["MLFLOW_TRACKING_URI"])
    monkeypatch.delenv("POWERLENS_ROOT", raising=False)  # the project comes from project_dir alone
    nb = jupytext.read(EXPLORATORY / f"{name}.py")
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    elsewhere = tmp_path / "elsewhere"  # not the project, not inside it: no params.yaml around
    elsewhere.mkdir(exist_ok=True)
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(nb, str(out), parameters={"project_dir": str(project), **(parameters or {})},
                        kernel_name="python3", language="python", cwd=str(elsewhere), progress_bar=False)
    executed = nbformat.read(out, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "a cell did not run"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(o.get("text", "") if o.get("output_type") == "stream" else
                     o.get("data", {}).get("text/plain", "") for o in outputs)
    return executed, text


def _images(executed) -> list[dict]:
    return [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})]


def test_every_exploratory_notebook_is_tested():
    assert {p.stem for p in EXPLORATORY.glob("*.py")} == set(NOTEBOOKS)


def test_notebooks_take_the_project_folder_not_a_relative_params_file():
    for path in EXPLORATORY.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        params = next(c for c in jupytext.reads(text, fmt="py:percent").cells
                      if "parameters" in c.metadata.get("tags", []))
        assert "project_dir = None" in params.source, path.name
        assert '"params.yaml"' not in text and "data_dir" not in text, path.name
        assert "workspace.open(project_dir)" in text, path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_exploratory_notebook_runs_on_the_pipelines_outputs(name, pipeline_run, tmp_path, monkeypatch):
    project, env, _ = pipeline_run
    executed, text = _execute(name, project, env, tmp_path, monkeypatch)
    images = _images(executed)
    alts = [str(o.get("metadata", {}).get("image/png", {}).get("alt", "")) for o in images]
    assert images and all(a and a != "figure" for a in alts), alts
    for expected in NOTEBOOKS[name]:
        assert any(expected in a for a in alts), (expected, alts)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert [o for o in outputs if "text/html" in o.get("data", {})], "no table shown"
    assert "Table: " in text  # every table has a title line


@pytest.mark.slow
def test_segmentation_shows_the_pipelines_segments_for_every_account(pipeline_run, tmp_path, monkeypatch):
    project, env, _ = pipeline_run
    shown = tmp_path / "shown.parquet"
    _, text = _execute("segmentation", project, env, tmp_path, monkeypatch,
                       extra=f"segments[{SHOWN_SEGMENTS!r}].to_parquet({str(shown)!r})")
    pipeline = pd.read_parquet(project / "data" / "segments" / "segments.parquet")[SHOWN_SEGMENTS]
    pd.testing.assert_frame_equal(pd.read_parquet(shown).sort_values("customer_id").reset_index(drop=True),
                                  pipeline.sort_values("customer_id").reset_index(drop=True))
    assert "recompute = False" in text


@pytest.mark.slow
def test_segmentation_recompute_says_how_many_load_shapes_differ(pipeline_run, tmp_path, monkeypatch):
    project, env, _ = pipeline_run
    _, text = _execute("segmentation", project, env, tmp_path, monkeypatch, parameters={"recompute": True})
    said = re.search(r"(\d+\.\d)% of accounts \((\d+) of (\d+)\) have a load shape different from the pipeline's",
                     text)
    assert said, text[-3000:]
    accounts = len(pd.read_parquet(project / "data" / "segments" / "segments.parquet"))
    assert int(said.group(3)) == accounts and int(said.group(2)) <= accounts


def _trained(project: Path) -> dict[str, dict]:
    summaries = {p.parent.name: json.loads(p.read_text()) for p in (project / "data" / "models").glob("*/metrics.json")}
    return {t: s for t, s in summaries.items() if "skipped" not in s}


@pytest.mark.slow
def test_risk_models_shows_the_registered_champions(pipeline_run, tmp_path, monkeypatch):
    project, env, _ = pipeline_run
    trained = _trained(project)
    assert {"churn", "arrears"} <= set(trained)
    _, text = _execute("risk_models", project, env, tmp_path, monkeypatch)
    for task, summary in trained.items():
        champion = summary["champion_family"]
        assert f"{task}: families compared by the train stage" in text
        assert f"registered champion: {champion}" in text, (task, champion)
        assert f"{task}: the champion {champion} has" in text
    assert "refit = False" in text


@pytest.mark.slow
def test_risk_models_refit_says_they_are_not_the_champions(pipeline_run, tmp_path, monkeypatch):
    project, env, _ = pipeline_run
    _, text = _execute("risk_models", project, env, tmp_path, monkeypatch,
                       parameters={"refit": True, "families": ["logistic"], "tasks": ["arrears"]})
    champion = _trained(project)["arrears"]["champion_family"]
    assert f"arrears: these refits are not the champions. Best refit by roc_auc: logistic; registered champion: " \
           f"{champion}" in text
