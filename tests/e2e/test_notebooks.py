"""The exploratory notebooks (jupytext) execute through papermill on a small synthetic utility
(the real generator and importer, from conftest's `small_clean`)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

from support import ROOT

EXPLORATORY = ROOT / "notebooks" / "exploratory"


NOTEBOOKS = {
    "consumption": ["Billed energy per month by customer class", "Weekday hourly profile by class"],
    "segmentation": ["Pareto: top 20% =", "Cluster validity by k", "load-shape profiles"],
    "risk_models": ["validation on", "importance"],
}


# keeps the test fast on 2 cores: LightGBM's threads crawl when the machine is busy; the
# notebook's default is every family in params.yaml
PARAMETERS = {"risk_models": {"families": ["logistic", "histgb"]}}


@pytest.fixture(scope="module")
def data_dir(small_clean, tmp_path_factory) -> Path:
    """A project-style data folder whose clean/ is the session's small clean data."""
    data = tmp_path_factory.mktemp("exploratory") / "data"
    data.mkdir()
    (data / "clean").symlink_to(small_clean, target_is_directory=True)
    return data


def test_every_exploratory_notebook_is_tested():
    assert {p.stem for p in EXPLORATORY.glob("*.py")} == set(NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_exploratory_notebook_runs(name, data_dir, tmp_path, monkeypatch):
    import papermill as pm

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel inherits it

    source = EXPLORATORY / f"{name}.py"
    text = source.read_text(encoding="utf-8")
    assert "import powerlens" in text or "from powerlens" in text
    nb = jupytext.read(source)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    out = tmp_path / f"{name}.ipynb"
    parameters = {"data_dir": str(data_dir), "params_path": str(ROOT / "params.yaml"),
                  **PARAMETERS.get(name, {})}
    pm.execute_notebook(nb, str(out), parameters=parameters,
                        kernel_name="python3", language="python", cwd=str(tmp_path),
                        progress_bar=False)

    executed = nbformat.read(out, as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "a cell did not run"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= len(NOTEBOOKS[name])
    alts = " | ".join(str(o.get("metadata", {}).get("image/png", {}).get("alt", "")) for o in images)
    for expected in NOTEBOOKS[name]:
        assert expected in alts, (expected, alts)
    tables = [o for o in outputs if "text/html" in o.get("data", {})]
    assert tables, "no table shown"
