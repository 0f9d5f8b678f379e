"""The whole loop end to end with real `dvc repro`, real MLflow, real papermill, on a few hundred
synthetic customers in a copy of the project (`pipeline_run`, in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from support import run

pytestmark = pytest.mark.slow


def test_repro_builds_every_stage_and_writes_metrics(pipeline_run):
    project, env, repro = pipeline_run
    for stage in ("generate", "validate", "features", "segment", "train_churn", "train_arrears",
                  "train_theft", "score", "snapshot_2026-10", "report_2026-10"):
        assert (project / "metrics" / f"{stage}.json").exists(), stage
    validate = json.loads((project / "metrics" / "validate.json").read_text())
    assert validate["reconciled"] is True
    shown = run([sys.executable, "-m", "dvc", "metrics", "show"], project, env).stdout
    assert "metrics/segment.json" in shown and "roc_auc" in shown


def test_nothing_is_stale_right_after_repro(pipeline_run):
    """Read right after the repro (in the fixture), so that no test run before this one can make
    it pass or fail; the tests that run commands in the project check it again after them."""
    _, _, repro = pipeline_run
    assert json.loads(repro.status_after or "{}") == {}, repro.status_after


def test_models_are_registered_with_a_champion(pipeline_run):
    project, env, _ = pipeline_run
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    try:
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"], registry_uri=env["MLFLOW_TRACKING_URI"])
        trained = []
        for task in ("churn", "arrears", "theft"):
            summary = json.loads((project / "metrics" / f"train_{task}.json").read_text())
            if "skipped" in summary:  # few hundred customers can leave a task without labels
                assert "too few positive labels" in summary["skipped"]
                continue
            trained.append(task)
            version = client.get_model_version_by_alias(f"powerlens-{task}", "champion")
            assert version.version is not None
            mlrun = client.get_run(summary["run_id"])
            head = run(["git", "rev-parse", "HEAD"], project, env).stdout.strip()
            assert mlrun.data.tags["git_commit"] == head and mlrun.data.tags["dvc_stage"] == f"train@{task}"
        assert {"churn", "arrears"} <= set(trained)
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI", None)


def test_report_is_rendered_with_actions(pipeline_run):
    """The rendered report has every section and its charts, and its action list is the
    snapshot's: the same accounts, each open at the period's end, with a team and a reason."""
    from html.parser import HTMLParser

    import pandas as pd

    from powerlens.snapshots import load_snapshot
    from support import SECTIONS

    project, _, repro = pipeline_run
    period = yaml.safe_load((project / "params.yaml").read_text())["report"]["periods"][-1]
    assert (project / "data" / "snapshots" / period / "manifest.json").exists()
    html = project / "reports" / period / "strategy_report.html"
    text = html.read_text()

    class Page(HTMLParser):
        headings, images, heading = [], [], None

        def handle_starttag(self, tag, attrs):
            if tag in ("h1", "h2", "h3"):
                self.heading = ""
            if tag == "img":
                self.images.append(dict(attrs).get("src", ""))

        def handle_data(self, data):
            if self.heading is not None:
                self.heading += data

        def handle_endtag(self, tag):
            if tag in ("h1", "h2", "h3") and self.heading is not None:
                self.headings.append(" ".join(self.heading.split()))
                self.heading = None

    page = Page()
    page.feed(text)
    for section in SECTIONS:
        assert any(section.split(". ", 1)[1].lower() in h.lower() for h in page.headings), (section, page.headings)
    assert sum(src.startswith("data:image/png;base64") for src in page.images) >= 3
    assert "Traceback" not in text and "Error" not in " ".join(page.headings)

    actions = pd.read_csv(project / "reports" / period / "actions.csv")
    snapshot = load_snapshot(project / "data" / "snapshots" / period)
    assert len(actions) > 0 and actions["customer_id"].isin(snapshot.segments["customer_id"]).all()
    plan = snapshot.plan
    key = ["customer_id", "action"]
    assert sorted(map(tuple, actions[key].to_numpy())) == sorted(map(tuple, plan[key].to_numpy()))
    assert set(actions["action"]) <= set(snapshot.actions["action"])
    assert actions["reasons"].fillna("").str.len().gt(0).all()  # every listed account says why


def test_no_raw_identifier_or_key_in_anything_the_pipeline_wrote(pipeline_run, key_file):
    import pandas as pd

    project, _, repro = pipeline_run
    raw = pd.read_csv(project / "data" / "raw" / "customers.csv", dtype=str)
    needles = set(raw["account_no"].head(50)) | set(raw["phone"].head(50)) | set(raw["customer_name"].head(20))
    needles |= {key_file.read_text().strip(), str(key_file)}  # nor the pseudonym key or its path
    scanned = 0
    written = [p for folder in ("data/clean", "data/features", "data/segments", "data/scores", "data/models",
                                "data/snapshots", "metrics", "reports", "mlartifacts") for p in (project / folder).rglob("*")]
    # MLflow's params and tags live in mlflow.db; DVC's params in params.yaml and dvc.lock, its logs in .dvc/
    logs = [p for p in (project / ".dvc").rglob("*") if "cache" not in p.parts]
    for path in [*written, *logs, project / "mlflow.db", project / "dvc.lock", project / "params.yaml"]:
        if path.is_file():
            content = path.read_bytes()
            scanned += 1
            for needle in needles:
                assert needle.encode() not in content, f"{needle!r} found in {path}"
    assert scanned > 20
    assert not any(n in repro.stdout + repro.stderr for n in needles)


def test_compare_prints_families_by_metrics(pipeline_run, tmp_path):
    project, env, _ = pipeline_run
    out = run([sys.executable, "-m", "powerlens.cli", "compare", "arrears", "--out", str(tmp_path / "c.csv")],
              project, env).stdout
    assert "lightgbm" in out and "logistic" in out and "roc_auc" in out
    assert (tmp_path / "c.csv").exists()
    # nothing written into the pipeline's outputs: DVC still sees every stage up to date
    assert not (project / "data" / "models" / "arrears" / "comparison.csv").exists()
    assert _stale_stages(project, env) == set()


def test_score_any_data_folder_and_refuse_a_mismatched_one(pipeline_run, tmp_path):
    import shutil

    import pandas as pd

    project, env, _ = pipeline_run
    out = tmp_path / "scores.csv"
    run([sys.executable, "-m", "powerlens.cli", "score", "arrears", "--data", "data/clean", "--out", str(out)],
        project, env)
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["customer_id", "score", "reasons"]
    assert scores["score"].between(0, 1).all() and len(scores) > 300
    # a folder whose customers lack an attribute the model was trained on is refused by name
    other = tmp_path / "other"
    shutil.copytree(project / "data" / "clean", other)
    customers = pd.read_parquet(other / "customers.parquet").drop(columns=["interval_metered"])
    customers.to_parquet(other / "customers.parquet")
    result = subprocess.run([sys.executable, "-m", "powerlens.cli", "score", "arrears", "--data", str(other),
                             "--out", str(tmp_path / "x.csv")], cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "missing attr_interval_metered" in result.stderr and "Traceback" not in result.stderr


def _stale_stages(project, env) -> set[str]:
    status = run([sys.executable, "-m", "dvc", "status", "--json"], project, env).stdout
    return set(json.loads(status or "{}"))


@pytest.mark.parametrize(("edited", "expected"), [
    ("src/powerlens/jobs/score.py", {"score"}),
    ("src/powerlens/jobs/train.py", {"train@churn", "train@arrears", "train@theft"}),
    ("notebooks/reports/strategy_report.py", {"report@2026-10"}),
])
def test_editing_one_job_makes_only_its_stage_stale(pipeline_run, edited, expected):
    """Each stage depends on its own job and the domain it uses: editing the score job leaves
    generate ... train up to date (DVC re-runs score, then what its outputs feed)."""
    project, env, _ = pipeline_run
    path = project / edited
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        assert _stale_stages(project, env) == expected
    finally:
        path.write_text(original)
    assert _stale_stages(project, env) == set()


def test_a_misspelt_param_stops_the_first_stage_with_one_line(pipeline_run):
    project, env, _ = pipeline_run
    params = project / "params.yaml"
    original = params.read_text()
    try:
        params.write_text(original.replace("capacity:", "capcity:", 1))
        # what `dvc repro` runs for the first stage (DVC itself would first remove that stage's
        # outputs, which the other tests of this module still read)
        result = subprocess.run([sys.executable, "pipelines/generate.py"], cwd=project, env=env,
                                capture_output=True, text=True, timeout=600)
    finally:
        params.write_text(original)
    assert result.returncode == 2
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error: ")]
    assert said == ["error: params.yaml: unknown key 'train.capcity' (did you mean 'train.capacity'?)"], said
    assert "Traceback" not in result.stdout + result.stderr
    assert _stale_stages(project, env) == set()


def test_workspace_loads_what_the_pipeline_made_and_a_customer_card(pipeline_run):
    """powerlens.workspace in a notebook: the pipeline's own tables, and one customer's card with
    segment, scores with reasons as rows, and actions."""
    import pandas as pd

    from powerlens import workspace

    project, env, _ = pipeline_run
    os.environ["MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    try:
        ws = workspace.open(project)
        segments = pd.read_parquet(project / "data" / "segments" / "segments.parquet")
        pd.testing.assert_frame_equal(ws.segments(), segments)
        scores = ws.scores()
        assert len(scores) == len(ws.features()) and {"score_churn", "rank_churn"} <= set(scores.columns)
        first = scores.sort_values("rank_arrears")["customer_id"].iloc[0]
        card = ws.customer(first).to_dict()
        assert {"segment", "scores", "actions", "profile"} <= set(card)
        assert card["segment"]["value_tier"] == segments.set_index("customer_id").at[first, "value_tier"]
        arrears = card["scores"]["arrears"]
        assert arrears["rank"] == 1 and arrears["reasons"] and {"feature", "value", "contribution"} <= set(
            arrears["reasons"][0])
        planned = pd.read_csv(project / "reports" / "2026-10" / "actions.csv")
        assert len(card["actions"]) == (planned["customer_id"] == first).sum()
        with pytest.raises(Exception, match="pseudonymized ids look like"):
            ws.customer("not-a-customer")
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI", None)


def test_scoring_by_hand_writes_outside_the_pipeline_outputs(pipeline_run):
    project, env, _ = pipeline_run
    out = run([sys.executable, "-m", "powerlens.cli", "score"], project, env).stdout
    assert "scores in" in out and (project / "runs" / "score" / "scores.parquet").exists()
    assert _stale_stages(project, env) == set()
