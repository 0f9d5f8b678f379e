"""Backfill: a range of periods rendered, one failing period does not stop the others."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from powerlens.errors import UsageError
from powerlens.rules import periods_between
from support import NOTEBOOK, ROOT, build_data


def test_periods_between():
    assert periods_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert periods_between("2026-03", "2026-03") == ["2026-03"]
    with pytest.raises(UsageError):
        periods_between("2026-03", "2026-01")
    with pytest.raises(UsageError):
        periods_between("2026-3", "2026-05")


def notebook_failing_for(period: str, path: Path) -> Path:
    """A copy of the report notebook that fails, in its own code, for one period only."""
    nb = jupytext.read(NOTEBOOK)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        f'if period == "{period}":\n    raise ValueError(f"no usable bills for {{period}}")'))
    jupytext.write(nb, path, fmt="py:percent")
    return path


def backfill_range(data: Path, out: Path, notebook: Path, progress):
    """`powerlens report --from 2026-05 --to 2026-10` on a data folder: the snapshots it lacks
    first, then the renders in parallel (jobs.report.run_range)."""
    from powerlens.config import load_config
    from powerlens.jobs.report import run_range
    from powerlens.paths import ProjectPaths

    class Paths(ProjectPaths):  # the project's layout with this data folder and report notebook
        data = property(lambda self: data)
        reports = property(lambda self: out)
        report_notebook = property(lambda self: notebook)
        playbook = property(lambda self: ROOT / "playbook.yaml")

    cfg = load_config(ROOT / "params.yaml").replace("report", top_n=5)
    return run_range(periods_between("2026-05", "2026-10"), cfg, Paths(ROOT), workers=2, echo=progress)


@pytest.mark.slow
def test_backfill_renders_the_other_periods_when_one_fails(tmp_path):
    data = build_data(tmp_path / "data")
    out = tmp_path / "reports"
    broken = notebook_failing_for("2026-07", tmp_path / "report_failing_in_july.py")
    lines = []
    result = backfill_range(data, out, broken, lines.append)

    good = ["2026-05", "2026-06", "2026-08", "2026-09", "2026-10"]
    assert [o.period for o in result.outcomes] == ["2026-05", *good[1:2], "2026-07", *good[2:]]
    assert result.rendered == good and result.failed == ["2026-07"] and not result.ok
    assert sum(line.startswith("2026-") for line in lines) == 6
    assert all((data / "snapshots" / p / "manifest.json").exists() for p in [*good, "2026-07"])
    for period in good:
        folder = out / period
        assert {"strategy_report.html", "strategy_report.ipynb", "actions.csv"} <= {
            p.name for p in folder.iterdir()}
        assert not (folder / "strategy_report.failed.ipynb").exists()
    failed = next(o for o in result.outcomes if not o.ok)
    assert failed.failed_notebook == out / "2026-07" / "strategy_report.failed.ipynb"
    executed = nbformat.read(failed.failed_notebook, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["evalue"] == "no usable bills for 2026-07"
    assert not (out / "2026-07" / "strategy_report.html").exists()
    assert "ValueError: no usable bills for 2026-07" in failed.error

    summary = result.summary()
    assert "5 of 6 period(s) rendered" in summary
    assert "FAILED 2026-07" in summary and str(failed.failed_notebook) in summary

    index = (out / "index.html").read_text()
    for period in good:
        assert f'href="{period}/strategy_report.html"' in index
    assert "2026-07" not in index

    # a report uses only data before its period's end: the KPIs stop at the period
    nb = nbformat.read(out / "2026-05" / "strategy_report.ipynb", as_version=4)
    months = re.findall(r"\b(20\d\d-\d\d)\b(?!-\d)", json.dumps([c.get("outputs", []) for c in nb.cells]))
    assert months and max(months) == "2026-05"
