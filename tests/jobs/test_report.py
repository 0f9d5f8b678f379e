"""The report job outside DVC: a snapshot that is missing, incomplete or made from other
inputs is computed again before the render; one that is current is reused. What the report
stage records names no machine's folders, and two renders of one period at once both succeed
with one complete report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from powerlens.config import load_config
from powerlens.jobs import snapshot
from powerlens.paths import DataPaths, ProjectPaths
from support import NOTEBOOK, PERIOD, ROOT, SECTIONS, build_data


def test_a_snapshot_is_stale_when_its_inputs_or_settings_change(tmp_path):
    data = DataPaths(build_data(tmp_path / "data"))
    cfg, playbook = load_config(ROOT / "params.yaml"), ROOT / "playbook.yaml"
    assert snapshot.stale_periods([PERIOD], cfg, data=data, playbook=playbook) == [PERIOD]  # none yet
    snapshot.run([PERIOD], cfg, data=data, playbook=playbook, echo=lambda _m: None)
    assert snapshot.stale_periods([PERIOD], cfg, data=data, playbook=playbook) == []
    # the same data with another privacy threshold: the snapshot's suppression no longer fits
    stricter = cfg.replace("report", min_group_size=20)
    assert snapshot.stale_periods([PERIOD], stricter, data=data, playbook=playbook) == [PERIOD]
    # re-imported bills
    bills = pd.read_parquet(data.clean / "bills.parquet")
    bills.iloc[:-1].to_parquet(data.clean / "bills.parquet")
    assert snapshot.stale_periods([PERIOD], cfg, data=data, playbook=playbook) == [PERIOD]


def test_without_a_playbook_it_snapshots_and_a_malformed_playbook_is_one_line(tmp_path):
    from powerlens.errors import InvalidInput
    from powerlens.snapshots import load_snapshot

    data = DataPaths(build_data(tmp_path / "data"))
    cfg = load_config(ROOT / "params.yaml")
    result = snapshot.run([PERIOD], cfg, data=data, playbook=tmp_path / "no_playbook.yaml", echo=lambda _m: None)
    assert "error" not in result[PERIOD]
    snap = load_snapshot(data.snapshot_dir(PERIOD))
    assert snap.plan.empty and snap.actions is None and len(snap.scores) > 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("tiers: [unclosed\n")
    with pytest.raises(InvalidInput, match=r"broken.yaml: not valid YAML \(line 2\)"):
        snapshot.run([PERIOD], cfg, data=data, playbook=broken, echo=lambda _m: None)


def test_a_failing_period_is_isolated_and_a_bug_keeps_its_traceback(tmp_path, monkeypatch):
    from powerlens.errors import InvalidInput
    from powerlens.snapshots import build

    data = DataPaths(build_data(tmp_path / "data"))
    cfg = load_config(ROOT / "params.yaml")
    real = build.build_snapshot

    def flaky(period, *args, **kwargs):
        if period == "2026-08":
            raise InvalidInput("no bills in 2026-08")
        if period == "2026-09":
            return {}["bug"]
        return real(period, *args, **kwargs)

    monkeypatch.setattr(build, "build_snapshot", flaky)
    result = snapshot.run(["2026-08", "2026-09", "2026-10"], cfg, data=data, playbook=ROOT / "playbook.yaml",
                          echo=lambda _m: None, isolate=True)
    assert result["2026-08"] == {"error": "no bills in 2026-08"}
    assert result["2026-09"]["error"] == "KeyError: 'bug'" and "Traceback" in result["2026-09"]["traceback"]
    assert "error" not in result["2026-10"] and (data.snapshot_dir("2026-10") / "manifest.json").exists()
    with pytest.raises(InvalidInput):  # not isolated: the first failure stops the run
        snapshot.run(["2026-08"], cfg, data=data, playbook=ROOT / "playbook.yaml", echo=lambda _m: None)


def report_project(root: Path) -> dict[str, str]:
    """A project folder with build_data's data, the playbook, the report notebook, the stage
    entries and params.yaml (top_n 5); the environment to run commands in it."""
    build_data(root / "data")
    shutil.copy2(ROOT / "playbook.yaml", root / "playbook.yaml")
    shutil.copytree(ROOT / "pipelines", root / "pipelines")
    (root / "notebooks" / "reports").mkdir(parents=True)
    shutil.copy2(NOTEBOOK, root / "notebooks" / "reports" / NOTEBOOK.name)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["report"]["top_n"] = 5
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return {**os.environ, "POWERLENS_ROOT": str(root), "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
            "PYTHONUNBUFFERED": "1"}


def dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_an_interrupted_snapshot_write_is_recomputed_not_read(tmp_path):
    """What a killed snapshot write leaves (its staging folder beside the period's folder, no
    folder; or a folder without manifest.json) is never read: the snapshot is recomputed, the
    leftovers are deleted."""
    from powerlens.atomic import is_temporary
    from powerlens.jobs.report import ensure_snapshots
    from powerlens.snapshots import TABLES, load_snapshot

    report_project(tmp_path)
    paths, cfg = ProjectPaths(tmp_path), load_config(tmp_path / "params.yaml")
    folder = paths.snapshot_dir(PERIOD)
    assert ensure_snapshots([PERIOD], cfg, paths, echo=lambda _m: None) == {}
    good = load_snapshot(folder)

    def recomputed() -> bool:
        lines: list[str] = []
        assert ensure_snapshots([PERIOD], cfg, paths, echo=lines.append) == {}
        again = load_snapshot(folder)
        for name in TABLES:
            if good.tables[name] is None:
                assert again.tables[name] is None, name
            else:
                pd.testing.assert_frame_equal(again.tables[name], good.tables[name], obj=name)
        return any("computing the snapshot of 2026-10" in line for line in lines)

    # killed while writing: a staging folder with half the tables and no manifest, no folder
    staging = folder.with_name(f".{PERIOD}.tmp-{dead_pid()}-0badc0de")
    assert is_temporary(staging)
    shutil.copytree(folder, staging)
    (staging / "manifest.json").unlink()
    (staging / "scores.parquet").write_bytes(b"PAR1 half a file")
    shutil.rmtree(folder)
    assert snapshot.stale_periods([PERIOD], cfg, data=paths.data_paths, playbook=paths.playbook) == [PERIOD]
    assert recomputed()
    assert not staging.exists()
    assert sorted(p.name for p in paths.snapshots.iterdir()) == [".lock", PERIOD]

    # killed between atomic_dir's two renames: the old folder moved aside, the new one staged
    shutil.copytree(folder, folder.with_name(f".{PERIOD}.tmp-{dead_pid()}-0ldf01d3"))
    folder.rename(folder.with_name(f".{PERIOD}.tmp-{dead_pid()}-5ta9ed00"))
    assert recomputed()
    assert sorted(p.name for p in paths.snapshots.iterdir()) == [".lock", PERIOD]

    # a folder without manifest.json (an older writer, or files copied by hand): half a table
    (folder / "manifest.json").unlink()
    (folder / "scores.parquet").write_bytes(b"PAR1")
    assert recomputed()


@pytest.mark.slow
def test_what_the_report_stage_records_is_the_same_on_every_machine(tmp_path):
    """The snapshot and report stages run as DVC runs them in two project folders: their
    metrics, the snapshot's manifest, the executed notebook and the HTML name no folder of
    either machine (paths are relative to the project), so they are the same files."""
    written = {}
    for name in ("one", "two"):
        root = tmp_path / name / "project"
        root.mkdir(parents=True)
        env = report_project(root)
        for stage in ("snapshot", "report"):
            done = subprocess.run([sys.executable, f"pipelines/{stage}.py", PERIOD], cwd=root, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stderr[-3000:]
            assert str(root) not in done.stdout
        files = {
            "metrics": root / "metrics" / f"report_{PERIOD}.json",
            "snapshot metrics": root / "metrics" / f"snapshot_{PERIOD}.json",
            "manifest": root / "data" / "snapshots" / PERIOD / "manifest.json",
            "notebook": root / "reports" / PERIOD / "strategy_report.ipynb",
            "html": root / "reports" / PERIOD / "strategy_report.html",
            "actions": root / "reports" / PERIOD / "actions.csv",
            "index": root / "reports" / "index.html",
        }
        for label, path in files.items():
            text = path.read_text(encoding="utf-8")
            assert str(tmp_path) not in text and str(root) not in text, label
        written[name] = {label: path.read_text(encoding="utf-8") for label, path in files.items()}
    one, two = written["one"], written["two"]
    metrics = json.loads(one["metrics"])
    assert metrics["html"] == f"reports/{PERIOD}/strategy_report.html"
    assert {k: v for k, v in metrics.items() if k != "seconds"} == {
        k: v for k, v in json.loads(two["metrics"]).items() if k != "seconds"}
    for label in ("notebook", "html", "actions", "index"):
        assert one[label] == two[label], label
    notebook = nbformat.reads(one["notebook"], as_version=4)
    assert notebook.metadata["papermill"]["parameters"]["snapshot_dir"] == f"../../data/snapshots/{PERIOD}"


@pytest.mark.slow
def test_two_renders_of_one_period_at_once_leave_one_complete_report(tmp_path):
    """`powerlens report --period P` twice at the same time (its snapshot not made yet): both
    succeed, the snapshot is computed once, and the report folder holds one complete, valid
    report and nothing else; rendering it again alone changes no byte of it."""
    from powerlens.atomic import is_temporary
    from powerlens.snapshots import load_snapshot

    env = report_project(tmp_path)
    powerlens = str(Path(sys.executable).parent / "powerlens")
    cmd = [powerlens, "report", "--period", PERIOD]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("computing the snapshot of" in out for out in outputs) == 1, outputs

    folder = tmp_path / "reports" / PERIOD
    assert sorted(p.name for p in folder.iterdir()) == ["actions.csv", "strategy_report.html",
                                                          "strategy_report.ipynb"]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [PERIOD, "index.html"]
    assert not [p for p in tmp_path.rglob("*") if is_temporary(p)]
    nbformat.validate(nbformat.read(folder / "strategy_report.ipynb", as_version=4))
    page = (folder / "strategy_report.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>") and all(section in page for section in SECTIONS)
    plan = load_snapshot(tmp_path / "data" / "snapshots" / PERIOD).plan
    actions = pd.read_csv(folder / "actions.csv")
    assert len(actions) == len(plan) and set(actions["customer_id"]) == set(plan["customer_id"])

    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    alone = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


def test_the_report_language_is_params_yaml_s_unless_asked_and_an_unknown_one_stops_first(tmp_path):
    from powerlens.errors import PowerlensError
    from powerlens.jobs.report import report_language, run

    cfg = load_config(ROOT / "params.yaml")
    assert report_language(cfg) == getattr(cfg.report, "language", "en")
    assert report_language(cfg, "zh") == "zh"
    report_project(tmp_path)
    with pytest.raises(PowerlensError, match="unknown report language 'fr'"):
        run(PERIOD, cfg, ProjectPaths(tmp_path), language="fr", echo=lambda _m: None)
    assert not (tmp_path / "data" / "snapshots").exists()  # refused before any snapshot work
